"""The compiled CSV cut gives pyarrow's rows, or leaves the file to pyarrow's reader (issue 14).

Differential: every dataset is read with the cut forced off (``MMLAB_CSV_SCAN=0``: pyarrow's
streaming CSV reader, the reference) and forced on; the rows (names, cells, nulls) or the
error message must be the same, with one and two workers and with blocks small enough that a
file is cut in many blocks and handed to pyarrow part way. :func:`csv_scan.cut` is asked
separately whether each variant is plain, so the tests know the cut really ran where it should.
"""

from __future__ import annotations

import bz2
import gzip
import random
from pathlib import Path

import pyarrow as pa
import pytest

from mmutils.analyzer import csv_scan, readers, suggest_baseline
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.readers import CSV_SCAN_ENV, read_csv, use_csv_scan


def _read(paths, header: bool, workers: int, block_size: int):
    """``(names, one table)`` or ``("error", message)``."""
    try:
        names, chunks = read_csv(paths, header, block_size=block_size, workers=workers)
        tables = list(chunks)
    except AnalyzerError as exc:
        return "error", str(exc)
    return names, pa.concat_tables(tables) if tables else None


def _both(monkeypatch, paths, header=True, workers=1, block_size=readers.BLOCK_SIZE):
    """Read both ways; assert the same outcome, and return it."""
    monkeypatch.setenv(CSV_SCAN_ENV, "0")
    want = _read(paths, header, workers, block_size)
    monkeypatch.setenv(CSV_SCAN_ENV, "1")
    got = _read(paths, header, workers, block_size)
    assert got[0] == want[0]
    if want[0] == "error":
        assert got[1] == want[1]
    else:
        assert (got[1] is None) == (want[1] is None)
        if want[1] is not None:
            assert got[1].num_rows == want[1].num_rows
            assert got[1].equals(want[1]), (got[1].to_pylist()[:5], want[1].to_pylist()[:5])
    return want


def _write(tmp_path: Path, text: bytes | str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    data = text.encode("utf-8") if isinstance(text, str) else text
    if name.endswith(".gz"):
        data = gzip.compress(data)
    elif name.endswith(".bz2"):
        data = bz2.compress(data)
    path.write_bytes(data)
    return path


# -- the kernel: plain or not, and the cells -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        (b"1,2\n3,4\n", [["1", "3"], ["2", "4"]]),
        (b"1,2\n3,4", [["1", "3"], ["2", "4"]]),  # no line end at the end
        (b"1,\n,4\n", [["1", None], [None, "4"]]),  # empty cells are null
        (b"1,2\r\n3,4\r\n", [["1", "3"], ["2", "4"]]),  # CRLF
        (b"\n1,2\n\n\r\n3,4\n\n", [["1", "3"], ["2", "4"]]),  # empty lines are skipped
        (b" 1 , x\t\n", [[" 1 "], [" x\t"]]),  # spaces and tabs are kept
        ("é,日本\n".encode(), [["é"], ["日本"]]),  # UTF-8
        (b"a\x7fb,c\n", [["a\x7fb"], ["c"]]),  # DEL is data for pyarrow
    ],
)
def test_cut_plain(text, cells):
    result = csv_scan.cut(text, 2)
    assert result.eligible, result.reason
    assert [c.to_pylist() for c in result.columns] == cells
    assert all(c.type == pa.string() for c in result.columns)


@pytest.mark.parametrize(
    ("text", "reason", "position"),
    [
        (b'1,2\n3,"4"\n', "a double quote", 6),
        (b"1,2\n3\r4,5\n", "a control byte or a lone carriage return", 5),
        (b"1,2\n3,4\r", "a control byte or a lone carriage return", 7),
        (b"1,2\n3,\x004\n", "a control byte or a lone carriage return", 6),
        (b"1,2\n3,4,5\n", "a row with another number of cells", 4),
        (b"1,2\n3\n", "a row with another number of cells", 4),
        (b"1,\xff\n", "bytes that are not UTF-8", 0),
        (b"1,\xc3\n", "bytes that are not UTF-8", 0),
    ],
)
def test_cut_not_plain(text, reason, position):
    result = csv_scan.cut(text, 2)
    assert not result.eligible
    assert (result.reason, result.position) == (reason, position)


def test_cut_starts_past_the_header_and_at_any_alignment():
    body = b"x,y\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(100))
    for pad in range(9):  # the kernel reads eight bytes at a time from aligned words
        data = bytearray(b"z" * pad + body)
        result = csv_scan.cut(memoryview(data)[pad:], 2, start=4)
        assert result.eligible
        assert result.columns[1].to_pylist() == [str(i * i) for i in range(100)]


def test_cut_long_cells_and_wide_rows():
    rng = random.Random(3)
    rows = [[("v" * rng.randrange(0, 40)) or "" for _ in range(300)] for _ in range(50)]
    text = "".join(",".join(r) + "\n" for r in rows).encode()
    result = csv_scan.cut(text, 300)
    assert result.eligible
    for j in (0, 17, 299):
        assert result.columns[j].to_pylist() == [r[j] or None for r in rows]


# -- the reader: the same rows as pyarrow's, or the same error -------------------------------

VARIANTS = {
    "plain": "a,b,c\n1,2,3\n4,,6\n7,8,9\n",
    "no final line end": "a,b,c\n1,2,3\n4,5,6",
    "crlf": "a,b,c\r\n1,2,3\r\n4,5,6\r\n",
    "blank lines": "a,b,c\n\n1,2,3\n\n\n4,5,6\n\n",
    "bom": "\ufeffa,b,c\n1,2,3\n",
    "quoted header": '"a","b","c"\n1,2,3\n',
    "quote ending the header": 'a,b,c"\n1,2,3\n',
    "crlf header, lf rows": "a,b,c\r\n1,2,3\n",
    "quoted cells": 'a,b,c\n1,"2,5",3\n4,"x ""y""",6\n',
    "quoted newline": 'a,b,c\n1,"2\n5",3\n',
    "lone cr": "a,b,c\n1,2,3\r4,5,6\n",
    "lone cr in header": "a,b\rc\n1,2,3\n",
    "ragged": "a,b,c\n1,2,3\n4,5\n",
    "too wide": "a,b,c\n1,2,3,4\n",
    "bad utf8": b"a,b,c\n1,2,3\n4,\xff,6\n",
    "utf8": "a,b,c\n1,é,3\n4,日本,6\n",
    "header only": "a,b,c\n",
    "header without line end": "a,b,c",
    "blank first line": "\na,b,c\n1,2,3\n",
    "nul": "a,b,c\n1,\x002,3\n",
    "tabs and spaces": "a,b,c\n 1,\t2 ,3 \n",
    "one column": "a\n1\n\n2\n",
}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("header", [True, False])
def test_reader_variants_match_pyarrow(tmp_path, monkeypatch, name, header, workers):
    path = _write(tmp_path, VARIANTS[name])
    _both(monkeypatch, path, header=header, workers=workers)


@pytest.mark.parametrize("suffix", [".gz", ".bz2"])
def test_compressed_files(tmp_path, monkeypatch, suffix):
    text = "a,b\n" + "".join(f"{i},{i % 7 or ''}\n" for i in range(5000))
    path = _write(tmp_path, text, "data.csv" + suffix)
    names, table = _both(monkeypatch, path, workers=2, block_size=4096)
    assert table.num_rows == 5000


def test_damaged_archive_fails_as_before(tmp_path, monkeypatch):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 10000)[:-40])
    outcome = _both(monkeypatch, path, block_size=4096)
    assert outcome[0] == "error" and "data.csv.gz" in outcome[1]


def _rows(rng: random.Random, n: int, width: int) -> list[str]:
    cells = ["", "0", "1", "-2.5", "3e4", "abc", " x ", "é", "1.0"]
    return [",".join(rng.choice(cells) for _ in range(width)) for _ in range(n)]


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize(
    ("late", "where"),
    [
        (None, None),
        ('1,"2",3', 2500),  # quoting late in the file: pyarrow takes over from there
        ("1,2", 2500),  # a short row late: pyarrow's error, naming its line
        ("1,2,3\r4,5,6", 3100),  # a lone carriage return: two rows for pyarrow
        ("1,\xff,3", 1800),
    ],
)
def test_handover_part_way_gives_the_same_rows_or_error(
    tmp_path, monkeypatch, workers, late, where
):
    rng = random.Random(11)
    lines = ["a,b,c", *_rows(rng, 4000, 3)]
    if late is not None:
        lines[where] = late
    text = "\n".join(lines) + "\n"
    data = text.encode("utf-8", "surrogateescape").replace("\xff".encode(), b"\xff")
    path = _write(tmp_path, data)
    for block_size in (1 << 10, 7 << 10, 1 << 20):
        outcome = _both(monkeypatch, path, workers=workers, block_size=block_size)
        if late in ("1,2", "1,\xff,3"):
            assert outcome[0] == "error" and f"line {where + 1}" in outcome[1]
        else:
            assert outcome[1].num_rows == 4000 + (late == "1,2,3\r4,5,6")


def test_a_line_longer_than_the_block_goes_to_pyarrow(tmp_path, monkeypatch):
    text = "a,b\n1,2\n" + "x" * 5000 + ",y\n3,4\n"
    path = _write(tmp_path, text)
    names, table = _both(monkeypatch, path, block_size=1024)
    assert table.column(0).to_pylist() == ["1", "x" * 5000, "3"]


def test_several_files_random(tmp_path, monkeypatch):
    rng = random.Random(5)
    folder = tmp_path / "data"
    folder.mkdir()
    for k in range(4):
        body = _rows(rng, rng.randrange(0, 3000), 5)
        if k == 2:
            body.insert(100, '"q",1,2,3,4')
        (folder / f"part-{k}.csv").write_text("\n".join(["a,b,c,d,e", *body]) + "\n")
    for workers in (1, 2):
        for block_size in (2048, 1 << 20):
            _both(monkeypatch, folder, workers=workers, block_size=block_size)


def test_same_statistics_bytes_with_and_without_the_cut(tmp_path, monkeypatch):
    rng = random.Random(8)
    path = tmp_path / "train.csv"
    path.write_text("\n".join(["y,a,b,c,d", *_rows(rng, 20000, 5)]) + "\n")
    outputs = {}
    for setting in ("0", "1"):
        monkeypatch.setenv(CSV_SCAN_ENV, setting)
        out = tmp_path / f"out{setting}"
        suggest_baseline(path, output_dir=out, workers=2)
        outputs[setting] = [(out / f).read_bytes() for f in ("statistics.json", "constraints.json")]
    assert outputs["0"] == outputs["1"]


def test_the_cut_really_runs(tmp_path, monkeypatch):
    path = _write(tmp_path, VARIANTS["plain"])
    monkeypatch.setenv(CSV_SCAN_ENV, "1")
    calls = []
    real = csv_scan.cut

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result.reason)
        return result

    monkeypatch.setattr(csv_scan, "cut", spy)
    names, chunks = read_csv(path, True)
    assert sum(t.num_rows for t in chunks) == 3
    assert calls == ["plain"]


def test_use_csv_scan_switch(tmp_path, monkeypatch):
    path = _write(tmp_path, VARIANTS["plain"])
    monkeypatch.setenv(CSV_SCAN_ENV, "1")
    assert use_csv_scan([path])
    monkeypatch.setenv(CSV_SCAN_ENV, "0")
    assert not use_csv_scan([path])
    monkeypatch.setenv(CSV_SCAN_ENV, "auto")
    assert use_csv_scan([path])  # the kernels are loaded in this process (the tests above)
    monkeypatch.setenv(CSV_SCAN_ENV, "yes")
    with pytest.raises(AnalyzerError, match="Invalid MMLAB_CSV_SCAN 'yes'"):
        use_csv_scan([path])


def test_the_warm_analyzer_loads_the_cut(tmp_path, monkeypatch):
    """The fork server loads the cut's kernels: a small dataset is cut in the jobs it forks."""
    from mmutils.analyzer import forkserver

    forkserver.warm_compiled()
    assert csv_scan._rows_kernel.signatures
    monkeypatch.delenv(CSV_SCAN_ENV, raising=False)
    path = _write(tmp_path, VARIANTS["plain"])
    assert use_csv_scan([path])


def test_a_cut_that_fails_to_load_leaves_pyarrow_reading(tmp_path, monkeypatch):
    from mmutils.analyzer import forkserver

    def broken():
        raise RuntimeError("LLVM says no")

    monkeypatch.setattr(csv_scan, "warm", broken)
    monkeypatch.setattr(readers, "_scan_module", None)
    monkeypatch.delenv(CSV_SCAN_ENV, raising=False)
    forkserver.warm_compiled()
    assert readers._scan_module is False
    path = _write(tmp_path, VARIANTS["plain"])
    assert not use_csv_scan([path])
    names, chunks = read_csv(path, True)
    assert [t.num_rows for t in chunks] == [3]


# pyarrow cannot hand a ragged row with bytes that are not UTF-8 to the invalid-row handler
# (it fails decoding the row's text, prints "Exception ignored" and raises its own error)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("seed", range(12))
def test_random_bytes_match_pyarrow(tmp_path, monkeypatch, seed):
    """Adversarial input: lines of random cells over an alphabet of every byte the cut treats
    specially, mostly plain so that blocks are cut before pyarrow takes over."""
    rng = random.Random(seed)
    alphabet = [b"1", b"a", b" ", b"", b"2.5", b"\t", b"\xc3\xa9", b'"', b"\r", b"\x00", b"\xff"]
    weights = [30, 20, 5, 20, 20, 2, 3, 1, 1, 0.5, 0.5]
    width = rng.randrange(1, 6)
    lines = [b",".join(b"c%d" % j for j in range(width))]
    for _ in range(rng.randrange(1, 400)):
        cells = rng.randrange(width - 1, width + 2) if rng.random() < 0.01 else width
        lines.append(b",".join(b"".join(rng.choices(alphabet, weights, k=2)) for _ in range(cells)))
    ending = rng.choice([b"\n", b"\r\n"])
    data = ending.join(lines) + rng.choice([ending, b""])
    path = _write(tmp_path, data)
    for workers, block_size in [(1, 64), (2, 200), (3, 1 << 20)]:
        _both(monkeypatch, path, workers=workers, block_size=block_size)
