"""Re-implementation of the SageMaker Model Monitor data-quality analyzer container.

The Python API: :func:`suggest_baseline` (a baselining job) and :func:`run_monitoring` (a
monitoring execution). ``python -m mmutils.analyzer`` runs the container entry point.
"""

from mmutils.analyzer.baseline import BaselineResult, suggest_baseline
from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.monitor import MonitoringResult, run_monitoring

__all__ = [
    "AnalyzerError",
    "BaselineResult",
    "MonitoringResult",
    "NoDataError",
    "run_monitoring",
    "suggest_baseline",
]
