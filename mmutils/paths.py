"""Well-known paths of the project checkout."""

from __future__ import annotations

from pathlib import Path

#: The repository root (the folder that holds ``mmutils/``).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The lab's generated dataset and model (committed).
TEST_DATA = REPO_ROOT / "test_data"
#: The lab notebooks.
NOTEBOOKS = REPO_ROOT / "notebooks"
