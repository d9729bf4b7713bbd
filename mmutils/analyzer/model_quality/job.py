"""The container side of model quality: the ground-truth merge job and the analysis job.

:mod:`mmutils.analyzer.container` hands a job here when its environment says so
(docs/model-quality-formats.md §1):

* **merge job** (image ``sagemaker-model-monitor-groundtruth-merger``): ``ground_truth_source``
  is set and ``analysis_type`` is not ``MODEL_QUALITY``. Env: ``dataset_source`` (the window's
  capture), ``ground_truth_source``, ``output_path``, ``start_time``/``end_time`` (the window;
  UNCONFIRMED names for this image). Writes the merged records
  (:mod:`~mmutils.analyzer.model_quality.merged`).
* **analysis job** (``analysis_type=MODEL_QUALITY``): ``problem_type``, ``inference_attribute``,
  ``probability_attribute``, ``probability_threshold_attribute``, ``ground_truth_attribute``
  (the SDK's names), plus the data-quality keys. Without ``baseline_constraints`` it is a
  baseline job over a labelled CSV / JSON-lines dataset; with them a monitoring execution over
  the merge job's output (``dataset_format={"sagemakerMergeJson": …}``) or, when
  ``ground_truth_source`` is also set, over capture merged in memory.

Each function returns the job's message (``Completed: …`` / ``CompletedWithViolations: …``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.model_quality import api, merged
from mmutils.analyzer.model_quality.merge import describe_no_match, merge

MODEL_QUALITY = "MODEL_QUALITY"
#: the env keys the model-quality jobs consume (beyond the data-quality ones)
KEYS = (
    "problem_type",
    "inference_attribute",
    "probability_attribute",
    "probability_threshold_attribute",
    "ground_truth_attribute",
    "ground_truth_source",
)
#: the path-valued ones (relocated under $MMLAB_OPT_ML like dataset_source)
PATH_KEYS = ("ground_truth_source",)
MERGE_REQUIRED = ("dataset_source", "ground_truth_source", "output_path")
ANALYSIS_REQUIRED = ("dataset_source", "output_path", "problem_type")


def job_kind(env: Mapping[str, str]) -> str | None:
    """``"merge"``, ``"model_quality"`` or None (a data-quality job)."""
    analysis = (env.get("analysis_type") or "").upper()
    if analysis == MODEL_QUALITY:
        return "model_quality"
    if not analysis and env.get("ground_truth_source"):
        return "merge"
    return None


def required(kind: str) -> tuple[str, ...]:
    """The variables a job of ``kind`` cannot run without."""
    return MERGE_REQUIRED if kind == "merge" else ANALYSIS_REQUIRED


def _get(env: Mapping[str, str], key: str) -> str | None:
    return env.get(key) or None


def _format_kind(text: str | None) -> str:
    if not text:
        return ""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return text.strip()
    return next(iter(doc), "") if isinstance(doc, dict) else ""


def run_merge(env: Mapping[str, str], log: Callable[[str], None]) -> str:
    """The ground-truth merge job: the window's capture joined to the labels.

    Raises:
        NoDataError: no capture or ground truth, or no captured record found its label.
        AnalyzerError: a malformed record (file and line named).
    """
    source, truth = env["dataset_source"], env["ground_truth_source"]
    result = merge(source, truth, _get(env, "start_time"), _get(env, "end_time"))
    counts = result.summary()
    log(f"Merged {counts['merged']} records: {json.dumps(counts)}")
    if len(result) == 0:
        raise NoDataError(describe_no_match(result, (source, truth)))
    for path in merged.write_merged(result, env["output_path"]):
        log(f"Wrote {path}")
    return (
        f"Completed: Merged {counts['merged']} of {counts['captured']} captured records "
        f"with ground truth ({counts['unmatched_captures']} without a label)."
    )


def _attributes(env: Mapping[str, str]) -> dict:
    return {
        "problem_type": env["problem_type"],
        "inference_attribute": _get(env, "inference_attribute"),
        "probability_attribute": _get(env, "probability_attribute"),
        "probability_threshold_attribute": _get(env, "probability_threshold_attribute"),
    }


def run_model_quality(env: Mapping[str, str], metrics_dir: str, log: Callable[[str], None]) -> str:
    """The model-quality analysis: a baseline job, or one monitoring execution.

    Raises:
        NoDataError: nothing to analyse.
        AnalyzerError: a missing attribute, a bad value or bad constraints.
    """
    if not env.get("baseline_constraints"):
        if not _get(env, "ground_truth_attribute"):
            raise AnalyzerError(
                "ground_truth_attribute is required for a model-quality baseline job"
            )
        result = api.suggest_model_quality_baseline(
            env["dataset_source"],
            ground_truth_attribute=env["ground_truth_attribute"],
            dataset_format=_get(env, "dataset_format"),
            output_dir=env["output_path"],
            **_attributes(env),
        )
        log(f"Analysed {result.statistics['dataset']['item_count']} records")
        for path in result.files:
            log(f"Wrote {path}")
        return "Completed: Job completed successfully with no violations."
    common = dict(
        **_attributes(env),
        ground_truth_attribute=_get(env, "ground_truth_attribute"),
        output_dir=env["output_path"],
        publish_cloudwatch_metrics=env.get("publish_cloudwatch_metrics") or "Disabled",
        metrics_dir=metrics_dir,
        endpoint_name=_get(env, "sagemaker_endpoint_name"),
        schedule_name=_get(env, "sagemaker_monitoring_schedule_name"),
        metric_time=_get(env, "metric_time"),
    )
    kind = _format_kind(_get(env, "dataset_format"))
    if env.get("ground_truth_source"):
        result = api.run_model_quality_monitoring(
            env["dataset_source"],
            env["ground_truth_source"],
            env["baseline_constraints"],
            start_time=_get(env, "start_time"),
            end_time=_get(env, "end_time"),
            **common,
        )
    elif kind in ("", "sagemakerMergeJson"):
        rows = merged.read_merged(env["dataset_source"])
        result = api.monitor_merged(
            rows, env["baseline_constraints"], end_time=_get(env, "end_time"), **common
        )
    else:
        raise AnalyzerError(
            f"dataset_format {kind} is not supported for model-quality monitoring: use the "
            "merge job's output (sagemakerMergeJson), or set ground_truth_source"
        )
    log(f"Analysed {result.merge['merged']} records, {len(result.violations)} violations")
    for path in result.files:
        log(f"Wrote {path}")
    return result.exit_message


__all__ = [
    "KEYS",
    "MODEL_QUALITY",
    "PATH_KEYS",
    "job_kind",
    "required",
    "run_merge",
    "run_model_quality",
]
