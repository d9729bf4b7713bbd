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
import posixpath
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mmutils.analyzer import isolation, jsonfmt, monitor, scripts
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
    "ground_truth_source",  # model quality: the merge job's labels
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
        # model quality (mmutils.analyzer.model_quality.job)
        "problem_type",
        "inference_attribute",
        "probability_attribute",
        "probability_threshold_attribute",
        "ground_truth_attribute",
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

    def relocate(self, value: str, key: str = "path", *, confine: bool = False) -> str:
        """``/opt/ml/x`` -> ``{opt_ml}/x`` (normalised); other values unchanged.

        A value that names ``/opt/ml`` but leaves it once normalised (``/opt/ml/../etc``) is
        refused, relocated or not, and so is a relocated path that a symbolic link inside the
        job folder leads out of it. With ``confine`` (``MMLAB_CONFINE_PATHS=1``) every
        absolute path must lie under ``/opt/ml``.

        Args:
            value: the variable's value.
            key: the variable's name, for the message.
            confine: refuse absolute paths outside ``/opt/ml`` too.

        Raises:
            AnalyzerError: the path leaves ``/opt/ml``.
        """
        if not value.startswith("/"):
            return value
        names_opt_ml = value == DEFAULT_OPT_ML or value.startswith(DEFAULT_OPT_ML + "/")
        normal = posixpath.normpath(value)
        if normal.startswith("//"):
            normal = "/" + normal.lstrip("/")
        inside = normal == DEFAULT_OPT_ML or normal.startswith(DEFAULT_OPT_ML + "/")
        if (names_opt_ml or confine) and not inside:
            raise AnalyzerError(
                f"Invalid {key} {value!r}: the path leaves {DEFAULT_OPT_ML} "
                f"(it resolves to {normal!r}); paths must stay inside {DEFAULT_OPT_ML}"
            )
        if not inside or str(self.opt_ml) == DEFAULT_OPT_ML:
            return normal if inside else value
        relocated = self.opt_ml / normal[len(DEFAULT_OPT_ML) + 1 :]
        root = self.opt_ml.resolve()
        if not relocated.resolve().is_relative_to(root):
            raise AnalyzerError(
                f"Invalid {key} {value!r}: a symbolic link leads it out of {DEFAULT_OPT_ML}"
            )
        return str(relocated)


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
    confine = _flag(env.get("MMLAB_CONFINE_PATHS") or os.environ.get("MMLAB_CONFINE_PATHS"))
    for key in PATH_VARIABLES:
        if merged.get(key):
            merged[key] = paths.relocate(merged[key], key, confine=confine)
    return merged


def _flag(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes")


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
        "problem_type": get("problem_type"),
        "inference_attribute": get("inference_attribute"),
        "probability_attribute": get("probability_attribute"),
        "ground_truth_attribute": get("ground_truth_attribute"),
        "probability_threshold_attribute": get("probability_threshold_attribute"),
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
    from mmutils.analyzer import parallel
    from mmutils.analyzer.baseline import suggest_baseline
    from mmutils.analyzer.column_groups import make_profiler
    from mmutils.analyzer.constraints import suggest_constraints

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
        # a pre-processor runs customer code per record: its rows come one thread's way
        workers = 1 if preprocessor is not None else parallel.default_workers()
        workers = parallel.workers_for(workers, source)
        dataset = monitor.open_dataset(
            source, kind, options, preprocessor=preprocessor, workers=workers
        )
        with (
            parallel.closing(dataset.chunks),
            make_profiler(dataset.names, workers) as profiler,
        ):
            for chunk in dataset.chunks:
                profiler.update(chunk)
            if profiler.item_count == 0:
                raise NoDataError()
            if profiler.recount_rows():  # columns that turned String late
                profiler.recount_from(dataset.reopen())
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


def _model_quality_kind(env: Mapping[str, str]) -> str | None:
    """``"merge"`` / ``"model_quality"`` for the model-quality jobs, None for data quality."""
    analysis = (env.get("analysis_type") or "").upper()
    if analysis == "MODEL_QUALITY" or (not analysis and env.get("ground_truth_source")):
        return _model_quality_job().job_kind(env)
    return None


def _model_quality_job():
    # imported when used: data-quality jobs never load the model-quality modules
    from mmutils.analyzer.model_quality import job

    return job


def _run_model_quality(kind: str, env: Mapping[str, str], paths: JobPaths) -> str:
    """The ground-truth merge job or the model-quality analysis (baseline or monitoring)."""
    job = _model_quality_job()
    isolation.report_phase(PHASE_ANALYSIS)
    if kind == "merge":
        return job.run_merge(env, log)
    metrics_dir = env.get("CLOUDWATCH_METRICS_DIRECTORY") or str(paths.metrics)
    return job.run_model_quality(env, metrics_dir, log)


def _write_message(paths: JobPaths, message: str) -> None:
    """Write the message file through a unique temporary name (concurrent runs never collide)."""
    paths.message.parent.mkdir(parents=True, exist_ok=True)
    jsonfmt.write_text_atomic(paths.message, message)
    log(f"Write to file {paths.message}.")


def _check_job_values(job_env: Mapping[str, str]) -> None:
    """Refuse values the container would misread (boolean-ish flags, the analysis window)."""
    monitor.enabled_flag(job_env.get("publish_cloudwatch_metrics"), "publish_cloudwatch_metrics")
    monitor.check_window(job_env.get("start_time") or None, job_env.get("end_time") or None)


def run(env: Mapping[str, str] | None = None) -> int:
    """Run one analyzer job like the container does; returns the exit code (0 or 255).

    Customer scripts run in this process: an exception or ``sys.exit`` in them fails the job,
    but ``os._exit`` or an endless loop cannot be caught here; :func:`main` (the image's entry
    point) therefore calls this in an isolated child process.

    Args:
        env: the job's environment (default ``os.environ``). ``MMLAB_OPT_ML`` in it (or in
            ``os.environ``) moves the fixed ``/opt/ml`` paths.
    """
    env = dict(os.environ if env is None else env)
    paths = job_paths(env)
    try:
        job_env = job_environment(env, paths)
        log(
            f"Current Environment: {json.dumps({k: job_env[k] for k in sorted(job_env) if k in ANALYZER_KEYS})}"
        )
        mq_kind = _model_quality_kind(job_env)
        needed = REQUIRED if mq_kind is None else _model_quality_job().required(mq_kind)
        missing = [k for k in needed if not job_env.get(k)]
        if missing:
            raise AnalyzerError(f"Missing required environment variable(s): {', '.join(missing)}")
        log(f"AnalyticsInput: {json.dumps(analytics_input(job_env, paths))}")
        analysis = (job_env.get("analysis_type") or "DATA_QUALITY").upper()
        if mq_kind is None and analysis != "DATA_QUALITY":
            raise AnalyzerError(
                f"analysis_type {job_env['analysis_type']} is not supported: this analyzer "
                "re-implements the data-quality and model-quality monitors only"
            )
        _check_job_values(job_env)
        if mq_kind is not None:
            message = _run_model_quality(mq_kind, job_env, paths)
            log(message)
            _write_message(paths, message)
            return SUCCESS
        # on AWS the container's environment is the job's, so scripts read e.g. output_path;
        # here the path variables are the relocated ones
        exported = {k: v for k, v in job_env.items() if v}
        with scripts.job_environment(exported):
            kind, _ = monitor.resolve_format(job_env["dataset_format"])
            preprocessor = None
            if job_env.get("record_preprocessor_script"):
                scripts.check_preprocessor_format(kind)
                isolation.report_phase(PHASE_PRE_IMPORT)
                preprocessor = scripts.RecordPreprocessor(job_env["record_preprocessor_script"])
            postprocessor = None
            if job_env.get("post_analytics_processor_script"):
                isolation.report_phase(PHASE_POST_IMPORT)
                postprocessor = scripts.PostAnalyticsProcessor(
                    job_env["post_analytics_processor_script"]
                )
            isolation.report_phase(PHASE_PRE_RUN if preprocessor else PHASE_ANALYSIS)
            if job_env.get("baseline_constraints") or job_env.get("baseline_statistics"):
                message = _monitoring(job_env, paths)
            else:
                message = _baseline(job_env, preprocessor)
            if postprocessor is not None:
                isolation.report_phase(PHASE_POST_RUN)
                log("Calling postprocess_handler()")
                postprocessor()
            isolation.report_phase(PHASE_FINISH)
        log(message)
        _write_message(paths, message)
        return SUCCESS
    except AnalyzerError as err:
        message = str(err)
    except Exception as exc:  # an analyzer bug: still fail like the container, with a trace
        traceback.print_exc(file=sys.stdout)
        message = f"{type(exc).__name__}: {exc}"
    _fail(paths, message)
    return FAILURE


def _fail(paths: JobPaths, message: str) -> None:
    print(f"ERROR Main - {message}", flush=True)
    try:
        _write_message(paths, message)
    except OSError as exc:
        print(f"ERROR Main - cannot write {paths.message}: {exc}", flush=True)


def job_paths(env: Mapping[str, str]) -> JobPaths:
    """The fixed locations for ``env`` (``MMLAB_OPT_ML`` normalised to an absolute path)."""
    opt_ml = env.get("MMLAB_OPT_ML") or os.environ.get("MMLAB_OPT_ML") or DEFAULT_OPT_ML
    return JobPaths(Path(os.path.abspath(opt_ml)))


#: what the analysis is doing, as reported to the supervising parent (see :func:`main`)
PHASE_PRE_IMPORT = "importing the record preprocessor script"
PHASE_POST_IMPORT = "importing the post-analytics processor script"
PHASE_PRE_RUN = "running the record preprocessor script"
PHASE_ANALYSIS = "analysing the dataset"
PHASE_POST_RUN = "running the post-analytics processor script"
PHASE_FINISH = "writing the job's message"


def abnormal_end_message(outcome: isolation.Outcome, limit: float | None) -> str:
    """The failure message of an analysis that ended without reporting (spec §D.4 style).

    Args:
        outcome: how the isolated analysis ended.
        limit: the time limit in seconds, if any.
    """
    phase = outcome.phase or "starting the analysis"
    if outcome.timed_out:
        return (
            f"ClientError: the analysis exceeded its maximum runtime of {limit:g} seconds "
            f"while {phase} and was stopped"
        )
    if outcome.stopped:
        return f"Stopped: the analysis was stopped while {phase}"
    text = f"the analysis process {outcome.how_it_ended()} while {phase}"
    if phase in (PHASE_PRE_IMPORT, PHASE_PRE_RUN):
        return f"{scripts.PREPROCESSOR_EXCEPTION} ({text})"
    if phase in (PHASE_POST_IMPORT, PHASE_POST_RUN):
        return f"{scripts.POSTPROCESSOR_EXCEPTION} ({text})"
    return f"AlgorithmError: {text}"


def max_runtime(env: Mapping[str, str], paths: JobPaths) -> float | None:
    """The job's time limit: ``MMLAB_MAX_RUNTIME``, else the job config's ``MaxRuntimeInSeconds``.

    Raises:
        AnalyzerError: the value is not a positive number of seconds.
    """
    value = env.get(isolation.MAX_RUNTIME_ENV)
    if value:
        return isolation.parse_max_runtime(value)
    if paths.job_config.is_file():
        try:
            config = json.loads(paths.job_config.read_text())
        except (json.JSONDecodeError, OSError):
            return None  # run() reports an unreadable job config
        limit = ((config or {}).get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        if limit not in (None, ""):
            return isolation.parse_max_runtime(limit, "StoppingCondition.MaxRuntimeInSeconds")
    return None


def _isolated_run(_payload) -> int:
    from mmutils.analyzer.startup import skip_pandas_probe

    skip_pandas_probe()  # a dedicated process: ~0.3 s of pandas import saved per run
    return run(os.environ)


def main(*, fork: bool = False) -> int:
    """Console entry point: the process environment is the job's.

    The analysis runs in an isolated child (:mod:`mmutils.analyzer.isolation`): only a child
    that returns from :func:`run` can end the job as a success; one that exits early, is killed
    or exceeds the time limit (``MMLAB_MAX_RUNTIME`` or the job's ``MaxRuntimeInSeconds``)
    fails it with exit code 255 and a message naming what it was doing.

    Args:
        fork: fork the isolated child from this process rather than start a new interpreter
            (the warm fork server's jobs, :mod:`mmutils.analyzer.forkserver`).
    """
    env = dict(os.environ)
    paths = job_paths(env)
    try:
        limit = max_runtime(env, paths)
    except AnalyzerError as err:
        _fail(paths, str(err))
        return FAILURE
    outcome = isolation.call(f"{__name__}:_isolated_run", None, max_runtime=limit, fork=fork)
    if outcome.reported and outcome.result in (SUCCESS, FAILURE):
        return int(outcome.result)
    _fail(paths, abnormal_end_message(outcome, limit))
    return FAILURE
