"""Dataset readers: CSV and JSON Lines files -> column names + chunks of string columns.

The container reads its dataset with Spark, every column as a string (spec §B.5). Here a
dataset is a file, a folder (its files, recursively, sorted by relative path the way an S3
listing orders keys) or a list of those. Chunks are ``pyarrow.Table`` s of ``string`` columns,
null for empty cells, produced by a streaming reader with a bounded block size.

* CSV: comma separated, RFC 4180 quoting; with ``header=True`` each file's first line is its
  header (names come from the first file), otherwise the columns are named ``_c0``, ``_c1``, …
  (Spark's names). Blank lines are skipped. Header names follow Spark's
  ``CSVUtils.makeSafeHeader`` (``spark.sql.caseSensitive=false``, the default): an empty name
  becomes ``_c{index}``; names that occur more than once, compared case-insensitively, get
  their index appended (``a,A,b`` -> ``a0,A1,b``). See :func:`spark_header`.
* Files: a UTF-8 byte-order mark at the start of a file is dropped (Spark reads lines through
  Hadoop's ``LineRecordReader``, whose ``skipUtfByteOrderMark`` strips it at position 0).
  ``.gz`` and ``.bz2`` files are decompressed transparently (Hadoop picks a codec by file
  extension); a damaged archive is an error naming the file.
* Long lines: blocks grow (up to :data:`MAX_BLOCK_SIZE`, ``MMLAB_MAX_BLOCK_SIZE`` bytes) until
  the longest row fits; beyond that the error names the file and the variable to raise.
* JSON Lines: one flat object per line; the columns are the keys of the first record, in its
  order. Values are turned into the strings Spark would see after its schema inference and a
  cast to string: numbers as written for integers, Java ``Double.toString`` for decimals
  (``6.00`` -> ``6.0``), ``true``/``false``, nested values as compact JSON. ``NaN`` and
  ``Infinity`` tokens become the strings ``NaN``/``Infinity``: deequ's patterns do not
  accept them as numbers, so such a column is String (the same holds for a CSV cell ``NaN``).

Malformed input raises :class:`~mmutils.analyzer.errors.AnalyzerError` naming the file and line:
rows with the wrong number of fields, bytes that are not UTF-8, lines that are not JSON
objects, a header without rows. A dataset without any record raises
:class:`~mmutils.analyzer.errors.NoDataError`.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import logging
import math
import os
import sys
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from mmutils.analyzer import parallel
from mmutils.analyzer.buffers import RecycledBuffers
from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.jsonfmt import java_double
from mmutils.analyzer.startup import optional_module, switch_setting

__all__ = [
    "BLOCK_SIZE",
    "JSON_CHUNK_ROWS",
    "list_files",
    "read_csv",
    "read_dataset",
    "read_json_lines",
]

#: Bytes per CSV block (one chunk per block).
BLOCK_SIZE = 4 << 20
#: Records per JSON Lines chunk.
JSON_CHUNK_ROWS = 65_536
#: Largest CSV block tried for a file with very long rows (``MMLAB_MAX_BLOCK_SIZE`` overrides).
MAX_BLOCK_SIZE = 1 << 30
MAX_BLOCK_SIZE_ENV = "MMLAB_MAX_BLOCK_SIZE"
#: file name suffix -> compression (Hadoop chooses its codec by extension too)
COMPRESSED_SUFFIXES = {".gz": "gzip", ".bz2": "bz2"}
UTF8_BOM = b"\xef\xbb\xbf"
#: environment variable forcing the compiled CSV cut (:mod:`mmutils.analyzer.csv_scan`) on
#: (``1``) or off (``0``); unset or ``auto``: on when it pays (see :func:`use_csv_scan`)
CSV_SCAN_ENV = "MMLAB_CSV_SCAN"
#: in a fresh process the compiled cut is used from this many bytes of CSV on: loading numba
#: and its kernels (~0.3-0.45 s) is then repaid by the faster parse
CSV_SCAN_MIN_BYTES = 32 << 20
#: errors of a damaged compressed file
_DECOMPRESS_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, OSError, ValueError)

PathLike = str | os.PathLike
Chunks = Iterator[pa.Table]

_log = logging.getLogger(__name__)
# the compiled cut's module once tried: None = not yet, False = unavailable
_scan_module = None


def list_files(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    """Files of a dataset: each path itself, or a folder's files sorted by relative path."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = [p for p in path.rglob("*") if p.is_file()]
            files.extend(sorted(found, key=lambda p: p.relative_to(path).as_posix()))
        elif path.is_file():
            files.append(path)
        else:
            raise AnalyzerError(f"dataset path not found: {path}")
    return files


def _nonempty(files: list[Path]) -> list[Path]:
    kept = [f for f in files if f.stat().st_size > 0]
    if not kept:
        where = ", ".join(str(f) for f in files) or "no files"
        raise NoDataError(f"Job inputs had no data (dataset is empty: {where})")
    return kept


# -- Files ----------------------------------------------------------------------------------


def compression(path: Path) -> str | None:
    """``"gzip"`` / ``"bz2"`` for a compressed file (by its suffix), else None."""
    return COMPRESSED_SUFFIXES.get(path.suffix.lower())


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open a dataset file for reading bytes, decompressing ``.gz`` / ``.bz2``."""
    kind = compression(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")


def raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line_number, bytes)`` of a file, decompressed, without a leading UTF-8 BOM.

    Raises:
        AnalyzerError: the compressed file is damaged (the message names it).
    """
    try:
        with open_binary(path) as fh:
            for number, raw in enumerate(fh, start=1):
                if number == 1 and raw.startswith(UTF8_BOM):
                    raw = raw[len(UTF8_BOM) :]
                yield number, raw
    except _DECOMPRESS_ERRORS as exc:
        if compression(path) is None or isinstance(exc, FileNotFoundError):
            raise
        raise AnalyzerError(f"{path}: cannot decompress ({compression(path)}): {exc}") from exc


def arrow_input(path: Path) -> pa.NativeFile:
    """A pyarrow input stream of a file: decompressed, positioned after a UTF-8 BOM."""
    stream = pa.input_stream(str(path), compression=compression(path))
    try:
        head = stream.read(len(UTF8_BOM))
    except (pa.ArrowInvalid, OSError) as exc:
        stream.close()
        raise AnalyzerError(f"{path}: cannot decompress ({compression(path)}): {exc}") from exc
    if head == UTF8_BOM:
        return stream
    stream.close()
    return pa.input_stream(str(path), compression=compression(path))


def max_block_size() -> int:
    """The largest block a reader may use (``MMLAB_MAX_BLOCK_SIZE`` bytes, else the default).

    Raises:
        AnalyzerError: the variable is not a positive integer.
    """
    value = os.environ.get(MAX_BLOCK_SIZE_ENV)
    if not value:
        return MAX_BLOCK_SIZE
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size <= 0:
        raise AnalyzerError(
            f"Invalid {MAX_BLOCK_SIZE_ENV} {value!r}: expected a positive number of bytes"
        )
    return size


def is_block_too_small(exc: Exception) -> bool:
    """Whether a pyarrow error says a row or object did not fit in one block."""
    text = str(exc).lower()
    return "straddl" in text or "block size" in text


def line_too_long(path: Path, block_size: int) -> AnalyzerError:
    """The error for a row longer than the largest block, with the way out."""
    return AnalyzerError(
        f"{path}: a line is longer than {block_size} bytes, the largest block the reader may "
        f"use; set {MAX_BLOCK_SIZE_ENV} to a larger number of bytes (memory use grows with it)"
    )


# -- CSV ------------------------------------------------------------------------------------


def spark_header(fields: Sequence[str | None]) -> list[str]:
    """Column names from a header row, the way Spark's CSV reader makes them safe.

    Spark's ``CSVUtils.makeSafeHeader`` (with ``spark.sql.caseSensitive=false``, the default,
    and the default ``nullValue`` ``""``): a null or empty name becomes ``_c{index}``; a name
    that occurs more than once (compared lower-cased) gets its index appended, keeping its case
    (``a,A`` -> ``a0,A1``); other names are kept. Whitespace is kept as written.
    """
    lowered = Counter(f.lower() for f in fields if f is not None)
    names = []
    for index, value in enumerate(fields):
        if value is None or value == "":
            names.append(f"_c{index}")
        elif lowered[value.lower()] > 1:
            names.append(f"{value}{index}")
        else:
            names.append(value)
    return names


def _first_record(path: Path) -> tuple[list[str], int, bool] | None:
    """The first non-blank CSV record of a file, its line number, and whether that line is the
    file's last (it has no line end); None if there is none."""
    for number, raw in raw_lines(path):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AnalyzerError(f"{path}, line {number}: not valid UTF-8 ({exc.reason})") from exc
        if line.strip("\r\n"):
            # newline="": a lone "\r" ends the record (as in pyarrow's reader), not an error
            fields = next(csv.reader(io.StringIO(line, newline="")))
            return fields, number, not raw.endswith((b"\n", b"\r"))
    return None


def _first_bad_utf8_line(path: Path) -> int | None:
    for number, raw in raw_lines(path):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return None


def _csv_file_chunks(
    path: Path, width: int, header: bool, block_size: int, workers: int = 1, scan=None
) -> Chunks:
    """Chunks of one CSV file; the block grows (re-reading the file) when a row does not fit.

    With ``scan`` (:mod:`mmutils.analyzer.csv_scan`), plain blocks are cut by the compiled
    kernels on ``workers`` threads; at the first block that is not plain, pyarrow's reader
    takes over from the rows already yielded. A bad row met by the threaded reader (which
    does not number rows) re-reads the file on one thread from the rows already yielded, so
    the error names the line as without threads.
    """
    first = _first_record(path)
    if first is None:
        return
    skip = first[1] if header else first[1] - 1
    if header and first[2]:
        return  # the header is the file's last line, without a line end: no rows
    done = 0  # rows already yielded: a re-read skips them
    if scan is not None and skip <= 1:
        read = [0]
        try:
            yield from _cut_chunks(scan, path, width, skip, block_size, workers, read)
            return
        except _NotPlain as exc:
            _log.debug("%s: pyarrow's reader from row %d (%s)", path, read[0] + 1, exc)
            done = read[0]
    threads = workers > 1
    limit = max(max_block_size(), block_size)
    while True:
        try:
            read = [0]
            for table in _csv_blocks(path, width, skip, block_size, read, threads):
                if done >= table.num_rows:
                    done -= table.num_rows
                    continue
                if done:
                    table, done = table.slice(done), 0
                yield table
            return
        except _NeedsLineNumbers:
            done, threads = read[0], False  # same blocks, one thread: rows carry line numbers
        except _BlockTooSmall:
            if block_size >= limit:
                raise line_too_long(path, block_size) from None
            done = read[0]
            block_size = min(limit, block_size * 4)


class _NotPlain(Exception):
    """A block the compiled cut does not take (see :mod:`mmutils.analyzer.csv_scan`)."""


def _cut_chunks(
    scan, path: Path, width: int, skip: int, block_size: int, workers: int, read: list[int]
) -> Chunks:
    """The chunks of a plain CSV file, cut by the compiled kernels (blocks on ``workers``
    threads, in order); ``read[0]`` counts the rows yielded.

    Raises:
        _NotPlain: at the first block that is not plain (nothing of it is yielded).
    """
    internal = [f"c{i}" for i in range(width)]
    recycled = RecycledBuffers()  # each block's columns, reused once they are profiled

    def cut(block: tuple[memoryview, int]):
        return scan.cut(block[0], width, block[1], recycled)

    blocks = _line_blocks(path, skip, block_size)
    results = parallel.ordered_map(cut, blocks, workers) if workers > 1 else map(cut, blocks)
    try:
        for result in results:
            if not result.eligible:
                raise _NotPlain(f"{result.reason}, byte {result.position} of a block")
            rows = len(result.columns[0])
            if rows:
                read[0] += rows
                yield pa.Table.from_arrays(result.columns, names=internal)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stop the threads' read-ahead now, not when collected


def _line_blocks(path: Path, skip: int, block_size: int) -> Iterator[tuple[memoryview, int]]:
    """``(lines, start)`` blocks of complete lines of a file, about ``block_size`` bytes each,
    read as pyarrow's reader reads it (decompressed, past a byte-order mark); ``start`` is
    where the first row starts (past the header line in the first block when ``skip`` is 1).

    Raises:
        _NotPlain: a line longer than the block, a header line pyarrow might read as more than
            one line, or a file that cannot be read (pyarrow's reader then reports it).
    """
    carry = b""
    first = True
    try:
        with arrow_input(path) as stream:
            while True:
                block = bytearray(len(carry) + block_size)
                block[: len(carry)] = carry
                filled, at_end = len(carry), False
                while filled < len(block):
                    got = stream.readinto(memoryview(block)[filled:])
                    if not got:
                        at_end = True
                        break
                    filled += got
                end = filled if at_end else block.rfind(b"\n", 0, filled) + 1
                if end == 0 and not at_end:
                    raise _NotPlain(f"a line longer than {block_size} bytes")
                start = 0
                if first and skip:
                    newline = block.find(b"\n", 0, end)
                    if newline < 0:
                        raise _NotPlain("a header line without a line end")
                    start = newline + 1
                    line = bytes(block[:newline])
                    if line.endswith(b"\r"):  # a CRLF line end
                        line = line[:-1]
                    if b'"' in line or b"\r" in line:
                        raise _NotPlain("a header line with a quote or a lone carriage return")
                first = False
                yield memoryview(block)[:end], start
                if at_end:
                    return
                carry = bytes(block[end:filled])
    except (pa.ArrowInvalid, OSError) as exc:
        raise _NotPlain(f"cannot read: {exc}") from exc


class _BlockTooSmall(Exception):
    """A row did not fit in one block."""


class _NeedsLineNumbers(Exception):
    """A bad row was met by the threaded reader, which does not number rows."""


def _csv_blocks(
    path: Path, width: int, skip: int, block_size: int, read: list[int], threads: bool = False
) -> Chunks:
    """One pass over a CSV file with one block size; ``read[0]`` counts the rows yielded.

    ``threads`` lets pyarrow parse blocks ahead on its thread pool; the batches (and so the
    chunks) are the same either way, only sooner.
    """
    internal = [f"c{i}" for i in range(width)]
    bad_rows: list[str] = []

    def on_invalid(row) -> str:
        if row.number is None:
            bad_rows.append(None)
            return "error"
        bad_rows.append(
            f"{path}, line {row.number}: expected {row.expected_columns} fields, "
            f"got {row.actual_columns}: {row.text[:200]!r}"
        )
        return "error"

    try:
        # the reader is closed before an error leaves this generator: no read-ahead thread of
        # pyarrow's pool is left running into interpreter exit (a rare SIGABRT, "terminate
        # called without an active exception", apache/arrow#34314)
        with pcsv.open_csv(
            arrow_input(path),
            read_options=pcsv.ReadOptions(
                column_names=internal, skip_rows=skip, block_size=block_size, use_threads=threads
            ),
            parse_options=pcsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in internal},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        ) as reader:
            for batch in reader:
                if batch.num_rows:
                    read[0] += batch.num_rows
                    yield pa.Table.from_batches([batch])
    except (pa.ArrowInvalid, OSError) as exc:
        if bad_rows and bad_rows[0] is None:
            raise _NeedsLineNumbers() from exc
        if bad_rows:
            raise AnalyzerError(bad_rows[0]) from exc
        if is_block_too_small(exc):
            raise _BlockTooSmall() from exc
        # a ragged row whose bytes are not UTF-8 never reaches ``on_invalid`` (pyarrow fails
        # decoding its text for the handler): name the line, as for any bad UTF-8
        if "UTF8" in str(exc) or ("columns, got" in str(exc) and _first_bad_utf8_line(path)):
            line = _first_bad_utf8_line(path)
            raise AnalyzerError(f"{path}, line {line}: not valid UTF-8") from exc
        if compression(path) is not None:
            raise AnalyzerError(f"{path}: cannot decompress ({compression(path)}): {exc}") from exc
        raise AnalyzerError(f"{path}: cannot read CSV: {exc}") from exc


def read_csv(
    paths: PathLike | Sequence[PathLike],
    header: bool,
    *,
    block_size: int = BLOCK_SIZE,
    workers: int = 1,
) -> tuple[list[str], Chunks]:
    """Open a CSV dataset.

    Args:
        paths: a file, a folder or a list of them.
        header: whether every file starts with a header line.
        block_size: bytes read per chunk.
        workers: with more than one, pyarrow parses blocks ahead on its threads (same chunks).

    Returns:
        ``(names, chunks)``; ``chunks`` yields ``pa.Table`` s of string columns named ``names``.
    """
    files = _nonempty(list_files(paths))
    first = None
    for path in files:
        first = _first_record(path)
        if first is not None:
            break
    if first is None:
        raise NoDataError("Job inputs had no data (every dataset file is blank)")
    fields = first[0]
    names = spark_header(fields) if header else [f"_c{i}" for i in range(len(fields))]

    scan = _csv_scan() if use_csv_scan(files) else None

    def chunks() -> Chunks:
        rows = 0
        for path in files:
            for table in _csv_file_chunks(path, len(names), header, block_size, workers, scan):
                rows += table.num_rows
                yield table.rename_columns(names)
        if rows == 0:
            if header:
                raise AnalyzerError(f"{files[0]}: the dataset has a header line but no data rows")
            raise NoDataError("Job inputs had no data")

    return names, chunks()


def _csv_scan():
    """:mod:`mmutils.analyzer.csv_scan`, or None when numba is missing or fails to load."""
    global _scan_module
    if _scan_module is None:
        _scan_module = optional_module(
            "mmutils.analyzer.csv_scan", _log, "compiled CSV cut unavailable, using pyarrow's"
        )
    return _scan_module or None


def use_csv_scan(files: Sequence[Path]) -> bool:
    """Whether to try the compiled cut on a dataset's CSV files.

    ``$MMLAB_CSV_SCAN`` ``1`` / ``0`` forces it on / off. Otherwise (``auto``) it is used when
    its kernels are loaded in this process already (the emulator's warm analyzer loads them),
    or when the files hold at least :data:`CSV_SCAN_MIN_BYTES`. The choice never changes the
    chunks' rows, only how fast they are made.

    Raises:
        AnalyzerError: the variable holds something other than ``0``, ``1`` or ``auto``.
    """
    value = switch_setting(CSV_SCAN_ENV)
    if value == "0" or not files:
        return False
    if value != "1" and "mmutils.analyzer.csv_scan" not in sys.modules:
        total = parallel.input_bytes(list(files), CSV_SCAN_MIN_BYTES)
        if total is None or total < CSV_SCAN_MIN_BYTES:
            return False
    return _csv_scan() is not None


# -- JSON Lines -----------------------------------------------------------------------------


def _json_constant(token: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[token]


def _cell(value: object) -> str | None:
    """The string Spark would give a JSON value after inference and a cast to string."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_records(path: Path) -> Iterator[tuple[int, dict]]:
    for number, raw in raw_lines(path):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AnalyzerError(f"{path}, line {number}: not valid UTF-8") from exc
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=_json_constant)
        except json.JSONDecodeError as exc:
            raise AnalyzerError(f"{path}, line {number}: malformed JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise AnalyzerError(
                f"{path}, line {number}: expected a JSON object, got {type(record).__name__}"
            )
        yield number, record


def _batched(records: Iterable[dict], names: list[str], size: int) -> Chunks:
    columns: list[list[str | None]] = [[] for _ in names]
    for record in records:
        for col, name in zip(columns, names, strict=True):
            col.append(_cell(record.get(name)))
        if len(columns[0]) >= size:
            yield pa.table([pa.array(c, type=pa.string()) for c in columns], names=names)
            columns = [[] for _ in names]
    if columns and columns[0]:
        yield pa.table([pa.array(c, type=pa.string()) for c in columns], names=names)


def read_json_lines(
    paths: PathLike | Sequence[PathLike], *, chunk_rows: int = JSON_CHUNK_ROWS
) -> tuple[list[str], Chunks]:
    """Open a JSON Lines dataset (flat objects, one per line).

    Returns:
        ``(names, chunks)``; names are the first record's keys. Keys missing from a record give
        null cells; keys the first record lacks are ignored.
    """
    files = _nonempty(list_files(paths))
    names: list[str] | None = None
    for path in files:
        for _, record in _json_records(path):
            names = list(record)
            break
        if names is not None:
            break
    if not names:
        raise NoDataError("Job inputs had no data (no JSON record in the dataset)")

    def records() -> Iterator[dict]:
        for path in files:
            for _, record in _json_records(path):
                yield record

    return names, _batched(records(), names, chunk_rows)


def read_dataset(
    paths: PathLike | Sequence[PathLike],
    dataset_format: dict | None = None,
    *,
    header: bool | None = None,
    workers: int = 1,
) -> tuple[list[str], Chunks]:
    """Open a dataset described like the container's ``dataset_format`` environment value.

    Args:
        paths: file(s) or folder(s).
        dataset_format: ``{"csv": {"header": bool}}`` or ``{"json": {"lines": true}}``; None
            means CSV.
        header: CSV header flag when ``dataset_format`` does not say (default True).
        workers: threads the CSV reader may use (the chunks do not depend on it).
    """
    fmt = dataset_format or {"csv": {}}
    if "csv" in fmt:
        flag = (fmt.get("csv") or {}).get("header")
        if flag is None:
            flag = True if header is None else header
        return read_csv(paths, header=bool(flag), workers=workers)
    if "json" in fmt:
        if not (fmt.get("json") or {}).get("lines", False):
            raise AnalyzerError(
                'only JSON Lines datasets are supported: set {"json": {"lines": true}}'
            )
        return read_json_lines(paths)
    raise AnalyzerError(f"unsupported dataset_format: {json.dumps(fmt)}")
