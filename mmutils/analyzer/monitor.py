"""``run_monitoring()``: one monitoring execution as a Python call (spec §D).

A window of data (capture JSONL tree, CSV, JSON lines, a DataFrame or an Arrow table) is
profiled like a baseline, then checked against the baseline's statistics and constraints.

Outputs (when ``output_dir`` is given), written only once everything succeeded — each file
goes to a temporary name first and is renamed into place, so a failed run leaves no
complete-looking output:

* ``statistics.json`` — the window's statistics;
* ``constraints.json`` — the baseline constraints the window was checked against, re-serialised
  in the container's format. (Which file the service writes here is not observed; a copy of the
  constraints used is what a reader of the report needs.);
* ``constraint_violations.json`` — ``{"violations": [...]}``, in feature order;
* CloudWatch metric records in ``metrics_dir`` when ``publish_cloudwatch_metrics`` is on.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mmutils.analyzer import capture_reader, checks, jsonfmt, metrics, parallel, readers, scripts
from mmutils.analyzer.column_groups import make_profiler
from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.jsonfmt import java_double, write_documents
from mmutils.analyzer.profile import COMPILED_INPUT_BYTES, sketch_levels_as_lists
from mmutils.formats import reports
from mmutils.formats.reports import CONSTRAINTS, STATISTICS, VIOLATIONS

CAPTURE = "sagemakerCaptureJson"
FORMAT_ALIASES = {
    "capture": CAPTURE,
    "sagemakercapturejson": CAPTURE,
    "sagemakermergejson": "sagemakerMergeJson",
    "csv": "csv",
    "json": "json",
    "jsonl": "json",
    "parquet": "parquet",
}


# --------------------------------------------------------------------------------------------
# Inputs


def load_baseline(source: Any, what: str, *, sketch_arrays: bool = False) -> dict | None:
    """Load a baseline ``statistics.json`` / ``constraints.json`` for an analysis.

    Args:
        source: ``None``, a dict (taken as it is), or a path to the JSON file, its text or an
            SDK file object (see :func:`mmutils.formats.reports.load_document`); these must
            hold a ``features`` list.
        what: what the document is (``"Baseline constraints"``…), used in error messages.
        sketch_arrays: the text of a statistics document may be parsed by
            :func:`mmutils.analyzer.json_numbers.loads` when this process has loaded its
            kernels: its KLL sketch levels (``sketch.data``) are then float64 arrays rather
            than lists (same values), read without holding the GIL for the whole document.

    Returns:
        The document, or ``None`` when ``source`` is ``None``.

    Raises:
        AnalyzerError: ``{what} file not found: {path}``, or a document that is not valid JSON
            or has no ``features`` list (the message names the file).
        TypeError: ``source`` is of an unsupported type.
    """
    loads = _statistics_loads() if sketch_arrays else json.loads
    try:
        doc = reports.load_document(source, what=what, loads=loads)
    except FileNotFoundError as exc:
        raise AnalyzerError(str(exc)) from None
    except reports.DocumentError as exc:
        raise AnalyzerError(f"{what}: {exc}") from None
    if doc is None or isinstance(source, Mapping) or isinstance(doc.get("features"), list):
        return doc
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and not source.lstrip().startswith(("{", "["))
    ):
        raise AnalyzerError(f"{what} file {source} has no 'features' list")
    raise AnalyzerError(f"{what} has no 'features' list")


def _statistics_loads() -> Callable[[str], Any]:
    """The JSON parser for baseline statistics: sketch levels as arrays when it is loaded.

    ``json.loads`` holds the GIL for the whole 2 MB of a lab-sized baseline (~25 ms) while the
    run's threads scan the first files; the compiled parser is used only once this process
    has loaded it (the emulator's warm analyzer does), as loading costs more than it saves.
    """
    module = sys.modules.get("mmutils.analyzer.json_numbers")
    if module is not None and module.loaded():
        return functools.partial(module.loads, keep=_sketch_levels_key)
    return json.loads


def _sketch_levels_key(key: object) -> bool:
    return key == "data"  # statistics.json: kll.sketch.data, a list of levels


def resolve_format(dataset_format: str | Mapping | None, data: Any = None) -> tuple[str, dict]:
    """Normalise a ``dataset_format`` into ``(kind, options)``.

    Args:
        dataset_format: the container's JSON form (``{"csv": {"header": true}}``,
            ``{"sagemakerCaptureJson": {"captureIndexNames": [...]}}``, ``{"json": {"lines":
            true}}``), a JSON string of it, a short name (``capture``, ``csv``, ``json``), or
            None to guess from ``data`` (folders and ``.jsonl`` files are capture, ``.csv``
            files CSV with a header).
        data: the dataset, for guessing.

    Raises:
        AnalyzerError: unknown or unsupported format.
    """
    if isinstance(dataset_format, str) and dataset_format.strip().startswith("{"):
        try:
            dataset_format = json.loads(dataset_format)
        except json.JSONDecodeError as exc:
            raise AnalyzerError(f"dataset_format is not valid JSON: {exc}") from None
    if dataset_format is None:
        return _guess_format(data)
    if isinstance(dataset_format, str):
        kind, options = dataset_format, {}
    elif isinstance(dataset_format, Mapping) and len(dataset_format) == 1:
        ((kind, options),) = dataset_format.items()
        options = dict(options or {})
    else:
        raise AnalyzerError(f"Invalid dataset_format {dataset_format!r}: expected one format key")
    canonical = FORMAT_ALIASES.get(str(kind).lower())
    if canonical in (None, "parquet", "sagemakerMergeJson"):
        raise AnalyzerError(
            f"Unsupported dataset_format {kind!r}: expected sagemakerCaptureJson, csv or json"
        )
    return canonical, options


def _guess_format(data: Any) -> tuple[str, dict]:
    if isinstance(data, str | Path):
        path = Path(data)
        if not path.exists():
            raise AnalyzerError(f"Dataset not found: {path} does not exist")
        suffixes = [s.lower() for s in path.suffixes]
        if suffixes and suffixes[-1] in readers.COMPRESSED_SUFFIXES:
            suffixes = suffixes[:-1]
        suffix = suffixes[-1] if suffixes else ""
        if path.is_dir() or suffix == ".jsonl":
            return CAPTURE, {}
        if suffix == ".csv":
            return "csv", {"header": True}
        if suffix == ".json":
            return "json", {"lines": True}
        raise AnalyzerError(
            f"Cannot tell the dataset format of {path} from its name (expected a folder, .jsonl, "
            ".csv or .json, optionally .gz / .bz2); pass dataset_format"
        )
    return "table", {}


def enabled_flag(value: bool | str | None, name: str) -> bool:
    """Read an ``Enabled`` / ``Disabled`` switch strictly (``True``/``False`` too; unset: off).

    Raises:
        AnalyzerError: any other value (``Maybe``, ``yes``…), naming the variable.
    """
    if value is None or value is False or value == "":
        return False
    if value is True:
        return True
    text = str(value).strip().lower()
    if text in ("enabled", "disabled"):
        return text == "enabled"
    raise AnalyzerError(f"Invalid value {value!r} for {name}: expected Enabled or Disabled")


def check_window(start_time, end_time) -> None:
    """Refuse an analysis window whose times are not ISO-8601 or whose start is not before its end.

    Raises:
        AnalyzerError: the service-style message naming both times.
    """
    start = capture_reader.parse_time(start_time, "start_time")
    end = capture_reader.parse_time(end_time, "end_time")
    if start is not None and end is not None and start >= end:
        raise AnalyzerError(
            f"Invalid analysis window: start_time {start_time} must be before end_time {end_time}"
        )


def _truthy(value) -> bool:
    return str(value).lower() in ("true", "1", "yes")


@dataclass
class _Dataset:
    names: list[str]
    chunks: Iterator[pa.Table]
    #: the same chunks again, from the same inputs (a capture window: the same files)
    reopen: Callable[[], Iterator[pa.Table]] | None = None


def _positional(names: Sequence[str], baseline_names: Sequence[str]) -> list[str]:
    return [baseline_names[i] if i < len(baseline_names) else f"_c{i}" for i in range(len(names))]


def _renamed(chunks: Iterator[pa.Table], names: list[str]) -> Iterator[pa.Table]:
    for chunk in chunks:
        yield chunk.rename_columns(names)


def capture_options(options: Mapping) -> tuple[list[str] | None, str]:
    """``(captureIndexNames, output_columns_position)`` of a capture format's options."""
    index_names = options.get("captureIndexNames") or options.get("capture_index_names")
    return index_names, options.get("output_columns_position", "START")


def _baseline_statistics_first(source: Any) -> None:
    """Raise the baseline statistics' own error, if they have one: it comes before the data's.

    A monitoring run reads its data before the statistics (to overlap the two), so an error
    of the data is raised only once the statistics are known to be readable, as when the
    statistics were read first (and alone: the data's error is not chained to it).
    """
    try:
        load_baseline(source, "Baseline statistics")
    except AnalyzerError as exc:
        raise exc from None


def open_dataset(
    data: Any,
    kind: str,
    options: Mapping,
    baseline_names: Sequence[str] = (),
    *,
    start_time=None,
    end_time=None,
    preprocessor: scripts.RecordPreprocessor | None = None,
    workers: int = 1,
    capture_loader=None,
) -> _Dataset:
    """Open ``data`` as chunks of string columns, named for the baseline where it has no header.

    Rows without a header (capture, header-less CSV, pre-processor output) are matched to
    ``baseline_names`` by position; extra columns are named ``_c{i}``. ``workers`` threads
    may parse ahead; the chunks are the same, in the same order, for any count. The dataset's
    ``reopen()`` gives its chunks again (for the value counts of columns that turn String
    late, see :meth:`~mmutils.analyzer.profile.Profiler.recount_rows`).
    """

    def opened(data, start_time, end_time):
        return _open_dataset(
            data, kind, options, baseline_names, start_time, end_time, preprocessor, workers,
            capture_loader,
        )  # fmt: skip

    dataset = opened(data, start_time, end_time)
    files = getattr(dataset, "files", None)
    if files is not None:  # a capture window: its files as they were listed the first time
        data, start_time, end_time = files, None, None
        dataset = _Dataset(dataset.names, dataset.chunks)
    dataset.reopen = lambda: opened(data, start_time, end_time).chunks
    return dataset


def _open_dataset(
    data,
    kind,
    options,
    baseline_names,
    start_time,
    end_time,
    preprocessor,
    workers,
    capture_loader,
):
    if kind == "table":
        return _table_dataset(data)
    if preprocessor is not None:
        scripts.check_preprocessor_format(kind)
        rows = _preprocessed_rows(data, kind, options, preprocessor, start_time, end_time)
        keys, chunks = scripts.rows_to_chunks(rows)
        names = _positional(keys, baseline_names)
        return _Dataset(names, _renamed(chunks, names))
    if kind == CAPTURE:
        index_names, position = capture_options(options)
        ds = capture_reader.read_capture(
            data,
            names=baseline_names,
            capture_index_names=index_names,
            output_columns_position=position,
            start_time=start_time,
            end_time=end_time,
            workers=workers,
            loader=capture_loader,
        )
        return ds
    path = Path(data)
    if kind == "csv":
        header = _truthy(options.get("header", False))
        names, chunks = readers.read_csv(path, header=header, workers=workers)
    else:
        names, chunks = readers.read_json_lines(path)
        header = True
    names = list(names)
    if not header:
        new = _positional(names, baseline_names)
        return _Dataset(new, _renamed(chunks, new))
    return _Dataset(names, chunks)


def _preprocessed_rows(data, kind, options, preprocessor, start_time, end_time):
    if kind == CAPTURE:
        files = (
            capture_reader.list_capture_files(data, start_time, end_time)
            if isinstance(data, str | Path)
            else [Path(p) for p in data]
        )
        for _, _, record in capture_reader.iter_capture_records(files):
            yield from preprocessor(scripts.CapturedData(record))
        return
    header = kind == "csv" and _truthy(options.get("header"))
    for path in readers.list_files(data):  # a file or a folder's files, like the readers
        first = True
        for lineno, raw in readers.raw_lines(path):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise AnalyzerError(f"{path}, line {lineno}: not valid UTF-8") from None
            if not line:
                continue
            if header and first:
                first = False
                continue
            if kind == "csv":
                yield from preprocessor(line)
            else:
                try:
                    yield from preprocessor(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise AnalyzerError(f"Malformed JSON in {path} line {lineno}: {exc}") from None


def _table_dataset(data: Any) -> _Dataset:
    """A DataFrame (cells as ``DataFrame.to_csv`` prints them) or an Arrow table."""
    if isinstance(data, pa.Table):
        cols = []
        for col in data.columns:
            if pa.types.is_floating(col.type):
                # Java's Double.toString keeps "1.0" (Arrow's cast to string would print "1")
                col = pa.array(
                    [None if v is None or v != v else java_double(v) for v in col.to_pylist()],
                    pa.string(),
                )
            elif not pa.types.is_string(col.type):
                col = pc.cast(col, pa.string())
            cols.append(col)
        table = pa.table(cols, names=[str(n) for n in data.column_names])
        return _Dataset(list(table.column_names), iter([table]))
    import pandas as pd

    from mmutils.analyzer.baseline import dataframe_chunks

    if not isinstance(data, pd.DataFrame):
        raise AnalyzerError(
            f"Unsupported data of type {type(data).__name__}: give a path, a pandas DataFrame "
            "or a pyarrow Table"
        )
    names, chunks = dataframe_chunks(data)
    return _Dataset(names, chunks)


# --------------------------------------------------------------------------------------------
# Result


def exit_message(violations: Sequence) -> str:
    """The job's ExitMessage for a successful analysis (spec §D.4)."""
    if not violations:
        return "Completed: Job completed successfully with no violations."
    return f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."


@dataclass(repr=False)
class MonitoringResult:
    """What one monitoring execution produced.

    Attributes:
        statistics: the window's statistics.json document. A run hands it over with its
            sketch levels as the numpy arrays the file was written from; they become lists
            of floats when ``statistics`` is first read (a job that only needs the files
            never pays for the few hundred thousand Python floats).
        constraints: the constraints the window was checked against (written as constraints.json).
        violations: the ``violations`` list of constraint_violations.json.
        drift: drift distance per compared feature.
        metric_records: CloudWatch datums (empty when metrics are not published).
        exit_message: the job's ExitMessage.
        output_dir: where the files went (None if not written).
        files: the files written.
    """

    statistics: dict
    constraints: dict
    violations: list[dict]
    drift: dict[str, float] = field(default_factory=dict)
    metric_records: list[dict] = field(default_factory=list)
    exit_message: str = ""
    output_dir: Path | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``Completed`` or ``CompletedWithViolations``."""
        return "CompletedWithViolations" if self.violations else "Completed"

    def _defer_sketch_lists(self) -> None:
        """Keep ``statistics`` (with sketch arrays) aside until it is first read."""
        self.__dict__["_pending_statistics"] = self.__dict__.pop("statistics")

    def __getattr__(self, name: str):
        # only called when ``name`` is not set: ``statistics`` set aside by the run
        pending = self.__dict__.get("_pending_statistics")
        if name != "statistics" or pending is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.statistics = sketch_levels_as_lists(pending)
        del self.__dict__["_pending_statistics"]
        return self.statistics

    def _document(self) -> dict:
        """``statistics`` as it is (its sketch levels not turned into lists)."""
        found = self.__dict__
        return found["statistics"] if "statistics" in found else found["_pending_statistics"]

    @property
    def item_count(self) -> int:
        """Records analysed."""
        return int(self._document().get("dataset", {}).get("item_count", 0))

    @property
    def constraint_violations(self) -> dict:
        """The constraint_violations.json document."""
        return {"violations": self.violations}

    def counts_by_check(self) -> dict[str, int]:
        """Violations per ``constraint_check_type``, most frequent first."""
        return dict(Counter(v["constraint_check_type"] for v in self.violations).most_common())

    def __repr__(self) -> str:
        checks = ", ".join(f"{k}={v}" for k, v in self.counts_by_check().items())
        return (
            f"<MonitoringResult {self.status}: {self.item_count} records, "
            f"{len(self.violations)} violations" + (f" ({checks})>" if checks else ">")
        )

    def __str__(self) -> str:
        lines = [
            f"{self.status}: {self.item_count} records, {len(self._document().get('features', []))}"
            f" features, {len(self.violations)} violations",
        ]
        for check, count in self.counts_by_check().items():
            lines.append(f"  {check}: {count}")
        for v in self.violations[:5]:
            lines.append(
                f"  - {v['feature_name']} [{v['constraint_check_type']}] {v['description']}"
            )
        if len(self.violations) > 5:
            lines.append(f"  … and {len(self.violations) - 5} more")
        if self.output_dir is not None:
            lines.append(f"  outputs: {self.output_dir}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(v['feature_name'])}</td><td>{esc(v['constraint_check_type'])}</td>"
            f"<td>{esc(v['description'])}</td></tr>"
            for v in self.violations[:50]
        )
        more = f"<p>… and {len(self.violations) - 50} more</p>" if len(self.violations) > 50 else ""
        table = (
            "<table><thead><tr><th>feature</th><th>check</th><th>description</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            if self.violations
            else ""
        )
        return (
            f"<div><strong>{esc(self.status)}</strong>: {self.item_count} records, "
            f"{len(self.violations)} violations<br><code>{esc(self.exit_message)}</code>"
            f"{table}{more}</div>"
        )


# --------------------------------------------------------------------------------------------
# The execution


def _domain_values(constraints: Mapping) -> dict[str, pa.Array]:
    found = {}
    for feature in constraints.get("features", []):
        domains = (feature.get("string_constraints") or {}).get("domains")
        if domains:
            found[feature["name"]] = pa.array([str(d) for d in domains], pa.string())
    return found


def run_monitoring(
    data: Any,
    baseline_statistics: str | Path | Mapping | None,
    baseline_constraints: str | Path | Mapping,
    *,
    dataset_format: str | Mapping | None = None,
    output_dir: str | Path | None = None,
    start_time: str | datetime | None = None,
    end_time: str | datetime | None = None,
    record_preprocessor_script: str | Path | None = None,
    publish_cloudwatch_metrics: bool | str = False,
    metrics_dir: str | Path | None = None,
    endpoint_name: str | None = None,
    schedule_name: str | None = None,
    metric_time: str | datetime | None = None,
    workers: int | None = None,
    capture_loader=None,
) -> MonitoringResult:
    """Analyse a window of data against a baseline, like a scheduled monitoring execution.

    Args:
        data: capture folder tree or ``.jsonl`` file, CSV / JSON-lines file, a list of capture
            files, a pandas DataFrame or a pyarrow Table.
        baseline_statistics: the baseline statistics.json (a path or a dict, or any form
            :func:`load_baseline` accepts); needed for drift.
        baseline_constraints: the baseline constraints.json (likewise).
        dataset_format: see :func:`resolve_format`; guessed from ``data`` when None.
        output_dir: where to write statistics.json, constraints.json and
            constraint_violations.json (nothing is written when None).
        start_time: analysis window start (selects ``yyyy/mm/dd/HH`` capture folders).
        end_time: analysis window end; also the metrics' timestamp.
        record_preprocessor_script: a ``.py`` with ``preprocess_handler`` run on every record.
        publish_cloudwatch_metrics: write CloudWatch metric records (``True`` / ``"Enabled"``).
        metrics_dir: where the metric records go (default ``{output_dir}/metrics``).
        endpoint_name: metric dimension ``Endpoint``.
        schedule_name: metric dimension ``MonitoringSchedule``.
        metric_time: the metrics' timestamp (default ``end_time``).
        workers: threads to use (default: the usable cores, at most 4, or
            ``$MMLAB_ANALYZER_WORKERS``). Files are parsed ahead of the profiler, whose
            column groups run on up to ``workers`` threads, each taking the chunks in order:
            the outputs are byte-identical for any count.
        capture_loader: parses capture files elsewhere (a Dask cluster:
            :func:`mmutils.scaleout.run_monitoring_on_dask`); ``data`` is then the list of
            files, see :func:`~mmutils.analyzer.capture_reader.read_capture`.

    Returns:
        A :class:`MonitoringResult`.

    Raises:
        NoDataError: the window holds no records (``Job inputs had no data``).
        AnalyzerError: unreadable inputs, with the file / line / feature named.
    """
    publish = enabled_flag(publish_cloudwatch_metrics, "publish_cloudwatch_metrics")
    workers = parallel.workers_for(parallel.check_workers(workers), data)
    check_window(start_time, end_time)
    constraints = load_baseline(baseline_constraints, "Baseline constraints")
    if constraints is None:
        raise AnalyzerError("Baseline constraints are required for a monitoring execution")
    baseline_names = [f["name"] for f in constraints["features"]]
    try:
        kind, options = resolve_format(dataset_format, data)
        preprocessor = (
            scripts.RecordPreprocessor(record_preprocessor_script)
            if record_preprocessor_script
            else None
        )
        dataset = open_dataset(
            data,
            kind,
            options,
            baseline_names,
            start_time=start_time,
            end_time=end_time,
            preprocessor=preprocessor,
            workers=workers,
            capture_loader=capture_loader,
        )
    except Exception:
        _baseline_statistics_first(baseline_statistics)
        raise
    names = list(dataset.names)
    chunks = parallel.prefetch(dataset.chunks) if workers > 1 else dataset.chunks
    domains = {n: v for n, v in _domain_values(constraints).items() if n in names}
    in_domain = dict.fromkeys(domains, 0)
    compiled_from = None
    if start_time is None and end_time is None:  # all of ``data`` is read: its size tells
        size = parallel.input_bytes(data, COMPILED_INPUT_BYTES)
        compiled_from = 0 if size is not None and size >= COMPILED_INPUT_BYTES else None
    with parallel.closing(chunks), make_profiler(names, workers, compiled_from) as profiler:
        rest = iter(chunks)
        # taking the first chunk starts the read-ahead, which parses on while the baseline
        # statistics are read and their sketches sorted for drift (the cores would otherwise
        # wait for the statistics file at the start)
        try:
            head = list(itertools.islice(rest, 1))  # handed on by head_then, not kept
        except Exception:
            _baseline_statistics_first(baseline_statistics)
            raise
        base_stats = load_baseline(baseline_statistics, "Baseline statistics", sketch_arrays=True)
        prepared = checks.baseline_sketches(base_stats)
        for chunk in parallel.head_then(head, rest):
            profiler.update(chunk)
            for name, values in domains.items():
                in_domain[name] += int(
                    pc.sum(pc.is_in(chunk.column(name), value_set=values)).as_py() or 0
                )
        if profiler.item_count == 0:
            raise NoDataError()
        if profiler.recount_rows():  # columns that turned String late count their first rows
            profiler.recount_from(dataset.reopen())
        # sketch levels as arrays until the file is written: drift and jsonfmt read them as
        # they are (lists of Python floats cost a conversion each way)
        window_sketches: list = []  # sorted once, for the buckets and for drift
        # the sketches' texts are formatted by the groups as they finish (not at the end)
        array_texts = None if output_dir is None else jsonfmt.ArrayTexts()
        statistics = profiler.result(
            sketch_arrays=True, sorted_sketches=window_sketches, array_texts=array_texts
        )
        type_counts = [profiler.type_counts(j) for j in range(len(names))]
    counts = {}
    for name, tc in zip(names, type_counts, strict=True):
        counts[name] = checks.FeatureCounts(
            types={
                "Integral": tc.integral,
                "Fractional": tc.fractional,
                "Boolean": tc.boolean,
                "String": tc.string,
                "Unknown": tc.unknown,
            },
            in_domain=in_domain.get(name),
        )
    report = checks.run_checks(
        base_stats, constraints, statistics, counts, names, prepared, window_sketches
    )
    message = exit_message(report.violations)
    records: list[dict] = []
    if publish:
        records = metrics.metric_records(
            statistics,
            report.drift,
            constraints,
            endpoint_name=endpoint_name,
            schedule_name=schedule_name,
            timestamp=metric_time or end_time,
        )
    files: list[Path] = []
    if output_dir is not None:
        files = write_documents(
            output_dir,
            {
                STATISTICS: statistics,
                CONSTRAINTS: constraints,
                VIOLATIONS: {"violations": report.violations},
            },
            array_texts,
        )
    result = MonitoringResult(
        statistics=statistics,
        constraints=constraints,
        violations=report.violations,
        drift=report.drift,
        metric_records=records,
        exit_message=message,
        output_dir=None if output_dir is None else Path(output_dir),
        files=files,
    )
    result._defer_sketch_lists()
    if records and (metrics_dir is not None or output_dir is not None):
        target = Path(metrics_dir) if metrics_dir is not None else Path(output_dir) / "metrics"
        written = metrics.write_metrics(target, records)
        if written:
            result.files.append(written)
    return result
