"""The mmlab CLI skeleton."""

from __future__ import annotations

import subprocess
import sys

from mmutils import __version__
from mmutils.cli import main


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert f"mmlab {__version__}" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: mmlab" in capsys.readouterr().out


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "mmutils.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "COMMAND" in out.stdout
