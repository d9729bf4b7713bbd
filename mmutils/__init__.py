"""mmlab helper package: the SageMaker Model Monitor lab, offline and live.

Sub-packages and modules:
    formats    the formats Model Monitor reads and writes (capture records and keys, reports,
               S3 URIs), each with one owner
    analyzer   re-implementation of the Model Monitor data-quality analyzer container
    emulator   the embedded AWS (moto server + what the lab needs that moto lacks)
    lab        sessions for a backend (``connect``), the notebooks' helpers, executions and
               violations, traffic, capture viewing, ``mmlab run``
    data       the lab's churn dataset (generated) and drifted traffic
    model      the lab's XGBoost model, packaged as SageMaker expects
    viz        plots and tables of statistics, constraints and violations
"""

from __future__ import annotations

import logging as _logging
import os as _os

# Importing mmutils before sagemaker keeps the SDK 2.x deprecation banner and its config-file
# search log (which prints machine paths) out of the lab's notebooks. This is the one place
# that sets them: every module of the package imports this one first.
_os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
_logging.getLogger("sagemaker.config").setLevel(_logging.WARNING)
# The SDK logs each resource it creates at INFO ("Creating processing-job with name …"); the
# notebooks print what matters themselves, so these lines are noise in a cell's output.
_logging.getLogger("sagemaker").setLevel(_logging.WARNING)

__version__ = "0.1.0"

__all__ = ["__version__", "connect"]


def connect(backend: str = "moto", **kwargs):
    """Connect to a backend (``"moto"``: the embedded emulator, started when needed; ``"live"``: AWS).

    Returns the lab's session (``aws = mmutils.connect(BACKEND)``); see
    :func:`mmutils.lab.session.connect` for the arguments.
    """
    from mmutils.lab.session import connect as _connect

    return _connect(backend, **kwargs)
