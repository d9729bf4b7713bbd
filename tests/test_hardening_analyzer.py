"""Adversarial inputs to the analyzer (issue 10, analyzer side): one test per class.

Each test asserts the exact outcome — message, exit status — and that no partial or temporary
file and no process is left behind.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mmutils.analyzer import container, readers
from mmutils.analyzer.baseline import suggest_baseline
from mmutils.analyzer.capture_reader import read_capture
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.scripts import POSTPROCESSOR_EXCEPTION, PREPROCESSOR_EXCEPTION
from mmutils.cli import main as mmlab

REPO = Path(__file__).resolve().parents[1]


def _csv(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _job(tmp_path: Path, **env) -> dict:
    opt_ml = tmp_path / "opt_ml"
    _csv(opt_ml / "processing/input/data/train.csv", "a,b\n1,2\n3,4.5\n")
    base = {
        "MMLAB_OPT_ML": str(opt_ml),
        "dataset_format": json.dumps({"csv": {"header": True}}),
        "dataset_source": "/opt/ml/processing/input/data",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }
    base.update(env)
    return base


def _entry(env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -m mmutils.analyzer`` (the image's entry point) with ``env``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MMLAB_")}
    full.update(env)
    full["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "mmutils.analyzer"],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name.endswith(".tmp"))


def _message(tmp_path: Path) -> str:
    return (tmp_path / "opt_ml/output/message").read_text()


def _no_process_with(marker: str) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return marker not in out


# -- class 2: customer scripts cannot turn a failure into a success ---------------------------

SCRIPT_CASES = {
    # name: (which script, code, expected message start)
    "pre_sys_exit0_at_import": ("pre", "import sys\nsys.exit(0)\n", "Cannot import script"),
    "pre_os_exit0_at_import": ("pre", "import os\nos._exit(0)\n", PREPROCESSOR_EXCEPTION),
    "pre_raise_at_import": ("pre", "raise RuntimeError('boom')\n", "Cannot import script"),
    "pre_handler_sys_exit": (
        "pre",
        "import sys\ndef preprocess_handler(r):\n    sys.exit(0)\n",
        PREPROCESSOR_EXCEPTION,
    ),
    "pre_handler_os_exit": (
        "pre",
        "import os\ndef preprocess_handler(r):\n    os._exit(0)\n",
        PREPROCESSOR_EXCEPTION,
    ),
    "post_sys_exit0": (
        "post",
        "import sys\ndef postprocess_handler():\n    sys.exit(0)\n",
        "There is an exception raised in post-analytics processor script post.py: "
        "the script called sys.exit(0)",
    ),
    "post_sys_exit1": (
        "post",
        "import sys\ndef postprocess_handler():\n    sys.exit(1)\n",
        "There is an exception raised in post-analytics processor script post.py: "
        "the script called sys.exit(1)",
    ),
    "post_os_exit0": (
        "post",
        "import os\ndef postprocess_handler():\n    os._exit(0)\n",
        POSTPROCESSOR_EXCEPTION,
    ),
    "post_os_exit_at_import": ("post", "import os\nos._exit(3)\n", POSTPROCESSOR_EXCEPTION),
    "post_keyboard_interrupt_like": (
        "post",
        "def postprocess_handler():\n    raise SystemExit('bye')\n",
        "There is an exception raised in post-analytics processor script post.py: "
        "the script called sys.exit('bye')",
    ),
}


@pytest.mark.parametrize("case", sorted(SCRIPT_CASES))
def test_scripts_that_exit_fail_the_job(tmp_path, case):
    which, code, expected = SCRIPT_CASES[case]
    script = _csv(tmp_path / "opt_ml/processing/code" / f"{which}.py", code)
    key = "record_preprocessor_script" if which == "pre" else "post_analytics_processor_script"
    env = _job(tmp_path, **{key: f"/opt/ml/processing/code/{script.name}"})
    proc = _entry(env)
    assert proc.returncode == 255, proc.stdout
    assert _message(tmp_path).startswith(expected)
    assert _leftovers(tmp_path) == []


def test_script_that_hangs_is_stopped_with_its_children(tmp_path):
    marker = f"mmlab-hang-{os.getpid()}-{time.time_ns()}"
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
    proc = _entry(env)
    assert proc.returncode == 255
    assert time.monotonic() - started < 30
    assert _message(tmp_path) == (
        "ClientError: the analysis exceeded its maximum runtime of 3 seconds while importing "
        "the post-analytics processor script and was stopped"
    )
    time.sleep(0.5)
    assert _no_process_with(marker)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf"])
def test_bad_max_runtime_is_refused(tmp_path, value):
    proc = _entry(_job(tmp_path, MMLAB_MAX_RUNTIME=value))
    assert proc.returncode == 255
    assert _message(tmp_path) == (
        f"Invalid MMLAB_MAX_RUNTIME {value!r}: expected a positive number of seconds"
    )


def test_cli_preprocessor_that_exits_fails_with_255(tmp_path, capsys):
    data = _csv(tmp_path / "d.csv", "a,b\n1,2\n")
    base = tmp_path / "base"
    assert mmlab(["analyze", "baseline", str(data), "--out", str(base)]) == 0
    script = _csv(tmp_path / "pre.py", "import os\nos._exit(0)\n")
    out = tmp_path / "out"
    code = mmlab(
        [
            "analyze", "monitor", str(data), "--statistics", str(base / "statistics.json"),
            "--constraints", str(base / "constraints.json"), "--out", str(out),
            "--record-preprocessor-script", str(script),
        ]
    )  # fmt: skip
    assert code == 255
    assert "exited with code 0 before reporting a result" in capsys.readouterr().err
    assert not out.exists()


def test_cli_max_runtime(tmp_path, capsys):
    data = _csv(tmp_path / "d.csv", "a,b\n1,2\n")
    assert mmlab(["analyze", "baseline", str(data), "--max-runtime", "-3"]) == 1
    assert "Invalid --max-runtime '-3'" in capsys.readouterr().err
    out = tmp_path / "o"
    assert mmlab(["analyze", "baseline", str(data), "--out", str(out), "--max-runtime", "60"]) == 0
    assert (out / "statistics.json").is_file()


# -- class 3: relocation is normalised and confined ------------------------------------------

ESCAPES = [
    ("output_path", "/opt/ml/../../.."),
    ("output_path", "/opt/ml/processing/../../../tmp"),
    ("dataset_source", "/opt/ml/../etc/passwd"),
    ("baseline_statistics", "/opt/ml/./../x"),
    ("CLOUDWATCH_METRICS_DIRECTORY", "/opt/ml/output/../../../var"),
    ("record_preprocessor_script", "/opt/ml/..//evil.py"),
]


@pytest.mark.parametrize(("key", "value"), ESCAPES)
def test_paths_cannot_leave_opt_ml(tmp_path, key, value):
    env = _job(tmp_path, **{key: value})
    assert container.run(env) == 255
    normal = os.path.normpath(value)
    assert _message(tmp_path) == (
        f"Invalid {key} {value!r}: the path leaves /opt/ml (it resolves to {normal!r}); "
        "paths must stay inside /opt/ml"
    )


def test_confined_mode_refuses_host_paths(tmp_path):
    env = _job(tmp_path, MMLAB_CONFINE_PATHS="1", output_path=str(tmp_path / "host"))
    assert container.run(env) == 255
    assert "the path leaves /opt/ml" in _message(tmp_path)
    assert not (tmp_path / "host").exists()


def test_symlink_out_of_the_job_folder_is_refused(tmp_path):
    env = _job(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "opt_ml/processing/link").symlink_to(tmp_path / "outside")
    env["output_path"] = "/opt/ml/processing/link"
    assert container.run(env) == 255
    assert _message(tmp_path) == (
        "Invalid output_path '/opt/ml/processing/link': a symbolic link leads it out of /opt/ml"
    )
    assert list((tmp_path / "outside").iterdir()) == []


def test_normalised_paths_still_work(tmp_path):
    env = _job(tmp_path, output_path="/opt/ml/processing/x/../output/")
    assert container.run(env) == 0
    assert (tmp_path / "opt_ml/processing/output/statistics.json").is_file()


# -- class 6: failed writes leave no temporary files; the message file does not race ----------


def test_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    from mmutils.analyzer import jsonfmt

    def boom(doc, *rest):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonfmt, "dumps", boom)
    with pytest.raises(OSError):
        jsonfmt.write_documents(tmp_path, {"statistics.json": {}, "constraints.json": {}})
    assert list(tmp_path.iterdir()) == []


def test_thirty_concurrent_container_runs_share_a_message_folder(tmp_path):
    env = _job(tmp_path)
    outs = [f"/opt/ml/processing/out{i}" for i in range(30)]

    def one(out):
        return _entry({**env, "output_path": out}, timeout=300).returncode

    with ThreadPoolExecutor(30) as pool:
        codes = list(pool.map(one, outs))
    assert codes == [0] * 30
    assert _message(tmp_path) == "Completed: Job completed successfully with no violations."
    assert _leftovers(tmp_path) == []


# -- class 7: Spark's CSV header rules ---------------------------------------------------------

HEADERS = [
    ("a,a,b", ["a0", "a1", "b"]),
    ("a,A,b", ["a0", "A1", "b"]),
    (",b,", ["_c0", "b", "_c2"]),
    ('"",x', ["_c0", "x"]),
    ("\ufeffid,x", ["id", "x"]),
    ("x,y,x,y", ["x0", "y1", "x2", "y3"]),
    (" a,a", [" a", "a"]),
]


@pytest.mark.parametrize(("header", "names"), HEADERS)
def test_spark_header_rules(tmp_path, header, names):
    width = len(names)
    row = ",".join(str(i) for i in range(width))
    path = tmp_path / "h.csv"
    path.write_bytes(f"{header}\n{row}\n".encode())
    result = suggest_baseline(path)
    assert [f["name"] for f in result.statistics["features"]] == names


def test_bom_in_headerless_data_is_dropped(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbf1,2\n3,4\n")
    result = suggest_baseline(path, header=False)
    assert [f["inferred_type"] for f in result.statistics["features"]] == ["Integral"] * 2


# -- class 8: multi-row CSV payloads -----------------------------------------------------------


def _record(inp: str, out: str) -> str:
    def ev(mode, data):
        return {"observedContentType": "text/csv", "mode": mode, "data": data, "encoding": "CSV"}

    return json.dumps(
        {
            "captureData": {"endpointInput": ev("INPUT", inp), "endpointOutput": ev("OUTPUT", out)},
            "eventMetadata": {"eventId": "e", "inferenceTime": "2024-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


@pytest.mark.parametrize(
    ("records", "rows"),
    [
        ([("1,2", "0.5"), ("4,5\n7,8", "0.1\n0.2")], [["0.5", "1", "2"], ["0.1", "4", "5"], ["0.2", "7", "8"]]),
        ([("4,5\n7,8\n", "0.1\n0.2\n")], [["0.1", "4", "5"], ["0.2", "7", "8"]]),
        ([("4,5\r\n7,8", "0.1\r\n0.2")], [["0.1", "4", "5"], ["0.2", "7", "8"]]),
    ],
)  # fmt: skip
def test_one_row_per_payload_line(tmp_path, records, rows):
    path = tmp_path / "c.jsonl"
    path.write_text("".join(_record(i, o) + "\n" for i, o in records))
    ds = read_capture(path)
    got = [list(r.values()) for c in ds.chunks for r in c.to_pylist()]
    assert got == rows


def test_unpaired_payload_lines_name_the_record(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(_record("1,2\n3,4", "0.5") + "\n")
    with pytest.raises(AnalyzerError) as err:
        list(read_capture(path).chunks)
    assert str(err.value) == (
        f"Malformed capture record in {path} line 1: payload row counts differ between "
        "endpointOutput (1 rows) and endpointInput (2 rows)"
    )


# -- class 10: transparent compression, clear errors, strict values ----------------------------


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2"])
def test_compressed_csv_reads_like_plain(tmp_path, suffix):
    import bz2

    text = b"\xef\xbb\xbfa,b\n1,2\n3,4.5\n"
    plain = suggest_baseline(_csv(tmp_path / "p.csv", text.decode("utf-8")))
    opener = gzip.open if suffix.endswith("gz") else bz2.open
    with opener(tmp_path / f"c{suffix}", "wb") as fh:
        fh.write(text)
    packed = suggest_baseline(tmp_path / f"c{suffix}")
    assert packed.statistics_json() == plain.statistics_json()


def test_json_lines_gz(tmp_path):
    with gzip.open(tmp_path / "d.json.gz", "wt") as fh:
        fh.write('{"a": 1}\n{"a": 2}\n')
    result = suggest_baseline(tmp_path / "d.json.gz", dataset_format={"json": {"lines": True}})
    assert result.statistics["dataset"]["item_count"] == 2


def test_damaged_gzip_names_the_file(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(AnalyzerError) as err:
        suggest_baseline(path)
    assert str(err.value).startswith(f"{path}: cannot decompress (gzip)")


def test_missing_path_says_it_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "nope"
    code = mmlab(["analyze", "monitor", str(missing), "--statistics", "s", "--constraints", "c"])
    assert code == 1
    err = capsys.readouterr().err
    assert "does not exist" in err or "not found" in err


def test_missing_path_format_guess(tmp_path):
    from mmutils.analyzer.monitor import resolve_format

    with pytest.raises(AnalyzerError) as err:
        resolve_format(None, tmp_path / "nope.dat")
    assert str(err.value) == f"Dataset not found: {tmp_path / 'nope.dat'} does not exist"


def test_long_lines_grow_the_block(tmp_path, monkeypatch):
    cell = "x" * (3 << 20)  # longer than a 1 MiB block
    path = _csv(tmp_path / "long.csv", f"a,b\n1,{cell}\n2,y\n")
    names, chunks = readers.read_csv(path, header=True, block_size=1 << 20)
    rows = sum(c.num_rows for c in chunks)
    assert rows == 2
    monkeypatch.setenv("MMLAB_MAX_BLOCK_SIZE", str(1 << 20))
    with pytest.raises(AnalyzerError) as err:
        list(readers.read_csv(path, header=True, block_size=1 << 20)[1])
    assert str(err.value) == (
        f"{path}: a line is longer than 1048576 bytes, the largest block the reader may use; "
        "set MMLAB_MAX_BLOCK_SIZE to a larger number of bytes (memory use grows with it)"
    )


@pytest.mark.parametrize("value", ["Maybe", "yes", "true", "1", "Enable"])
def test_publish_cloudwatch_metrics_is_strict(tmp_path, value):
    assert container.run(_job(tmp_path, publish_cloudwatch_metrics=value)) == 255
    assert _message(tmp_path) == (
        f"Invalid value {value!r} for publish_cloudwatch_metrics: expected Enabled or Disabled"
    )


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            "2024-01-01T02:00:00Z",
            "2024-01-01T01:00:00Z",
            "Invalid analysis window: start_time 2024-01-01T02:00:00Z must be before end_time "
            "2024-01-01T01:00:00Z",
        ),
        (
            "2024-01-01T01:00:00Z",
            "2024-01-01T01:00:00Z",
            "Invalid analysis window: start_time 2024-01-01T01:00:00Z must be before end_time "
            "2024-01-01T01:00:00Z",
        ),
        (
            "yesterday",
            "2024-01-01T01:00:00Z",
            "Invalid start_time 'yesterday': expected an ISO-8601 time such as "
            "2024-01-01T00:00:00Z",
        ),
    ],
)
def test_analysis_window_is_checked(tmp_path, start, end, message):
    assert container.run(_job(tmp_path, start_time=start, end_time=end)) == 255
    assert _message(tmp_path) == message


def test_header_only_file_exits_cleanly_every_time(tmp_path):
    path = _csv(tmp_path / "h.csv", "a,b,c\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(5):
        proc = subprocess.run(
            [sys.executable, "-m", "mmutils.cli", "analyze", "baseline", str(path), "--out",
             str(tmp_path / "o")],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr == (f"error: {path}: the dataset has a header line but no data rows\n")


# --------------------------------------------------------------------------------------------
# A corrupt number in the baseline names the document, the feature and the key


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("features", 0, "completeness"),
            "a",
            "feature 'x': completeness must be a number, found 'a'",
        ),
        (
            ("monitoring_config", "datatype_check_threshold"),
            "high",
            "feature 'x': datatype_check_threshold must be a number, found 'high'",
        ),
        (
            ("features", 0, "completeness"),
            True,
            "feature 'x': completeness must be a number, found True",
        ),
    ],
)
def test_corrupt_baseline_number_names_feature_and_key(tmp_path, path, value, expected):
    import json

    from mmutils.analyzer import run_monitoring, suggest_baseline

    data = tmp_path / "train.csv"
    data.write_text("x\n1\n2\n3\n")
    base = suggest_baseline(str(data), output_dir=str(tmp_path / "base"))
    constraints = json.loads((tmp_path / "base" / "constraints.json").read_text())
    constraints.setdefault("monitoring_config", {}).setdefault("distribution_constraints", {})
    node = constraints
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    bad = tmp_path / "constraints.json"
    bad.write_text(json.dumps(constraints))
    window = tmp_path / "window.csv"
    window.write_text("x\n1\n2\n")
    out = tmp_path / "out"
    with pytest.raises(AnalyzerError) as err:
        run_monitoring(
            str(window),
            base.statistics,
            str(bad),
            output_dir=str(out),
            dataset_format="csv",
        )
    assert str(err.value) == f"Invalid baseline constraints: {expected}"
    assert not out.exists() or not any(out.iterdir())


def _threads() -> list[str]:
    import threading

    prefixes = ("mmlab-analyzer", "mmlab-profile")  # the readers' and the column groups'
    return [t.name for t in threading.enumerate() if t.name.startswith(prefixes)]


@pytest.mark.parametrize("job", ["baseline", "monitor"])
def test_an_interrupt_leaves_no_read_ahead_running(tmp_path, monkeypatch, job):
    """A notebook keeps the last error (and so the run's frames): an interrupted cell must not
    leave the reader's threads scanning ahead behind it."""
    from mmutils.analyzer import monitor, parallel, profile

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    row = ",".join(str(i % 97) for i in range(30))
    if job == "baseline":  # 1M rows, 15 blocks: more than the read-ahead holds
        data = _csv(tmp_path / "train.csv", "\n".join([row] * 1_000_000) + "\n")
    else:
        line = json.dumps(
            {
                "captureData": {
                    "endpointInput": {"data": row, "encoding": "CSV", "mode": "INPUT"},
                    "endpointOutput": {"data": "1", "encoding": "CSV", "mode": "OUTPUT"},
                }
            }
        )
        data = tmp_path / "window"
        data.mkdir()
        for k in range(100):  # 500k records, 8 chunks: more than the read-ahead holds
            (data / f"00-00-{k:03d}-x.jsonl").write_text((line + "\n") * 5000)
    base = suggest_baseline(_csv(tmp_path / "b.csv", f"{row}\n{row}\n"))
    updates = []
    real = profile.Profiler.update

    def interrupted(self, chunk):
        updates.append(len(chunk))
        if len(updates) == 1:
            raise KeyboardInterrupt
        return real(self, chunk)

    monkeypatch.setattr(profile.Profiler, "update", interrupted)
    with pytest.raises(KeyboardInterrupt) as caught:
        if job == "baseline":
            suggest_baseline(data, workers=2)
        else:
            monitor.run_monitoring(data, base.statistics, base.constraints, workers=2)
    # checked while the error (with the run's frames) is still held, as a notebook holds it
    assert caught.value is not None and _threads() == []
