"""Post-analytics processor for the lab's monitoring schedule.

Model Monitor calls ``postprocess_handler()`` (no arguments) after a successful analysis. The
job's environment is in ``os.environ``; the reports are in ``output_path``. This one writes a
small ``summary.json`` beside them: how many records were analysed and the violations per check.
"""

import json
import os
from collections import Counter
from pathlib import Path


def postprocess_handler():
    out = Path(os.environ["output_path"])
    stats = json.loads((out / "statistics.json").read_text())
    violations_file = out / "constraint_violations.json"
    violations = []
    if violations_file.exists():
        violations = json.loads(violations_file.read_text()).get("violations", [])
    summary = {
        "endpoint": os.environ.get("sagemaker_endpoint_name"),
        "schedule": os.environ.get("sagemaker_monitoring_schedule_name"),
        "start_time": os.environ.get("start_time"),
        "end_time": os.environ.get("end_time"),
        "records": stats["dataset"]["item_count"],
        "violations": dict(sorted(Counter(v["constraint_check_type"] for v in violations).items())),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"post-processor: wrote summary.json ({summary['records']} records)")
