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
from mmutils.analyzer.buffers import FileBuffers, RecycledBuffers, plain_pages


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


# -- recycled buffers: handed out again once nothing made from them is alive ------------------


def _base(view: np.ndarray) -> int:
    return view.ctypes.data


def test_a_recycled_buffer_comes_back_once_its_views_are_gone():
    pool = RecycledBuffers()
    first = pool.take(1000)
    assert first.dtype == np.uint8 and first.shape == (1000,) and first.flags.writeable
    where = _base(first)
    held = pa.py_buffer(first[10:20])  # an Arrow buffer made from it: still in use
    del first
    second = pool.take(500)
    assert _base(second) != where  # not while the Arrow buffer lives
    del held
    third = pool.take(800)
    assert _base(third) == where  # now free: the same memory again
    assert len(pool._all) == 2


def test_a_recycled_buffer_too_small_is_not_handed_out(monkeypatch):
    monkeypatch.setattr(buffers_mod, "_STEP", 4096)
    pool = RecycledBuffers()
    small = pool.take(100)
    where = _base(small)
    del small
    big = pool.take(3 * 4096 + 1)
    assert len(big) == 3 * 4096 + 1 and _base(big) != where
    del big
    assert _base(pool.take(4096)) == where  # the first one fits this one


def test_recycled_buffers_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(buffers_mod, "_RECYCLED", 3)
    pool = RecycledBuffers()
    held = [pool.take(10) for _ in range(5)]  # all in use at once
    assert len(pool._all) == 3 and len({_base(v) for v in held}) == 5


def test_threads_taking_at_once_never_share_a_recycled_buffer():
    pool = RecycledBuffers()
    start = threading.Barrier(8)

    def use(i: int) -> bool:
        if i < 8:
            start.wait()
        view = pool.take(4096 + i)
        view[:] = i % 251
        threading.Event().wait(0.001)  # another thread writing here now would show
        return bool((view == i % 251).all())

    with ThreadPoolExecutor(8) as threads:
        assert all(threads.map(use, range(200)))
    assert 1 <= len(pool._all) <= 8


def test_scanned_columns_live_in_recycled_buffers_file_after_file(tmp_path):
    line = (
        b'{"captureData":{"endpointInput":{"data":"%d,2,3","encoding":"CSV"},'
        b'"endpointOutput":{"data":"0.5","encoding":"CSV"}}}\n'
    )
    parts = ["endpointOutput", "endpointInput"]
    paths = [_file(tmp_path / f"{i}.jsonl", (line % i) * 50) for i in range(3)]
    pool = RecycledBuffers()
    first = capture_reader.scan_capture_file(paths[0], parts, FileBuffers(), pool)
    second = capture_reader.scan_capture_file(paths[1], parts, None, pool)
    # the first file's columns are alive: the second's were not written over them
    assert first.columns[1].to_pylist() == ["0"] * 50
    assert second.columns[1].to_pylist() == ["1"] * 50
    assert len(pool._all) == 2
    del first
    third = capture_reader.scan_capture_file(paths[2], parts, None, pool)
    assert third.columns[1].to_pylist() == ["2"] * 50 and len(pool._all) == 2
    assert second.columns[1].to_pylist() == ["1"] * 50
    plain = capture_reader.scan_capture_file(paths[2], parts)
    assert [c.to_pylist() for c in third.columns] == [c.to_pylist() for c in plain.columns]
