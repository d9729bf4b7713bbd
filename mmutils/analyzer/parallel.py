"""Worker count and order-preserving read-ahead for the analyzer's pipelines.

The analyzer's output must not depend on how many workers ran (byte-identical files for any
``workers``). It therefore never merges partial profiles: the order-dependent statistics (the
left-to-right ``sum``, Spark's streaming mean/M2 recurrence, deequ's KLL sketch, whose
compaction points depend on the order values arrive in) are fed in row order, each column by
one consumer (:mod:`mmutils.analyzer.column_groups` profiles groups of columns on their own
threads), exactly as with one worker. What runs in parallel is the work that has no order: parsing files
(pyarrow's JSON and CSV readers release the GIL) runs ahead in worker threads, and its results
are handed over in their original order. Chunk boundaries are the ones a single worker makes,
so every intermediate state of the profiler is the same too.

Why threads and not processes: the parsed chunks are Arrow buffers that a thread hands over for
free, while a process would pay a copy of every byte (plus ~0.1-0.5 s to start); the parsers
release the GIL, so two threads do use two cores.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from mmutils.analyzer.errors import AnalyzerError

__all__ = [
    "MAX_DEFAULT_WORKERS",
    "PARALLEL_MIN_BYTES",
    "WORKERS_ENV",
    "check_workers",
    "closing",
    "default_workers",
    "input_bytes",
    "ordered_map",
    "prefetch",
    "workers_for",
]

T = TypeVar("T")
R = TypeVar("R")

#: environment variable overriding the default worker count
WORKERS_ENV = "MMLAB_ANALYZER_WORKERS"
#: the default never exceeds this (the pipelines have about this many stages worth overlapping)
MAX_DEFAULT_WORKERS = 4
#: inputs smaller than this run on one thread whatever ``workers`` says: an hourly window of
#: a few thousand records parses in milliseconds, less than threads cost to hand work over
PARALLEL_MIN_BYTES = 16 << 20


def default_workers() -> int:
    """Workers to use when none is given: the usable cores (at most 4), or ``$MMLAB_ANALYZER_WORKERS``.

    Raises:
        AnalyzerError: the variable is set to something other than a positive integer.
    """
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value:
        return check_workers(value, WORKERS_ENV)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def check_workers(value: object, name: str = "workers") -> int:
    """``value`` as a worker count (None: :func:`default_workers`).

    Raises:
        AnalyzerError: not a positive integer (the message names ``name``).
    """
    if value is None:
        return default_workers()
    try:
        workers = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        workers = 0
    if isinstance(value, bool) or workers < 1:
        raise AnalyzerError(f"Invalid {name} {value!r}: expected a positive integer")
    return workers


def input_bytes(data: object, enough: int) -> int | None:
    """Bytes of ``data`` (a path, a folder or a list of them), counted up to ``enough``.

    None when ``data`` holds something else (a table, a DataFrame) or a path that is missing
    or unreadable (the reader reports it). The count stops once it reaches ``enough``.
    """
    items = data if isinstance(data, list | tuple) else [data]
    total = 0
    for item in items:
        if not isinstance(item, str | os.PathLike):
            return None
        path = Path(item)
        try:
            if path.is_file():
                total += path.stat().st_size
            elif path.is_dir():
                for sub in path.rglob("*"):
                    if sub.is_file():
                        total += sub.stat().st_size
                        if total >= enough:
                            return total
            else:
                return None
        except OSError:
            return None
        if total >= enough:
            return total
    return total


def workers_for(workers: int, data: object) -> int:
    """``workers``, or 1 when ``data`` (a path, a folder or a list of them) is under
    :data:`PARALLEL_MIN_BYTES` in all. Anything else (a table, a DataFrame) keeps ``workers``.

    The choice never changes the output (it is byte-identical for any worker count), only
    whether threads are started.
    """
    if workers <= 1:
        return 1
    total = input_bytes(data, PARALLEL_MIN_BYTES)
    return workers if total is None or total >= PARALLEL_MIN_BYTES else 1


_DONE = object()


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead of the consumer.

    Items come out in their order; an exception raised by ``items`` is raised to the consumer
    at the point it occurred. When the consumer stops early (an error of its own, or it
    closes the generator), the producer is told to stop and is joined, and ``items`` is closed
    in its own thread, so no read-ahead outlives the call.
    """
    handoff: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="mmlab-analyzer-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        # an unclosed generator is finalised wherever the garbage collector runs, which may
        # be its own producer thread: a thread cannot wait for itself
        if thread is not threading.current_thread():
            thread.join()


def head_then(head: list[T], rest: Iterable[T]) -> Iterator[T]:
    """The items of ``head`` (emptied as they go: no reference to one is kept once it was
    handed on, so its memory can go as soon as the consumer is done with it), then ``rest``."""
    while head:
        yield head.pop(0)
    yield from rest


@contextlib.contextmanager
def closing(chunks: Iterator[T]) -> Iterator[Iterator[T]]:
    """``chunks``, closed when the block exits, however it exits (when it has ``close``).

    Closing stops a read-ahead (:func:`prefetch`'s thread, :func:`ordered_map`'s workers) at
    once. Without it they would run on while an exception's traceback keeps the caller's
    frame alive, as a notebook does with the last error (an interrupted cell, say).
    """
    try:
        yield chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def ordered_map(
    func: Callable[[T], R], items: Iterable[T], workers: int, ahead: int | None = None
) -> Iterator[R]:
    """``map(func, items)`` on ``workers`` threads, results in input order, bounded look-ahead.

    At most ``ahead`` (default ``workers + 1``) calls are in flight or done but not yet
    consumed, which bounds memory. An exception of ``func`` is raised when its item's turn
    comes, i.e. after every earlier result was consumed, as a plain ``map`` would.
    """
    ahead = ahead or workers + 1
    pending: list[Future] = []
    it = iter(items)
    own: set[int] = set()  # the pool's threads
    pool = ThreadPoolExecutor(
        max_workers=workers,
        thread_name_prefix="mmlab-analyzer",
        initializer=lambda: own.add(threading.get_ident()),
    )
    try:
        for item in it:
            pending.append(pool.submit(func, item))
            if len(pending) >= ahead:
                yield pending.pop(0).result()
        while pending:
            yield pending.pop(0).result()
    finally:
        for future in pending:
            future.cancel()
        # an unclosed generator is finalised wherever the garbage collector runs, which may
        # be one of these very workers: a thread cannot wait for itself
        pool.shutdown(wait=threading.get_ident() not in own)
