"""Play the attendee: the lab notebooks stepped through in a real kernel, re-run, out of order,
interrupted and restarted, on one emulator; then ``mmlab cleanup`` on what is left.

A :class:`Kernel` sends a notebook's cells the way JupyterLab's *Run All* does (every cell queued
at once, ``stop_on_error``), so "the cells below do not run" is what the kernel really does.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import time

import nbformat
import pytest

from mmutils.paths import NOTEBOOKS, REPO_ROOT

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Kernel:
    """A python3 kernel in ``notebooks/`` with the test's emulator home."""

    def __init__(self, env: dict):
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env, cwd=str(NOTEBOOKS))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def run_all(self, sources: list[str], *, on_start=None, timeout: float = 600) -> list[dict]:
        """Queue every source at once (Run All); one ``{status, ename, text}`` per source.

        ``on_start(i)`` is called when cell ``i`` starts executing.
        """
        ids = [self.kc.execute(src, stop_on_error=True) for src in sources]
        index = {msg_id: i for i, msg_id in enumerate(ids)}
        results = [{"status": None, "ename": None, "text": "", "traceback": []} for _ in ids]
        pending = set(ids)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                msg = None
            if msg is not None:
                parent = msg["parent_header"].get("msg_id")
                if parent in index:
                    res, kind = results[index[parent]], msg["msg_type"]
                    content = msg["content"]
                    if kind == "execute_input" and on_start is not None:
                        on_start(index[parent])
                    elif kind == "stream":
                        res["text"] += content["text"]
                    elif kind in ("execute_result", "display_data"):
                        res["text"] += content["data"].get("text/plain", "") + "\n"
                    elif kind == "error":
                        res["ename"] = content["ename"]
                        res["traceback"] = [_ANSI.sub("", line) for line in content["traceback"]]
            while True:
                try:
                    reply = self.kc.get_shell_msg(timeout=0)
                except queue.Empty:
                    break
                parent = reply["parent_header"].get("msg_id")
                if parent in index:
                    results[index[parent]]["status"] = reply["content"]["status"]
                    pending.discard(parent)
        assert not pending, f"cells still running after {timeout} s"
        time.sleep(0.3)  # the last cell's late iopub messages
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                break
            parent = msg["parent_header"].get("msg_id")
            if parent in index and msg["msg_type"] == "stream":
                results[index[parent]]["text"] += msg["content"]["text"]
        return results

    def restart(self) -> None:
        self.km.restart_kernel(now=True)
        self.kc.wait_for_ready(timeout=120)

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def cells(name: str) -> list[str]:
    """The code cells of a notebook, in order."""
    nb = nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def index_of(sources: list[str], needle: str) -> int:
    return next(i for i, src in enumerate(sources) if needle in src)


def assert_all_ok(results: list[dict], name: str) -> None:
    for i, res in enumerate(results):
        assert res["status"] == "ok", f"{name} cell {i}: {res['ename']}\n" + "\n".join(
            res["traceback"][-5:]
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("attendee") / "mmlab-home"
    environ = dict(os.environ)
    environ.update(
        MMLAB_HOME=str(home),
        MMLAB_PROGRESS="text",
        SAGEMAKER_SUPPRESS_V2_WARNING="1",
        PYTHONPATH=str(REPO_ROOT),
    )
    yield environ
    subprocess.run(
        [sys.executable, "-m", "mmutils.cli", "emulator", "stop"], env=environ, capture_output=True
    )


@pytest.fixture
def kernel(env):
    k = Kernel(env)
    yield k
    k.shutdown()


def test_03_before_01_says_what_to_run_in_one_line(kernel):
    """Out of order on a fresh emulator: one line naming notebook 01, no traceback; Run All stops."""
    sources = cells("03_schedule")
    results = kernel.run_all(sources)
    setup = index_of(sources, "mmutils.connect(")
    assert [r["status"] for r in results[:setup]] == ["ok"] * setup
    failed = results[setup]
    assert failed["status"] == "error" and failed["ename"] == "PrerequisiteError"
    assert failed["traceback"] == [
        "PrerequisiteError: The endpoint 'mmlab-xgb-churn-endpoint' does not exist. "
        "Run notebooks/01_capture.ipynb first (with the same PREFIX and BACKEND)."
    ]
    assert "Traceback" not in failed["text"] and "─" not in failed["text"]  # no rich traceback
    assert {r["status"] for r in results[setup + 1 :]} == {"aborted"}


def test_the_lab_in_order_with_every_notebook_run_twice(kernel):
    """01→01→02→02→03→04→04 in one kernel: each run succeeds, with the right outputs."""
    runs = {}
    for name in ("01_capture", "01_capture", "02_baseline", "02_baseline", "03_schedule"):
        results = kernel.run_all(cells(name))
        assert_all_ok(results, name)
        runs.setdefault(name, []).append(results)
    first, second = runs["01_capture"]
    table = index_of(cells("01_capture"), "capture_to_dataframe")
    assert "121 captured records (121 per run" in first[table]["text"]
    assert "242 captured records (121 per run" in second[table]["text"]
    removed = index_of(cells("01_capture"), "delete_endpoint_if_exists")
    assert "removed: []" in first[removed]["text"]
    assert "endpoint mmlab-xgb-churn-endpoint" in second[removed]["text"]
    job_cell = index_of(cells("02_baseline"), "suggest_baseline")
    assert [r[job_cell]["text"].split()[0] for r in runs["02_baseline"]] == [
        "mmlab-baseline-1",
        "mmlab-baseline-2",
    ]
    sched = runs["03_schedule"][0]
    drift_cell = index_of(cells("03_schedule"), 'drift = violations[violations["constraint')
    assert "3 baseline_drift_check violations, 63 violations in all" in sched[drift_cell]["text"]
    # no log line and no progress frame reaches a cell's output
    for results in [*runs["01_capture"], *runs["02_baseline"], sched]:
        for res in results:
            assert "INFO:" not in res["text"] and "%|" not in res["text"]

    sources = cells("04_visualize")
    first = kernel.run_all(sources)
    assert_all_ok(first, "04_visualize (1)")
    again = kernel.run_all(sources)
    assert_all_ok(again, "04_visualize (2)")
    setup = index_of(sources, "lab.lab_executions(")
    assert "3 executions" in first[setup]["text"] and "3 executions" in again[setup]["text"]
    cleanup = index_of(sources, "delete_monitoring_schedule")
    assert "deleted the schedule mmlab-data-quality-schedule" in first[cleanup]["text"]
    assert "deleted the endpoint" in first[cleanup]["text"]
    assert again[cleanup]["text"].splitlines() == ["no schedule to delete", "no endpoint to delete"]


def quick_03() -> list[str]:
    """Notebook 03 with one short hour of normal traffic."""
    sources = cells("03_schedule")
    params = index_of(sources, "N_REQUESTS = 360")
    sources[params] += "\nN_REQUESTS = 20\nHOURS = 1\nINJECT_DRIFT = False"
    return sources


def test_interrupting_the_traffic_stops_the_notebook(kernel):
    """Interrupt during 03's traffic: the cell says what it sent, later cells never run, and no
    request arrives afterwards."""
    for name in ("01_capture", "02_baseline"):
        assert_all_ok(kernel.run_all(cells(name)), name)
    sources = cells("03_schedule")
    # traffic long enough (tens of seconds) that the interrupt surely lands in it
    params = index_of(sources, "N_REQUESTS = 360")
    sources[params] += "\nN_REQUESTS = 20000"
    traffic = index_of(sources, "for hour in range(HOURS)")

    def interrupt_in_traffic(i):
        if i == traffic:
            time.sleep(1.5)
            kernel.interrupt()

    results = kernel.run_all(sources, on_start=interrupt_in_traffic)
    stopped = results[traffic]
    assert stopped["status"] == "error" and stopped["ename"] == "KeyboardInterrupt"
    assert stopped["traceback"] == [
        "KeyboardInterrupt: the kernel was interrupted: this cell stopped, and the cells below "
        "did not run."
    ]
    match = re.search(
        r"Interrupted: (\d+) requests sent, 0 errors \(stopped early\)", stopped["text"]
    )
    assert match, stopped["text"]
    assert 0 < int(match.group(1)) < 20000
    assert {r["status"] for r in results[traffic + 1 :]} == {"aborted"}
    # nothing keeps sending: the number of captured records stops growing
    probe = kernel.run_all(
        [
            "import threading, time\n"
            "def captured():\n"
            "    uris = lab.wait_for_capture_files(aws, f'{names.capture_uri}/{names.endpoint}')\n"
            "    aws.emulator.flush()\n"
            "    return sum(len(S3Downloader.read_file(u, sagemaker_session=sess).splitlines())"
            " for u in uris)\n"
            "c1 = captured(); time.sleep(2); c2 = captured()\n"
            "print(c1 == c2, [t.name for t in threading.enumerate() if 'traffic' in t.name])"
        ]
    )
    assert probe[0]["text"].strip() == "True []", probe


def test_kernel_restart_then_setup_continues(kernel):
    """Restart mid-notebook: a later cell gives the restart hint; after Parameters and Setup the
    notebook continues where it was (the schedule is restored from the account)."""
    sources = quick_03()
    traffic = index_of(sources, "for hour in range(HOURS)")
    setup = index_of(sources, "mmutils.connect(")
    assert_all_ok(kernel.run_all(sources[:traffic]), "03 up to the traffic")
    kernel.restart()
    # the attendee re-runs the imports, skips Setup and goes on (a fresh kernel without mmutils
    # imported shows Python's bare NameError: the Setup markdown says what to do then)
    later = kernel.run_all([sources[0], sources[traffic]])
    assert later[1]["status"] == "error" and later[1]["ename"] == "NameError"
    assert any("run the notebook again from its Setup cell" in ln for ln in later[1]["traceback"])
    results = kernel.run_all(sources[: setup + 1] + sources[traffic:])
    assert_all_ok(results, "03 from Setup, then from the traffic on")
    assert "execution: model-monitoring-" in results[setup + 1]["text"]


def test_mmlab_cleanup_removes_the_prefix_and_nothing_else(kernel, env):
    """After a lab run without cleanup: everything tagged mmlab goes, another prefix stays; twice."""
    assert_all_ok(kernel.run_all(cells("01_capture")), "01_capture")
    # a neighbour's endpoint in the same account: prefix mmlab-bob (its name contains "mmlab")
    neighbour = kernel.run_all(
        [
            "sm.create_model(ModelName='mmlab-bob-xgb-churn', ExecutionRoleArn=aws.role,"
            " PrimaryContainer={'Image': model.image_uri, 'ModelDataUrl': model_uri},"
            " Tags=lab.lab_tags('mmlab-bob'))\n"
            "print('ok')"
        ]
    )
    assert neighbour[0]["status"] == "ok", neighbour
    assert_all_ok(kernel.run_all(quick_03()), "03_schedule (short)")

    def cleanup(*extra):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "mmutils.cli",
                "cleanup",
                "--prefix",
                "mmlab",
                "--backend",
                "moto",
                *extra,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    kept = cleanup("--older-than", "5h")
    assert kept.returncode == 0, kept.stderr
    assert "keep   monitoring schedule mmlab-data-quality-schedule" in kept.stdout
    done = cleanup()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "delete monitoring schedule mmlab-data-quality-schedule",
        "delete endpoint mmlab-xgb-churn-endpoint",
        "delete endpoint config mmlab-xgb-churn-endpoint",
        "delete model mmlab-xgb-churn",
    ]
    again = cleanup()
    assert again.stdout == "" and "nothing of the lab with prefix 'mmlab'" in again.stderr
    left = kernel.run_all(
        [
            "print(json.dumps([m['ModelName'] for m in sm.list_models()['Models']]),"
            " len(sm.list_endpoints()['Endpoints']),"
            " len(sm.list_monitoring_schedules()['MonitoringScheduleSummaries']))"
        ]
    )
    assert json.loads(left[0]["text"].split(" ")[0]) == ["mmlab-bob-xgb-churn"]
    assert left[0]["text"].split()[1:] == ["0", "0"]
