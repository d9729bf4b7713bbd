"""Plain-page arrays and the whole-file read buffers (mmutils.analyzer.buffers)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mmutils.analyzer import buffers as buffers_mod
from mmutils.analyzer import capture_reader
from mmutils.analyzer.buffers import FileBuffers, plain_pages


def _address(data: memoryview) -> int:
    view = np.frombuffer(data, np.uint8)
    address = view.ctypes.data
    del view  # an array made from the bytes must not outlive the block
    return address


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_plain_pages_are_writable_arrays_of_the_dtype():
    values = plain_pages(1000)
    assert values.dtype == np.float64 and values.shape == (1000,) and values.flags.writeable
    values[:] = np.arange(1000)
    assert values.sum() == 999 * 1000 / 2
    flags = plain_pages(5, np.uint8)
    assert flags.dtype == np.uint8 and flags.shape == (5,)
    assert plain_pages(0).shape == (1,)  # a mapping is never empty


def test_a_buffer_serves_file_after_file(tmp_path):
    pool = FileBuffers()
    first = _file(tmp_path / "a", b"x" * 5000)
    second = _file(tmp_path / "b", b"second file")
    with pool.read(first, 5000) as data:
        assert bytes(data) == b"x" * 5000
        where = _address(data)
    with pool.read(second, len(b"second file")) as data:
        assert bytes(data) == b"second file"  # nothing of the longer first file shows
        assert _address(data) == where  # the same memory
    assert len(pool._idle) == 1


def test_a_larger_file_replaces_a_buffer_too_small(tmp_path, monkeypatch):
    monkeypatch.setattr(buffers_mod, "_STEP", 4096)
    pool = FileBuffers()
    with pool.read(_file(tmp_path / "a", b"a" * 100), 100) as data:
        assert len(data) == 100
    big = os.urandom(3 * 4096 + 7)
    with pool.read(_file(tmp_path / "b", big), len(big)) as data:
        assert bytes(data) == big
    assert len(pool._idle) == 1 and len(pool._idle[0]) == 4 * 4096  # the small one dropped


def test_more_bytes_than_the_limit_give_none(tmp_path):
    """A file still growing: more bytes than its size said when it was looked at."""
    pool = FileBuffers()
    path = _file(tmp_path / "a", b"0123456789")
    with pool.read(path, 9) as data:
        assert data is None
    with pool.read(path, 10) as data:
        assert bytes(data) == b"0123456789"


def test_a_read_error_keeps_the_buffer(tmp_path):
    pool = FileBuffers()
    with pytest.raises(FileNotFoundError), pool.read(tmp_path / "missing", 10):
        pass
    assert len(pool._idle) == 1


def test_bytes_still_held_after_the_block_are_never_overwritten(tmp_path):
    pool = FileBuffers()
    kept = []
    with pytest.raises(RuntimeError), pool.read(_file(tmp_path / "a", b"first"), 5) as data:
        kept.append(np.frombuffer(data, np.uint8))  # as the failed call's traceback keeps it
        raise RuntimeError("the scan failed")
    assert pool._idle == []  # dropped, not handed out again
    with pool.read(_file(tmp_path / "b", b"other"), 5) as data:
        kept.append(pa.py_buffer(data))  # still exported when the block ends
    assert pool._idle == []
    with pool.read(_file(tmp_path / "c", b"third"), 5) as data:
        assert bytes(data) == b"third"
    assert kept[0].tobytes() == b"first" and kept[1].to_pybytes() == b"other"
    assert len(pool._idle) == 1


def test_threads_reading_at_once_get_buffers_of_their_own(tmp_path):
    files = [_file(tmp_path / f"f{i}", os.urandom(1000 + 37 * i)) for i in range(64)]
    pool = FileBuffers()
    start = threading.Barrier(4)

    def read(path: Path) -> bool:
        if path.name in {"f0", "f1", "f2", "f3"}:
            start.wait()  # the first four reads overlap for sure
        with pool.read(path, path.stat().st_size) as data:
            copy = bytes(data)
            # another thread writing into this buffer now would change it under us
            threading.Event().wait(0.001)
            return copy == bytes(data) == path.read_bytes()

    with ThreadPoolExecutor(4) as threads:
        assert all(threads.map(read, files))
    assert 1 <= len(pool._idle) <= 4  # at most one buffer per read at a time


def test_the_scan_reads_through_the_buffers_as_it_reads_whole_files(tmp_path):
    line = (
        b'{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
        b'"data":"1,2,3","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv",'
        b'"mode":"OUTPUT","data":"0.5","encoding":"CSV"}},"eventMetadata":{"eventId":"e",'
        b'"inferenceTime":"2024-01-01T00:00:00Z"},"eventVersion":"0"}\n'
    )
    path = _file(tmp_path / "a.jsonl", line * 3)
    parts = ["endpointOutput", "endpointInput"]
    pool = FileBuffers()
    plain = capture_reader.scan_capture_file(path, parts)
    pooled = capture_reader.scan_capture_file(path, parts, pool)
    assert plain is not None and pooled is not None
    assert [c.to_pylist() for c in pooled.columns] == [c.to_pylist() for c in plain.columns]
    assert [c.to_pylist() for c in pooled.columns] == [["0.5"] * 3, ["1"] * 3, ["2"] * 3, ["3"] * 3]
    # the cells were copied out: the next file's bytes in the same buffer change nothing
    _file(tmp_path / "b.jsonl", b"z" * len(line) * 3)
    with pool.read(tmp_path / "b.jsonl", len(line) * 3):
        assert pooled.columns[1].to_pylist() == ["1"] * 3
    assert capture_reader.scan_capture_file(tmp_path / "missing.jsonl", parts, pool) is None
