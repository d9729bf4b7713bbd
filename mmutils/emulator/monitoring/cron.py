"""Schedule expressions: AWS cron, the one-time ``NOW`` and ISO-8601 offsets like ``-PT1H``.

AWS cron has six fields (``cron(0 * ? * * *)``: minutes hours day-of-month month day-of-week
year, day-of-week 1-7 = SUN-SAT); croniter gets the first five with ``?`` → ``*`` and the
day-of-week numbers shifted to 0-6. ``NOW`` is a one-time schedule whose window is
``DataAnalysisStartTime``/``DataAnalysisEndTime`` (offsets like ``-PT1H``) from its creation.
"""

from __future__ import annotations

import datetime as dt
import re

from croniter import croniter

_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_offset(text: str) -> dt.timedelta:
    """ISO-8601 duration such as ``-PT1H`` or ``-P1DT2H`` → timedelta.

    Raises:
        ValueError: not such a duration.
    """
    m = _DURATION.match((text or "").strip())
    if not m or not any(m.groups()[1:]):
        raise ValueError(f"not an ISO-8601 duration like -PT1H: {text!r}")
    sign = -1 if m.group(1) else 1
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups()[1:])
    return sign * dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _shift_dow(field: str) -> str:
    """AWS day-of-week numbers (1-7 = SUN-SAT) → croniter's (0-6)."""

    def one(token: str) -> str:
        return str(int(token) - 1) if token.isdigit() else token

    out = []
    for part in field.split(","):
        base, slash, step = part.partition("/")
        base = "-".join(one(t) for t in base.split("-"))
        out.append(base + (slash + step if slash else ""))
    return ",".join(out)


def to_croniter(expression: str) -> tuple[str, str]:
    """``cron(0 * ? * * *)`` → (``"0 * * * *"``, year field).

    Raises:
        ValueError: not a six-field AWS cron expression.
    """
    m = re.fullmatch(r"\s*cron\((.*)\)\s*", expression or "")
    if not m:
        raise ValueError(f"Invalid ScheduleExpression {expression!r}: expected cron(...) or NOW")
    fields = m.group(1).split()
    if len(fields) != 6:
        raise ValueError(
            f"Invalid ScheduleExpression {expression!r}: AWS cron needs 6 fields "
            "(minutes hours day-of-month month day-of-week year)"
        )
    minute, hour, dom, month, dow, year = fields
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else _shift_dow(dow.upper())
    spec = f"{minute} {hour} {dom} {month} {dow}"
    if not croniter.is_valid(spec):
        raise ValueError(f"Invalid ScheduleExpression {expression!r}")
    return spec, year


def is_one_time(expression: str) -> bool:
    """True for the one-time expression ``NOW``."""
    return expression.strip() == "NOW"


def validate_expression(expression: str, schedule_config: dict) -> None:
    """Check a ScheduleExpression (and, for ``NOW``, its analysis window).

    Raises:
        ValueError: with the reason.
    """
    if is_one_time(expression):
        start = schedule_config.get("DataAnalysisStartTime")
        end = schedule_config.get("DataAnalysisEndTime")
        if not start or not end:
            raise ValueError(
                "DataAnalysisStartTime and DataAnalysisEndTime are required for a one-time "
                "(NOW) monitoring schedule"
            )
        parse_offset(start)
        parse_offset(end)
        return
    to_croniter(expression)


def fire_times(expression: str, after: dt.datetime, until: dt.datetime, limit: int = 10000):
    """Scheduled times of a cron expression in ``(after, until]`` (naive UTC)."""
    spec, year = to_croniter(expression)
    it = croniter(spec, after)
    out = []
    while len(out) < limit:
        nxt = it.get_next(dt.datetime)
        if nxt > until:
            break
        if year in ("*", "?") or str(nxt.year) in year.split(","):
            out.append(nxt)
    return out
