"""Lifecycle of the detached emulator: start, attach, concurrent starts, stop, stale state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmutils.emulator import lifecycle

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A private MMLAB_HOME; whatever a test started there is stopped afterwards."""
    monkeypatch.setenv("MMLAB_HOME", str(tmp_path / "mmlab-home"))
    yield tmp_path / "mmlab-home"
    lifecycle.stop(timeout=5)


def _alive(pid: int) -> bool:
    return lifecycle._pid_alive(pid)


def test_start_records_state_and_status_attaches(home):
    info = lifecycle.start()
    doc = json.loads((home / "emulator.json").read_text())
    assert doc["pid"] == info.pid and doc["port"] == info.port
    assert doc["endpoint_url"] == f"http://127.0.0.1:{info.port}"
    assert Path(doc["log"]).is_file()
    assert doc["version"]
    health = lifecycle.health(info.endpoint_url)
    assert health["service"] == "mmlab-emulator" and health["pid"] == info.pid

    assert lifecycle.status() == info
    again = lifecycle.start()
    assert again.pid == info.pid and again.port == info.port

    # the server is in its own session: it outlives whoever started it
    assert os.getsid(info.pid) == info.pid

    stopped = lifecycle.stop()
    assert stopped.pid == info.pid
    assert not _alive(info.pid)
    assert not (home / "emulator.json").exists()
    assert lifecycle.status() is None
    assert lifecycle.stop() is None


def test_two_processes_starting_at_once_share_one_server(home):
    code = (
        "import json; from mmutils.emulator import lifecycle; "
        "print(json.dumps(lifecycle.start().pid))"
    )
    env = {**os.environ, "MMLAB_HOME": str(home), "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    pids = [json.loads(p.communicate(timeout=90)[0]) for p in procs]
    assert pids[0] == pids[1]
    info = lifecycle.status()
    assert info is not None and info.pid == pids[0]
    # the server survived the exit of the process that launched it
    assert lifecycle.health(info.endpoint_url)["pid"] == info.pid


def test_tampered_state_never_kills_an_unrelated_process(home):
    info = lifecycle.start()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        doc = json.loads((home / "emulator.json").read_text())
        doc["pid"] = bystander.pid  # state file now names a live process that is not ours
        (home / "emulator.json").write_text(json.dumps(doc))

        assert lifecycle.status() is None  # health reports another pid: not trusted
        assert not (home / "emulator.json").exists()

        (home / "emulator.json").write_text(json.dumps(doc))
        assert lifecycle.stop() is None
        time.sleep(0.2)
        assert bystander.poll() is None, "stop() signalled a process it did not start"
        assert not (home / "emulator.json").exists()
    finally:
        bystander.kill()
        bystander.wait()
        lifecycle._terminate(info.pid)  # the real server, which the tampered file no longer names


def test_stale_state_file_is_replaced_by_a_new_server(home):
    home.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = {
        "pid": dead.pid,
        "port": 9,
        "endpoint_url": "http://127.0.0.1:9",
        "started_at": "2020-01-01T00:00:00+00:00",
        "log": str(home / "x.log"),
        "version": "0",
        "state_dir": str(home),
    }
    (home / "emulator.json").write_text(json.dumps(stale))
    assert lifecycle.status() is None
    assert not (home / "emulator.json").exists()

    # a state file aimed at a remote host is never followed (no request leaves loopback)
    (home / "emulator.json").write_text(
        json.dumps({**stale, "pid": os.getpid(), "endpoint_url": "http://203.0.113.9:9"})
    )
    assert lifecycle.status() is None
    assert lifecycle.stop() is None
    assert not (home / "emulator.json").exists()

    (home / "emulator.json").write_text("{not json")
    info = lifecycle.start()
    assert info.pid != dead.pid
    assert json.loads((home / "emulator.json").read_text())["pid"] == info.pid


def test_reset_and_env_lines(home):
    with pytest.raises(lifecycle.EmulatorError, match="mmlab emulator start"):
        lifecycle.env_lines()
    info = lifecycle.start()
    lines = lifecycle.env_lines()
    assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{info.port}" in lines
    assert "export AWS_ACCESS_KEY_ID=testing" in lines
    assert "export AWS_MAX_ATTEMPTS=2" in lines
    assert "export SAGEMAKER_SUPPRESS_V2_WARNING=1" in lines
    assert "unset AWS_PROFILE" in lines
    # the lines work in a real shell and override a real-looking profile
    script = "\n".join(
        ["export AWS_PROFILE=prod", *lines, 'echo "$AWS_ENDPOINT_URL|${AWS_PROFILE-}"']
    )
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{info.endpoint_url}|"
    assert lifecycle.reset() == {"status": "ok"}


def test_server_that_dies_reports_its_log(home):
    # a port that is already taken makes the server exit at once
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            lifecycle.EmulatorError, match=r"exited with code \d+(.|\n)*Address already in use"
        ):
            lifecycle.start(port=port, timeout=30)
    assert not (home / "emulator.json").exists()


def test_a_hung_server_is_still_stopped(home):
    """No health answer (frozen process): the command line proves it is ours; SIGKILL ends it."""
    import signal

    info = lifecycle.start()
    os.kill(info.pid, signal.SIGSTOP)  # answers nothing, ignores SIGTERM until continued
    try:
        assert lifecycle.health(info.endpoint_url, timeout=0.5) is None
        stopped = lifecycle.stop(timeout=1)
    finally:
        if lifecycle._pid_alive(info.pid):
            os.kill(info.pid, signal.SIGCONT)
    assert stopped is not None and stopped.pid == info.pid
    assert not lifecycle._pid_alive(info.pid)
    assert not (home / "emulator.json").exists()
