"""The peers harness of benchmarks/bench_analyzer.py: skips the peers clearly without their
venv, creates that venv with the project's own command, and measures the peers when it exists.

Nothing here installs anything: ``--setup-peers`` is checked through the commands it would run.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from mmutils.paths import REPO_ROOT

BENCH = REPO_ROOT / "benchmarks"


@pytest.fixture()
def bench(monkeypatch):
    """``bench_analyzer`` and ``bench_peers`` imported as the script imports them."""
    monkeypatch.syspath_prepend(str(BENCH))
    analyzer = importlib.import_module("bench_analyzer")
    return analyzer, importlib.import_module("bench_peers")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (BENCH / "peers-requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name] = version
    return pins


def test_requirements_pin_every_peer():
    pins = _pins()
    for peer in ("whylogs", "evidently", "datasketches", "pandas", "pyarrow", "numpy"):
        assert pins.get(peer), f"{peer} is not pinned with == in peers-requirements.txt"


def test_peers_venv_is_gitignored():
    assert ".venv-peers/" in (REPO_ROOT / ".gitignore").read_text().splitlines()


def test_setup_peers_creates_the_venv_and_installs_only_into_it(bench, monkeypatch, tmp_path):
    analyzer, peers = bench
    venv = tmp_path / ".venv-peers"
    monkeypatch.setattr(peers, "DEFAULT_VENV", venv)
    calls = []

    def run(cmd, **kwargs):
        calls.append([str(c) for c in cmd])
        out = '{"python": "3.11.7", "whylogs": "1.6.4"}' if "-c" in cmd else ""
        return subprocess.CompletedProcess(cmd, 0, stdout=out, stderr="")

    monkeypatch.setattr(peers.subprocess, "run", run)
    assert analyzer.main(["--setup-peers"]) == 0
    python = str(venv / "bin" / "python")
    assert calls[0] == [sys.executable, "-m", "venv", str(venv)]
    assert calls[1][:3] == [python, "-m", "pip"]
    assert calls[1][-2:] == ["-r", str(BENCH / "peers-requirements.txt")]
    assert calls[2][0] == python  # the versions are read from the new venv
    assert len(calls) == 3


def test_peer_cases_skip_with_a_note_without_the_venv(bench, monkeypatch, tmp_path, capsys):
    analyzer, peers = bench
    monkeypatch.setattr(peers, "DEFAULT_VENV", tmp_path / "no-venv")
    code = analyzer.main(
        ["--sizes", "2000", "--cases", "baseline,whylogs,pandas-capture", "--workers", "1"]
        + ["--repeat", "1", "--data-dir", str(tmp_path / "data")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert (
        f"note: no peers venv at {tmp_path / 'no-venv'}; skipping the peer cases "
        "whylogs, pandas-capture (create it with `python benchmarks/bench_analyzer.py "
        "--setup-peers`, or pass --peers-python)"
    ) in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("2,000")]
    assert [row[1] for row in rows] == ["baseline"]
    assert "peers (" not in out


def test_capture_parsers_read_every_record(bench, tmp_path):
    """The pandas and pyarrow capture parsers of the peers, on generated lab-shaped data."""
    analyzer, peers = bench
    pytest.importorskip("pandas")
    paths = analyzer.generate(tmp_path, 3000)
    names = peers._capture_names(paths["csv"])
    assert len(names) == 70 and names[0] == "prediction" and names[1] == "Account Length"
    files = peers._capture_files(paths["capture"])
    assert len(files) == 1
    frame = peers._parse_capture_pandas(files[0], names)
    table = peers._parse_capture_arrow(files[0], names)
    assert frame.shape == (3000, 70) and table.num_rows == 3000
    assert list(frame.columns) == names == table.column_names
    assert frame["Account Length"].tolist() == table.column("Account Length").to_pylist()
    assert peers.case_pandas_capture(dict(paths)) == 3000


@pytest.mark.slow
def test_peer_cases_run_in_the_peers_venv(bench, tmp_path, capsys):
    """Measured side by side with our cases when .venv-peers exists (skipped otherwise)."""
    analyzer, peers = bench
    python = peers.default_peers_python()
    if python is None:
        pytest.skip("no .venv-peers: `python benchmarks/bench_analyzer.py --setup-peers`")
    code = analyzer.main(
        ["--sizes", "2000", "--cases", "datasketches-capture,whylogs", "--repeat", "1"]
        + ["--data-dir", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"peers ({python}): python " in out
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("     2,000")}
    assert set(rows) == {"datasketches-capture", "whylogs"}
    pins = _pins()
    assert (
        f"datasketches {pins['datasketches']}: parse capture JSONL + KLL+counts"
        in rows["datasketches-capture"]
    )
    assert f"whylogs {pins['whylogs']}: profile, DataFrame in memory" in rows["whylogs"]
