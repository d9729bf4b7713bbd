"""Customer scripts: the record pre-processor and the post-analytics processor (spec §F.2, §F.3).

The pre-processor runs once per record in Python (the container streams records through a
Python process too), so it is the analyzer's slow path: expect tens of thousands of records per
second rather than hundreds of thousands.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import logging
import os
import sys
import traceback
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType

import pyarrow as pa

from mmutils.analyzer.errors import AnalyzerError
from mmutils.formats.capture_record import INPUT, OUTPUT

#: dataset formats a record pre-processor may be used with
PREPROCESSOR_FORMATS = ("sagemakerCaptureJson", "sagemakerMergeJson", "csv", "json")

MISSING_PREPROCESS_HANDLER = "Preprocess Handler not implemented correctly in customer script."
PREPROCESSOR_EXCEPTION = (
    "There is an exception raised in preprocessor script. Please double check the preprocessor "
    "script."
)
POSTPROCESSOR_EXCEPTION = (
    "There is an exception raised in post-analytics processor script. Please double check the "
    "post-analytics processor script."
)
MISSING_POSTPROCESS_HANDLER = (
    "PostProcess Handler not implemented correctly in customer analysis script."
)

_log = logging.getLogger("mmutils.analyzer.scripts")


# --------------------------------------------------------------------------------------------
# The record object handed to preprocess_handler (the container's CapturedData)


class EventData:
    """One payload of a capture record: ``endpointInput``, ``endpointOutput``, …"""

    def __init__(self, raw: Mapping):
        self.observedContentType = raw.get("observedContentType")
        self.mode = raw.get("mode")
        self.data = raw.get("data")
        self.encoding = raw.get("encoding")

    def __repr__(self) -> str:
        return f"EventData(mode={self.mode!r}, encoding={self.encoding!r}, data={self.data!r})"


class EventMetadata:
    """``eventMetadata`` of a capture record."""

    def __init__(self, raw: Mapping):
        self.event_id = raw.get("eventId")
        self.event_time = raw.get("inferenceTime")
        self.inference_id = raw.get("inferenceId")
        self.custom_attribute = raw.get("customAttributes")


class CapturedData:
    """A capture record as the container's pre-processor wrapper presents it.

    Attributes:
        endpoint_input, endpoint_output, batch_transform_output, ground_truth: an
            :class:`EventData` or None.
        event_metadata: an :class:`EventMetadata` or None.
        event_version: the record's ``eventVersion``.
        event_dict: the parsed JSON line.
    """

    def __init__(self, record: Mapping):
        self.event_dict = record
        cap = record.get("captureData") or {}

        def event(raw):
            return EventData(raw) if isinstance(raw, Mapping) else None

        self.endpoint_input = event(cap.get(INPUT))
        self.endpoint_output = event(cap.get(OUTPUT))
        self.batch_transform_output = event(cap.get("batchTransformOutput"))
        self.ground_truth = event(record.get("groundTruthData"))
        meta = record.get("eventMetadata")
        self.event_metadata = EventMetadata(meta) if isinstance(meta, Mapping) else None
        self.event_version = record.get("eventVersion")

    def as_dict(self) -> dict:
        """The record as a plain dict (the parsed JSON line)."""
        return dict(self.event_dict)


# --------------------------------------------------------------------------------------------
# Loading scripts


def _import(path: str | Path) -> ModuleType:
    path = Path(path)
    if not path.is_file():
        raise AnalyzerError(f"Script not found: {path}")
    name = f"_mmlab_script_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AnalyzerError(f"Cannot load script {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: a script cannot end the job
        traceback.print_exc(file=sys.stdout)
        raise AnalyzerError(f"Cannot import script {path}: {_describe(exc)}") from exc
    return module


def _describe(exc: BaseException) -> str:
    """``ValueError: bad`` / ``the script called sys.exit(0)``."""
    if isinstance(exc, SystemExit):
        return f"the script called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


def script_logger() -> logging.Logger:
    """The logger handed to ``preprocess_handler(inference_record, logger)``; writes to stdout."""
    logger = logging.getLogger("preprocessor")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class RecordPreprocessor:
    """A loaded ``record_preprocessor_script``.

    Args:
        path: the ``.py`` file defining ``preprocess_handler(inference_record[, logger])``.

    Raises:
        AnalyzerError: the file cannot be imported or has no ``preprocess_handler``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        module = _import(self.path)
        handler = getattr(module, "preprocess_handler", None)
        if not callable(handler):
            raise AnalyzerError(MISSING_PREPROCESS_HANDLER)
        self._handler = handler
        try:
            params = inspect.signature(handler).parameters
        except (TypeError, ValueError):
            params = {}
        self._logger = script_logger() if "logger" in params else None

    def __call__(self, record) -> list[dict]:
        """Run the handler on one record; returns the rows it produced (``[]`` drops it).

        Raises:
            AnalyzerError: the handler raised, or returned something that is not a dict,
                a list of dicts or ``[]`` (the service's message; the traceback is logged).
        """
        try:
            if self._logger is not None:
                result = self._handler(record, self._logger)
            else:
                result = self._handler(record)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a script cannot end the job
            traceback.print_exc(file=sys.stdout)
            raise AnalyzerError(PREPROCESSOR_EXCEPTION) from exc
        if isinstance(result, Mapping):
            return [dict(result)]
        if isinstance(result, list) and all(isinstance(r, Mapping) for r in result):
            return [dict(r) for r in result]
        print(
            f"preprocess_handler returned {type(result).__name__}; expected a dict (one row) "
            "or [] (drop the record)",
            flush=True,
        )
        raise AnalyzerError(PREPROCESSOR_EXCEPTION)


def check_preprocessor_format(format_name: str) -> None:
    """Raise the service's error when a pre-processor is used with an unsupported format."""
    if format_name not in PREPROCESSOR_FORMATS:
        raise AnalyzerError(f"Preprocessor script not supported for format {format_name}")


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


def rows_to_chunks(
    rows: Iterable[dict], chunk_rows: int = 65_536
) -> tuple[list[str], Iterator[pa.Table]]:
    """Turn the pre-processor's row dicts into chunks of string columns.

    Columns are the keys of the first row, in order (matched to baseline features by
    position); a later row may omit keys (null) but may not add new ones.

    Returns:
        ``(keys, chunks)``; ``([], empty)`` when no row was produced.
    """
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return [], iter(())
    keys = list(first)
    index = {k: i for i, k in enumerate(keys)}

    def chunks() -> Iterator[pa.Table]:
        cols: list[list] = [[] for _ in keys]
        count = 0
        for n, row in enumerate(_chain(first, it), start=1):
            extra = [k for k in row if k not in index]
            if extra:
                raise AnalyzerError(
                    f"Pre-processed record {n} has keys {extra} that the first record did not "
                    f"have; the first record's keys fix the columns: {keys}"
                )
            for k, i in index.items():
                cols[i].append(_cell(row.get(k)))
            count += 1
            if count >= chunk_rows:
                yield _table(keys, cols)
                cols, count = [[] for _ in keys], 0
        if count:
            yield _table(keys, cols)

    return keys, chunks()


def _chain(first, rest):
    yield first
    yield from rest


def _table(keys: list[str], cols: list[list]) -> pa.Table:
    return pa.Table.from_arrays([pa.array(c, pa.string()) for c in cols], names=keys)


# --------------------------------------------------------------------------------------------
# Post-analytics processor


class PostAnalyticsProcessor:
    """A loaded ``post_analytics_processor_script``; imported before the analysis runs.

    Raises:
        AnalyzerError: the file cannot be imported or has no ``postprocess_handler``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        module = _import(self.path)
        handler = getattr(module, "postprocess_handler", None)
        if not callable(handler):
            raise AnalyzerError(MISSING_POSTPROCESS_HANDLER)
        self._handler = handler

    def __call__(self) -> None:
        """Call ``postprocess_handler()`` with no arguments; its return value is ignored."""
        try:
            self._handler()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a script cannot end the job
            traceback.print_exc(file=sys.stdout)
            raise AnalyzerError(
                f"There is an exception raised in post-analytics processor script "
                f"{self.path.name}: {_describe(exc)}"
            ) from exc


@contextlib.contextmanager
def job_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Expose the job's environment in ``os.environ`` for the scripts; restore it afterwards."""
    saved = dict(os.environ)
    os.environ.update({k: str(v) for k, v in env.items() if v not in (None, "")})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
