"""Record the sleeps the SageMaker SDK asks for (not collected by pytest: no test_ prefix).

The SDK sleeps a fixed 5-30 s before its first status check when it waits for an endpoint or a
job; the lab's session removes that. Asserting on the sleeps the SDK requested, rather than on
wall-clock time, proves it without depending on how loaded the machine is.
"""

from __future__ import annotations

import time
from contextlib import contextmanager


@contextmanager
def recorded_sleeps(monkeypatch):
    """Within the block, every ``time.sleep`` call's duration is appended to the yielded list."""
    requested: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds):
        requested.append(float(seconds))
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    try:
        yield requested
    finally:
        monkeypatch.setattr(time, "sleep", real_sleep)
