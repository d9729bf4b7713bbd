"""The emulator process and its admin routes: start line, loopback only, health, clock, seed,
flush, reset, clean stop; the Python client; the moto-internals checks."""

from __future__ import annotations

import subprocess
import sys

import pytest
from emulator_support import REPO, running

from mmutils.emulator.client import EmulatorClient, EmulatorError, parse_duration


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("server")) as emu:
        yield emu


def test_refuses_non_loopback_host():
    proc = subprocess.run(
        [sys.executable, "-m", "mmutils.emulator.server", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "refusing to listen on '0.0.0.0'" in proc.stderr
    assert proc.stdout == ""


def test_ready_line_and_health(emu):
    assert emu.url.startswith("http://127.0.0.1:")
    health = EmulatorClient(emu.url).health()
    assert health["service"] == "mmlab-emulator"
    assert health["pid"] == emu.proc.pid
    assert health["moto"] == "5.2.5"


def test_clock_set_advance_next_hour_and_real(emu):
    c = EmulatorClient(emu.url)
    assert c.set_clock("2024-03-05T10:15:30Z") == {
        "now": "2024-03-05T10:15:30.000Z",
        "mode": "manual",
        "executions": [],
    }
    assert c.clock() == {"now": "2024-03-05T10:15:30.000Z", "mode": "manual"}
    assert c.advance("1h30m")["now"] == "2024-03-05T11:45:30.000Z"
    assert c.advance(90)["now"] == "2024-03-05T11:47:00.000Z"
    assert c.advance_to_next_hour()["now"] == "2024-03-05T12:00:00.000Z"
    assert c.real_time()["mode"] == "real"
    assert c.clock()["now"] >= "2026"


def test_clock_rejects_bad_commands(emu):
    c = EmulatorClient(emu.url)
    with pytest.raises(EmulatorError, match="HTTP 400.*not an ISO-8601 time"):
        c.set_clock("yesterday")
    with pytest.raises(EmulatorError, match="HTTP 400.*negative"):
        c.advance(-5)
    with pytest.raises(EmulatorError, match="HTTP 400.*expected one of"):
        c._call("POST", "/moto-api/mmlab/clock", {"jump": 1})


def test_seed_flush_and_reset(emu):
    c = EmulatorClient(emu.url)
    assert c.seed(42) == {"seed": 42}
    assert c.flush() == {"flushed": True}
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="to-be-reset")
    c.reset()
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
    with pytest.raises(EmulatorError, match="HTTP 400.*integer"):
        c._call("POST", "/moto-api/mmlab/seed", {"seed": "x"})


def test_client_reports_unreachable_emulator():
    with pytest.raises(EmulatorError, match="cannot reach the emulator"):
        EmulatorClient("http://127.0.0.1:9", timeout=2).health()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("2m", 120), ("1h", 3600), ("1h30m", 5400), ("1h2m3s", 3723), ("45", 45)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1d", "m5", "30m1h", "1h1h", "abc"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_sigterm_stops_cleanly(tmp_path):
    with running(tmp_path) as emu:
        EmulatorClient(emu.url).health()
        code = emu.stop()
    assert code == 0
    assert "Traceback" not in emu.stderr()


def test_moto_internals_checks_name_the_version(monkeypatch):
    from moto.sagemaker import responses as smr

    from mmutils.emulator import fidelity

    monkeypatch.delattr(smr.SageMakerResponse, "describe_model")
    with pytest.raises(
        RuntimeError, match=r"moto 5\.2\.5 has no SageMakerResponse\.describe_model"
    ):
        fidelity.check_moto()


def test_every_extension_passes_its_moto_check():
    from mmutils.emulator import capture, fidelity, hosting, processing, s3io, schedules

    for module in (fidelity, schedules, hosting, s3io):
        module.check_moto()
    assert capture.WRITER is not None and processing.RUNTIME is not None
