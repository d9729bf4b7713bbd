"""Where Model Monitor keeps capture files and reports: the hour-folder layout (spec §A.3, §C).

- Capture file: ``{destination}/{endpoint}/{variant}/yyyy/mm/dd/HH/{MM-SS-mmm}-{uuid}.jsonl``,
  named after the time of the file's first record (UTC).
- Monitoring report folder: ``{output}/{endpoint}/{schedule}/yyyy/mm/dd/HH`` (the scheduled
  hour of the execution).

Both are built and parsed here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from mmutils.formats.s3uri import join

CAPTURE_SUFFIX = ".jsonl"
#: ``yyyy/mm/dd/HH`` at the end of a path or URI (a trailing ``/`` allowed)
_HOUR_AT_END = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/?$")


def hour_folder(when: dt.datetime) -> str:
    """``yyyy/mm/dd/HH`` of a time (converted to UTC when it is aware)."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return f"{when:%Y/%m/%d/%H}"


def parse_hour_folder(path: str) -> dt.datetime | None:
    """The hour (aware, UTC) a path or URI ending in ``yyyy/mm/dd/HH`` names, else ``None``."""
    match = _HOUR_AT_END.search(str(path))
    if not match:
        return None
    try:
        return dt.datetime(*map(int, match.groups()), tzinfo=dt.UTC)
    except ValueError:  # e.g. month 13: not an hour folder
        return None


def capture_file_key(
    prefix: str, endpoint: str, variant: str, start: dt.datetime, file_id: str
) -> str:
    """``{prefix}/{endpoint}/{variant}/yyyy/mm/dd/HH/MM-SS-mmm-{file_id}.jsonl``."""
    start = start.astimezone(dt.UTC)
    name = f"{start:%M-%S}-{start.microsecond // 1000:03d}-{file_id}{CAPTURE_SUFFIX}"
    return join(prefix, endpoint, variant, hour_folder(start), name)


@dataclass(frozen=True)
class CaptureFileKey:
    """A capture file's key, parsed relative to ``{destination}/{endpoint}/``.

    Attributes:
        variant: the production variant.
        hour: the hour folder (aware, UTC).
        name: the file name (``MM-SS-mmm-uuid.jsonl``).
    """

    variant: str
    hour: dt.datetime
    name: str

    @property
    def folder(self) -> str:
        """``{variant}/yyyy/mm/dd/HH``."""
        return f"{self.variant}/{hour_folder(self.hour)}"


def parse_capture_file_key(relative: str) -> CaptureFileKey | None:
    """Parse ``{variant}/yyyy/mm/dd/HH/{name}.jsonl`` (a key relative to the endpoint folder).

    Returns:
        The parts, or ``None`` when the key is not a capture file in that layout.
    """
    parts = relative.split("/")
    if len(parts) != 6 or not parts[5].endswith(CAPTURE_SUFFIX):
        return None
    hour = parse_hour_folder("/".join(parts[1:5]))
    if hour is None:
        return None
    return CaptureFileKey(variant=parts[0], hour=hour, name=parts[5])


def endpoint_prefix(destination_prefix: str, endpoint: str) -> str:
    """The key prefix (with a trailing ``/``) under which an endpoint's capture files live."""
    return join(destination_prefix, endpoint) + "/"


def report_folder(output: str, endpoint: str, schedule: str, scheduled: dt.datetime) -> str:
    """``{output}/{endpoint}/{schedule}/yyyy/mm/dd/HH`` of one monitoring execution."""
    return join(output, endpoint, schedule, hour_folder(scheduled))
