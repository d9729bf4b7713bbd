"""Schedule expressions: AWS cron, the one-time ``NOW`` and ISO-8601 offsets like ``-PT1H``.

AWS cron has six fields (``cron(0 * ? * * *)``: minutes hours day-of-month month day-of-week
year, day-of-week 1-7 = SUN-SAT); croniter gets the first five with ``?`` → ``*`` and the
day-of-week numbers shifted to 0-6. ``NOW`` is a one-time schedule whose window is
``DataAnalysisStartTime``/``DataAnalysisEndTime`` (offsets like ``-PT1H``) from its creation.
"""

from __future__ import annotations

import datetime as dt
import re

from croniter import CroniterBadDateError, croniter

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


#: how far ahead a cron expression must fire at least once (else it is refused)
HORIZON_YEARS = 5
_YEAR_TOKEN = re.compile(r"^(\d{4})(?:-(\d{4}))?(?:/(\d+))?$")


def check_frequency(expression: str) -> None:
    """Refuse an expression that fires more than once an hour (Model Monitor runs hourly at most).

    The service documents ``cron(0 * ? * * *)`` (hourly), ``cron(0 H ? * * *)`` (daily) and
    ``cron(0 H/N ? * * *)``; the minutes field is always one value. UNCONFIRMED: the exact text
    AWS answers; ours says what is wrong and what is allowed.

    Raises:
        ValueError: the minutes field is not a single minute (``*``, ``0/1``, ``0,30``, ``0-5``).
    """
    spec, _ = to_croniter(expression)
    minute = spec.split()[0]
    if not (minute.isdigit() and 0 <= int(minute) <= 59):
        raise ValueError(
            f"Invalid ScheduleExpression {expression!r}: Model Monitor schedules run at most "
            f"hourly, so the minutes field must be one minute (0-59), not {minute!r}; "
            "e.g. hourly cron(0 * ? * * *), daily cron(0 12 ? * * *), every 6 hours "
            "cron(0 0/6 ? * * *)"
        )


def _years(field: str) -> set[int] | None:
    """The years a year field allows (None: any year).

    Raises:
        ValueError: not years, ranges or steps of four-digit years.
    """
    if field in ("*", "?"):
        return None
    years: set[int] = set()
    for part in field.split(","):
        m = _YEAR_TOKEN.match(part)
        if not m:
            raise ValueError(f"bad year {part!r}")
        first = int(m.group(1))
        last = int(m.group(2) or (first if not m.group(3) else 2199))
        years.update(range(first, last + 1, int(m.group(3) or 1)))
    return years


def check_fires(expression: str, now: dt.datetime) -> None:
    """Refuse an expression that never fires within :data:`HORIZON_YEARS` of ``now``.

    ``cron(0 0 31 2 ? *)`` (February 31st) or a year field in the past never fire; accepting
    one would leave the scheduler nothing to compute.

    Raises:
        ValueError: the expression never fires (the message says why).
    """
    spec, year = to_croniter(expression)
    try:
        years = _years(year)
    except ValueError as exc:
        raise ValueError(f"Invalid ScheduleExpression {expression!r}: {exc}") from None
    horizon = now.replace(tzinfo=None) + dt.timedelta(days=366 * HORIZON_YEARS)
    never = ValueError(
        f"Invalid ScheduleExpression {expression!r}: it names no date between now and "
        f"{horizon.year} (e.g. February 31st, or only past years), so it would never run"
    )
    if years is not None and not any(now.year <= y <= horizon.year for y in years):
        raise never
    start = now.replace(tzinfo=None)
    if years is not None:  # start in the first allowed year (no walk through the years before)
        first = min(y for y in years if y >= now.year)
        start = max(start, dt.datetime(first, 1, 1) - dt.timedelta(seconds=1))
    try:
        it = croniter(spec, start, max_years_between_matches=HORIZON_YEARS)
        for _ in range(24 * 366 * HORIZON_YEARS):
            nxt = it.get_next(dt.datetime)
            if nxt > horizon:
                break
            if years is None or nxt.year in years:
                return
    except CroniterBadDateError:
        pass
    raise never


def validate_schedule(expression: str, schedule_config: dict, now: dt.datetime) -> None:
    """Everything CreateMonitoringSchedule/UpdateMonitoringSchedule check of a ScheduleConfig.

    Raises:
        ValueError: the expression is malformed, sub-hourly, or never fires.
    """
    validate_expression(expression, schedule_config)
    if not is_one_time(expression):
        check_frequency(expression)
        check_fires(expression, now)


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
    years = _years(year)
    it = croniter(spec, after)
    out = []
    while len(out) < limit:
        nxt = it.get_next(dt.datetime)
        if nxt > until or (years is not None and nxt.year > max(years)):
            break
        if years is None or nxt.year in years:
            out.append(nxt)
    return out
