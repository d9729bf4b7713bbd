"""Process-wide state of the lab's extensions: ids, the state folder, reset hooks.

moto keeps its own state in its backends; what the lab adds (schedules, executions, capture
buffers, the clock) lives in the server process too, and is cleared by ``POST /moto-api/reset``
through the hooks registered here.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

#: moto's default account; the lab always runs as it
ACCOUNT_ID = "123456789012"


class Ids:
    """Random ids (UUID4s, hex strings, sampling draws) that become deterministic after a seed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random()
        self.seed_value: int | None = None

    def seed(self, value: int | None) -> None:
        """Seed the generator (``None``: back to unpredictable ids)."""
        with self._lock:
            self._rng = random.Random(value)
            self.seed_value = value

    def uuid4(self) -> str:
        """A version-4 UUID string drawn from the generator."""
        with self._lock:
            bits = self._rng.getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))

    def uniform(self) -> float:
        """A float in [0, 1) (sampling draws)."""
        with self._lock:
            return self._rng.random()


class _State:
    """Holder of the state folder and the reset hooks."""

    def __init__(self) -> None:
        self.ids = Ids()
        #: held while executions run and while everything is reset, so the two never overlap
        self.lock = threading.RLock()
        self._state_dir: Path | None = None
        self._reset_hooks: list[Callable[[], None]] = []
        self._stop_hooks: list[Callable[[], None]] = []
        self._flush_hooks: list[Callable[[], None]] = []
        self._seed_hooks: list[Callable[[], None]] = []
        #: runs every monitoring execution that is due on the clock; set by the scheduler
        self.run_due: Callable[[], list[dict]] = lambda: []

    @property
    def state_dir(self) -> Path:
        """The folder for job folders (``--state-dir``; a temporary folder when not given)."""
        if self._state_dir is None:
            self._state_dir = Path(tempfile.mkdtemp(prefix="mmlab-emulator-"))
        return self._state_dir

    @state_dir.setter
    def state_dir(self, value: str | os.PathLike) -> None:
        path = Path(value).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        self._state_dir = path

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Register a function called when moto's state is reset."""
        if hook not in self._reset_hooks:
            self._reset_hooks.append(hook)

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Register a function called when the server stops (e.g. to flush capture)."""
        if hook not in self._stop_hooks:
            self._stop_hooks.append(hook)

    def on_flush(self, hook: Callable[[], None]) -> None:
        """Register a function that writes buffered data (capture records) to S3."""
        if hook not in self._flush_hooks:
            self._flush_hooks.append(hook)

    def on_seed(self, hook: Callable[[], None]) -> None:
        """Register a function called after a new seed (e.g. to restart sampling)."""
        if hook not in self._seed_hooks:
            self._seed_hooks.append(hook)

    def seed(self, value: int | None) -> None:
        """Seed every id generator of the emulator (``None``: unpredictable again)."""
        self.ids.seed(value)
        for hook in list(self._seed_hooks):
            hook()

    def flush(self) -> None:
        """Run the flush hooks."""
        for hook in list(self._flush_hooks):
            hook()

    def reset(self) -> None:
        """Run the reset hooks (before moto's own reset) and forget the seed."""
        for hook in list(self._reset_hooks):
            hook()
        self.seed(None)

    def stop(self) -> None:
        """Run the stop hooks, last registered first (the scheduler stops before capture)."""
        for hook in reversed(self._stop_hooks):
            hook()


#: The state of this emulator process.
STATE = _State()
