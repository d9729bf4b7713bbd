"""Memory the analyzer fills itself: plain pages, and buffers reused from file to file.

Fresh memory is dear. The kernel zeroes every page a process touches for the first time, and
on the 2-core VM the host may have to back it first: filling 200 MB of fresh memory took
0.09-0.11 s in 4 KB pages and 0.28-0.45 s in the 2 MB huge pages numpy asks for (arrays of
4 MB and more), against 0.03 s to fill the same memory a second time (``docs/analyzer-workers.md``).
So large buffers are taken in plain pages (:func:`plain_pages`), and a reader's whole-file
reads go into buffers that serve file after file (:class:`FileBuffers`).
"""

from __future__ import annotations

import contextlib
import mmap
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["FileBuffers", "RecycledBuffers", "plain_pages"]

# a private anonymous mapping: a shared one (mmap's default) is backed by shmem, which costs
# more per page; Windows has neither flag (its anonymous mappings are private already)
_PRIVATE = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
# buffers for whole files come in steps of this size, so that files of about the same size
# (an hour's capture files) share one buffer instead of each needing a slightly larger one
_STEP = 4 << 20
# a RecycledBuffers keeps at most this many buffers (more are in use at once only when a
# caller holds on to what was made from them; those are left to the garbage collector)
_RECYCLED = 64


def _in_steps(nbytes: int) -> int:
    """``nbytes`` rounded up to whole :data:`_STEP` s (one step at least)."""
    return -(-max(nbytes, 1) // _STEP) * _STEP


def plain_pages(count: int, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """``count`` uninitialised items of ``dtype`` in fresh memory of plain 4 KB pages.

    The memory is returned to the system once the array and its views are gone.
    """
    nbytes = max(count, 1) * np.dtype(dtype).itemsize
    mapping = mmap.mmap(-1, nbytes, flags=_PRIVATE) if _PRIVATE else mmap.mmap(-1, nbytes)
    return np.frombuffer(mapping, dtype)


class FileBuffers:
    """Buffers for reading whole files, each reused by file after file.

    A reader's worker threads share one instance: each read takes an idle buffer that is large
    enough (or a new one) and gives it back when its block ends, so there are at most as many
    buffers as reads at a time. They are freed with the instance.
    """

    def __init__(self) -> None:
        self._idle: list[np.ndarray] = []

    def _take(self, size: int) -> np.ndarray:
        while True:
            try:
                buf = self._idle.pop()  # atomic: threads never get the same buffer
            except IndexError:
                return plain_pages(_in_steps(size), np.uint8)
            if len(buf) >= size:
                return buf
            # too small for this file: dropped (freed), a larger one is made instead

    @contextlib.contextmanager
    def read(self, path: str | Path, limit: int) -> Iterator[memoryview | None]:
        """The bytes of ``path`` while the block runs, or None when it has more than ``limit``.

        The bytes are a view of a buffer that the next read overwrites: keep nothing that
        refers to them past the block. When the block raises (its traceback may keep arrays
        made from the bytes), or the view is still exported when it ends (a buffer of
        pyarrow's, say), the buffer is dropped instead of being handed out again.

        Raises:
            OSError: the file cannot be read.
        """
        buf = self._take(limit + 1)
        view = memoryview(buf)
        data = None
        reuse = False
        try:
            got = 0
            with open(path, "rb", buffering=0) as f:
                while got <= limit:
                    n = f.readinto(view[got : limit + 1])
                    if not n:
                        break
                    got += n
            data = view[:got]
            yield None if got > limit else data
            reuse = True
        except OSError:
            reuse = data is None  # the read failed: nothing refers to the buffer
            raise
        finally:
            if _released(data) & _released(view) and reuse:
                self._idle.append(buf)


def _released(view: memoryview | None) -> bool:
    """Release ``view``; False when something still holds a buffer made from it."""
    if view is None:
        return True
    try:
        view.release()
    except BufferError:
        return False
    return True


class RecycledBuffers:
    """Buffers handed out again once nothing made from them is alive any more.

    A scan's string columns live in one buffer per file until the profiler is done with
    the chunk they belong to, files later, in another thread. Taken from ``malloc``, their
    memory came back fresh file after file (the arena gives it back to the system when it
    shrinks): ~30,000 page faults and ~0.06 s of system time per million capture records.
    Here each buffer stays with the instance and is handed out again when its refcount
    shows that no view of it (an Arrow buffer of a column, say) is left. Thread-safe.
    """

    def __init__(self) -> None:
        self._all: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self, nbytes: int) -> np.ndarray:
        """A ``uint8`` array of ``nbytes`` (uninitialised) that nothing else refers to.

        It is a view of a buffer of the instance; the buffer is handed out again once this
        view and everything made from it (views of it refer to the buffer) are gone.
        """
        with self._lock:
            i = _free(self._all, nbytes, _FREE_REFS)
            if i >= 0:
                return self._all[i][:nbytes]
            buf = plain_pages(_in_steps(nbytes), np.uint8)
            if len(self._all) < _RECYCLED:
                self._all.append(buf)
            return buf[:nbytes]


def _free(arrays: list[np.ndarray], nbytes: int, free_refs: int) -> int:
    """The index of an array of ``arrays`` with ``nbytes`` or more that only the list refers
    to (``free_refs`` references seen here), else -1."""
    for i in range(len(arrays)):
        buf = arrays[i]
        if len(buf) >= nbytes and sys.getrefcount(buf) == free_refs:
            return i
    return -1


def _refs_of_a_free_array() -> int:
    """What :func:`_free` sees for an array only its list refers to: measured the same way
    (the count depends on the interpreter's handling of local variables)."""
    arrays = [np.empty(1, np.uint8)]
    for i in range(len(arrays)):
        buf = arrays[i]
        return sys.getrefcount(buf)
    return -1


_FREE_REFS = _refs_of_a_free_array()
