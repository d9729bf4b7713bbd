"""A small Python client of the emulator's admin routes (``/moto-api/mmlab/*``)."""

from __future__ import annotations

import contextlib
import json
import re
import urllib.error
import urllib.request

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([hms])")
_UNITS = {"h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | int | float) -> float:
    """``"90s"``, ``"2m"``, ``"1h"``, ``"1h30m"`` (or a number of seconds) → seconds.

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


class EmulatorError(RuntimeError):
    """The emulator answered with an error (or could not be reached)."""


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
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.endpoint_url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
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
        return self._call("GET", "/moto-api/mmlab/health")

    def clock(self) -> dict:
        """``{"now": ISO, "mode": "real"|"manual"}``."""
        return self._call("GET", "/moto-api/mmlab/clock")

    def set_clock(self, iso: str) -> dict:
        """Switch to manual time at ``iso``; returns the clock and the executions that ran."""
        return self._call("POST", "/moto-api/mmlab/clock", {"set": iso})

    def advance(self, seconds: float | str) -> dict:
        """Move the clock forward (``90``, ``"90s"``, ``"1h30m"``) and run what fell due."""
        return self._call("POST", "/moto-api/mmlab/clock", {"advance": parse_duration(seconds)})

    def advance_to_next_hour(self) -> dict:
        """Jump to the start of the next hour and run what fell due."""
        return self._call("POST", "/moto-api/mmlab/clock", {"to_next_hour": True})

    def real_time(self) -> dict:
        """Return to real time."""
        return self._call("POST", "/moto-api/mmlab/clock", {"mode": "real"})

    def flush(self) -> dict:
        """Write buffered capture records to S3."""
        return self._call("POST", "/moto-api/mmlab/flush", {})

    def seed(self, n: int) -> dict:
        """Make event ids, capture file ids and sampling deterministic from here on."""
        return self._call("POST", "/moto-api/mmlab/seed", {"seed": int(n)})

    def reset(self) -> dict:
        """Empty the emulator (moto's state and the lab's)."""
        return self._call("POST", "/moto-api/reset", {})
