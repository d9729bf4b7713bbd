"""The analyzer image's entry point: environment contract, ``/opt/ml`` paths, message file, exit code.

``python -m mmutils.analyzer`` behaves like ``/opt/program/analyze`` in the
``sagemaker-model-monitor-analyzer`` image (spec §E):

* the job's environment comes from ``/opt/ml/config/processingjobconfig.json``
  (``Environment``) when that file exists, overlaid with the process environment;
* ``dataset_source``, ``output_path`` and ``dataset_format`` are required;
* without ``baseline_constraints`` / ``baseline_statistics`` it is a baselining job
  (``statistics.json`` + ``constraints.json``), otherwise a monitoring execution
  (+ ``constraint_violations.json`` and, when ``publish_cloudwatch_metrics=Enabled``, CloudWatch
  metric records in ``CLOUDWATCH_METRICS_DIRECTORY``);
* ``/opt/ml/output/message`` receives ``Completed: …`` / ``CompletedWithViolations: …`` or the
  failure text, and the exit code is 0 or 255.

Fixed paths live under ``$MMLAB_OPT_ML`` (default ``/opt/ml``). Path variables that begin with
``/opt/ml/`` are relocated under it too, so a job folder can stand in for a container.
Progress goes to stdout as log lines (the emulator forwards them to CloudWatch Logs).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mmutils.analyzer import jsonfmt, monitor, scripts
from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.formats import reports

DEFAULT_OPT_ML = "/opt/ml"
#: path-valued variables relocated under $MMLAB_OPT_ML when they start with /opt/ml/
PATH_VARIABLES = (
    "dataset_source",
    "output_path",
    "baseline_statistics",
    "baseline_constraints",
    "record_preprocessor_script",
    "post_analytics_processor_script",
    "CLOUDWATCH_METRICS_DIRECTORY",
)
#: the keys the container itself consumes (the rest is exported for the customer scripts)
ANALYZER_KEYS = frozenset(
    PATH_VARIABLES
    + (
        "dataset_format",
        "start_time",
        "end_time",
        "metric_time",
        "analysis_type",
        "publish_cloudwatch_metrics",
        "sagemaker_endpoint_name",
        "sagemaker_monitoring_schedule_name",
        "categorical_drift_method",
        "monitoring_input_type",
    )
)
REQUIRED = ("dataset_source", "output_path", "dataset_format")
SUCCESS = 0
FAILURE = 255


def log(message: str) -> None:
    """A container-style log line on stdout."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    print(f"{stamp} INFO  Main - {message}", flush=True)


@dataclass
class JobPaths:
    """The container's fixed locations under ``opt_ml``."""

    opt_ml: Path

    @property
    def message(self) -> Path:
        return self.opt_ml / "output" / "message"

    @property
    def metrics(self) -> Path:
        return self.opt_ml / "output" / "metrics" / "cloudwatch"

    @property
    def job_config(self) -> Path:
        return self.opt_ml / "config" / "processingjobconfig.json"

    def relocate(self, value: str) -> str:
        """``/opt/ml/x`` -> ``{opt_ml}/x``; other values unchanged."""
        if value.startswith(DEFAULT_OPT_ML + "/") and str(self.opt_ml) != DEFAULT_OPT_ML:
            return str(self.opt_ml / value[len(DEFAULT_OPT_ML) + 1 :])
        return value


def job_environment(env: Mapping[str, str], paths: JobPaths) -> dict[str, str]:
    """The job's environment: processingjobconfig.json's ``Environment`` overlaid with ``env``."""
    merged: dict[str, str] = {}
    if paths.job_config.is_file():
        try:
            config = json.loads(paths.job_config.read_text())
        except json.JSONDecodeError as exc:
            raise AnalyzerError(f"{paths.job_config} is not valid JSON: {exc}") from None
        merged.update({k: str(v) for k, v in (config.get("Environment") or {}).items()})
    merged.update({k: str(v) for k, v in env.items() if v is not None})
    for key in PATH_VARIABLES:
        if merged.get(key):
            merged[key] = paths.relocate(merged[key])
    return merged


def analytics_input(env: Mapping[str, str], paths: JobPaths) -> dict:
    """The AnalyticsInput the container logs (and hands to its Spark job)."""

    def get(key):
        return env.get(key) or None

    fmt = get("dataset_format")
    try:
        fmt_value = json.loads(fmt) if fmt else None
    except json.JSONDecodeError:
        fmt_value = fmt
    return {
        "dataset_source": get("dataset_source"),
        "dataset_format": fmt_value,
        "output_path": get("output_path"),
        "analysis_type": get("analysis_type"),
        "record_preprocessor_script": get("record_preprocessor_script"),
        "post_analytics_processor_script": get("post_analytics_processor_script"),
        "baseline_constraints": get("baseline_constraints"),
        "baseline_statistics": get("baseline_statistics"),
        "start_time": get("start_time"),
        "end_time": get("end_time"),
        "metric_time": get("metric_time"),
        "cloudwatch_metrics_directory": get("CLOUDWATCH_METRICS_DIRECTORY") or str(paths.metrics),
        "publish_cloudwatch_metrics": get("publish_cloudwatch_metrics") or "Disabled",
        "sagemaker_endpoint_name": get("sagemaker_endpoint_name"),
        "sagemaker_monitoring_schedule_name": get("sagemaker_monitoring_schedule_name"),
        "output_message_file": str(paths.message),
    }


def _baseline(env: Mapping[str, str], preprocessor) -> str:
    from mmutils.analyzer.baseline import suggest_baseline
    from mmutils.analyzer.constraints import suggest_constraints
    from mmutils.analyzer.profile import Profiler

    source = env["dataset_source"]
    kind, options = monitor.resolve_format(env["dataset_format"])
    drift_method = env.get("categorical_drift_method") or None
    if not Path(source).exists():
        raise NoDataError()
    if kind in ("csv", "json") and preprocessor is None:
        result = suggest_baseline(
            source, dataset_format={kind: options}, categorical_drift_method=drift_method
        )
        statistics, constraints = result.statistics, result.constraints
    else:  # capture data or a pre-processor: same profile, our readers
        dataset = monitor.open_dataset(source, kind, options, preprocessor=preprocessor)
        profiler = Profiler(dataset.names)
        for chunk in dataset.chunks:
            profiler.update(chunk)
        if profiler.item_count == 0:
            raise NoDataError()
        statistics = profiler.result()
        constraints = suggest_constraints(statistics, categorical_drift_method=drift_method)
    log(f"Analysed {statistics['dataset']['item_count']} records")
    files = jsonfmt.write_documents(
        env["output_path"],
        {reports.STATISTICS: statistics, reports.CONSTRAINTS: constraints},
    )
    for f in files:
        log(f"Wrote {f}")
    return monitor.exit_message([])


def _monitoring(env: Mapping[str, str], paths: JobPaths) -> str:
    source = env["dataset_source"]
    if not Path(source).exists():
        raise NoDataError()
    constraints = env.get("baseline_constraints") or None
    statistics = env.get("baseline_statistics") or None
    if constraints is None:
        # statistics only: check against the constraints a baseline job would have suggested
        from mmutils.analyzer.constraints import suggest_constraints

        base = monitor.load_baseline(statistics, "Baseline statistics")
        constraints = suggest_constraints(base)
    metrics_dir = env.get("CLOUDWATCH_METRICS_DIRECTORY") or str(paths.metrics)
    result = monitor.run_monitoring(
        source,
        statistics,
        constraints,
        dataset_format=env["dataset_format"],
        output_dir=env["output_path"],
        start_time=env.get("start_time") or None,
        end_time=env.get("end_time") or None,
        record_preprocessor_script=env.get("record_preprocessor_script") or None,
        publish_cloudwatch_metrics=env.get("publish_cloudwatch_metrics", "Disabled"),
        metrics_dir=metrics_dir,
        endpoint_name=env.get("sagemaker_endpoint_name") or None,
        schedule_name=env.get("sagemaker_monitoring_schedule_name") or None,
        metric_time=env.get("metric_time") or None,
    )
    log(f"Analysed {result.item_count} records, {len(result.violations)} violations")
    for check, count in result.counts_by_check().items():
        log(f"  {check}: {count}")
    for f in result.files:
        log(f"Wrote {f}")
    return result.exit_message


def _write_message(paths: JobPaths, message: str) -> None:
    paths.message.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.message.with_name(".message.tmp")
    tmp.write_text(message, encoding="utf-8")
    tmp.replace(paths.message)
    log(f"Write to file {paths.message}.")


def run(env: Mapping[str, str] | None = None) -> int:
    """Run one analyzer job like the container does; returns the exit code (0 or 255).

    Args:
        env: the job's environment (default ``os.environ``). ``MMLAB_OPT_ML`` in it (or in
            ``os.environ``) moves the fixed ``/opt/ml`` paths.
    """
    env = dict(os.environ if env is None else env)
    opt_ml = env.get("MMLAB_OPT_ML") or os.environ.get("MMLAB_OPT_ML") or DEFAULT_OPT_ML
    paths = JobPaths(Path(opt_ml))
    try:
        job_env = job_environment(env, paths)
        log(
            f"Current Environment: {json.dumps({k: job_env[k] for k in sorted(job_env) if k in ANALYZER_KEYS})}"
        )
        missing = [k for k in REQUIRED if not job_env.get(k)]
        if missing:
            raise AnalyzerError(f"Missing required environment variable(s): {', '.join(missing)}")
        log(f"AnalyticsInput: {json.dumps(analytics_input(job_env, paths))}")
        analysis = (job_env.get("analysis_type") or "DATA_QUALITY").upper()
        if analysis != "DATA_QUALITY":
            raise AnalyzerError(
                f"analysis_type {job_env['analysis_type']} is not supported: this analyzer "
                "re-implements the data-quality monitor only"
            )
        # on AWS the container's environment is the job's, so scripts read e.g. output_path;
        # here the path variables are the relocated ones
        exported = {k: v for k, v in job_env.items() if v}
        with scripts.job_environment(exported):
            kind, _ = monitor.resolve_format(job_env["dataset_format"])
            preprocessor = None
            if job_env.get("record_preprocessor_script"):
                scripts.check_preprocessor_format(kind)
                preprocessor = scripts.RecordPreprocessor(job_env["record_preprocessor_script"])
            postprocessor = None
            if job_env.get("post_analytics_processor_script"):
                postprocessor = scripts.PostAnalyticsProcessor(
                    job_env["post_analytics_processor_script"]
                )
            if job_env.get("baseline_constraints") or job_env.get("baseline_statistics"):
                message = _monitoring(job_env, paths)
            else:
                message = _baseline(job_env, preprocessor)
            if postprocessor is not None:
                log("Calling postprocess_handler()")
                postprocessor()
        log(message)
        _write_message(paths, message)
        return SUCCESS
    except AnalyzerError as err:
        message = str(err)
    except Exception as exc:  # an analyzer bug: still fail like the container, with a trace
        traceback.print_exc(file=sys.stdout)
        message = f"{type(exc).__name__}: {exc}"
    print(f"ERROR Main - {message}", flush=True)
    try:
        _write_message(paths, message)
    except OSError as exc:
        print(f"ERROR Main - cannot write {paths.message}: {exc}", flush=True)
    return FAILURE


def main() -> int:
    """Console entry point: the process environment is the job's."""
    return run(os.environ)
