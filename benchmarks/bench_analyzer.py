"""Speed and memory of the analyzer on data of the lab's shape (69 features + 1 output).

    python benchmarks/bench_analyzer.py                      # quick: 20,000 records
    python benchmarks/bench_analyzer.py --sizes 100000,1000000
    python benchmarks/bench_analyzer.py --sizes 10000000 --cases monitor --data-dir /tmp/mmbench

For every size it generates, into a temporary folder (or, with ``--data-dir``, once into
``DIR/<size>/``, reused by later runs), a header CSV (``Churn`` + 69 features, as
the training file) and the same rows as data-capture JSONL (prediction first, 20,000 records a
file in ``yyyy/mm/dd/HH`` folders), then measures each case in its own subprocess (records/s
of the timed call and the process's peak RSS):

* ``baseline``  — ``suggest_baseline()`` on the CSV;
* ``monitor``   — ``run_monitoring()`` on the capture tree against that baseline;
  both timed in a process that has loaded numba and the compiled kernels before the clock
  (the emulator's warm analyzer keeps them loaded; a library user pays it once);
* ``baseline-cold``, ``monitor-cold`` — the same calls in a fresh process that imported
  only ``mmutils.analyzer`` (what ``python -m mmutils.analyzer`` pays: numba and the kernels
  load inside the call, from 32 MB of capture / 60k rows, where they pay off);
* ``floor``     — the least work any tool must do, done the fastest way we know: read each
  capture file's bytes (into buffers reused file after file, as the analyzer reads them:
  ``buffers.FileBuffers``), find each record's payloads and cut them into cells (the analyzer's
  compiled scan, :mod:`mmutils.analyzer.capture_scan`, which checks the JSON grammar as it
  goes and releases the GIL), parse every cell as a float64 with the fastest exact parse we
  have: the analyzer's own compiled pass over plain cells (``compiled.plain_chunk``, one call
  for all of a file's columns: a branch-free loop for one-digit cells, else mantissa / power
  of ten, one correctly rounded division), a compiled signed-decimal parse for a column it
  declines, and pyarrow's ``cast`` for a column with other cells; all without the GIL;
  nothing else (no type inference, no statistics). Files are spread over
  the same number of threads as the other cases (``$MMLAB_ANALYZER_WORKERS``), so with 2
  workers the floor uses both cores too. Loading numba and the kernels is not counted (it
  is a fixed cost, not work per record);
* ``floor-pyarrow`` — the same work with pyarrow's readers (the JSON reader for the payload
  fields, a join of the payloads, the CSV reader into float64 columns), for comparison;
* the peers (``benchmarks/bench_peers.py``, whose docstrings say what each reads, computes
  and times): ``pandas``, ``pandas-csv``, ``pandas-capture``, ``whylogs``, ``whylogs-capture``,
  ``evidently``, ``datasketches``, ``datasketches-capture`` — the ``-capture`` cases and
  ``pandas-csv`` include parsing the files, the others start from data already in memory.

The peers run in their own venv, since whylogs and evidently conflict with the project's
(Jupyter's ``platformdirs``, pandas 3). The project makes it, from the pinned
``benchmarks/peers-requirements.txt``, installing nothing into the venv that runs this script::

    python benchmarks/bench_analyzer.py --setup-peers     # creates .venv-peers/ (gitignored)

Each peer case then runs in a fresh process of ``--peers-python`` (default
``.venv-peers/bin/python`` when it exists; otherwise the peers are skipped with a note), in the
same invocation and on the same files as the analyzer's cases, and the table shows each peer's
version and what its timed part covers.

Every case runs ``--repeat`` times (default 3) for each ``--workers`` count (default 1,2;
``MMLAB_ANALYZER_WORKERS`` in the child) and the median is printed with all runs.

Targets (issue 14, 2 workers): monitoring >= 450,000 records/s at 1M and 10M (>= 1.7x one
worker on a quiet machine) and <= 1.3x the two-core floor; baseline >= 700,000 rows/s; peak
RSS <= 1 GB at 10M records.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_peers
import numpy as np

FILE_RECORDS = 20_000
REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------
# Data generation (vectorised with pyarrow: a million rows in a few seconds)


def _columns(n: int, seed: int):
    """The 70 string columns of the lab's dataset shape, plus the prediction column."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)

    def ints(lo, hi):
        return pc.cast(pa.array(rng.integers(lo, hi + 1, n)), pa.string())

    def tenths(lo, hi):
        whole = pc.cast(pa.array(rng.integers(lo, hi, n)), pa.string())
        digit = pc.cast(pa.array(rng.integers(0, 10, n)), pa.string())
        return pc.binary_join_element_wise(whole, digit, ".")

    def one_hot(k):
        pick = rng.integers(0, k, n)
        zero, one = pa.scalar("0"), pa.scalar("1")
        return [pc.if_else(pa.array(pick == j), one, zero) for j in range(k)]

    cols = [ints(0, 1), ints(1, 243), ints(0, 51), tenths(0, 350), ints(0, 165)]
    cols += [tenths(31, 361), ints(12, 170), tenths(23, 395), ints(42, 175), tenths(0, 20)]
    cols += [ints(0, 20), ints(0, 9)]
    cols += one_hot(51) + one_hot(3) + one_hot(2) + one_hot(2)
    prediction = pc.cast(pa.array(rng.random(n)), pa.string())
    return cols, prediction


def _write_lines(path: Path, lines) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    joined = pc.binary_join(
        pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(joined[0].as_buffer())
        fh.write(b"\n")


#: rows generated at a time (bounds the generator's memory for 10M-record runs)
GENERATE_BLOCK = 1_000_000
#: capture files per hour folder
FILES_PER_HOUR = 50


def generate(folder: Path, n: int, seed: int = 7) -> dict:
    """Write ``train.csv`` and the capture tree ``capture/``; returns their paths."""
    import pyarrow as pa
    import pyarrow.compute as pc

    header = ["Churn", "Account Length", "VMail Message", "Day Mins", "Day Calls", "Eve Mins"]
    header += ["Eve Calls", "Night Mins", "Night Calls", "Intl Mins", "Intl Calls"]
    header += ["CustServ Calls"] + [f"State_{i:02d}" for i in range(51)]
    header += ["Area Code_408", "Area Code_415", "Area Code_510", "Int'l Plan_no"]
    header += ["Int'l Plan_yes", "VMail Plan_no", "VMail Plan_yes"]
    csv_path = folder / "train.csv"
    capture = folder / "capture"
    with open(csv_path, "wb") as fh:
        fh.write((",".join(header) + "\n").encode())
    for offset in range(0, n, GENERATE_BLOCK):
        m = min(GENERATE_BLOCK, n - offset)
        cols, prediction = _columns(m, seed + offset // GENERATE_BLOCK)
        rows = pc.binary_join_element_wise(*cols, ",")
        with open(csv_path, "ab") as fh:
            body = pc.binary_join(
                pa.ListArray.from_arrays(pa.array([0, m], pa.int32()), rows), "\n"
            )
            fh.write(body[0].as_buffer())
            fh.write(b"\n")
        del rows, body
        inputs = pc.binary_join_element_wise(*cols[1:], ",")  # the endpoint gets no label
        ids = pc.utf8_lpad(pc.cast(pa.array(range(offset, offset + m)), pa.string()), 12, "0")
        lines = pc.binary_join_element_wise(
            pa.scalar(
                '{"captureData":{"endpointInput":{"observedContentType":"text/csv",'
                '"mode":"INPUT","data":"'
            ),
            inputs,
            pa.scalar(
                '","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; '
                'charset=utf-8","mode":"OUTPUT","data":"'
            ),
            prediction,
            pa.scalar('","encoding":"CSV"}},"eventMetadata":{"eventId":"00000000-0000-4000-8000-'),
            ids,
            pa.scalar('","inferenceTime":"2024-01-01T00:00:00Z"},"eventVersion":"0"}'),
            "",
        )
        for start in range(0, m, FILE_RECORDS):
            index = (offset + start) // FILE_RECORDS
            hour = capture / "ep" / "AllTraffic" / "2024" / "01" / "01"
            hour = hour / f"{index // FILES_PER_HOUR:02d}"
            name = f"{index % FILES_PER_HOUR:02d}-00-000-{offset + start:010d}.jsonl"
            _write_lines(hour / name, lines.slice(start, FILE_RECORDS))
    return {"csv": str(csv_path), "capture": str(capture)}


# --------------------------------------------------------------------------------------------
# Cases (each runs in a fresh process)


def _case_baseline(paths: dict) -> int:
    from mmutils.analyzer import suggest_baseline

    result = suggest_baseline(paths["csv"], output_dir=paths["baseline"])
    return result.statistics["dataset"]["item_count"]


def _case_monitor(paths: dict) -> int:
    from mmutils.analyzer import run_monitoring

    base = Path(paths["baseline"])
    result = run_monitoring(
        paths["capture"],
        base / "statistics.json",
        base / "constraints.json",
        output_dir=paths["report"],
    )
    return result.item_count


def _decimals(offsets, data, first, rows, out) -> bool:
    """Parse the cells of a string column shaped ``[-+]digits[.digits]`` into ``out``.

    The exact fast path of decimal conversion: with at most 15 significant digits and 22
    decimals the mantissa and the power of ten are exact doubles, so one IEEE division gives
    the correctly rounded value (what ``strtod`` and pyarrow's ``cast`` give). An empty cell
    is NaN. Returns False, leaving ``out`` partly written, at the first other cell.
    """
    powers = 10.0 ** np.arange(23)
    for r in range(rows):
        start, stop = offsets[first + r], offsets[first + r + 1]
        if start == stop:
            out[r] = np.nan
            continue
        i = start
        negative = data[i] == 45
        if data[i] == 45 or data[i] == 43:
            i += 1
        mantissa = 0
        digits = 0
        decimals = -1
        while i < stop:
            c = data[i]
            if 48 <= c <= 57:
                mantissa = mantissa * 10 + (c - 48)
                digits += 1
                if decimals >= 0:
                    decimals += 1
            elif c == 46 and decimals < 0:
                decimals = 0
            else:
                return False
            i += 1
        if digits == 0 or digits > 15 or decimals > 22 or decimals == 0:
            return False
        value = mantissa / powers[decimals] if decimals > 0 else float(mantissa)
        out[r] = -value if negative else value
    return True


def _case_floor(paths: dict) -> int:
    """The least work any tool must do, the fastest way we know (see the module docstring):
    read the bytes, find the payloads and their cells (the compiled scan), parse the cells
    into float64 columns (the analyzer's compiled pass over plain cells, else a compiled
    signed-decimal parse, else pyarrow's ``cast``); files spread over
    ``$MMLAB_ANALYZER_WORKERS`` threads."""
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    import numba
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from mmutils.analyzer import capture_scan, compiled, profile
    from mmutils.analyzer.buffers import FileBuffers, RecycledBuffers
    from mmutils.analyzer.capture_reader import list_capture_files

    workers = int(os.environ.get("MMLAB_ANALYZER_WORKERS", "1"))
    parts = ["endpointOutput", "endpointInput"]
    decimals = numba.njit(cache=True, nogil=True)(_decimals)
    capture_scan.warm()  # loads the cached kernels: a fixed cost, not timed
    decimals(np.zeros(2, np.int32), np.zeros(1, np.uint8), 0, 1, np.empty(1))
    passes = threading.local()  # per thread: a values matrix
    buffers = FileBuffers()  # the files' bytes, read into buffers reused file after file
    recycled = RecycledBuffers()  # the files' columns, as the analyzer keeps them

    def plain(columns: list[pa.Array], out: np.ndarray) -> np.ndarray:
        """Every plain column of a file converted into its row of ``out`` by one compiled call
        (the analyzer's own batched pass); the status of each column."""
        return profile._convert_plain(compiled, columns, np.arange(len(columns)), out)[:, 0]

    plain([pa.array(["1"])], np.empty((1, 1)))
    start = time.perf_counter()

    def number(column: pa.Array, out: np.ndarray) -> np.ndarray:
        _, offsets, data = column.buffers()
        offsets = np.frombuffer(offsets, np.int32)
        data = np.frombuffer(data, np.uint8)
        if decimals(offsets, data, column.offset, len(column), out):
            return out
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)

    def matrix(width: int, rows: int) -> np.ndarray:
        """A ``(width, rows)`` values matrix, reused from file to file (no page faults)."""
        have = getattr(passes, "values", None)
        if have is None or have.size < width * rows:
            have = passes.values = np.empty(width * rows)
        return have[: width * rows].reshape(width, rows)

    def parse(path) -> int:
        with buffers.read(path, Path(path).stat().st_size) as data:
            result = capture_scan.scan(data, parts, recycled)
        if not result.eligible:
            raise RuntimeError(f"{path}: {result.reason}")
        values = matrix(len(result.columns), len(result.columns[0]))
        status = plain(result.columns, values)
        numbers = [
            values[j] if status[j] == compiled.EXACT else number(column, values[j])
            for j, column in enumerate(result.columns)
        ]
        return len(numbers[0])

    files = list_capture_files(paths["capture"])
    if workers == 1:
        rows = sum(map(parse, files))
    else:
        with ThreadPoolExecutor(workers) as pool:
            rows = sum(pool.map(parse, files))
    paths["_timed"] = time.perf_counter() - start
    return rows


def _case_floor_pyarrow(paths: dict) -> int:
    """The floor's work with pyarrow's readers: read the bytes, find each record's payloads
    (pyarrow's JSON reader, only the payload fields), join them, parse the CSV numbers into
    float64 columns. Files are spread over ``$MMLAB_ANALYZER_WORKERS`` threads (pyarrow
    releases the GIL)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson

    from mmutils.analyzer.capture_reader import _SCHEMA, list_capture_files

    names = [f"f{i}" for i in range(70)]
    workers = int(os.environ.get("MMLAB_ANALYZER_WORKERS", "1"))

    def parse(path) -> int:
        rows = 0
        reader = pajson.open_json(
            path,
            read_options=pajson.ReadOptions(block_size=8 << 20, use_threads=False),
            parse_options=pajson.ParseOptions(
                explicit_schema=_SCHEMA, unexpected_field_behavior="ignore"
            ),
        )
        for batch in reader:
            cap = batch.column(0)
            out = cap.field("endpointOutput").field("data")
            inp = cap.field("endpointInput").field("data")
            joined = pc.binary_join_element_wise(out, inp, ",")
            text = pc.binary_join(
                pa.ListArray.from_arrays(pa.array([0, len(joined)], pa.int32()), joined), "\n"
            )
            table = pacsv.read_csv(
                pa.BufferReader(text[0].as_buffer()),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.float64())
                ),
            )
            rows += table.num_rows
        return rows

    files = list_capture_files(paths["capture"])
    if workers == 1:
        return sum(map(parse, files))
    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(parse, files))


CASES = {
    "baseline": _case_baseline,
    "monitor": _case_monitor,
    "floor": _case_floor,
    "floor-pyarrow": _case_floor_pyarrow,
    "baseline-cold": _case_baseline,
    "monitor-cold": _case_monitor,
}
#: the peers run in their own venv (``--peers-python``); see bench_peers.py
CASES.update(bench_peers.CASES)


#: imported before the clock starts: the timings are for the work, not for loading modules
PRELOAD = {
    "baseline": ["mmutils.analyzer"],
    "monitor": ["mmutils.analyzer"],
    "baseline-cold": ["mmutils.analyzer"],
    "monitor-cold": ["mmutils.analyzer"],
    "floor": [
        "pyarrow.compute",
        "mmutils.analyzer.capture_scan",
        "mmutils.analyzer.capture_reader",
        "mmutils.analyzer.compiled",
    ],
    "floor-pyarrow": [
        "pyarrow.json",
        "pyarrow.csv",
        "pyarrow.compute",
        "mmutils.analyzer.capture_reader",
    ],
}
PRELOAD.update(bench_peers.PRELOAD)


#: cases timed after numba and the kernels are loaded, as in the emulator's warm analyzer or a
#: library user's second call (the ``-cold`` cases time what a fresh process pays instead)
WARM = ("baseline", "monitor")


def _child(case: str, paths_json: str) -> None:
    import importlib

    for module in PRELOAD[case]:
        importlib.import_module(module)
    if case in WARM:
        from mmutils.analyzer import forkserver

        forkserver.warm_compiled()
    paths = json.loads(paths_json)
    start = time.perf_counter()
    rows = CASES[case](paths)
    seconds = paths.get("_timed", time.perf_counter() - start)
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    """This process's peak RSS. Linux's VmHWM belongs to the process image; ru_maxrss would
    also count the parent's memory at fork time."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _measure(
    case: str, paths: dict, workers: int = 1, peers_python: Path | None = None
) -> dict | None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MMLAB_ANALYZER_WORKERS": str(workers)}
    python = sys.executable
    if case in bench_peers.CASES:  # in the peers venv, with nothing of the project on its path
        python, env = str(peers_python), bench_peers.child_env()
    proc = subprocess.run(
        [python, __file__, "--run-case", case, "--paths", json.dumps(paths)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        print(f"  {case}: failed\n{proc.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    """The median run's figures, the largest peak RSS of all, and every run's seconds."""
    runs = sorted(runs, key=lambda r: r["seconds"])
    best = dict(runs[len(runs) // 2])
    best["peak_mb"] = max(r["peak_mb"] for r in runs)
    best["all"] = [round(r["seconds"], 2) for r in runs]
    return best


def _interleaved_runs(
    plan: list[tuple[str, int]],
    paths: dict,
    repeat: int,
    peers_python: Path | None = None,
) -> dict[tuple[str, int], dict]:
    """Median figures of ``repeat`` runs of each ``(case, workers)`` in ``plan``, each run in a
    fresh process.

    The runs are interleaved: each round runs every case once, in order, so a shared host whose
    speed drifts during the invocation slows every case alike and the ratios of one run stay
    fair (on the shared machine the same case measured half an hour apart differed by 25 %).
    A case that cannot run (a peer without its venv) is left out.
    """
    runs: dict[tuple[str, int], list[dict]] = {key: [] for key in plan}
    skipped: set[tuple[str, int]] = set()
    for round_ in range(repeat):
        print(f"  round {round_ + 1}/{repeat}", file=sys.stderr, flush=True)
        for case, w in plan:
            if (case, w) in skipped:
                continue
            if (
                case.startswith("monitor")
                and not (Path(paths["baseline"]) / "statistics.json").exists()
            ):
                # the baseline case writes it; run it once untimed when not asked for
                _measure("baseline", paths, w)
            res = _measure(case, paths, w, peers_python)
            if res is None:
                skipped.add((case, w))
                continue
            runs[case, w].append(res)
    return {key: _median(found) for key, found in runs.items() if found and key not in skipped}


def _prepare(n: int, folder: Path) -> tuple[dict, float | None]:
    """The data of ``n`` records in ``folder`` (generated unless already there) and its
    generation time (None when reused)."""
    paths = {"csv": str(folder / "train.csv"), "capture": str(folder / "capture")}
    done = folder / "generated.json"
    gen = None
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--generate", str(n), "--paths", str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        paths = json.loads(proc.stdout.strip().splitlines()[-1])
        gen = time.perf_counter() - t0
        done.write_text(json.dumps(paths))
    paths.update(baseline=str(folder / "baseline"), report=str(folder / "report"))
    return paths, gen


#: cases whose speed depends on the worker count (the others run once, on one core)
PARALLEL_CASES = (
    "baseline",
    "monitor",
    "baseline-cold",
    "monitor-cold",
    "floor",
    "floor-pyarrow",
)


def _run_size(
    n: int,
    folder: Path,
    cases: list[str],
    workers: list[int],
    repeat: int,
    peers: dict | None = None,
) -> None:
    """Measure ``cases`` on ``n`` records; ``peers`` holds ``python`` (the peers venv's
    interpreter) and ``versions`` (its libraries) when peer cases are among ``cases``."""
    peers = peers or {}
    paths, gen = _prepare(n, folder)
    plan = [(case, w) for case in cases for w in (workers if case in PARALLEL_CASES else [1])]
    results = _interleaved_runs(plan, paths, repeat, peers.get("python"))
    for case, w in plan:
        res = results.get((case, w))
        if res is None:
            continue
        rate = res["rows"] / res["seconds"] if res["seconds"] else float("inf")
        runs = ", ".join(f"{x:.2f}" for x in res["all"])
        what = ""
        if case in bench_peers.CASES:
            tool = bench_peers.TOOL[case]
            version = peers.get("versions", {}).get(tool, "?")
            what = f"  {tool} {version}: {bench_peers.TIMED[case]}"
        print(
            f"{n:>10,} {case:<20} {w:>7} {res['seconds']:>8.2f} {rate:>11,.0f} "
            f"{res['peak_mb']:>12,.0f}   ({runs}){what}"
        )
    ratios = []
    for w in workers:
        if ("monitor", w) in results and ("floor", w) in results:
            ratio = results["monitor", w]["seconds"] / results["floor", w]["seconds"]
            ratios.append(f"monitor/floor@{w} = {ratio:.2f}x")
    if len(workers) > 1:
        for case in ("monitor", "baseline"):
            one, many = results.get((case, workers[0])), results.get((case, workers[-1]))
            if one and many:
                speedup = one["seconds"] / many["seconds"]
                ratios.append(f"{case} {workers[-1]}w/{workers[0]}w = {speedup:.2f}x")
    for case, ours in bench_peers.COMPARABLE.items():
        w = workers[-1]
        if (case, 1) in results and (ours, w) in results:
            ratio = results[case, 1]["seconds"] / results[ours, w]["seconds"]
            ratios.append(f"{case}/{ours}@{w} = {ratio:.2f}x")
    made = "reused data" if gen is None else f"data generated in {gen:.1f}s"
    print(f"{'':>10} ({made}) " + "  ".join(ratios))


def _versions() -> str:
    """The versions of the libraries in the comparison, as installed."""
    from importlib import metadata

    found = []
    for name in ("mmlab", "pyarrow", "numpy", "numba"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _peers(python_arg: str | None, peer_cases: list[str]) -> dict | None:
    """The peers venv's interpreter and versions, or None (with a note) when the peer cases
    cannot run: none asked for, or no peers venv."""
    if not peer_cases:
        return None
    python = Path(python_arg) if python_arg else bench_peers.default_peers_python()
    if python is None or not python.exists():
        where = python or bench_peers.DEFAULT_VENV
        print(
            f"note: no peers venv at {where}; skipping the peer cases {', '.join(peer_cases)} "
            "(create it with `python benchmarks/bench_analyzer.py --setup-peers`, "
            "or pass --peers-python)"
        )
        return None
    return {"python": python, "versions": bench_peers.versions(python)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000", help="comma-separated record counts")
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="comma-separated cases to run (monitor needs baseline's output)",
    )
    parser.add_argument(
        "--data-dir",
        help="keep generated data in DIR/<size>/ and reuse it (default: a temporary folder)",
    )
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated worker counts (default 1,2)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per case, in rounds that run every case once; the median is shown (default 3)",
    )
    parser.add_argument(
        "--peers-python",
        help="interpreter of the peers venv (default .venv-peers/bin/python when it exists)",
    )
    parser.add_argument(
        "--setup-peers",
        action="store_true",
        help="create .venv-peers/ from benchmarks/peers-requirements.txt and exit",
    )
    parser.add_argument("--run-case", help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_case:
        _child(args.run_case, args.paths)
        return 0
    if args.generate:
        print(json.dumps(generate(Path(args.paths), args.generate)))
        return 0
    if args.setup_peers:
        python = bench_peers.setup()
        versions = bench_peers.versions(python)
        print("peers venv ready: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    cases = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {sorted(CASES)}")
    peers = _peers(args.peers_python, [c for c in cases if c in bench_peers.CASES])
    if not peers:
        cases = [c for c in cases if c not in bench_peers.CASES]
    workers = [int(w) for w in args.workers.split(",") if w]
    print(f"{_versions()}; {os.cpu_count()} CPUs; medians of {args.repeat}")
    if peers:
        versions = ", ".join(f"{k} {v}" for k, v in peers["versions"].items())
        print(f"peers ({peers['python']}): {versions}")
    print(f"load average before: {_loadavg()}")
    print(
        f"{'records':>10} {'case':<20} {'workers':>7} {'seconds':>8} {'records/s':>11} "
        f"{'peak RSS MB':>12}   (runs)"
    )
    for n in sizes:
        with contextlib.ExitStack() as stack:
            if args.data_dir:
                folder = Path(args.data_dir) / str(n)
            else:
                folder = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix="mmlab-bench-"))
                )
            _run_size(n, folder, cases, workers, args.repeat, peers)
    print(f"load average after: {_loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
