"""The analyzer's peers, measured in the same run as the analyzer by ``bench_analyzer.py``.

The peers live in their own venv, ``.venv-peers/`` at the repository's root (gitignored), made
by the project's own command from the pinned ``benchmarks/peers-requirements.txt``::

    python benchmarks/bench_analyzer.py --setup-peers        # or: python benchmarks/bench_peers.py
    python benchmarks/bench_analyzer.py --sizes 100000,1000000 --data-dir /tmp/mmbench

They cannot share the project's venv: whylogs pins ``platformdirs < 4``, which JupyterLab's stack
does not accept, and evidently 0.7 does not import with pandas 3. Nothing is installed into the
venv that runs the benchmark. ``bench_analyzer.py`` runs each peer case in a fresh process of
``--peers-python`` (default ``.venv-peers/bin/python`` when it exists; without it the peer cases
are skipped with a note), on the same generated files as the analyzer's cases.

Every case below returns the number of rows it profiled; its docstring says what it reads, what
it computes and what is timed. Cases named ``…-capture`` (and ``pandas-csv``) include reading and
parsing the files, as the analyzer's own ``baseline`` (CSV) and ``monitor`` (capture JSONL)
cases do; the others are timed from data already in memory (loading it is not timed, but its
memory counts in the process's peak RSS).

This module imports only the standard library at the top: ``bench_analyzer.py`` imports it in
the project's venv, where none of the peers is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = Path(__file__).resolve().parent / "peers-requirements.txt"
DEFAULT_VENV = REPO / ".venv-peers"

#: KLL sketch size of the analyzer (``mmutils/analyzer/kll.py``), used for datasketches too
KLL_K = 2048
#: histogram buckets per numeric column (pandas case)
BUCKETS = 10
#: rows of the training CSV used as evidently's reference
EVIDENTLY_REFERENCE_ROWS = 100_000

#: what each case times, printed in the results table
TIMED = {
    "pandas": "describe+hist, DataFrame in memory",
    "pandas-csv": "read CSV + describe+hist",
    "pandas-capture": "parse capture JSONL + describe+hist",
    "whylogs": "profile, DataFrame in memory",
    "whylogs-capture": "parse capture JSONL + profile",
    "evidently": "drift report, DataFrames in memory",
    "datasketches": "KLL+counts, arrays in memory",
    "datasketches-capture": "parse capture JSONL + KLL+counts",
}
#: the library each case measures (its version is printed next to the case)
TOOL = {case: case.split("-")[0] for case in TIMED}
#: the analyzer's case doing the same reading and parsing (their time ratio is printed)
COMPARABLE = {
    "pandas-csv": "baseline",
    "pandas-capture": "monitor",
    "whylogs-capture": "monitor",
    "datasketches-capture": "monitor",
}


# --------------------------------------------------------------------------------------------
# The peers venv


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv (POSIX or Windows layout)."""
    venv = Path(venv)
    windows = venv / "Scripts" / "python.exe"
    return windows if windows.exists() else venv / "bin" / "python"


def default_peers_python() -> Path | None:
    """``.venv-peers``'s interpreter when that venv exists, else None."""
    python = venv_python(DEFAULT_VENV)
    return python if python.exists() else None


def setup(venv: Path | None = None, base_python: str | None = None) -> Path:
    """Create the peers venv and install the pinned peers into it (only into it).

    Args:
        venv: where to create it (default ``.venv-peers/`` at the repository's root).
        base_python: the interpreter that creates it (default: the one running this).

    Returns:
        The venv's interpreter.

    Raises:
        subprocess.CalledProcessError: venv creation or pip failed (pip's output is shown).
    """
    venv = Path(venv or DEFAULT_VENV)
    base_python = base_python or sys.executable
    print(f"creating {venv} with {base_python}", flush=True)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    python = venv_python(venv)
    print(f"installing {REQUIREMENTS.name} into {venv}", flush=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r"]
        + [str(REQUIREMENTS)],
        check=True,
    )
    return python


def versions(python: Path) -> dict[str, str]:
    """The versions of Python and the peer libraries installed for ``python``."""
    code = (
        "import json, platform\n"
        "from importlib import metadata\n"
        "found = {'python': platform.python_version()}\n"
        "for name in ('whylogs', 'evidently', 'datasketches', 'pandas', 'pyarrow', 'numpy',"
        " 'scipy'):\n"
        "    try:\n"
        "        found[name] = metadata.version(name)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps(found))\n"
    )
    proc = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True, env=child_env()
    )
    return json.loads(proc.stdout)


def child_env() -> dict[str, str]:
    """The environment of a peer process: nothing of the project's venv or source on its path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


# --------------------------------------------------------------------------------------------
# Reading the generated files (in the peers venv)


def _feature_names(csv_path: str) -> list[str]:
    """The CSV's header: the label followed by the 69 features."""
    with open(csv_path, encoding="utf-8") as fh:
        return fh.readline().rstrip("\n").split(",")


def _capture_names(csv_path: str) -> list[str]:
    """The columns of a capture payload: the prediction, then the features (no label)."""
    return ["prediction"] + _feature_names(csv_path)[1:]


def _capture_files(capture: str) -> list[Path]:
    return sorted(Path(capture).rglob("*.jsonl"))


def _read_csv_pandas(csv_path: str):
    import pandas as pd

    return pd.read_csv(csv_path, engine="pyarrow")


def _parse_capture_pandas(path: Path, names: list[str]):
    """One capture file with pandas' own readers: JSON lines, nested payloads, split on ','."""
    import pandas as pd

    records = pd.read_json(path, lines=True, dtype=False)
    capture = pd.json_normalize(records["captureData"].tolist())
    payload = capture["endpointOutput.data"] + "," + capture["endpointInput.data"]
    frame = payload.str.split(",", expand=True).astype("float64")
    frame.columns = names
    return frame


def _parse_capture_arrow(path: Path, names: list[str]):
    """One capture file with pyarrow: the JSON reader (payload fields only), then the payloads
    of the whole file as one CSV, column types inferred as a reader of the CSV would (int64 for
    the 0/1 and count columns, float64 for the others)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson

    data = pa.struct([("data", pa.string())])
    schema = pa.schema(
        [("captureData", pa.struct([("endpointInput", data), ("endpointOutput", data)]))]
    )
    table = pajson.read_json(
        path,
        parse_options=pajson.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"
        ),
    )
    capture = table.column("captureData").combine_chunks()
    inp = capture.field("endpointInput").field("data")
    out = capture.field("endpointOutput").field("data")
    lines = pc.binary_join_element_wise(out, inp, ",")
    text = pc.binary_join(
        pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "\n"
    )
    return pacsv.read_csv(
        pa.BufferReader(text[0].as_buffer()), read_options=pacsv.ReadOptions(column_names=names)
    )


# --------------------------------------------------------------------------------------------
# pandas


def _describe_and_histograms(frame) -> None:
    """``describe()`` (count, mean, std, min, quartiles, max: exact, by sorting) and a
    10-bucket histogram of every numeric column (numpy, equal-width buckets over min..max)."""
    import numpy as np

    frame.describe()
    for name in frame.columns:
        values = frame[name].to_numpy(dtype="float64", na_value=np.nan)
        np.histogram(values[~np.isnan(values)], bins=BUCKETS)


def case_pandas(paths: dict) -> int:
    """pandas from memory: the CSV is read (``engine="pyarrow"``) before the clock starts; timed
    are ``describe()`` and a 10-bucket histogram per column over all 70 columns. Quantiles are
    exact (sorting); there are no data types, completeness or sketches to merge, and the whole
    table is in memory (peak RSS grows with the rows)."""
    frame = _read_csv_pandas(paths["csv"])
    start = time.perf_counter()
    _describe_and_histograms(frame)
    paths["_timed"] = time.perf_counter() - start
    return len(frame)


def case_pandas_csv(paths: dict) -> int:
    """pandas including parsing the CSV: ``read_csv(engine="pyarrow")`` (multithreaded), then
    the same ``describe()`` and histograms as ``pandas``; compare with the analyzer's
    ``baseline`` (which also infers types, completeness and writes its files)."""
    frame = _read_csv_pandas(paths["csv"])
    _describe_and_histograms(frame)
    return len(frame)


def case_pandas_capture(paths: dict) -> int:
    """pandas including parsing the capture JSONL with its own readers: per file
    ``read_json(lines=True)``, ``json_normalize`` of ``captureData``, the output and input
    payloads joined and ``str.split(",", expand=True)`` to float64; the files concatenated, then
    the same ``describe()`` and histograms over prediction + 69 features. Compare with the
    analyzer's ``monitor`` (which also checks types and constraints and writes its files)."""
    import pandas as pd

    names = _capture_names(paths["csv"])
    frame = pd.concat(
        [_parse_capture_pandas(p, names) for p in _capture_files(paths["capture"])],
        ignore_index=True,
    )
    _describe_and_histograms(frame)
    return len(frame)


# --------------------------------------------------------------------------------------------
# whylogs


def case_whylogs(paths: dict) -> int:
    """whylogs from memory: the CSV is read into a pandas DataFrame before the clock starts;
    timed is ``why.log(pandas=df)``, whylogs' standard profile of every column (counts, nulls,
    types, distribution KLL sketch with whylogs' default size, cardinality HLL, frequent
    items). No file is written."""
    import whylogs as why

    frame = _read_csv_pandas(paths["csv"])
    start = time.perf_counter()
    why.log(pandas=frame)
    paths["_timed"] = time.perf_counter() - start
    return len(frame)


def case_whylogs_capture(paths: dict) -> int:
    """whylogs including parsing the capture JSONL: each file parsed with pyarrow (the fast
    path, the same as ``datasketches-capture``; pandas' own JSON reader is slower, see
    ``pandas-capture``) with the column types a CSV reader infers (int64 for the 0/1 and count
    columns: whylogs profiles float64 columns several times slower, 0.6 s vs 4.1 s for the
    100k-row CSV cast to float64), tracked into one streaming ``DatasetProfile`` (the standard
    metrics as in ``whylogs``); memory stays at about one file's worth."""
    from whylogs.core import DatasetProfile

    names = _capture_names(paths["csv"])
    profile = DatasetProfile()
    rows = 0
    for path in _capture_files(paths["capture"]):
        frame = _parse_capture_arrow(path, names).to_pandas()
        profile.track(pandas=frame)
        rows += len(frame)
    profile.view()
    return rows


# --------------------------------------------------------------------------------------------
# evidently


def case_evidently(paths: dict) -> int:
    """evidently's data drift report from memory: reference = the training CSV's first 100k
    rows, current = every capture record (parsed with pyarrow before the clock starts), the 69
    feature columns of both (the CSV's label and the capture's prediction differ, so they are
    left out). Timed is ``Report([DataDriftPreset()]).run(...)``: evidently infers each column's
    type and, for more than 1,000 rows, computes a normed Wasserstein distance for numerical
    columns and a Jensen-Shannon distance for categorical ones (on this data 59 columns are
    inferred categorical: the one-hot 0/1 columns and the small counts; 10 numerical), and
    the count and share of drifted columns. Rows counted are the current rows only; peak RSS
    includes both DataFrames (about 3 GB at 1M current rows)."""
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    features = _feature_names(paths["csv"])[1:]
    reference = pd.read_csv(paths["csv"], nrows=EVIDENTLY_REFERENCE_ROWS)[features]
    names = _capture_names(paths["csv"])
    current = pd.concat(
        [
            _parse_capture_arrow(p, names).to_pandas()[features]
            for p in _capture_files(paths["capture"])
        ],
        ignore_index=True,
    )
    start = time.perf_counter()
    Report([DataDriftPreset()]).run(current_data=current, reference_data=reference).dict()
    paths["_timed"] = time.perf_counter() - start
    return len(current)


# --------------------------------------------------------------------------------------------
# datasketches (Apache DataSketches)


def _sketch_columns(columns, sketches: list | None):
    """Update one KLL sketch (k = 2048, the analyzer's size) per column from whole float64
    arrays (vectorised ``update(ndarray)``), NaNs left out and counted."""
    import datasketches as ds
    import numpy as np

    if sketches is None:
        sketches = [[ds.kll_doubles_sketch(KLL_K), 0] for _ in columns]
    for state, values in zip(sketches, columns, strict=True):
        values = np.ascontiguousarray(values, dtype=np.float64)
        present = values[~np.isnan(values)]
        state[0].update(present)
        state[1] += len(values) - len(present)
    return sketches


def _finish_sketches(sketches: list) -> None:
    """What a profile reads from the sketches: n, missing, min, max, quartiles and a 10-bucket
    histogram (``get_pmf`` over equal-width split points)."""
    import numpy as np

    for sketch, _missing in sketches:
        if sketch.is_empty():
            continue
        lo, hi = sketch.get_min_value(), sketch.get_max_value()
        sketch.get_quantiles([0.25, 0.5, 0.75])
        if hi > lo:
            sketch.get_pmf(list(np.linspace(lo, hi, BUCKETS + 1)[1:-1]))


def case_datasketches(paths: dict) -> int:
    """Apache DataSketches from memory, the closest peer to the analyzer's sketches: the CSV
    is read with pyarrow into float64 arrays before the clock starts; timed are a KLL sketch
    (k = 2048) per column updated from whole numpy arrays, the missing counts, and the
    quartiles and a 10-bucket histogram read from each sketch. No sums, standard deviations,
    types or files."""
    import numpy as np
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(paths["csv"])
    columns = [np.asarray(c.to_numpy(), dtype=np.float64) for c in table.columns]
    start = time.perf_counter()
    _finish_sketches(_sketch_columns(columns, None))
    paths["_timed"] = time.perf_counter() - start
    return table.num_rows


def case_datasketches_capture(paths: dict) -> int:
    """Apache DataSketches including parsing the capture JSONL: each file parsed with pyarrow
    (JSON reader on the payload fields, the payloads of a file as one CSV; pyarrow's readers use
    their own thread pool, so both cores) and streamed, as float64 arrays, into the KLL
    sketches of ``datasketches``; memory stays at about one file's worth. The closest a user gets to the analyzer's ``monitor`` by assembling
    libraries, minus types, sums, constraints and output files."""
    names = _capture_names(paths["csv"])
    sketches = None
    rows = 0
    for path in _capture_files(paths["capture"]):
        table = _parse_capture_arrow(path, names)
        sketches = _sketch_columns([c.to_numpy() for c in table.columns], sketches)
        rows += table.num_rows
    _finish_sketches(sketches or [])
    return rows


CASES = {
    "pandas": case_pandas,
    "pandas-csv": case_pandas_csv,
    "pandas-capture": case_pandas_capture,
    "whylogs": case_whylogs,
    "whylogs-capture": case_whylogs_capture,
    "evidently": case_evidently,
    "datasketches": case_datasketches,
    "datasketches-capture": case_datasketches_capture,
}

_ARROW = ["pyarrow", "pyarrow.compute", "pyarrow.csv", "pyarrow.json", "numpy"]
#: imported before the clock starts: the timings are for the work, not for loading modules
PRELOAD = {
    "pandas": ["pandas", "numpy", *_ARROW],
    "pandas-csv": ["pandas", "numpy", *_ARROW],
    "pandas-capture": ["pandas", "numpy", *_ARROW],
    "whylogs": ["pandas", "whylogs", "whylogs.core", *_ARROW],
    "whylogs-capture": ["pandas", "whylogs", "whylogs.core", *_ARROW],
    "evidently": ["pandas", "evidently", "evidently.presets", *_ARROW],
    "datasketches": ["datasketches", *_ARROW],
    "datasketches-capture": ["datasketches", *_ARROW],
}


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/bench_peers.py [VENV]``: create the peers venv (default
    ``.venv-peers``); the same as ``bench_analyzer.py --setup-peers``."""
    args = sys.argv[1:] if argv is None else argv
    python = setup(Path(args[0]) if args else DEFAULT_VENV)
    print(", ".join(f"{k} {v}" for k, v in versions(python).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
