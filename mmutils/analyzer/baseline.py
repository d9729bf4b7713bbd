"""``suggest_baseline()``: the baselining job as a Python call (no container, no AWS).

Profiles a dataset (files, a folder or a pandas DataFrame) and suggests constraints, exactly
as the analyzer container's baselining job does, optionally writing ``statistics.json`` and
``constraints.json`` to a folder.
"""

from __future__ import annotations

import html
import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pcsv

from mmutils.analyzer import jsonfmt, parallel, readers
from mmutils.analyzer.column_groups import make_profiler
from mmutils.analyzer.constraints import suggest_constraints
from mmutils.analyzer.errors import NoDataError
from mmutils.analyzer.profile import COMPILED_INPUT_BYTES, sketch_levels_as_lists
from mmutils.formats.reports import CONSTRAINTS, STATISTICS, stats_block

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BaselineResult", "dataframe_chunks", "suggest_baseline"]

_DATAFRAME_CHUNK_ROWS = 65_536

PathLike = str | os.PathLike


@dataclass
class BaselineResult:
    """The two documents of a baselining job, plus where they were written (if anywhere)."""

    statistics: dict
    constraints: dict
    output_dir: Path | None = None
    files: list[Path] = field(default_factory=list)

    def statistics_json(self) -> str:
        """``statistics.json`` text, byte-identical to the container's."""
        return jsonfmt.dumps(self.statistics)

    def constraints_json(self) -> str:
        """``constraints.json`` text, byte-identical to the container's."""
        return jsonfmt.dumps(self.constraints)

    def summary_rows(self) -> list[dict]:
        """One row per feature: name, type, present/missing, mean, std, min, max, distinct."""
        rows = []
        for feature in self.statistics["features"]:
            num = feature.get("numerical_statistics")
            stats = stats_block(feature) or {}
            common = stats.get("common", {})
            rows.append(
                {
                    "name": feature["name"],
                    "inferred_type": feature["inferred_type"],
                    "num_present": common.get("num_present"),
                    "num_missing": common.get("num_missing"),
                    "mean": num.get("mean") if num else None,
                    "std_dev": num.get("std_dev") if num else None,
                    "min": num.get("min") if num else None,
                    "max": num.get("max") if num else None,
                    "distinct_count": None if num else stats.get("distinct_count"),
                }
            )
        return rows

    def to_dataframe(self) -> pd.DataFrame:
        """The per-feature summary as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.summary_rows()).set_index("name")

    def __repr__(self) -> str:
        rows = self.summary_rows()
        where = f", written to {self.output_dir}" if self.output_dir else ""
        head = (
            f"BaselineResult(item_count={self.statistics['dataset']['item_count']}, "
            f"features={len(rows)}{where})"
        )
        lines = [head]
        for row in rows[:20]:
            if row["mean"] is not None:
                detail = f"mean={row['mean']:.6g} min={row['min']:.6g} max={row['max']:.6g}"
            else:
                detail = f"distinct={row['distinct_count']}"
            lines.append(
                f"  {row['name']!s:<24} {row['inferred_type']:<10} "
                f"present={row['num_present']} missing={row['num_missing']} {detail}"
            )
        if len(rows) > 20:
            lines.append(f"  … {len(rows) - 20} more features")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        columns = [
            "name",
            "inferred_type",
            "num_present",
            "num_missing",
            "mean",
            "std_dev",
            "min",
            "max",
            "distinct_count",
        ]
        head = "".join(f"<th>{c}</th>" for c in columns)
        body = []
        for row in self.summary_rows():
            cells = []
            for c in columns:
                value = row[c]
                text = (
                    ""
                    if value is None
                    else (f"{value:.6g}" if isinstance(value, float) else str(value))
                )
                cells.append(f"<td>{html.escape(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        caption = f"Baseline: {self.statistics['dataset']['item_count']} records"
        if self.output_dir:
            caption += f", written to {html.escape(str(self.output_dir))}"
        return (
            f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )


def dataframe_chunks(
    df: pd.DataFrame, chunk_rows: int = _DATAFRAME_CHUNK_ROWS
) -> tuple[list[str], Iterator[pa.Table]]:
    """A DataFrame as string chunks, each cell exactly as ``DataFrame.to_csv`` prints it.

    Missing values become null (an empty CSV field), floats print as pandas writes them
    (``6.0``, ``1e-05``), booleans as ``True``/``False`` (String cells for deequ).
    """
    names = [str(c) for c in df.columns]
    internal = [f"c{i}" for i in range(len(names))]
    convert = pcsv.ConvertOptions(
        column_types={n: pa.string() for n in internal},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )

    def chunks() -> Iterator[pa.Table]:
        for start in range(0, len(df), chunk_rows):
            text = df.iloc[start : start + chunk_rows].to_csv(header=False, index=False)
            table = pcsv.read_csv(
                io.BytesIO(text.encode("utf-8")),
                read_options=pcsv.ReadOptions(column_names=internal),
                convert_options=convert,
            )
            yield table.rename_columns(names)

    return names, chunks()


def _write(
    output_dir: PathLike, result: BaselineResult, array_texts: jsonfmt.ArrayTexts | None = None
) -> None:
    """Write both files, each under a temporary name first: a failure leaves no half file."""
    out = Path(output_dir)
    result.files.extend(
        jsonfmt.write_documents(
            out, {STATISTICS: result.statistics, CONSTRAINTS: result.constraints}, array_texts
        )
    )
    result.output_dir = out


def suggest_baseline(
    path_or_dataframe: PathLike | Sequence[PathLike] | pd.DataFrame,
    *,
    header: bool = True,
    dataset_format: Mapping | None = None,
    output_dir: PathLike | None = None,
    categorical_drift_method: str | None = None,
    monitoring_config_override: Mapping | None = None,
    workers: int | None = None,
) -> BaselineResult:
    """Profile a dataset and suggest constraints, like a Model Monitor baselining job.

    Args:
        path_or_dataframe: a CSV/JSON Lines file, a folder of them, a list of those, or a
            pandas DataFrame.
        header: whether CSV files start with a header line (ignored for DataFrames and when
            ``dataset_format`` says).
        dataset_format: the container's ``dataset_format`` value, e.g.
            ``{"csv": {"header": True}}`` or ``{"json": {"lines": True}}``.
        output_dir: when given, ``statistics.json`` and ``constraints.json`` are written there.
        categorical_drift_method: ``"LInfinity"``/``"ChiSquared"`` for the newer image's keys.
        monitoring_config_override: deep-merged over the suggested ``monitoring_config``.
        workers: threads to use (default: the usable cores, at most 4, or
            ``$MMLAB_ANALYZER_WORKERS``). Files are parsed ahead of the profiler, whose
            column groups run on up to ``workers`` threads, each taking the chunks in order:
            the documents are byte-identical for any count.

    Returns:
        A :class:`BaselineResult` holding both documents.

    Raises:
        NoDataError: the dataset has no records.
        AnalyzerError: the dataset cannot be read (the message names file and line).
    """
    workers = parallel.workers_for(parallel.check_workers(workers), path_or_dataframe)
    if _is_dataframe(path_or_dataframe) and len(path_or_dataframe) == 0:
        raise NoDataError("Job inputs had no data (the DataFrame is empty)")

    def read() -> tuple[list[str], Iterator[pa.Table]]:
        if _is_dataframe(path_or_dataframe):
            return dataframe_chunks(path_or_dataframe)
        return readers.read_dataset(
            path_or_dataframe,
            dict(dataset_format) if dataset_format else None,
            header=header,
            workers=workers,
        )

    names, chunks = read()
    if workers > 1:
        chunks = parallel.prefetch(chunks)
    with (
        parallel.closing(chunks),
        make_profiler(names, workers, _compiled_from(path_or_dataframe)) as profiler,
    ):
        for chunk in chunks:
            profiler.update(chunk)
        if profiler.item_count == 0:
            raise NoDataError()
        if profiler.recount_rows():  # columns that turned String late count their first rows
            profiler.recount_from(read()[1])
        # sketch levels as arrays until the file is written (see Profiler.result), their
        # texts formatted by the column groups as they finish
        array_texts = None if output_dir is None else jsonfmt.ArrayTexts()
        statistics = profiler.result(sketch_arrays=True, array_texts=array_texts)
    constraints = suggest_constraints(
        statistics,
        categorical_drift_method=categorical_drift_method,
        monitoring_config_override=monitoring_config_override,
    )
    result = BaselineResult(statistics, constraints)
    if output_dir is not None:
        _write(output_dir, result, array_texts)
    sketch_levels_as_lists(statistics)
    return result


def _compiled_from(data: object) -> int | None:
    """0 (the numba kernels from the first row) for inputs of ``COMPILED_INPUT_BYTES`` or more."""
    if _is_dataframe(data):
        return None
    size = parallel.input_bytes(data, COMPILED_INPUT_BYTES)
    return 0 if size is not None and size >= COMPILED_INPUT_BYTES else None


def _is_dataframe(obj: object) -> bool:
    """Whether ``obj`` is a pandas DataFrame (or subclass), without importing pandas.

    A DataFrame can only exist once pandas was imported, so when pandas is not in
    ``sys.modules`` the answer is no, without paying pandas' ~0.3 s import to find out.
    """
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.DataFrame)
