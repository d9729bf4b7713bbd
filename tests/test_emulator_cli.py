"""``mmlab emulator …``: start/status/env/clock/reset/stop from a shell."""

from __future__ import annotations

import json
import re

import pytest

from mmutils.cli import main
from mmutils.emulator import lifecycle


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MMLAB_HOME", str(tmp_path / "home"))
    yield tmp_path / "home"
    lifecycle.stop(timeout=5)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["emulator", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_commands_without_an_emulator_say_how_to_start_one(home, capsys):
    for argv in (["status"], ["env"], ["clock", "show"], ["clock", "advance", "1h"]):
        code, out, err = run(capsys, *argv)
        assert code == 1, argv
        assert "no emulator is running; start one with `mmlab emulator start`" in err
    code, out, _ = run(capsys, "stop")
    assert code == 0 and out.strip() == "no emulator was running"
    code, out, _ = run(capsys, "reset")  # nothing running: the saved state is forgotten
    assert code == 0 and "no emulator is running; deleted its saved state" in out


def test_start_status_env_clock_reset_stop(home, capsys):
    code, out, _ = run(capsys, "start")
    assert code == 0
    match = re.search(r"mmlab emulator started at (http://127\.0\.0\.1:(\d+)) \(pid (\d+)", out)
    assert match, out
    url, pid = match.group(1), int(match.group(3))
    assert 'eval "$(mmlab emulator env)"' in out
    state = json.loads((home / "emulator.json").read_text())
    assert state["pid"] == pid and state["endpoint_url"] == url

    code, out, _ = run(capsys, "start")
    assert code == 0 and f"already running at {url} (pid {pid}" in out

    code, out, _ = run(capsys, "status")
    assert code == 0
    assert f"running at {url}" in out and f"pid        {pid}" in out
    assert re.search(r"clock      \d{4}-\d\d-\d\dT[\d:.]+Z \(real\)", out)

    code, out, _ = run(capsys, "env")
    assert code == 0
    assert f"export AWS_ENDPOINT_URL={url}" in out.splitlines()
    assert "unset AWS_PROFILE" in out.splitlines()

    code, out, _ = run(capsys, "clock", "set", "2026-01-05T09:55:00Z")
    assert code == 0
    assert out.splitlines()[0] == "emulator clock: 2026-01-05T09:55:00.000Z (frozen)"
    code, out, _ = run(capsys, "clock", "advance", "90s")
    assert out.splitlines()[0] == "emulator clock: 2026-01-05T09:56:30.000Z (frozen)"
    assert "no monitoring execution fell due" in out
    code, out, _ = run(capsys, "clock", "advance", "2m")
    assert out.splitlines()[0] == "emulator clock: 2026-01-05T09:58:30.000Z (frozen)"
    code, out, _ = run(capsys, "clock", "advance", "--to-next-hour")
    assert out.splitlines()[0] == "emulator clock: 2026-01-05T10:00:00.000Z (frozen)"
    code, out, _ = run(capsys, "clock", "advance", "1h")
    assert out.splitlines()[0] == "emulator clock: 2026-01-05T11:00:00.000Z (frozen)"
    code, out, _ = run(capsys, "clock", "show")
    assert out.strip() == "emulator clock: 2026-01-05T11:00:00.000Z (frozen)"
    code, out, _ = run(capsys, "clock")
    assert out.strip() == "emulator clock: 2026-01-05T11:00:00.000Z (frozen)"

    code, _, err = run(capsys, "clock", "advance", "soon")
    assert code == 1 and "soon" in err
    code, _, err = run(capsys, "clock", "advance")
    assert code == 1 and "--to-next-hour" in err
    code, _, err = run(capsys, "clock", "set", "yesterday")
    assert code == 1 and "yesterday" in err

    code, out, _ = run(capsys, "clock", "real")
    assert code == 0 and out.splitlines()[0].endswith("(real)")

    code, out, _ = run(capsys, "reset")
    assert code == 0 and "emulator reset" in out

    code, out, _ = run(capsys, "stop")
    assert code == 0 and out.strip() == f"stopped the mmlab emulator (pid {pid}, {url})"
    assert not lifecycle._pid_alive(pid)
    code, _, err = run(capsys, "status")
    assert code == 1 and "mmlab emulator start" in err


def test_emulator_without_action_prints_help(capsys):
    assert main(["emulator"]) == 2
    assert "start" in capsys.readouterr().out
