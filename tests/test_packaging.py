"""pyproject.toml and environment.yml pin the same dependencies."""

from __future__ import annotations

import re
import tomllib

from mmutils.paths import REPO_ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!\[ ;]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        _name(r): r for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    }
    env = (REPO_ROOT / "environment.yml").read_text()
    listed = {}
    for line in env.splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.\-\[\]]+)([<>=!][^#]*)?", line)
        if m and not line.strip().startswith("- -e"):
            listed[_name(m.group(1))] = (m.group(2) or "").strip()
    missing = sorted(set(wanted) - set(listed))
    assert not missing, f"environment.yml lacks {missing}"
    for name, spec in listed.items():
        if name in wanted:
            pinned = wanted[name][len(name) :].replace("[server]", "").strip()
            assert spec.replace(" ", "") == pinned.replace(" ", ""), (name, spec, pinned)


def test_sdk_and_moto_pins():
    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "sagemaker>=2.257.7,<3" in deps
    assert "moto[server]==5.2.5" in deps


def test_package_data_names_files_that_exist():
    """Every package-data pattern of pyproject.toml matches a file of the package."""
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package, patterns in setuptools.get("package-data", {}).items():
        root = REPO_ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            assert any(root.glob(pattern)), f"package-data {package}: {pattern} matches no file"
