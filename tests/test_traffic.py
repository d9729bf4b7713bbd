"""The bounded, stoppable traffic generator."""

from __future__ import annotations

import threading
import time

import pytest

from mmutils.lab import traffic


class Recorder:
    def __init__(self, fail_on=()):
        self.rows = []
        self.fail_on = set(fail_on)

    def predict(self, row):
        self.rows.append(row)
        if row in self.fail_on:
            raise RuntimeError(f"bad row {row}")
        return b"0.5\n"


class FakeEmulator:
    def __init__(self):
        self.advanced = []

    def advance(self, seconds):
        self.advanced.append(seconds)


class FakeSession:
    def __init__(self):
        self.emulator = FakeEmulator()


def test_one_pass_by_default():
    rec = Recorder()
    res = traffic.send(rec, ["1,2", "3,4", "5,6"], progress=False)
    assert rec.rows == ["1,2", "3,4", "5,6"]
    assert (res.sent, res.errors, res.stopped) == (3, 0, False)
    assert res.predictions == ["0.5", "0.5", "0.5"]


def test_cycles_rows_up_to_max_requests():
    rec = Recorder()
    res = traffic.send(rec, ["a", "b"], max_requests=5, progress=False)
    assert rec.rows == ["a", "b", "a", "b", "a"]
    assert res.sent == 5


def test_errors_are_counted_not_raised():
    rec = Recorder(fail_on={"b"})
    res = traffic.send(rec, ["a", "b", "c"], progress=False)
    assert (res.sent, res.errors) == (3, 1)
    assert "bad row b" in res.last_error
    assert "1 errors" in str(res)


def test_spread_over_advances_emulator_clock_evenly():
    session = FakeSession()
    traffic.send(Recorder(), ["a"] * 4, session=session, spread_over="2m", progress=False)
    assert session.emulator.advanced == [30.0] * 4


def test_stop_event_ends_run():
    stop = threading.Event()
    rec = Recorder()

    def predict(row):
        rec.predict(row)
        if len(rec.rows) == 2:
            stop.set()

    res = traffic.send(predict, ["x"], max_requests=100, stop=stop, progress=False)
    assert res.stopped and res.sent == 2


def test_keyboard_interrupt_says_what_was_sent_then_propagates(capsys):
    """Interrupt means stop: the cell fails (a Run-All goes no further) after the summary."""
    calls = []

    def predict(row):
        calls.append(row)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        traffic.send(predict, ["x"], max_requests=10, progress=False)
    assert len(calls) == 3  # nothing was sent after the interrupt
    out = capsys.readouterr().out
    assert out.startswith("Interrupted: 2 requests sent, 0 errors (stopped early).")


@pytest.mark.parametrize(
    ("env", "mode"), [("0", "off"), ("off", "off"), ("text", "text"), ("widget", "widget")]
)
def test_progress_mode_from_the_environment(monkeypatch, env, mode):
    monkeypatch.setenv(traffic.PROGRESS_ENV, env)
    assert traffic.progress_mode() == mode


def test_text_progress_prints_one_final_line_and_no_frames(monkeypatch, capsys):
    monkeypatch.setenv(traffic.PROGRESS_ENV, "text")
    traffic.send(Recorder(), ["a", "b"], max_requests=5, desc="hour 1")
    assert capsys.readouterr().out == "hour 1: 5/5 requests\n"


def test_background_traffic_is_bounded_and_stoppable():
    rec = Recorder()
    handle = traffic.start_background(rec, ["r"], interval=0.01, max_requests=5)
    res = handle.join(timeout=5)
    assert res.sent == 5 and not handle.running
    handle2 = traffic.start_background(rec, ["r"], interval=0.05, max_requests=10_000)
    time.sleep(0.2)
    res2 = handle2.stop()
    assert res2.stopped and not handle2.running and 0 < res2.sent < 10_000


def test_rejects_empty_rows_and_bad_target():
    with pytest.raises(ValueError, match="no rows"):
        traffic.send(Recorder(), [], progress=False)
    with pytest.raises(TypeError, match="Predictor"):
        traffic.send(42, ["a"], progress=False)
