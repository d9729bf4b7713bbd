"""Fixed start-up costs: a container run does not import pandas (issue 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MMLAB_")}
    full.update(env or {})
    full["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120
    )


def test_container_child_runs_without_importing_pandas(tmp_path):
    opt_ml = tmp_path / "opt_ml"
    data = opt_ml / "processing" / "input" / "data" / "train.csv"
    data.parent.mkdir(parents=True)
    data.write_text("a,b\n1,2\n3,4.5\n")
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "dataset_format": json.dumps({"csv": {"header": True}}),
        "dataset_source": "/opt/ml/processing/input/data",
        "output_path": "/opt/ml/processing/output",
    }
    code = (
        "import sys\n"
        "from mmutils.analyzer.container import _isolated_run\n"
        "rc = _isolated_run(None)\n"
        "print(rc, 'pandas' in sys.modules)\n"
    )
    proc = _python(code, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 False"
    stats = json.loads((opt_ml / "processing" / "output" / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 2


def test_pandas_still_works_after_the_probe_was_skipped():
    code = (
        "import sys\n"
        "from mmutils.analyzer.startup import skip_pandas_probe\n"
        "assert skip_pandas_probe() is True\n"
        "import pyarrow as pa\n"
        "pa.array(['x'])\n"
        "assert 'pandas' not in sys.modules\n"
        "import pandas as pd\n"
        "t = pa.Table.from_pandas(pd.DataFrame({'a': [1, 2]}))\n"
        "print(t.to_pandas()['a'].tolist(), skip_pandas_probe())\n"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[1, 2] False"


def test_baseline_of_a_file_does_not_import_pandas_to_test_a_type():
    code = (
        "import sys\n"
        "from mmutils.analyzer.baseline import _is_dataframe\n"
        "print(_is_dataframe('train.csv'), 'pandas' in sys.modules)\n"
        "import pandas as pd\n"
        "class Sub(pd.DataFrame):\n"
        "    pass\n"
        "print(_is_dataframe(pd.DataFrame()), _is_dataframe(Sub()), _is_dataframe([1]))\n"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["False False", "True True False"]


def test_supervising_parent_does_not_load_the_analysis_modules(tmp_path):
    """``python -m mmutils.analyzer`` supervises; pyarrow/numpy load only in its child."""
    opt_ml = tmp_path / "opt_ml"
    data = opt_ml / "processing" / "input" / "data" / "train.csv"
    data.parent.mkdir(parents=True)
    data.write_text("a,b\n1,2\n3,4.5\n")
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "dataset_format": json.dumps({"csv": {"header": True}}),
        "dataset_source": "/opt/ml/processing/input/data",
        "output_path": "/opt/ml/processing/output",
    }
    code = (
        "import runpy, sys\n"
        "try:\n"
        "    runpy.run_module('mmutils.analyzer', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "print('RESULT', code, 'pyarrow' in sys.modules, 'numpy' in sys.modules)\n"
    )
    proc = _python(code, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "RESULT 0 False False"
    assert (opt_ml / "processing" / "output" / "constraints.json").is_file()
