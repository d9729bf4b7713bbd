"""The compiled capture scan gives the general path's chunks, or leaves the file to it (issue 14).

Differential: every window is read with the scan forced off (``MMLAB_CAPTURE_SCAN=0``: pyarrow's
JSON and CSV readers, the reference) and forced on; the chunks (names, cut points, cells, nulls)
or the error message must be the same. Separately, :func:`capture_scan.scan` is asked whether
each variant is eligible, so the tests know the fast path really ran where it should.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import json
import os
import random
from pathlib import Path

import pyarrow as pa
import pytest
from test_analyzer_monitor_conformance import write_window
from test_analyzer_parallel import _lab_capture

from mmutils.analyzer import capture_reader, capture_scan, parallel, run_monitoring
from mmutils.analyzer.capture_reader import SCAN_ENV, read_capture, use_scan
from mmutils.analyzer.errors import AnalyzerError

OUT_FIRST = ["endpointOutput", "endpointInput"]
OUTPUTS = ("statistics.json", "constraints.json", "constraint_violations.json")


# -- building capture lines ---------------------------------------------------------------------


def _event(data, encoding="CSV", ctype="text/csv", mode="INPUT") -> dict:
    return {"observedContentType": ctype, "mode": mode, "data": data, "encoding": encoding}


def _record(inp="1,2,3", out="0.5", *, encoding="CSV", meta=None, capture=None) -> dict:
    if capture is None:
        capture = {
            "endpointInput": _event(inp, encoding),
            "endpointOutput": _event(out, encoding, "text/csv; charset=utf-8", "OUTPUT"),
        }
    return {
        "captureData": capture,
        "eventMetadata": meta
        if meta is not None
        else {
            "eventId": "00000000-0000-4000-8000-000000000001",
            "inferenceTime": "2024-01-01T00:00:00Z",
        },
        "eventVersion": "0",
    }


def _compact(rec) -> str:
    return json.dumps(rec, separators=(",", ":"))


def _shuffled(value, rng: random.Random):
    if not isinstance(value, dict):
        return value
    items = list(value.items())
    rng.shuffle(items)
    return {k: _shuffled(v, rng) for k, v in items}


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def _lines(records, dump=_compact, end="\n", final=True) -> str:
    text = end.join(dump(r) if isinstance(r, dict) else r for r in records)
    return text + end if final else text


# -- reading both ways ----------------------------------------------------------------------------


def _read(monkeypatch, scan: str, source, **kw):
    """``(names, [chunk tables])`` or ``("error", message)`` with the scan forced ``scan``."""
    monkeypatch.setenv(SCAN_ENV, scan)
    try:
        ds = read_capture(source, **kw)
        return ds.names, [chunk.combine_chunks() for chunk in ds.chunks]
    except (AnalyzerError, OSError) as exc:  # a damaged .gz is pyarrow's OSError, as before
        return "error", f"{type(exc).__name__}: {exc}"


def _same(monkeypatch, source, **kw):
    """Assert the scan changes nothing; return the reference result."""
    old = _read(monkeypatch, "0", source, **kw)
    new = _read(monkeypatch, "1", source, **kw)
    assert new[0] == old[0]
    if old[0] == "error":
        assert new[1] == old[1]
        return old
    assert [t.num_rows for t in new[1]] == [t.num_rows for t in old[1]]
    for a, b in zip(new[1], old[1], strict=True):
        assert a.column_names == b.column_names
        assert a.schema == b.schema
        assert a.equals(b), (a.to_pydict(), b.to_pydict())
    return old


def _eligible(text: str | bytes, parts=OUT_FIRST) -> bool:
    data = text.encode() if isinstance(text, str) else text
    return capture_scan.scan(data, parts).eligible


# -- the grammar, variant by variant --------------------------------------------------------------

ROWS = [("1,2,3", "0.5"), ("4,,6", "0.25"), (",8,", "1"), ("10,11,12", "0.125")]

ELIGIBLE = {
    "sagemaker": _lines(_record(i, o) for i, o in ROWS),
    "json.dumps spaces": _lines((_record(i, o) for i, o in ROWS), dump=json.dumps),
    "tabs between tokens": _lines(
        (_record(i, o) for i, o in ROWS), dump=lambda r: json.dumps(r, separators=(",\t", "\t: "))
    ),
    "CRLF": _lines((_record(i, o) for i, o in ROWS), end="\r\n"),
    "no final newline": _lines((_record(i, o) for i, o in ROWS), final=False),
    "blank lines": "\n\n"
    + _lines(_record(i, o) for i, o in ROWS).replace("}\n", "}\n  \n\t\r\n", 2)
    + "\n",
    "leading and trailing spaces": _lines("  " + _compact(_record(i, o)) + " \t" for i, o in ROWS),
    "empty cells": _lines(_record(i, o) for i, o in [(",,", "0,"), ("1,,", ","), (",,", "1,2")]),
    "duplicate unknown keys": _lines(
        _compact(_record(i, o))[:-1] + ',"eventVersion":"1","x":{"y":"z"}}' for i, o in ROWS
    ),
    "nested unknown objects": _lines(
        _record(i, o, meta={"eventId": "e", "custom": {"a": {"b": "c"}, "d": {}}}) for i, o in ROWS
    ),
    "extra event fields": _lines(
        _record(
            capture={
                "endpointInput": {**_event(i), "extra": "x", "nested": {"k": "v"}},
                "endpointOutput": {"encoding": "CSV", "data": o},
                "other": "ignored",
            }
        )
        for i, o in ROWS
    ),
    "no eventMetadata": _lines({"captureData": _record(i, o)["captureData"]} for i, o in ROWS),
    "empty eventMetadata": _lines(_record(i, o, meta={}) for i, o in ROWS),
    "spaces and punctuation in cells": _lines(
        _record(i, o) for i, o in [(" a b ,x y;z,{}[]:", "yes no"), ("#1,$2,%3", "~")]
    ),
}

NOT_ELIGIBLE = {
    "empty payloads": _lines(_record(i, o) for i, o in [("", ""), ("", "")]),
    "an empty output payload": _lines(_record(i, o) for i, o in [("1,2", "0"), ("1,2,3", "")]),
    "escaped quote": _lines(_record(i, o) for i, o in [('"a,b",c,d', "1"), ("1,2,3", "0")]),
    "multi-row payload": _lines(_record(i, o) for i, o in [("1,2,3\n4,5,6", "0\n1")]),
    "trailing CRLF in data": _lines(_record(i, o) for i, o in [("1,2,3\r\n", "0"), ("1,2,3", "1")]),
    "unicode escaped": _lines(_record(i, o) for i, o in [("é,2,3", "0")]),
    "raw unicode": _lines(
        (_record(i, o) for i, o in [("é,2,3", "0"), ("a,b,c", "1")]),
        dump=lambda r: json.dumps(r, ensure_ascii=False),
    ),
    "escaped slash": _lines(_compact(_record("1,2,3", "0")).replace("/", "\\/") for _ in range(2)),
    "shadow record": _lines(
        [
            _record("1,2,3", "0"),
            _record("4,5,6", "1", meta={"eventId": "e", "invocationSource": "ShadowExperiment"}),
        ]
    ),
    "input only": _lines(_record(capture={"endpointInput": _event(i)}) for i, _ in ROWS),
    "base64": _lines(
        _record(
            base64.b64encode(i.encode()).decode(),
            base64.b64encode(o.encode()).decode(),
            encoding="BASE64",
        )
        for i, o in ROWS
    ),
    "json encoding": _lines(_record('{"a": 1}', '{"b": 2}', encoding="JSON") for _ in range(2)),
    "encoding mismatch": _lines(
        _record(
            capture={"endpointInput": _event("1,2"), "endpointOutput": _event("MA==", "BASE64")}
        )
        for _ in range(2)
    ),
    "ragged rows": _lines(_record(i, o) for i, o in [("1,2,3", "0"), ("1,2", "0")]),
    "duplicate data key": _lines(
        _compact(_record("1,2,3", "0")).replace('"data":"1,2,3"', '"data":"1,2,3","data":"4,5,6"')
        for _ in range(2)
    ),
    "duplicate captureData": _lines(
        _compact(_record("1,2,3", "0"))[:-1] + ',"captureData":{}}' for _ in range(2)
    ),
    "number value": _lines(_compact(_record("1,2,3", "0"))[:-1] + ',"n":1}' for _ in range(2)),
    "null value": _lines(_compact(_record("1,2,3", "0"))[:-1] + ',"n":null}' for _ in range(2)),
    "array value": _lines(_compact(_record("1,2,3", "0"))[:-1] + ',"n":["a"]}' for _ in range(2)),
    "mode as number": _lines(
        _compact(_record("1,2,3", "0")).replace('"mode":"INPUT"', '"mode":1') for _ in range(2)
    ),
    "data as object": _lines(
        _compact(_record("1,2,3", "0")).replace('"data":"1,2,3"', '"data":{}') for _ in range(2)
    ),
    "captureData as string": _lines('{"captureData":"x"}' for _ in range(2)),
    "no captureData": _lines('{"eventVersion":"0"}' for _ in range(2)),
    "garbage line": _lines([_record("1,2,3", "0"), "not json", _record("1,2,3", "0")]),
    "two objects on a line": _compact(_record("1,2,3", "0")) * 2 + "\n",
    "object over two lines": _compact(_record("1,2,3", "0")).replace(",", ",\n", 1) + "\n",
    "carriage return between records": _lines((_record(i, o) for i, o in ROWS), end="\r"),
    "trailing comma": _lines(_compact(_record("1,2,3", "0"))[:-1] + ",}" for _ in range(2)),
    "empty": "",
    "blank only": "\n \n\r\n",
    "too deep": _lines(
        _record("1,2,3", "0", meta={"x": json.loads('{"a":' * 40 + '"b"' + "}" * 40)})
        for _ in range(2)
    ),
    "control byte": _lines([_compact(_record("1,2,3", "0")).replace("INPUT", "IN\x7fPUT")]),
    "invalid utf-8": _compact(_record("1,2,3", "0")).encode().replace(b"INPUT", b"IN\xffPUT")
    + b"\n",
}


@pytest.mark.parametrize("name", sorted(ELIGIBLE))
def test_eligible_variants_give_the_general_paths_chunks(name, tmp_path, monkeypatch):
    text = ELIGIBLE[name]
    assert _eligible(text), capture_scan.scan(text.encode(), OUT_FIRST).reason
    path = _write(tmp_path / "a.jsonl", text)
    for kw in ({}, {"output_columns_position": "END"}, {"names": ["p", "x"], "chunk_rows": 1}):
        _same(monkeypatch, path, **kw)


@pytest.mark.parametrize("name", sorted(NOT_ELIGIBLE))
def test_other_files_go_the_general_path(name, tmp_path, monkeypatch):
    text = NOT_ELIGIBLE[name]
    result = capture_scan.scan(text.encode() if isinstance(text, str) else text, OUT_FIRST)
    assert not result.eligible
    assert result.reason in capture_scan.REASONS.values()
    path = _write(tmp_path / "a.jsonl", text)
    _same(monkeypatch, path)
    _same(monkeypatch, path, capture_index_names=["endpointInput"])


def test_the_reasons_name_what_was_found():
    def why(text):
        return capture_scan.scan(text.encode(), OUT_FIRST).reason

    assert why(NOT_ELIGIBLE["escaped quote"]) == "a backslash escape"
    assert why(NOT_ELIGIBLE["shadow record"]) == "an invocationSource key (shadow traffic)"
    assert why(NOT_ELIGIBLE["base64"]) == "an encoding other than CSV"
    assert why(NOT_ELIGIBLE["ragged rows"]) == "rows with different numbers of cells"
    assert why(NOT_ELIGIBLE["number value"]) == "a value that is not a string or an object"
    assert why(NOT_ELIGIBLE["duplicate data key"]) == "a known key twice in one object"
    assert why(NOT_ELIGIBLE["input only"]) == "a record without both CSV payloads"
    assert why(NOT_ELIGIBLE["garbage line"]) == "not one JSON object per line"
    assert why(NOT_ELIGIBLE["raw unicode"]) == "a byte outside printable ASCII in a string"
    assert why(NOT_ELIGIBLE["empty payloads"]) == "an empty payload"
    assert why("") == "no records"


def test_single_payload_rows(tmp_path, monkeypatch):
    text = ELIGIBLE["sagemaker"]
    path = _write(tmp_path / "a.jsonl", text)
    for parts in (["endpointInput"], ["endpointOutput"]):
        assert _eligible(text, parts)
        names, chunks = _same(monkeypatch, path, capture_index_names=parts)
        assert chunks[0].num_columns == (3 if parts == ["endpointInput"] else 1)
    # an empty payload (here: an empty row, which pyarrow's CSV reader would skip) is left to
    # the general path, but only when it is one of the row's payloads
    empty = _lines(_record("1,2", o) for o in ["0", ""])
    assert not _eligible(empty, ["endpointOutput"])
    assert _eligible(empty, ["endpointInput"])
    for parts in (["endpointInput"], ["endpointOutput"]):
        _same(monkeypatch, _write(tmp_path / "b.jsonl", empty), capture_index_names=parts)


def test_cells_and_nulls_are_exact(monkeypatch, tmp_path):
    path = _write(tmp_path / "a.jsonl", ELIGIBLE["empty cells"])
    names, chunks = _same(monkeypatch, path)
    assert chunks[0].to_pydict() == {
        "_c0": ["0", None, "1"],
        "_c1": [None, None, "2"],
        "_c2": [None, "1", None],
        "_c3": [None, None, None],
        "_c4": [None, None, None],
    }


@pytest.mark.parametrize("compression", ["gz", "bz2"])
def test_compressed_capture_file(compression, tmp_path, monkeypatch):
    text = ELIGIBLE["sagemaker"].encode()
    packed = gzip.compress(text) if compression == "gz" else bz2.compress(text)
    path = _write(tmp_path / f"a.jsonl.{compression}", packed)
    names, chunks = _same(monkeypatch, path)
    assert chunks[0].num_rows == len(ROWS)
    bad = _write(tmp_path / f"b.jsonl.{compression}", packed[: len(packed) // 2])
    _same(monkeypatch, bad)


# -- windows of many files: chunk cut points, widths, workers -----------------------------------


def _random_window(root: Path, seed: int) -> Path:
    """Files of eligible variants (random layouts) and some that are not, in one window."""
    rng = random.Random(seed)
    width = rng.choice([1, 2, 5])
    n = 0
    for f in range(rng.randint(3, 9)):
        records = []
        kind = rng.random()
        for _ in range(rng.randint(0, 40)):
            n += 1
            cells = [rng.choice(["", str(n), f"{n / 7:.3f}", "x y"]) for _ in range(width)]
            if width == 1 and not cells[0] and kind >= 0.05:
                cells = ["0"]  # an empty payload only where wanted
            outputs = ["0.5", "1", "x"] + [","] * (kind < 0.1)  # ragged rows
            rec = _record(",".join(cells), rng.choice(outputs))
            records.append(_shuffled(rec, rng) if rng.random() < 0.3 else rec)
        dump = rng.choice([_compact, json.dumps])
        if 0.1 <= kind < 0.15 and records:  # a shadow record: the general path
            records[0]["eventMetadata"] = {"invocationSource": "ShadowExperiment"}
        elif 0.15 <= kind < 0.25 and records:  # base64 everywhere: the general path
            for rec in records:
                for event in rec["captureData"].values():
                    event["data"] = base64.b64encode(event["data"].encode()).decode()
                    event["encoding"] = "BASE64"
        elif 0.25 <= kind < 0.3 and records:  # a multi-row payload
            rec = records[-1]["captureData"]
            rec["endpointInput"]["data"] += "\n" + rec["endpointInput"]["data"]
            rec["endpointOutput"]["data"] += "\n0"
        text = _lines(records, dump=dump, end=rng.choice(["\n", "\r\n"]), final=rng.random() < 0.8)
        _write(root / "2024" / "01" / "01" / "00" / f"{f:02d}.jsonl", text)
    return root


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("workers", [1, 2])
def test_random_windows(seed, workers, tmp_path, monkeypatch):
    window = _random_window(tmp_path / "w", seed)
    for chunk_rows in (1, 17, 65_536):
        _same(monkeypatch, window, workers=workers, chunk_rows=chunk_rows, names=["p"])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_later_file_of_another_width_gives_the_same_error(workers, tmp_path, monkeypatch):
    hour = tmp_path / "w"
    _write(hour / "a.jsonl", _lines(_record("1,2,3", "0") for _ in range(5)))
    _write(hour / "b.jsonl", _lines(_record("1,2", "0") for _ in range(5)))  # eligible alone
    assert _eligible((hour / "b.jsonl").read_text())
    for chunk_rows in (3, 5, 7, 100):
        result = _same(monkeypatch, hour, workers=workers, chunk_rows=chunk_rows)
        assert result[0] == "error"
        assert "Inconsistent column count in" in result[1] and "b.jsonl line 1" in result[1]


def test_a_later_general_file_fixes_nothing_early(tmp_path, monkeypatch):
    """The first row of the window fixes the width, whichever path read it."""
    hour = tmp_path / "w"
    _write(hour / "a.jsonl", NOT_ELIGIBLE["base64"])  # 3 + 1 columns, general path
    _write(hour / "b.jsonl", _lines(_record("1,2,3", "0") for _ in range(5)))
    _write(hour / "c.jsonl", _lines(_record("1,2,3,4", "0") for _ in range(5)))
    for workers in (1, 2):
        result = _same(monkeypatch, hour, workers=workers, chunk_rows=6)
        assert result[0] == "error" and "c.jsonl line 1" in result[1]


def test_whole_file_reads(tmp_path, monkeypatch):
    """A file is read whole only when all of it fits: else the general path streams it."""
    text = ELIGIBLE["sagemaker"].encode()
    plain = _write(tmp_path / "a.jsonl", text)
    assert bytes(capture_reader._read_whole(plain)) == text
    packed = _write(tmp_path / "a.jsonl.gz", gzip.compress(text))
    assert bytes(capture_reader._read_whole(packed)) == text
    assert capture_reader._read_whole(tmp_path / "missing.jsonl") is None
    # a file still being written: more bytes than its size said when it was looked at
    real_stat = Path.stat

    def stale_stat(self, *args, **kwargs):
        result = real_stat(self, *args, **kwargs)
        if self.name == "a.jsonl":
            return os.stat_result((*result[:6], result.st_size - 10, *result[7:]))
        return result

    monkeypatch.setattr(Path, "stat", stale_stat)
    assert capture_reader._read_whole(plain) is None
    monkeypatch.undo()
    monkeypatch.setattr(capture_reader, "PARALLEL_FILE_BYTES", len(text) - 1)
    assert capture_reader._read_whole(plain) is None
    assert capture_reader._read_whole(packed) is None  # too large once inflated


def test_large_files_stream_through_the_general_path(tmp_path, monkeypatch):
    monkeypatch.setattr(capture_reader, "PARALLEL_FILE_BYTES", 200)
    hour = tmp_path / "w"
    _write(hour / "a.jsonl", ELIGIBLE["sagemaker"])
    _write(hour / "b.jsonl", _lines([_record("1,2,3", "0")]))
    assert (hour / "a.jsonl").stat().st_size > 200
    for workers in (1, 2):
        _same(monkeypatch, hour, workers=workers, chunk_rows=3)


# -- when the scan runs -------------------------------------------------------------------------


def test_use_scan_switch(tmp_path, monkeypatch):
    path = _write(tmp_path / "a.jsonl", ELIGIBLE["sagemaker"])
    monkeypatch.setenv(SCAN_ENV, "1")
    assert use_scan([path])
    monkeypatch.setenv(SCAN_ENV, "0")
    assert not use_scan([path])
    monkeypatch.setenv(SCAN_ENV, "auto")
    assert use_scan([path])  # this process has the kernels loaded (the tests above)
    monkeypatch.setenv(SCAN_ENV, "yes")
    with pytest.raises(AnalyzerError, match="Invalid MMLAB_CAPTURE_SCAN 'yes'"):
        use_scan([path])


def test_a_fresh_process_loads_numba_only_for_large_windows(tmp_path):
    import subprocess
    import sys

    path = _write(tmp_path / "a.jsonl", ELIGIBLE["sagemaker"])
    code = (
        "import sys; from pathlib import Path; "
        "from mmutils.analyzer import capture_reader as c; "
        f"small = c.use_scan([Path({str(path)!r})]); "
        "c.SCAN_MIN_BYTES = 1; big = c.use_scan([Path(" + repr(str(path)) + ")]); "
        "print(small, big, 'numba' in sys.modules)"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != SCAN_ENV}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert out == ["False", "True", "True"]


def test_the_scan_really_runs(tmp_path, monkeypatch):
    """With the scan on, an eligible file is never parsed by pyarrow's JSON reader."""
    path = _write(tmp_path / "a.jsonl", ELIGIBLE["sagemaker"])
    calls = []
    real = capture_reader.open_capture_json
    monkeypatch.setattr(
        capture_reader, "open_capture_json", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    _read(monkeypatch, "1", path)
    assert calls == []
    _read(monkeypatch, "0", path)
    assert len(calls) == 1


# -- output files: byte-identical with the scan on and off --------------------------------------


def _run_both(monkeypatch, tmp_path, run) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    files = {}
    for scan in ("0", "1"):
        for workers in (1, 2):
            monkeypatch.setenv(SCAN_ENV, scan)
            out = tmp_path / f"out-{scan}-{workers}"
            run(workers, out)
            files[scan, workers] = {
                n: (out / n).read_bytes() for n in OUTPUTS if (out / n).exists()
            }
    reference = files["0", 1]
    assert "statistics.json" in reference and "constraint_violations.json" in reference
    for key, got in files.items():
        assert got == reference, f"differs with scan={key[0]} workers={key[1]}"


def test_conformance_monitoring_identical_with_the_scan(conformance_dir, tmp_path, monkeypatch):
    traffic = (conformance_dir / "data" / "test-dataset-input-cols.csv").read_text().splitlines()
    window = write_window(tmp_path / "capture", traffic, 1977, 7)
    assert _eligible(next(Path(window).rglob("*.jsonl")).read_bytes())
    stats = conformance_dir / "derived" / "intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    constraints = conformance_dir / "real" / "intro_baseline_constraints.REAL.json"

    def run(workers, out):
        run_monitoring(window, stats, constraints, output_dir=out, workers=workers)

    _run_both(monkeypatch, tmp_path, run)


def test_lab_monitoring_identical_with_the_scan(test_data_dir, tmp_path, monkeypatch):
    from mmutils.analyzer import suggest_baseline

    base = tmp_path / "base"
    suggest_baseline(test_data_dir / "training-dataset-with-header.csv", output_dir=base)
    rows = (test_data_dir / "validation.csv").read_text().splitlines()
    window = _lab_capture(tmp_path / "capture", rows, files=12, per_file=97)

    def run(workers, out):
        run_monitoring(
            window,
            base / "statistics.json",
            base / "constraints.json",
            output_dir=out,
            workers=workers,
        )

    _run_both(monkeypatch, tmp_path, run)


def test_the_warm_analyzer_loads_the_kernels(tmp_path, monkeypatch):
    """The fork server loads the kernels (after its first job): small windows use the scan."""
    from mmutils.analyzer import forkserver

    forkserver.warm_up()
    forkserver.warm_compiled()
    assert capture_scan._scan_kernel.signatures and capture_scan._columns_kernel.signatures
    monkeypatch.delenv(SCAN_ENV, raising=False)
    path = _write(tmp_path / "a.jsonl", ELIGIBLE["sagemaker"])
    assert path.stat().st_size < capture_reader.SCAN_MIN_BYTES
    assert use_scan([path])
    names, chunks = _read(monkeypatch, "auto", path)
    assert pa.types.is_string(chunks[0].schema.types[0]) and chunks[0].num_rows == len(ROWS)


def test_kernels_that_fail_to_load_leave_forked_jobs_on_the_general_path(tmp_path, monkeypatch):
    from mmutils.analyzer import forkserver

    def broken():
        raise RuntimeError("LLVM says no")

    monkeypatch.setattr(capture_scan, "warm", broken)
    monkeypatch.setattr(capture_reader, "_scan_module", None)
    monkeypatch.delenv(SCAN_ENV, raising=False)
    forkserver.warm_compiled()
    assert capture_reader._scan_module is False
    path = _write(tmp_path / "a.jsonl", ELIGIBLE["sagemaker"])
    assert not use_scan([path])
    assert read_capture(path).names == ["_c0", "_c1", "_c2", "_c3"]
