"""Read SageMaker data-capture JSONL (``sagemakerCaptureJson``) into chunks of string columns.

A monitoring window is a folder tree of ``.jsonl`` files (``{endpoint}/{variant}/yyyy/mm/dd/HH/
MM-SS-mmm-uuid.jsonl``), read in sorted listing order. Each capture record becomes one row (or
one row per line of a multi-line CSV / JSON-Lines payload): for CSV the row is the
``endpointOutput`` fields first, then the ``endpointInput`` fields (``output_columns_position``
``START``, the service's default; ``END`` puts the output last). Rows carry no header, so columns
are matched to the baseline's feature names by position (spec §A.4).

Three ways to the same chunks, fastest first:

* **The compiled scan** (:mod:`mmutils.analyzer.capture_scan`, numba): a whole capture file's
  bytes are checked against a strict, conservative grammar (one JSON object per line, strings
  of printable ASCII without escapes, both payloads CSV, no shadow records, the same number of
  cells in every row, …) and, when the file is eligible, its payloads are cut at their commas
  straight into string columns — no JSON parse, no join, no CSV parse. Any other file takes
  the paths below, unchanged, so the scan never changes a chunk, a cut point or an error
  message (tests/test_capture_scan.py reads every variant both ways). It runs when it pays
  (:func:`use_scan`: from :data:`SCAN_MIN_BYTES` of capture in a fresh process, always once
  its kernels are loaded, e.g. in the emulator's warm analyzer; ``MMLAB_CAPTURE_SCAN=0|1``
  forces it off / on).
* **pyarrow's readers** (CSV payloads): pyarrow's JSON reader parses each file into struct
  columns; the output and input CSV strings are joined per record and the joined text is
  parsed by pyarrow's CSV reader as all-string columns. No Python loop runs per record.
* **The precise per-line parser**: JSON / BASE64 payloads, multi-line payloads and error
  reporting.

The capture format itself (parsing a line, decoding a payload, the hour-folder layout) is
:mod:`mmutils.formats`; this module turns records into rows and keeps the service's
encoding-mismatch text.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from mmutils.analyzer import parallel
from mmutils.analyzer.buffers import FileBuffers, RecycledBuffers
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.jsonfmt import java_double
from mmutils.analyzer.startup import optional_module, switch_setting
from mmutils.formats import capture_record
from mmutils.formats.capture_key import parse_hour_folder
from mmutils.formats.capture_record import INPUT, OUTPUT, SHADOW

#: rows per yielded chunk (bounds memory; the profiler is vectorised per chunk)
CHUNK_ROWS = 65_536
#: bytes of JSONL pyarrow parses at a time
BLOCK_SIZE = 8 << 20
#: with several workers, files up to this size are parsed whole, ahead, in worker threads
#: (larger ones are streamed block by block in order, to keep memory bounded); the compiled
#: scan takes files up to this size too
PARALLEL_FILE_BYTES = 64 << 20
#: environment variable forcing the compiled scan on (``1``) or off (``0``); unset or
#: ``auto``: on when it pays (see :func:`use_scan`)
SCAN_ENV = "MMLAB_CAPTURE_SCAN"
#: in a fresh process the compiled scan is used from this many bytes of capture files on:
#: loading numba and its kernels (~0.3-0.45 s) is then repaid by the faster parse
SCAN_MIN_BYTES = 32 << 20

_log = logging.getLogger(__name__)
# the compiled scan module once tried: None = not yet, False = unavailable
_scan_module = None

_EVENT = pa.struct(
    [
        ("observedContentType", pa.string()),
        ("mode", pa.string()),
        ("data", pa.string()),
        ("encoding", pa.string()),
    ]
)
#: only the fields the analyzer reads; everything else in a line is ignored
_SCHEMA = pa.schema(
    [
        ("captureData", pa.struct([(INPUT, _EVENT), (OUTPUT, _EVENT)])),
        ("eventMetadata", pa.struct([("invocationSource", pa.string())])),
    ]
)


def mismatch_message(input_encoding: str, output_encoding: str) -> str:
    """The service's text for a record whose input and output encodings differ (spec §A.2)."""
    return (
        f"Encoding mismatch: Encoding is {input_encoding} for endpointInput, but Encoding is "
        f"{output_encoding} for endpointOutput. We currently only support the same type of input "
        "and output encoding at the moment."
    )


# --------------------------------------------------------------------------------------------
# Files of a window


def parse_time(value: str | datetime | None, name: str = "analysis time") -> datetime | None:
    """An analysis-window time as an aware UTC ``datetime`` (None when unset).

    Raises:
        AnalyzerError: the value is not ISO-8601 (the message names ``name``).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip().replace(" ", "")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise AnalyzerError(
            f"Invalid {name} {value!r}: expected an ISO-8601 time such as 2024-01-01T00:00:00Z"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def list_capture_files(
    source: str | Path,
    start_time: str | datetime | None = None,
    end_time: str | datetime | None = None,
) -> list[Path]:
    """List the ``.jsonl`` files of a capture tree in sorted order, optionally for one window.

    Args:
        source: a ``.jsonl`` file or a folder holding capture files at any depth.
        start_time: window start (ISO-8601, inclusive). Files in ``yyyy/mm/dd/HH`` folders
            whose hour does not overlap ``[start_time, end_time)`` are skipped; files outside
            such folders are always kept.
        end_time: window end (ISO-8601, exclusive).

    Returns:
        The files, sorted by their path relative to ``source`` (the S3 listing order).
    """
    root = Path(source)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise AnalyzerError(f"Dataset source not found: {root}")
    files = sorted(
        (p for p in root.rglob("*.jsonl") if p.is_file()),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    return [p for p in files if in_window(p.parent.as_posix(), start_time, end_time)]


def in_window(
    folder: str, start_time: str | datetime | None, end_time: str | datetime | None
) -> bool:
    """Whether a capture file in ``folder`` (a path or key prefix) belongs to the window.

    Files in ``yyyy/mm/dd/HH`` folders are kept when that hour overlaps
    ``[start_time, end_time)``; files outside such folders are always kept.
    """
    start, end = parse_time(start_time, "start_time"), parse_time(end_time, "end_time")
    if start is None and end is None:
        return True
    hour = parse_hour_folder(folder)
    if hour is None:
        return True
    after = end is not None and hour >= end
    before = start is not None and hour + timedelta(hours=1) <= start
    return not (after or before)


# --------------------------------------------------------------------------------------------
# The precise per-line parser (slow path; also locates errors found by the fast path)


def iter_capture_records(files: Iterable[Path]) -> Iterator[tuple[Path, int, dict]]:
    """Yield ``(file, line_number, record)`` for every non-blank line, shadow records skipped.

    Raises:
        AnalyzerError: a line is not UTF-8, not JSON, or not a JSON object (names file and line).
    """
    for path in files:
        with open(path, "rb") as fh:
            try:
                for lineno, rec in capture_record.iter_lines(fh, source=str(path)):
                    if not capture_record.is_shadow(rec):
                        yield path, lineno, rec
            except capture_record.CaptureFormatError as exc:
                raise AnalyzerError(str(exc)) from None


def _csv_rows(text: str) -> list[list[str | None]]:
    lines = text.rstrip("\r\n").split("\n")
    return [[cell if cell != "" else None for cell in row] for row in csv.reader(lines)]


def _flatten(value, out: list[str | None]) -> None:
    # leaves in document order, as the strings Spark gives JSON values cast to string
    if isinstance(value, dict):
        for item in value.values():
            _flatten(item, out)
    elif isinstance(value, list):
        for item in value:
            _flatten(item, out)
    elif value is None:
        out.append(None)
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, float):
        out.append(java_double(value))
    else:
        out.append(str(value))


def _json_records(value) -> list:
    # SageMaker's JSON convention: {"instances": [...]} / {"predictions": [...]} or a top-level
    # list of objects/arrays holds one record per element; anything else is one record
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, list) and inner and all(isinstance(v, dict | list) for v in inner):
            return inner
    if isinstance(value, list) and value and all(isinstance(v, dict | list) for v in value):
        return value
    return [value]


def _json_rows(text: str) -> list[list[str | None]]:
    def load(s: str):
        return json.loads(s)

    stripped = text.strip()
    if not stripped:
        return [[]]
    try:
        values = _json_records(load(stripped))
    except json.JSONDecodeError:
        # JSON Lines payload: one record per line
        values = [load(line) for line in stripped.splitlines() if line.strip()]
    rows = []
    for value in values:
        row: list[str | None] = []
        _flatten(value, row)
        rows.append(row)
    return rows


def payload_rows(event: Mapping) -> list[list[str | None]]:
    """Split one ``endpointInput`` / ``endpointOutput`` payload into rows of string cells.

    CSV payloads are CSV rows, JSON payloads one row per record (flattened leaves); BASE64
    payloads are decoded, then read as CSV when the content type says so, else as JSON (CSV
    when that fails).

    Raises:
        ValueError: the payload cannot be decoded (a
            :class:`~mmutils.formats.capture_record.CaptureFormatError`) or its JSON is invalid.
    """
    text = capture_record.decode_text(event)
    encoding = event.get("encoding")
    if encoding == "CSV":
        return _csv_rows(text)
    if encoding == "JSON":
        return _json_rows(text)
    # BASE64 (decode_text accepts no other encoding)
    if "csv" in (event.get("observedContentType") or "").lower():
        return _csv_rows(text)
    try:
        return _json_rows(text)
    except json.JSONDecodeError:
        return _csv_rows(text)


def record_rows(rec: Mapping, parts: Sequence[str]) -> list[list[str | None]]:
    """The rows one capture record contributes, its ``parts`` concatenated in order.

    Raises:
        AnalyzerError: the input and output encodings differ (the service's text).
        ValueError: the record is not a data-capture record or a payload cannot be decoded.
    """
    events = capture_record.payloads(rec)
    if INPUT in events and OUTPUT in events:
        enc_in, enc_out = events[INPUT].get("encoding"), events[OUTPUT].get("encoding")
        if enc_in != enc_out:
            raise AnalyzerError(mismatch_message(enc_in, enc_out))
    pieces = [payload_rows(events[p]) for p in parts if p in events]
    if not pieces:
        raise ValueError(f"record has none of {', '.join(parts)}")
    counts = {len(p) for p in pieces}
    if len(counts) > 1:
        raise ValueError(
            "payload row counts differ between "
            + " and ".join(f"{p} ({len(r)} rows)" for p, r in zip(parts, pieces, strict=False))
        )
    return [sum(cells, []) for cells in zip(*pieces, strict=True)]


# --------------------------------------------------------------------------------------------
# The compiled scan (capture_scan): whole eligible files to string columns


def _capture_scan():
    """:mod:`mmutils.analyzer.capture_scan`, or None when numba is missing or fails to load."""
    global _scan_module
    if _scan_module is None:
        _scan_module = optional_module(
            "mmutils.analyzer.capture_scan",
            _log,
            "compiled capture scan unavailable, using pyarrow's readers",
        )
    return _scan_module or None


def scan_setting() -> str:
    """``$MMLAB_CAPTURE_SCAN`` as ``"0"``, ``"1"`` or ``"auto"`` (unset is ``"auto"``).

    Raises:
        AnalyzerError: the variable holds something other than ``0``, ``1`` or ``auto``.
    """
    return switch_setting(SCAN_ENV)


def use_scan(files: Sequence[Path]) -> bool:
    """Whether to try the compiled scan on a window's files.

    ``$MMLAB_CAPTURE_SCAN`` ``1`` / ``0`` forces it on / off. Otherwise (``auto``) it is used
    when its kernels are loaded in this process already (the emulator's warm analyzer loads
    them), or when the files hold at least :data:`SCAN_MIN_BYTES` (loading numba costs more
    than the scan saves on a small window). The choice never changes the chunks, only how
    fast they are made.

    Raises:
        AnalyzerError: the variable holds something other than ``0``, ``1`` or ``auto``.
    """
    value = scan_setting()
    if value == "0" or not files:
        return False
    if value != "1" and "mmutils.analyzer.capture_scan" not in sys.modules:
        total = 0
        for path in files:
            try:
                total += path.stat().st_size
            except OSError:
                continue  # the reader reports it
            if total >= SCAN_MIN_BYTES:
                break
        if total < SCAN_MIN_BYTES:
            return False
    return _capture_scan() is not None


# the extensions pyarrow's input_stream(compression="detect") inflates
_COMPRESSED = (".gz", ".bz2", ".lz4", ".zst")


def _read_whole(path: Path) -> bytes | pa.Buffer | None:
    """The bytes of a capture file up to :data:`PARALLEL_FILE_BYTES` (decompressed as pyarrow's
    JSON reader decompresses ``.gz`` / ``.bz2``), or None when larger or unreadable."""
    try:
        size = path.stat().st_size
        if size > PARALLEL_FILE_BYTES:
            return None
        if str(path).endswith(_COMPRESSED):
            # its size is known only once it is inflated
            limit = PARALLEL_FILE_BYTES
            with pa.input_stream(str(path), compression="detect") as stream:
                data = stream.read_buffer(limit + 1)
        else:
            # a plain file is read into a buffer of its size (asking for the 64 MB limit costs
            # a third more time), a Python bytes object: pyarrow's pool hands out fresh 2 MB
            # huge pages, which cost the VM's host more than plain ones (0.08 s less system
            # time per million records, median of 15 interleaved runs)
            limit = size
            with open(path, "rb") as f:
                data = f.read(limit + 1)
    except (OSError, pa.ArrowException):
        return None  # the general path reports it
    # more than the limit: too large inflated, or a file still growing (the general path
    # streams what is there)
    return data if len(data) <= limit else None


@dataclass
class _Scanned:
    """A whole file's rows from the compiled scan: ``columns`` of ``width`` cells."""

    columns: list[pa.Array]


def scan_capture_file(
    path: Path,
    parts: Sequence[str],
    buffers: FileBuffers | None = None,
    recycled: RecycledBuffers | None = None,
) -> _Scanned | None:
    """The rows of an eligible capture file as string columns, else None (general path).

    Reads no reader state, so worker threads may call it (the kernels release the GIL).
    ``buffers``: read a plain file into one of these (reused file after file: fresh memory
    costs more than the read) rather than into new memory. ``recycled``: where the columns'
    memory comes from (reused once the columns of an earlier file are gone).
    """
    if buffers is None or str(path).endswith(_COMPRESSED):
        data = _read_whole(path)
        if data is None:
            return None
        return scan_capture_bytes(data, parts, str(path), recycled)
    try:
        size = path.stat().st_size
        if size > PARALLEL_FILE_BYTES:
            return None
        # a file still growing has more than ``size`` bytes: None, the general path streams it
        with buffers.read(path, size) as data:
            # the scan copies the cells out: nothing refers to the buffer once it returns
            if data is None:
                return None
            return scan_capture_bytes(data, parts, str(path), recycled)
    except OSError:
        return None  # the general path reports it


def scan_capture_bytes(
    data: bytes | pa.Buffer,
    parts: Sequence[str],
    name: str = "capture file",
    recycled: RecycledBuffers | None = None,
) -> _Scanned | None:
    """:func:`scan_capture_file` on a file's (uncompressed) bytes, e.g. read from S3 by a
    distributed worker; None when the file is not eligible or the kernels are unavailable.

    The result is one "batch" of the map step: a ``loader`` of :func:`read_capture` may yield
    it in place of :func:`parse_capture_file`'s batches. The consumer re-reads the file by its
    path when its width is not the window's, so a loader must then yield a local copy.
    """
    scan = _capture_scan()
    if scan is None or len(data) > PARALLEL_FILE_BYTES:
        return None
    result = scan.scan(data, list(parts), recycled)
    if not result.eligible:
        _log.debug("%s: general path (%s at byte %d)", name, result.reason, result.position)
        return None
    return _Scanned(result.columns)


def scanned_width(batches: Sequence) -> int | None:
    """The row width of a map-step result made by the compiled scan (None for pyarrow's)."""
    if len(batches) == 1 and isinstance(batches[0], _Scanned):
        return len(batches[0].columns)
    return None


# --------------------------------------------------------------------------------------------
# The reader


@dataclass
class CaptureDataset:
    """The rows of a capture window.

    Attributes:
        names: column names, by position: the given names, then ``_c{i}`` for extra columns.
        chunks: iterator of ``pa.Table`` chunks of string columns named ``names``.
        files: the capture files read, in order.
    """

    names: list[str]
    chunks: Iterator[pa.Table]
    files: list[Path] = field(default_factory=list)


def _column_names(n: int, names: Sequence[str] | None) -> list[str]:
    names = list(names or [])
    return [names[i] if i < len(names) else f"_c{i}" for i in range(n)]


@dataclass
class _Segment:
    """Consecutive records of one file: CSV lines ready to parse, records for the precise
    path, or the ready string columns of the compiled scan."""

    path: Path
    records: pa.StructArray | None  # the captureData structs (None: scanned)
    lines: pa.StringArray | None  # joined CSV rows (fast path) or None (precise path)
    columns: list[pa.Array] | None = None  # scanned: the rows' cells, one array per position
    first: int = 0  # scanned: the index of the segment's first record in its file

    def __len__(self) -> int:
        return len(self.records) if self.columns is None else len(self.columns[0])

    def slice(self, start: int, length: int | None = None) -> _Segment:
        if self.columns is not None:
            columns = [c.slice(start, length) for c in self.columns]
            return _Segment(self.path, None, None, columns, self.first + start)
        lines = None if self.lines is None else self.lines.slice(start, length)
        return _Segment(self.path, self.records.slice(start, length), lines)


class _Reader:
    """Turns capture files into chunks of about ``chunk_rows`` rows.

    Records are queued as segments; once ``chunk_rows`` records are queued they are converted
    (one pyarrow CSV parse for consecutive fast segments) and yielded as one table. The first
    row of the window fixes the column count.
    """

    def __init__(
        self, files, names, parts, chunk_rows, block_size, workers=1, loader=None, scan=False
    ):
        self.files = files
        self.workers = workers
        self.loader = loader
        self.scan = scan and loader is None
        self.names = names
        self.parts = parts
        self.chunk_rows = chunk_rows
        self.block_size = block_size
        self.ncols: int | None = None
        self._queue: list[_Segment] = []
        self._queued = 0
        # whole files are read into these, one per worker thread at a time, and their
        # columns live in these until the profiler is done with them
        self._buffers = FileBuffers() if self.scan else None
        self._recycled = RecycledBuffers() if self.scan else None

    def __iter__(self) -> Iterator[pa.Table]:
        if self.loader is not None or (self.workers > 1 and len(self.files) > 1):
            if self.loader is not None:
                loaded = self.loader(self.files)
            else:
                # as many parsing threads as workers: the consumer mostly waits on the
                # profiler's column groups, whose kernels release the GIL as the scan does
                loaded = parallel.ordered_map(self._load, self.files, self.workers)
            for path, batches, error in loaded:
                if batches is None:  # too large to hold whole: streamed here, in order
                    yield from self._file(path)
                    continue
                for batch in batches:
                    if isinstance(batch, _Scanned):
                        self._queue_scanned(path, batch)
                    else:
                        self._batch(path, batch)
                    while self._queued >= self.chunk_rows:
                        yield self._take(self.chunk_rows)
                if error is not None:
                    self._locate(path, error)
        else:
            for path in self.files:
                yield from self._file(path)
        while self._queue:
            yield self._take(self._queued)

    @property
    def output_names(self) -> list[str]:
        return _column_names(self.ncols or 0, self.names)

    # ---- per file
    def _open(self, path: Path):
        return open_capture_json(path, self.block_size)

    def _load(self, path: Path) -> tuple[Path, list[pa.RecordBatch] | None, Exception | None]:
        """Parse a whole file (in a worker thread): ``(path, batches, error)``.

        Nothing here touches the reader's state; the batches are queued, and an error is
        located, by the consumer in file order, exactly where a single worker would. Files
        larger than :data:`PARALLEL_FILE_BYTES` give ``batches=None`` (streamed in order).
        An eligible file scanned by the compiled scan gives one :class:`_Scanned` "batch".
        """
        try:
            if path.stat().st_size > PARALLEL_FILE_BYTES:
                return path, None, None
        except OSError:
            return path, None, None  # let the streaming path report it
        if self.scan:
            scanned = scan_capture_file(path, self.parts, self._buffers, self._recycled)
            if scanned is not None:
                return path, [scanned], None
        batches, error = parse_capture_file(path, self.block_size)
        return path, batches, error

    def _file(self, path: Path) -> Iterator[pa.Table]:
        scanned = (
            scan_capture_file(path, self.parts, self._buffers, self._recycled)
            if self.scan
            else None
        )
        if scanned is not None:
            self._queue_scanned(path, scanned)
            while self._queued >= self.chunk_rows:
                yield self._take(self.chunk_rows)
            return
        try:
            reader = self._open(path)
            for batch in reader:
                self._batch(path, batch)
                while self._queued >= self.chunk_rows:
                    yield self._take(self.chunk_rows)
        except pa.ArrowInvalid as exc:
            if not _has_content(path):
                return  # an empty file holds no records
            self._locate(path, exc)

    def _batch(self, path: Path, batch: pa.RecordBatch) -> None:
        cap = batch.column(0)
        if cap.null_count:
            self._locate(path, ValueError("not a data-capture record"))
        shadow = pc.fill_null(pc.equal(batch.column(1).field("invocationSource"), SHADOW), False)
        if pc.any(shadow).as_py():
            cap = cap.filter(pc.invert(shadow))
        if len(cap) == 0:
            return
        self._queue.append(_Segment(path, cap, self._csv_lines(cap)))
        self._queued += len(cap)

    def _queue_scanned(self, path: Path, scanned: _Scanned) -> None:
        self._queue.append(_Segment(path, None, None, scanned.columns))
        self._queued += len(scanned.columns[0])

    def _csv_lines(self, cap: pa.StructArray) -> pa.StringArray | None:
        """The records' rows as CSV lines when every payload is single-row CSV, else None."""
        events = {name: cap.field(name) for name in (INPUT, OUTPUT)}
        encodings = {p: events[p].field("encoding") for p in (INPUT, OUTPUT)}
        all_csv = {p: pc.all(pc.equal(encodings[p], "CSV")).as_py() for p in (INPUT, OUTPUT)}
        if not (all_csv[INPUT] and all_csv[OUTPUT]):
            differ = pc.fill_null(pc.not_equal(encodings[INPUT], encodings[OUTPUT]), False)
            if pc.any(differ).as_py():
                i = pc.index(differ, True).as_py()
                raise AnalyzerError(
                    mismatch_message(encodings[INPUT][i].as_py(), encodings[OUTPUT][i].as_py())
                )
        datas = []
        for p in self.parts:
            if events[p].null_count == len(cap):
                continue  # not captured (e.g. CaptureMode Input only)
            data = events[p].field("data")
            if events[p].null_count or data.null_count or not all_csv[p]:
                return None
            # a trailing newline is not a row; ASCII trimming is byte-safe on UTF-8
            datas.append(pc.ascii_rtrim(data, characters="\r\n"))
        if not datas:
            return None
        return datas[0] if len(datas) == 1 else pc.binary_join_element_wise(*datas, ",")

    # ---- assembling chunks
    def _take(self, count: int) -> pa.Table:
        """Convert the first ``count`` queued records into one table."""
        taken: list[_Segment] = []
        need = count
        while need and self._queue:
            seg = self._queue[0]
            if len(seg) <= need:
                taken.append(self._queue.pop(0))
                need -= len(seg)
            else:
                taken.append(seg.slice(0, need))
                self._queue[0] = seg.slice(need)
                need = 0
        self._queued -= count - need
        tables: list[pa.Table] = []
        run: list[_Segment] = []
        for seg in taken:
            if seg.lines is not None:
                run.append(seg)
                continue
            if run:
                tables.append(self._parse_lines(run))
                run = []
            tables.append(self._scanned(seg) if seg.columns is not None else self._precise(seg))
        if run:
            tables.append(self._parse_lines(run))
        tables = [t for t in tables if t.num_rows]
        if len(tables) == 1:
            return tables[0]
        # the pieces stay apart (no copy): the profiler takes a column in pieces as it is
        return pa.concat_tables(tables) if tables else self._empty()

    def _empty(self) -> pa.Table:
        names = self.output_names
        return pa.Table.from_arrays([pa.array([], pa.string()) for _ in names], names=names)

    def _parse_lines(self, run: list[_Segment]) -> pa.Table:
        lines = run[0].lines if len(run) == 1 else pa.concat_arrays([s.lines for s in run])
        if self.ncols is None:
            first = lines[0].as_py()
            if "\n" in first or "\r" in first:
                return self._precise_run(run)  # a multi-row first payload fixes the width
            self.ncols = len(next(csv.reader([first])))
        names = [f"f{i}" for i in range(self.ncols)]
        text = pc.binary_join(
            pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "\n"
        )
        try:
            table = pacsv.read_csv(
                pa.BufferReader(text[0].as_buffer()),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=self.workers > 1),
                parse_options=pacsv.ParseOptions(newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )
        except pa.ArrowInvalid:
            table = None  # ragged rows: the precise path names the line
        if table is None or table.num_rows != len(lines):
            # an embedded newline (multi-row payload) or a ragged row: redo these records
            # precisely, which pairs multi-row payloads and reports bad lines
            return self._precise_run(run)
        return table.rename_columns(self.output_names)

    def _scanned(self, seg: _Segment) -> pa.Table:
        """A scanned segment's table; the general path's when its width is not the window's."""
        if self.ncols is None:
            self.ncols = len(seg.columns)  # the window's first row fixes the width
        if len(seg.columns) == self.ncols:
            return pa.Table.from_arrays(seg.columns, names=self.output_names)
        # the general path over the same records gives the same table or the same error
        batches, error = parse_capture_file(seg.path, self.block_size)
        if error is not None:  # the scan accepted what pyarrow rejects: never expected
            self._locate(seg.path, error)
        records = pa.concat_arrays([b.column(0) for b in batches])
        records = records.slice(seg.first, len(seg))
        return self._parse_lines([_Segment(seg.path, records, self._csv_lines(records))])

    def _precise_run(self, run: list[_Segment]) -> pa.Table:
        parts = [self._precise(_Segment(s.path, s.records, None)) for s in run]
        return pa.concat_tables(parts) if len(parts) > 1 else parts[0]

    def _precise(self, seg: _Segment) -> pa.Table:
        rows: list[list[str | None]] = []
        try:
            records = seg.records.to_pylist()
        except UnicodeDecodeError as exc:  # the JSON reader does not validate UTF-8
            self._locate(seg.path, exc)
        for rec in records:
            try:
                rows.extend(record_rows({"captureData": rec}, self.parts))
            except ValueError as exc:
                self._locate(seg.path, exc)
        if not rows:
            return self._empty()
        if self.ncols is None:
            self.ncols = len(rows[0])
        if any(len(r) != self.ncols for r in rows):
            self._scan(seg.path)
            raise AnalyzerError(f"Inconsistent column count in {seg.path}")
        cols = [pa.array([r[i] for r in rows], pa.string()) for i in range(self.ncols)]
        return pa.Table.from_arrays(cols, names=self.output_names)

    # ---- error location
    def _scan(self, path: Path) -> None:
        """Re-read ``path`` line by line and raise a precise error at the first bad line."""
        for _, lineno, rec in iter_capture_records([path]):
            try:
                rows = record_rows(rec, self.parts)
            except ValueError as exc:
                raise AnalyzerError(
                    f"Malformed capture record in {path} line {lineno}: {exc}"
                ) from None
            for row in rows:
                if self.ncols is not None and len(row) != self.ncols:
                    raise AnalyzerError(
                        f"Inconsistent column count in {path} line {lineno}: the record has "
                        f"{len(row)} columns, the first record of the window has {self.ncols}"
                    )

    def _locate(self, path: Path, exc: Exception) -> None:
        self._scan(path)
        raise AnalyzerError(f"Malformed capture file {path}: {exc}") from None


def open_capture_json(source, block_size: int = BLOCK_SIZE):
    """pyarrow's streaming JSON reader over capture lines, reading only the analyzer's fields.

    Args:
        source: a local path or a pyarrow input stream (e.g. ``pa.BufferReader(data)``).
        block_size: bytes parsed at a time.
    """
    return pajson.open_json(
        source,
        read_options=pajson.ReadOptions(block_size=block_size, use_threads=False),
        parse_options=pajson.ParseOptions(
            explicit_schema=_SCHEMA, unexpected_field_behavior="ignore"
        ),
    )


def parse_capture_file(
    source: Path | bytes, block_size: int = BLOCK_SIZE
) -> tuple[list[pa.RecordBatch], Exception | None]:
    """Parse a whole capture file: ``(batches, error)``; the order-free part of a window.

    This is the map step of the parallel and distributed readers (``workers``, and
    :mod:`mmutils.scaleout` on Dask): it reads no state, so any thread or machine can run it.
    The batches hold the records' ``captureData`` up to the first malformed block; ``error``
    is pyarrow's error there (None when the file parsed, or holds nothing but blank lines).
    The reader that consumes the result, in file order, turns an error into the message
    naming file and line.

    Args:
        source: a local path, or the file's bytes.
        block_size: bytes parsed at a time.
    """
    stream = pa.BufferReader(source) if isinstance(source, bytes | bytearray) else source
    batches: list[pa.RecordBatch] = []
    try:
        with open_capture_json(stream, block_size) as reader:
            for batch in reader:
                batches.append(batch)
    except pa.ArrowInvalid as exc:
        if isinstance(source, bytes | bytearray):
            blank = not any(line.strip() for line in bytes(source).splitlines())
        else:
            blank = not _has_content(Path(source))
        return batches, (None if blank else exc)
    return batches, None


def _has_content(path: Path) -> bool:
    with open(path, "rb") as fh:
        return any(line.strip() for line in fh)


def capture_parts(
    capture_index_names: Sequence[str] | None, output_columns_position: str
) -> list[str]:
    """Which payloads make a row, in column order (``START``: output first)."""
    names = list(capture_index_names or [INPUT, OUTPUT])
    unknown = [n for n in names if n not in (INPUT, OUTPUT)]
    if unknown:
        raise AnalyzerError(
            f"Unsupported captureIndexNames {unknown}: use endpointInput, endpointOutput"
        )
    position = (output_columns_position or "START").upper()
    if position not in ("START", "END"):
        raise AnalyzerError(
            f"Invalid output_columns_position {output_columns_position!r}: expected START or END"
        )
    order = [OUTPUT, INPUT] if position == "START" else [INPUT, OUTPUT]
    return [p for p in order if p in names]


def read_capture(
    source: str | Path | Sequence[str | Path],
    *,
    names: Sequence[str] | None = None,
    capture_index_names: Sequence[str] | None = None,
    output_columns_position: str = "START",
    start_time: str | datetime | None = None,
    end_time: str | datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
    block_size: int = BLOCK_SIZE,
    workers: int = 1,
    loader: Callable[[list], Iterable[tuple[Path, list[pa.RecordBatch], Exception | None]]]
    | None = None,
) -> CaptureDataset:
    """Read a capture window as chunks of string columns.

    Args:
        source: a capture folder tree, a ``.jsonl`` file, or a list of files (read in that order).
        names: baseline feature names, matched by position; extra columns are named ``_c{i}``.
        capture_index_names: payloads to use (default both ``endpointInput`` and ``endpointOutput``).
        output_columns_position: ``START`` (output columns first, the default) or ``END``.
        start_time: analysis window start; see :func:`list_capture_files`.
        end_time: analysis window end.
        chunk_rows: rows per chunk.
        block_size: bytes of JSONL parsed at a time.
        workers: threads in use; with more than one, files are parsed ahead in
            ``workers`` threads and the chunks are the same, in the same order.
        loader: parses the files elsewhere (e.g. on a Dask cluster, see
            :mod:`mmutils.scaleout`): called with the file list, it yields
            ``(path, batches, error)`` per file, in order, as :func:`parse_capture_file`
            returns them; ``path`` must be a local copy when ``error`` is set (the error is
            located by re-reading it). ``source`` is then a list, kept as given.

    Returns:
        A :class:`CaptureDataset`. Its ``names`` are known once the first row was read, so this
        call reads ahead one chunk; a window without rows gives ``names == []`` and no chunks.

    Raises:
        AnalyzerError: malformed lines (file and line number), the encoding-mismatch error,
            rows whose column count differs from the first row's.
    """
    if isinstance(source, str | Path):
        files = list_capture_files(source, start_time, end_time)
    elif loader is not None:
        files = list(source)
    else:
        files = [Path(p) for p in source]
    parts = capture_parts(capture_index_names, output_columns_position)
    scan = loader is None and use_scan([Path(f) for f in files])
    reader = _Reader(files, names, parts, chunk_rows, block_size, workers, loader, scan)
    it = iter(reader)
    first = next(it, None)
    if first is None:
        return CaptureDataset([], iter(()), files)
    names = list(first.column_names)
    # the first chunk is handed on, not kept: its columns' buffers are recycled once profiled
    return CaptureDataset(names, parallel.head_then([first], it), files)
