"""The labelled baseline dataset of a model-quality baseline job (CSV or JSON lines).

``suggest_baseline(dataset_format=DatasetFormat.csv(header=True), inference_attribute=
"prediction", probability_attribute="probability", ground_truth_attribute="label")`` names
columns by header; without a header the attributes are 0-based column indices; for JSON lines
they are keys (or simple ``$.a.b`` paths).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.model_quality.columns import Origins, _as_text, _lookup, split_attribute


def dataset_files(source: str | Path) -> list[Path]:
    """A file, or every non-hidden file under a folder (sorted by path).

    Raises:
        NoDataError: nothing to read.
    """
    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if files:
            return files
    raise NoDataError()


def resolve_format(dataset_format: str | Mapping | None) -> tuple[str, dict]:
    """``("csv", {"header": bool})`` or ``("json", {"lines": True})`` from the SDK's form.

    Raises:
        AnalyzerError: another format.
    """
    if dataset_format is None:
        return "csv", {"header": True}
    if isinstance(dataset_format, str):
        text = dataset_format.strip()
        if text.startswith("{"):
            dataset_format = json.loads(text)
        else:
            return resolve_format({text: {}})
    (kind, options), *rest = dict(dataset_format).items()
    kind = kind.lower()
    if rest or kind not in ("csv", "json"):
        raise AnalyzerError(
            f"dataset_format {dict(dataset_format)} is not supported for a model-quality "
            "baseline: use {'csv': {'header': ...}} or {'json': {'lines': true}}"
        )
    options = dict(options or {})
    if kind == "csv":
        options.setdefault("header", True)
    return kind, options


def _csv_columns(path: Path, header: bool, attributes: Sequence[str]) -> tuple[list, int]:
    names = {}
    for attr in attributes:
        if header:
            names[attr] = attr
        else:
            try:
                names[attr] = f"f{int(attr)}"
            except ValueError:
                raise AnalyzerError(
                    f"attribute {attr!r} must be a column index: {path} has no header"
                ) from None
    read = pacsv.ReadOptions(autogenerate_column_names=not header)
    probe = pacsv.read_csv(path, read_options=read, convert_options=pacsv.ConvertOptions())
    missing = [a for a, n in names.items() if n not in probe.column_names]
    if missing:
        have = probe.column_names if header else f"{probe.num_columns} columns"
        raise AnalyzerError(f"{path}: no column {missing[0]!r} (columns: {have})")
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names.values()},
        include_columns=list(dict.fromkeys(names.values())),
        strings_can_be_null=True,
    )
    table = pacsv.read_csv(path, read_options=read, convert_options=convert)
    return [table.column(names[a]).combine_chunks() for a in attributes], table.num_rows


def _json_columns(path: Path, attributes: Sequence[str]) -> tuple[list, np.ndarray]:
    paths = [split_attribute(a) for a in attributes]
    columns: list[list] = [[] for _ in attributes]
    lines = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):  # JSON lines: one parse per record
            if not raw.strip():
                continue
            try:
                doc = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise AnalyzerError(f"{path} line {number}: not valid JSON ({exc})") from None
            for column, parts, attr in zip(columns, paths, attributes, strict=True):
                try:
                    column.append(_as_text(_lookup(doc, parts)))
                except (KeyError, IndexError, TypeError):
                    raise AnalyzerError(f"{path} line {number}: no attribute {attr!r}") from None
            lines.append(number)
    return [pa.array(c, pa.string()) for c in columns], np.asarray(lines, dtype=np.int64)


def read_baseline_columns(
    source: str | Path, dataset_format, attributes: Sequence[str]
) -> tuple[list[pa.Array], Origins]:
    """The named attribute columns of every file of the dataset, as strings.

    Args:
        source: a file or a folder of files.
        dataset_format: see :func:`resolve_format`.
        attributes: the attributes to read (ground truth, prediction, probability...).

    Returns:
        ``(columns, origins)``: one string array per attribute, and each row's file and line.

    Raises:
        NoDataError: no file or no row.
        AnalyzerError: a missing column, or a JSON line that is not valid.
    """
    kind, options = resolve_format(dataset_format)
    parts: list[list[pa.Array]] = []
    origins: list[Origins] = []
    for path in dataset_files(source):
        if kind == "csv":
            header = bool(options.get("header"))
            columns, rows = _csv_columns(path, header, attributes)
            lines = np.arange(rows, dtype=np.int64) + (2 if header else 1)
        else:
            columns, lines = _json_columns(path, attributes)
        parts.append(columns)
        origins.append(Origins([str(path)], np.zeros(len(lines), np.int32), lines))
    merged = Origins.concat(origins)
    if len(merged) == 0:
        raise NoDataError()
    columns = [
        pa.concat_arrays([p[i] for p in parts]).cast(pa.string()) for i in range(len(attributes))
    ]
    return columns, merged
