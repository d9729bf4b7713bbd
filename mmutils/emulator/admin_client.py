"""The one client of the emulator's admin routes (``/moto-api/mmlab/*`` and ``/moto-api/reset``).

Every request goes straight to the emulator's loopback URL: the opener has no proxy handler, so
``HTTP_PROXY``/``HTTPS_PROXY`` in the environment are never used, whatever ``NO_PROXY`` says.
Every failure (an error status, or no answer) is an :class:`EmulatorError`.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.error
import urllib.request

from mmutils.errors import MMLabError

SERVICE_NAME = "mmlab-emulator"
HEALTH_PATH = "/moto-api/mmlab/health"
CLOCK_PATH = "/moto-api/mmlab/clock"
FLUSH_PATH = "/moto-api/mmlab/flush"
SEED_PATH = "/moto-api/mmlab/seed"
RESET_PATH = "/moto-api/reset"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([hms])")
_UNITS = {"h": 3600, "m": 60, "s": 1}
# ProxyHandler({}): no proxy from the environment, ever (the emulator is on 127.0.0.1)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorError(MMLabError, RuntimeError):
    """The emulator answered with an error, could not be reached, started or stopped."""


def parse_duration(text: str | int | float) -> float:
    """Seconds of ``"90s"``, ``"2m"``, ``"1h"``, ``"1h30m"`` (or of a number of seconds).

    Raises:
        ValueError: the text is not such a duration.
    """
    if isinstance(text, int | float):
        return float(text)
    spec = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", spec):
        return float(spec)
    parts = _DURATION.findall(spec)
    if not parts or _DURATION.sub("", spec).strip():
        raise ValueError(f"not a duration like 90s, 2m, 1h or 1h30m: {text!r}")
    units = [unit for _, unit in parts]
    if len(set(units)) != len(units) or units != sorted(units, key="hms".index):
        raise ValueError(f"not a duration like 90s, 2m, 1h or 1h30m: {text!r}")
    return float(sum(float(n) * _UNITS[u] for n, u in parts))


class EmulatorClient:
    """Talk to a running emulator's admin API.

    Args:
        endpoint_url: ``http://127.0.0.1:PORT``.
        timeout: seconds per request (clock moves run due executions, so allow time).
    """

    def __init__(self, endpoint_url: str, timeout: float = 600.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        """Send one JSON request and decode the JSON answer.

        Raises:
            EmulatorError: an error status (the server's message is included) or no answer.
        """
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.endpoint_url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("error", detail)
            raise EmulatorError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise EmulatorError(f"cannot reach the emulator at {self.endpoint_url}: {exc}") from exc
        return json.loads(raw) if raw.strip() else {}

    def health(self) -> dict:
        """``{"service": "mmlab-emulator", "pid", "version", "moto"}``."""
        return self._call("GET", HEALTH_PATH)

    def health_or_none(self) -> dict | None:
        """The health document when the server answers as an mmlab emulator, else ``None``."""
        try:
            doc = self.health()
        except (EmulatorError, ValueError):
            return None
        return doc if isinstance(doc, dict) and doc.get("service") == SERVICE_NAME else None

    def clock(self) -> dict:
        """``{"now": ISO, "mode": "real"|"flowing"|"frozen"}``."""
        return self._call("GET", CLOCK_PATH)

    def set_clock(self, iso: str) -> dict:
        """Put the clock at ``iso``; returns the clock and the executions that ran."""
        return self._call("POST", CLOCK_PATH, {"set": iso})

    def advance(self, seconds: float | str) -> dict:
        """Move the clock forward (``90``, ``"90s"``, ``"1h30m"``) and run what fell due."""
        return self._call("POST", CLOCK_PATH, {"advance": parse_duration(seconds)})

    def advance_to_next_hour(self) -> dict:
        """Jump to the start of the next hour and run what fell due."""
        return self._call("POST", CLOCK_PATH, {"to_next_hour": True})

    def real_time(self) -> dict:
        """Return to real time."""
        return self._call("POST", CLOCK_PATH, {"mode": "real"})

    def freeze_clock(self) -> dict:
        """Stop the clock until moved (it stays frozen through set/advance)."""
        return self._call("POST", CLOCK_PATH, {"mode": "frozen"})

    def flowing_clock(self) -> dict:
        """Let a frozen clock run on at real speed."""
        return self._call("POST", CLOCK_PATH, {"mode": "flowing"})

    def flush(self) -> dict:
        """Write buffered capture records to S3."""
        return self._call("POST", FLUSH_PATH, {})

    def seed(self, n: int) -> dict:
        """Make event ids, capture file ids and sampling deterministic from here on."""
        return self._call("POST", SEED_PATH, {"seed": int(n)})

    def reset(self) -> dict:
        """Empty the emulator (moto's state and the lab's)."""
        return self._call("POST", RESET_PATH, {})
