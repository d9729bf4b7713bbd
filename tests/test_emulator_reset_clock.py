"""``reset`` empties the emulator *and* returns its clock to real time (README's promise)."""

from __future__ import annotations

import datetime as dt

from emulator_support import running

from mmutils.emulator.admin_client import EmulatorClient


def test_reset_returns_the_clock_to_real_time(tmp_path):
    with running(tmp_path / "emu") as emu:
        admin = EmulatorClient(emu.url)
        admin.set_clock("2026-01-05T09:00:00Z")
        assert admin.clock()["mode"] == "frozen"  # the tests freeze the clock
        admin.reset()
        state = admin.clock()
        assert state["mode"] == "real"
        now = dt.datetime.fromisoformat(state["now"].replace("Z", "+00:00"))
        assert abs((now - dt.datetime.now(dt.UTC)).total_seconds()) < 60
