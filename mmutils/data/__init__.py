"""The lab's churn dataset: schema, deterministic generator, drifted traffic, ``mmlab data``.

Modules:
    schema     column names, types, one-hot groups, valid ranges, the file set
    files      exact CSV formatting, reading and validation of the dataset files
    generate   the deterministic dataset generator (``generate(seed)``, ``write(ds, dir)``)
    drifted    drifted traffic for the drift demo (``iter_rows(path, Drift(...))``)
    cli        ``mmlab data generate|train``
"""

from __future__ import annotations

from mmutils.data.schema import COLUMNS, FEATURES, LABEL

__all__ = ["COLUMNS", "FEATURES", "LABEL"]
