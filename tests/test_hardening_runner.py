"""Misuse of ``mmlab run`` and ``mmlab emulator`` (issue 10, class 5 and 10): refused up front
with a message that says what is wrong, and signals that leave no process of ours behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mmutils.lab import runner

REPO = Path(__file__).resolve().parents[1]
ALL = runner.LAB_NOTEBOOKS


BAD_PARAMETERS = [
    ({"NO_SUCH_PARAM": 1}, "unknown parameter NO_SUCH_PARAM (the notebooks"),
    ({"N_REQUEST": 5}, "unknown parameter N_REQUEST; did you mean N_REQUESTS?"),
    ({"inject_drift": True}, "unknown parameter inject_drift; did you mean INJECT_DRIFT?"),
    ({"INJECT_DRIFT": "maybe"}, "INJECT_DRIFT must be True or False, not 'maybe'"),
    ({"INJECT_DRIFT": 1}, "INJECT_DRIFT must be True or False, not 1"),
    ({"N_REQUESTS": -5}, "N_REQUESTS must be at least 1, not -5"),
    ({"N_REQUESTS": "many"}, "N_REQUESTS must be an integer, not 'many'"),
    ({"N_REQUESTS": 2.5}, "N_REQUESTS must be an integer, not 2.5"),
    ({"HOURS": 0}, "HOURS must be at least 1, not 0"),
    ({"SEED": -1}, "SEED must be at least 0, not -1"),
    ({"BACKEND": "live"}, "set BACKEND with --backend, not -p"),
]


@pytest.mark.parametrize(("params", "message"), BAD_PARAMETERS)
def test_bad_parameters_are_refused_up_front(params, message):
    with pytest.raises(runner.ParameterError) as err:
        runner.check_parameters(params, ALL)
    assert str(err.value).startswith(message)


def test_good_parameters_are_typed_like_the_defaults():
    got = runner.check_parameters(
        runner.parse_parameters(
            [["INJECT_DRIFT", "false"], ["N_REQUESTS", "20"], ["PREFIX", "123"], ["HOURS", "1"]]
        ),
        ALL,
    )
    assert got == {"INJECT_DRIFT": False, "N_REQUESTS": 20, "PREFIX": "123", "HOURS": 1}


def test_parameter_of_a_notebook_not_run_is_unknown():
    with pytest.raises(runner.ParameterError, match="unknown parameter N_REQUESTS"):
        runner.check_parameters({"N_REQUESTS": 5}, ("01_capture",))


def _mmlab(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mmutils.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
        **kw,
    )


def test_cli_refuses_bad_parameters_before_anything_runs(tmp_path):
    out = tmp_path / "run"
    done = _mmlab("run", "--output", str(out), "-p", "INJECT_DRIFT", "maybe")
    assert done.returncode == 2
    assert done.stderr == "[mmlab run] INJECT_DRIFT must be True or False, not 'maybe'\n"
    assert not out.exists()  # no run folder, no emulator
    done = _mmlab("run", "--output", str(out), "-p", "NO_SUCH_PARAM", "1")
    assert done.returncode == 2 and "unknown parameter NO_SUCH_PARAM" in done.stderr
    assert not out.exists()


def test_two_runs_in_the_same_second_get_distinct_folders(tmp_path):
    folders: list[Path] = []
    lock = threading.Lock()

    def make():
        folder = runner.new_run_folder(tmp_path)
        with lock:
            folders.append(folder)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({f.name for f in folders}) == 8
    assert all(f.is_dir() and not any(f.iterdir()) for f in folders)


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_emulator_start_refuses_a_port_that_is_not_one(tmp_path, port):
    done = _mmlab("emulator", "start", "--port", port, env={"MMLAB_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "is not a port number (1-65535)" in done.stderr
    assert not (tmp_path / "emulator.json").exists()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _group_alive(pgid: int) -> bool:
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line or environment names ``text`` (our run folder)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob and _alive(int(proc.name)) and int(proc.name) != os.getpid():
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_signal_to_mmlab_run_leaves_no_private_emulator(tmp_path, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmutils.cli",
            "run",
            "--output",
            str(out),
            "--notebooks",
            "01_capture",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    state = out / ".emulator" / "emulator.json"
    assert _wait(state.exists, 90), proc.stderr.read() if proc.poll() is not None else ""
    emulator = json.loads(state.read_text())["pid"]
    time.sleep(1.0)  # let papermill start the notebook's kernel
    proc.send_signal(sig)
    code = proc.wait(timeout=60)
    assert code == (130 if sig == signal.SIGTERM else -signal.SIGKILL)
    # the private emulator goes (SIGTERM: mmlab run stops it; SIGKILL: its watchdog does)
    assert _wait(lambda: not _alive(emulator), 20)
    assert _wait(lambda: not _group_alive(proc.pid), 20)  # nothing of mmlab run's group
    assert _wait(lambda: _processes_mentioning(str(out)) == [], 20)
    # and a later start in that home recovers cleanly
    env = {"MMLAB_HOME": str(out / ".emulator")}
    started = _mmlab("emulator", "start", env=env)
    try:
        assert started.returncode == 0, started.stderr
        assert "mmlab emulator started at http://127.0.0.1:" in started.stdout
        # a reader that goes away early is no error for us (no BrokenPipeError)
        piped = subprocess.run(
            f"{sys.executable} -m mmutils.cli emulator status | head -1",
            shell=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
            timeout=60,
        )
        assert piped.stdout.startswith("running at http://127.0.0.1:")
        assert "BrokenPipeError" not in piped.stderr and "Traceback" not in piped.stderr
    finally:
        assert _mmlab("emulator", "stop", env=env).returncode == 0
