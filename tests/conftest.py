"""Shared pytest fixtures: the conformance folder, the lab's test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# test emulators (subprocesses inherit it) keep a frozen clock: exact times in assertions; the
# flowing clock has its own tests, which ask for it
os.environ.setdefault("MMLAB_CLOCK", "frozen")

from mmutils.paths import REPO_ROOT, TEST_DATA

#: ../shared/conformance beside the checkout (override with MMLAB_CONFORMANCE)
CONFORMANCE = Path(os.environ.get("MMLAB_CONFORMANCE", REPO_ROOT.parent / "shared" / "conformance"))


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The real service's outputs; tests that need them skip when the folder is absent."""
    if not CONFORMANCE.is_dir():
        pytest.skip(f"conformance data not found at {CONFORMANCE} (set MMLAB_CONFORMANCE)")
    return CONFORMANCE


@pytest.fixture(scope="session")
def test_data_dir() -> Path:
    """The lab's generated dataset and model, committed in test_data/."""
    return TEST_DATA


def pytest_collection_modifyitems(config, items):
    """Skip live tests unless MMLAB_LIVE=1."""
    if os.environ.get("MMLAB_LIVE") == "1":
        return
    skip = pytest.mark.skip(reason="live AWS tests are opt-in: MMLAB_LIVE=1 pytest -m live")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
