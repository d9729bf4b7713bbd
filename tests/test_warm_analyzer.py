"""The warm analyzer (fork server) keeps the entry point's guarantees.

Every case of tests/test_hardening_analyzer.py's customer scripts runs here through a job
process forked by ``mmutils.analyzer.forkserver`` (as the emulator runs it) and must end the
same way as with a new ``python -m mmutils.analyzer``: exit code 255 and the same message.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from emulator_support import Emulator, baseline_job, upload, wait_job
from test_hardening_analyzer import SCRIPT_CASES, _csv, _job, _message, _no_process_with
from test_hardening_emulator import _members, _wait

from mmutils.emulator import processing, warm_analyzer


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    server = warm_analyzer.WarmAnalyzer()
    yield server, tmp_path_factory.mktemp("warm-home")
    server.stop()


def _launch(warm, tmp_path: Path, env: dict) -> warm_analyzer.JobProcess:
    server, home = warm
    jobdir = Path(env["MMLAB_OPT_ML"])
    job_env = processing.analyzer_env({k: v for k, v in env.items() if k != "MMLAB_OPT_ML"}, jobdir)
    return server.launch(
        processing.analyzer_command(warm_analyzer.SERVER_MODULE),
        processing.analyzer_env({}, home),
        job_env,
        jobdir,
        home,
    )


def _run(warm, tmp_path: Path, env: dict) -> tuple[int, str]:
    proc = _launch(warm, tmp_path, env)
    out = proc.stdout.read()
    return proc.wait(), out


def test_a_job_completes_with_the_analysis_outputs(warm, tmp_path):
    code, out = _run(warm, tmp_path, _job(tmp_path))
    assert code == 0, out
    assert _message(tmp_path).startswith("Completed: Job completed successfully")
    stats = json.loads((tmp_path / "opt_ml/processing/output/statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 2
    assert "Current Environment:" in out


@pytest.mark.parametrize("case", sorted(SCRIPT_CASES))
def test_scripts_that_exit_fail_the_job(warm, tmp_path, case):
    which, code, expected = SCRIPT_CASES[case]
    script = _csv(tmp_path / "opt_ml/processing/code" / f"{which}.py", code)
    key = "record_preprocessor_script" if which == "pre" else "post_analytics_processor_script"
    env = _job(tmp_path, **{key: f"/opt/ml/processing/code/{script.name}"})
    status, out = _run(warm, tmp_path, env)
    assert status == 255, out
    assert _message(tmp_path).startswith(expected)


SPY = """
import json, os
from pathlib import Path
def postprocess_handler():
    Path(os.environ["output_path"], "spy.json").write_text(json.dumps({
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "env": sorted(os.environ), "cwd": os.getcwd(),
        "pgid": os.getpgid(0), "pid": os.getpid(),
    }))
"""


def test_scripts_see_the_jobs_environment_folder_and_no_channel_of_the_parent(warm, tmp_path):
    _csv(tmp_path / "opt_ml/processing/code/post.py", SPY)
    env = _job(
        tmp_path, post_analytics_processor_script="/opt/ml/processing/code/post.py", custom="1"
    )
    code, out = _run(warm, tmp_path, env)
    assert code == 0, out
    spy = json.loads((tmp_path / "opt_ml/processing/output/spy.json").read_text())
    # stdin, stdout, stderr, the report pipe, the listing itself: not the status pipe or socket
    assert len([fd for fd in spy["fds"] if fd > 2]) <= 2
    assert spy["cwd"] == str(tmp_path / "opt_ml")
    assert spy["pgid"] == spy["pid"]  # the isolated child leads its own group
    assert "custom" in spy["env"] and "MMLAB_FORKSERVER_FD" not in spy["env"]
    assert not {"MMLAB_OPT_ML", "HOME"} - set(spy["env"])


def test_a_script_that_hangs_is_stopped_with_its_children(warm, tmp_path):
    marker = f"mmlab-warm-hang-{os.getpid()}-{time.time_ns()}"
    code = (
        "import subprocess, time\n"
        f"subprocess.Popen(['sleep', '300', '{marker}'])\n"
        "while True:\n    time.sleep(1)\n"
    )
    _csv(tmp_path / "opt_ml/processing/code/post.py", code)
    env = _job(
        tmp_path,
        post_analytics_processor_script="/opt/ml/processing/code/post.py",
        MMLAB_MAX_RUNTIME="3",
    )
    started = time.monotonic()
    status, _ = _run(warm, tmp_path, env)
    assert status == 255
    assert time.monotonic() - started < 30
    assert _message(tmp_path) == (
        "ClientError: the analysis exceeded its maximum runtime of 3 seconds while importing "
        "the post-analytics processor script and was stopped"
    )
    time.sleep(0.5)
    assert _no_process_with(marker)


def test_killing_the_job_group_ends_the_job_as_killed(warm, tmp_path):
    _csv(tmp_path / "opt_ml/processing/code/post.py", "import time\ntime.sleep(300)\n")
    env = _job(tmp_path, post_analytics_processor_script="/opt/ml/processing/code/post.py")
    proc = _launch(warm, tmp_path, env)
    time.sleep(1.0)
    processing.kill_group(proc.pid)
    proc.stdout.read()
    assert proc.wait() == warm_analyzer.KILLED


def test_job_processes_die_with_the_server(tmp_path):
    server = warm_analyzer.WarmAnalyzer()
    _csv(tmp_path / "opt_ml/processing/code/post.py", "import time\ntime.sleep(300)\n")
    env = _job(tmp_path, post_analytics_processor_script="/opt/ml/processing/code/post.py")
    proc = _launch((server, tmp_path / "home"), tmp_path, env)
    time.sleep(1.0)
    server.stop()  # SIGKILL, like the emulator's death (the server has PR_SET_PDEATHSIG)
    proc.stdout.read()  # EOF: the job and its isolated child are gone
    assert proc.wait() == warm_analyzer.KILLED
    assert _wait(lambda: not _members(proc.pid))  # nothing of the job's group runs on


def test_a_dead_server_is_restarted(warm, tmp_path):
    server, _home = warm
    assert _run(warm, tmp_path, _job(tmp_path))[0] == 0
    os.killpg(server._server.pid, signal.SIGKILL)
    server._server.wait()
    assert _run(warm, tmp_path, _job(tmp_path))[0] == 0


def test_the_switch_restores_a_new_interpreter_per_job(monkeypatch):
    monkeypatch.setenv(warm_analyzer.SWITCH_ENV, "0")
    assert not warm_analyzer.enabled()
    monkeypatch.delenv(warm_analyzer.SWITCH_ENV)
    assert warm_analyzer.enabled()


# ------------------------------------------------------------------ through the emulator

HANGER = """
import os, time
from pathlib import Path
Path(os.environ["output_path"], "pid").write_text(str(os.getpid()))
time.sleep(300)
"""


def _hanging_job(emulator: Emulator, name: str) -> None:
    upload(emulator, "lab-bucket", "d/data/train.csv", b"a\n1\n")
    data = upload(emulator, "lab-bucket", "d/code/post.py", HANGER.encode())
    root = "/opt/ml/processing/input/baseline_dataset_input"
    baseline_job(
        emulator,
        name,
        data.rsplit("/", 2)[0] + "/",
        "s3://lab-bucket/o/",
        env={
            "dataset_source": f"{root}/data",
            "post_analytics_processor_script": f"{root}/code/post.py",
        },
    )


def _script_pid(state: Path, name: str) -> int:
    pid_file = state / "jobs" / name / "processing" / "output" / "pid"
    assert _wait(pid_file.exists, 30)
    assert _wait(lambda: pid_file.read_text().strip() != "")
    return int(pid_file.read_text())


def test_stop_processing_job_stops_a_warm_job(tmp_path):
    emulator = Emulator(tmp_path / "state").start()
    try:
        _hanging_job(emulator, "warm-stop")
        script = _script_pid(tmp_path / "state", "warm-stop")
        sm = emulator.client("sagemaker")
        sm.stop_processing_job(ProcessingJobName="warm-stop")
        assert wait_job(sm, "warm-stop")["ProcessingJobStatus"] == "Stopped"
        assert _wait(lambda: not _alive(script))
    finally:
        emulator.stop()


def test_kill_9_of_the_emulator_ends_a_warm_job_and_its_script(tmp_path):
    state = tmp_path / "state"
    emulator = Emulator(state).start()
    _hanging_job(emulator, "warm-kill")
    script = _script_pid(state, "warm-kill")
    pgid = int((state / "jobs" / "warm-kill" / processing.PGID_FILE).read_text())
    emulator.proc.send_signal(signal.SIGKILL)
    emulator.proc.wait()
    emulator._stderr.close()
    # emulator -> server -> job process -> isolated child: each dies with its parent
    assert _wait(lambda: not _alive(script))
    assert _wait(lambda: not _members(pgid))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
