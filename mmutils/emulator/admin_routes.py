"""The ``/moto-api/mmlab/*`` admin routes (JSON over HTTP on the emulator's own port).

- ``GET  /moto-api/mmlab/health`` → ``{"service": "mmlab-emulator", "pid", "version", "moto",
  "proxy": {"url", "ca_bundle"}}`` (``proxy``: see :mod:`mmutils.emulator.proxy`)
- ``GET  /moto-api/mmlab/clock`` → ``{"now", "mode": "real"|"flowing"|"frozen"}``
- ``POST /moto-api/mmlab/clock`` ``{"set": ISO}`` | ``{"advance": seconds}`` |
  ``{"to_next_hour": true}`` | ``{"mode": "real"|"flowing"|"frozen"}`` → moves the clock (a set
  or advanced clock flows on at real speed unless frozen), runs every monitoring
  execution that fell due (in order) and answers ``{"now", "mode", "executions": [...]}``
- ``POST /moto-api/mmlab/flush`` → writes buffered capture records to S3
- ``POST /moto-api/mmlab/seed`` ``{"seed": int}`` → deterministic ids from here on
- ``POST /moto-api/reset`` (moto's own) also clears all of the lab's state and returns the clock
  to real time.

These are the server side; :mod:`mmutils.emulator.admin_client` is the one client.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import traceback
from typing import Any

import moto

from mmutils import __version__
from mmutils.emulator import patch_table
from mmutils.emulator.admin_client import SERVICE_NAME
from mmutils.emulator.clock import CLOCK
from mmutils.emulator.state import STATE

PREFIX = "/moto-api/mmlab"
URL_PATHS = "moto.moto_api._internal.urls.url_paths"
MOTO_RESET = "moto.moto_api._internal.urls.response_instance.reset_response"

# clock changes and the executions they trigger are serialised: two clients advancing at once
# must not run the same execution twice
_clock_lock = threading.Lock()
#: the furthest one clock command may move the clock (100 years of seconds)
MAX_ADVANCE_SECONDS = 100 * 366 * 24 * 3600


def _reply(status: int, doc: dict) -> tuple[int, dict, str]:
    return status, {"Content-Type": "application/json"}, json.dumps(doc)


def _error(status: int, message: str) -> tuple[int, dict, str]:
    return _reply(status, {"error": message})


def _json_body(request: Any) -> dict:
    raw = request.get_data() or b"{}"
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("the request body must be a JSON object")
    return doc


def health(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
    """``GET /moto-api/mmlab/health`` (with ``proxy``: the HTTPS proxy's URL and CA bundle)."""
    from mmutils.emulator import proxy

    doc = {
        "service": SERVICE_NAME,
        "pid": os.getpid(),
        "version": __version__,
        "moto": moto.__version__,
    }
    running = proxy.current()
    if running is not None and running.url:
        doc["proxy"] = {"url": running.url, "ca_bundle": running.ca_bundle}
    return _reply(200, doc)


def apply_clock_command(doc: dict) -> dict:
    """Apply one clock command (see the module docstring) and run the executions that fell due.

    Raises:
        ValueError: the command is not one of the four forms, or its value is invalid.
    """
    # holding STATE.lock keeps the background scheduler from running these executions first
    with _clock_lock, STATE.lock:
        if "set" in doc:
            CLOCK.set(str(doc["set"]))
        elif "advance" in doc:
            try:
                seconds = float(doc["advance"])
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"advance needs a number of seconds, got {doc['advance']!r}"
                ) from exc
            if isinstance(doc["advance"], bool) or not math.isfinite(seconds):
                raise ValueError(f"advance needs a number of seconds, got {doc['advance']!r}")
            if seconds > MAX_ADVANCE_SECONDS:
                raise ValueError(
                    f"advance {doc['advance']!r} is too far: at most {MAX_ADVANCE_SECONDS} s "
                    "(100 years) at once"
                )
            CLOCK.advance(seconds)
        elif doc.get("to_next_hour"):
            CLOCK.to_next_hour()
        elif doc.get("mode") == "real":
            CLOCK.real()
        elif doc.get("mode") in ("frozen", "manual"):
            CLOCK.freeze()
        elif doc.get("mode") == "flowing":
            CLOCK.flow()
        elif "mode" in doc:
            raise ValueError(
                f"unknown clock mode {doc['mode']!r} (use 'real', 'flowing' or 'frozen')"
            )
        else:
            raise ValueError(
                'expected one of {"set": ISO}, {"advance": seconds}, {"to_next_hour": true}, '
                '{"mode": "real"|"flowing"|"frozen"}'
            )
        executions = STATE.run_due()
        return {**CLOCK.snapshot(), "executions": executions}


def clock(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
    """``GET``/``POST /moto-api/mmlab/clock``."""
    if request.method == "GET":
        return _reply(200, CLOCK.snapshot())
    try:
        return _reply(200, apply_clock_command(_json_body(request)))
    except (ValueError, OverflowError) as exc:
        return _error(400, str(exc))


def flush(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
    """``POST /moto-api/mmlab/flush``."""
    if request.method != "POST":
        return _error(405, "POST to flush")
    STATE.flush()
    return _reply(200, {"flushed": True})


def seed(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
    """``POST /moto-api/mmlab/seed`` ``{"seed": int}``."""
    if request.method != "POST":
        return _error(405, "POST a seed")
    try:
        value = _json_body(request).get("seed")
        STATE.seed(int(value))
    except (TypeError, ValueError) as exc:
        return _error(400, f"seed needs an integer: {exc}")
    return _reply(200, {"seed": STATE.ids.seed_value})


def reset(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
    """moto's ``POST /moto-api/reset``, preceded by clearing the lab's own state."""
    owner, attr = patch_table.resolve(MOTO_RESET)
    moto_reset = getattr(owner, attr)
    if request.method == "POST":
        with _clock_lock, STATE.lock:
            STATE.reset()
            CLOCK.real()  # a reset emulator starts again at the real time
            return moto_reset(request, full_url, headers)
    return moto_reset(request, full_url, headers)


def guarded(handler):
    """A route that answers JSON whatever happens: 400 for a bad value, 500 for a bug."""

    def route(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
        try:
            return handler(request, full_url, headers)
        except (ValueError, TypeError, OverflowError) as exc:
            return _error(400, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - never an HTML error page
            traceback.print_exc(file=sys.stderr)
            return _error(500, f"{type(exc).__name__}: {exc}")

    route.__name__ = handler.__name__
    route.__doc__ = handler.__doc__
    return route


ROUTES = {
    name: guarded(handler)
    for name, handler in {"health": health, "clock": clock, "flush": flush, "seed": seed}.items()
}


def install() -> None:
    """Register the routes in moto's ``moto_api`` URL table (before the server app is built)."""
    owner, attr = patch_table.resolve(URL_PATHS)
    paths = getattr(owner, attr)
    if "{0}/moto-api/reset" not in paths:
        raise RuntimeError(
            f"moto {moto.__version__}: moto_api url_paths has no /moto-api/reset; "
            "mmlab needs moto==5.2.5"
        )
    for name, handler in ROUTES.items():
        paths["{0}" + f"{PREFIX}/{name}"] = handler
    paths["{0}/moto-api/reset"] = reset
