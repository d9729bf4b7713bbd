"""The lab against a real AWS account: opt-in only (MMLAB_LIVE=1 pytest -m live).

Uses a unique PREFIX per run, and notebook 04's cleanup deletes the schedule, endpoint and
model even when an earlier notebook failed. Outputs go to a temporary folder: live outputs are
never committed.
"""

from __future__ import annotations

import os
import uuid

import pytest

from mmutils.lab.runner import run_lab

pytestmark = pytest.mark.live


def test_lab_runs_on_a_live_account(tmp_path):
    prefix = f"mmlab-live-{uuid.uuid4().hex[:8]}"
    params = {
        "PREFIX": prefix,
        "REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "N_REQUESTS": 120,
        "HOURS": 1,
        "INJECT_DRIFT": True,
    }
    try:
        report = run_lab(output=tmp_path / "run", backend="live", parameters=params)
    finally:
        import mmutils
        from mmutils import lab

        aws = mmutils.connect("live", region=params["REGION"])
        names = lab.names(prefix, aws.bucket)
        sm = aws.client("sagemaker")
        lab.delete_schedule_if_exists(sm, names.schedule)
        lab.delete_endpoint_if_exists(sm, names.endpoint, names.model)
    assert len(report.executions) >= 2
    assert any("baseline_drift_check" in ex["violations"] for ex in report.executions)
