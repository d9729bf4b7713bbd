"""Re-implementation of the SageMaker Model Monitor data-quality analyzer container.

The Python API: :func:`suggest_baseline` (a baselining job) and :func:`run_monitoring` (a
monitoring execution). ``python -m mmutils.analyzer`` runs the container entry point.

The names are loaded on first use (PEP 562), so that importing a light submodule
(``mmutils.analyzer.isolation``, the container's supervising parent) does not pay for pyarrow
and numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmutils.analyzer.baseline import BaselineResult, suggest_baseline
    from mmutils.analyzer.errors import AnalyzerError, NoDataError
    from mmutils.analyzer.monitor import MonitoringResult, run_monitoring

_WHERE = {
    "AnalyzerError": "mmutils.analyzer.errors",
    "BaselineResult": "mmutils.analyzer.baseline",
    "MonitoringResult": "mmutils.analyzer.monitor",
    "NoDataError": "mmutils.analyzer.errors",
    "run_monitoring": "mmutils.analyzer.monitor",
    "suggest_baseline": "mmutils.analyzer.baseline",
}

__all__ = [
    "AnalyzerError",
    "BaselineResult",
    "MonitoringResult",
    "NoDataError",
    "run_monitoring",
    "suggest_baseline",
]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
