"""The emulator process and its admin routes: start line, loopback only, health, clock, seed,
flush, reset, clean stop; the one admin client (no proxy, one error class)."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from emulator_support import REPO, running

from mmutils.emulator import lifecycle
from mmutils.emulator.admin_client import (
    HEALTH_PATH,
    EmulatorClient,
    EmulatorError,
    parse_duration,
)


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
        "mode": "frozen",
        "executions": [],
    }
    assert c.clock() == {"now": "2024-03-05T10:15:30.000Z", "mode": "frozen"}
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


def test_admin_client_ignores_a_proxy_from_the_environment(emu, monkeypatch):
    """A dead proxy in HTTP(S)_PROXY, NO_PROXY unset: the admin client still reaches 127.0.0.1."""
    dead = "http://127.0.0.1:9"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    # negative control: an ordinary urllib opener built now goes through the dead proxy
    with pytest.raises(urllib.error.URLError):
        urllib.request.build_opener().open(emu.url + HEALTH_PATH, timeout=5)
    client = EmulatorClient(emu.url, timeout=5)
    assert client.health()["pid"] == emu.proc.pid
    assert client.clock()["mode"] in ("real", "flowing", "frozen")
    assert lifecycle.health(emu.url, timeout=5)["pid"] == emu.proc.pid


def test_one_error_class_for_every_admin_failure():
    assert lifecycle.EmulatorError is EmulatorError
    with pytest.raises(EmulatorError, match="cannot reach the emulator"):
        EmulatorClient("http://127.0.0.1:9", timeout=2).reset()
    assert lifecycle.health("http://127.0.0.1:9", timeout=2) is None
