"""``mmlab emulator start|stop|status|reset|env|clock``: drive the detached emulator from a shell."""

from __future__ import annotations

import argparse
import sys

from mmutils.emulator import lifecycle
from mmutils.emulator.admin_client import EmulatorClient, EmulatorError, parse_duration

_START_HINT = "start one with `mmlab emulator start`"


def port_number(text: str) -> int:
    """A TCP port 1-65535 (argparse type).

    Raises:
        argparse.ArgumentTypeError: not an integer in that range.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def register(subparsers) -> None:
    """Add the ``emulator`` command to the ``mmlab`` parser."""
    parser = subparsers.add_parser(
        "emulator",
        help="start/stop the local AWS emulator, print its environment, move its clock",
        description="The lab's local AWS (moto + Model Monitor), detached, on 127.0.0.1.",
    )
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    sub = parser.add_subparsers(dest="emulator_command", metavar="ACTION")

    p = sub.add_parser("start", help="start the emulator (or report the running one)")
    p.add_argument(
        "--port", type=port_number, default=None, help="port on 127.0.0.1 (default: free one)"
    )
    p.add_argument(
        "--state-dir", default=None, help="working folder (default $MMLAB_HOME/emulator)"
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for it (60)")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="start empty: delete the saved state (buckets, endpoints, schedules, …)",
    )
    p.set_defaults(func=_start)

    sub.add_parser("stop", help="stop the emulator this MMLAB_HOME started").set_defaults(
        func=_stop
    )
    sub.add_parser(
        "status", help="is it running? where? what time is it? what does its saved state hold?"
    ).set_defaults(func=_status)
    sub.add_parser(
        "reset", help="delete every emulated resource and the saved state (empty and forget)"
    ).set_defaults(func=_reset)
    p = sub.add_parser("env", help="print the shell lines that point AWS tools at the emulator")
    p.add_argument("--region", default=lifecycle.DEFAULT_REGION, help="emulated region")
    p.set_defaults(func=_env)

    clock = sub.add_parser("clock", help="show or move the emulator clock")
    clock.set_defaults(func=_clock_show)
    csub = clock.add_subparsers(dest="clock_command", metavar="ACTION")
    csub.add_parser("show", help="print the emulator time and mode").set_defaults(func=_clock_show)
    p = csub.add_parser(
        "set", help="put the clock at an ISO time (it runs on from there unless frozen)"
    )
    p.add_argument("when", metavar="ISO", help="e.g. 2026-01-05T09:55:00Z")
    p.set_defaults(func=_clock_set)
    p = csub.add_parser("advance", help="move the clock forward and run what falls due")
    p.add_argument("duration", nargs="?", metavar="DURATION", help="e.g. 90s, 2m, 1h")
    p.add_argument("--to-next-hour", action="store_true", help="jump to the next full hour")
    p.set_defaults(func=_clock_advance)
    csub.add_parser("real", help="follow real time again").set_defaults(func=_clock_real)
    csub.add_parser(
        "freeze", help="stop the clock until moved (deterministic runs; MMLAB_CLOCK=frozen)"
    ).set_defaults(func=_clock_freeze)
    csub.add_parser("flow", help="let a frozen clock run on at real speed").set_defaults(
        func=_clock_flow
    )


# --------------------------------------------------------------------------- admin client

#: what a failed admin call raises (a bad answer is a ValueError, no answer an EmulatorError)
_ERRORS = (ValueError, OSError, EmulatorError)


def _admin(info: lifecycle.EmulatorInfo) -> EmulatorClient:
    return EmulatorClient(info.endpoint_url)


# --------------------------------------------------------------------------- commands


def _fail(message: str) -> int:
    print(f"mmlab emulator: {message}", file=sys.stderr)
    return 1


def _running() -> lifecycle.EmulatorInfo | None:
    info = lifecycle.status()
    if info is None:
        print(f"no emulator is running; {_START_HINT}", file=sys.stderr)
    return info


def _start(args: argparse.Namespace) -> int:
    before = lifecycle.status()
    try:
        info = lifecycle.start(
            port=args.port, state_dir=args.state_dir, timeout=args.timeout, fresh=args.fresh
        )
    except EmulatorError as exc:
        return _fail(str(exc))
    verb = "already running" if before is not None and before.pid == info.pid else "started"
    if args.fresh:
        verb += (" and reset" if verb == "already running" else " empty") + " (--fresh)"
    if args.port and info.port != args.port:
        return _fail(
            f"an emulator is already running at {info.endpoint_url} (pid {info.pid}), not on "
            f"port {args.port}; stop it first with `mmlab emulator stop`"
        )
    print(f"mmlab emulator {verb} at {info.endpoint_url} (pid {info.pid}, log {info.log})")
    print('point a shell at it with: eval "$(mmlab emulator env)"')
    return 0


def _stop(args: argparse.Namespace) -> int:
    info = lifecycle.stop()
    if info is None:
        print("no emulator was running")
    else:
        print(f"stopped the mmlab emulator (pid {info.pid}, {info.endpoint_url})")
    return 0


def _print_saved_state(state_dir) -> None:
    from pathlib import Path

    from mmutils.emulator.persistence import folder

    use = folder.usage(folder.root_of(Path(state_dir)))

    def count(value) -> str:
        return "?" if value is None else str(value)

    print(f"  state      {use['folder']} ({use['bytes'] / 1e6:.1f} MB)")
    print(
        f"             {use['buckets']} buckets, {use['objects']} objects, "
        f"{count(use['endpoints'])} endpoints, {count(use['schedules'])} schedules"
        + (f" (snapshot {use['snapshot_at']})" if use["snapshot_at"] else "")
    )


def _status(args: argparse.Namespace) -> int:
    info = _running()
    if info is None:
        print("not running; saved state (loaded by the next start):")
        _print_saved_state(lifecycle.default_state_dir())
        return 1
    print(f"running at {info.endpoint_url}")
    print(f"  pid        {info.pid}")
    print(f"  started    {info.started_at}")
    print(f"  version    {info.version}")
    print(f"  log        {info.log}")
    print(f"  state file {lifecycle.state_path()}")
    _print_saved_state(info.state_dir)
    try:
        clock = _admin(info).clock()
        print(f"  clock      {clock['now']} ({clock['mode']})")
    except _ERRORS as exc:
        print(f"  clock      unavailable: {exc}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    try:
        doc = lifecycle.reset()
    except _ERRORS as exc:
        return _fail(str(exc))
    if "deleted" in doc:
        print(f"no emulator is running; deleted its saved state ({doc['deleted']})")
    else:
        print("emulator reset: every emulated resource, lab state and saved state was deleted")
    return 0


def _env(args: argparse.Namespace) -> int:
    info = _running()
    if info is None:
        return 1
    print("\n".join(lifecycle.env_lines(info, region=args.region)))
    return 0


def _print_clock(doc: dict) -> None:
    print(f"emulator clock: {doc['now']} ({doc['mode']})")
    executions = doc.get("executions")
    if executions is None:
        return
    if not executions:
        print("no monitoring execution fell due")
        return
    print(f"ran {len(executions)} monitoring execution{'s' if len(executions) != 1 else ''}:")
    for ex in executions:
        print(
            f"  {ex.get('schedule')}  scheduled {ex.get('scheduled_time')}  "
            f"{ex.get('status')}  {ex.get('processing_job_name') or ''}".rstrip()
        )


def _clock_command(action) -> int:
    info = _running()
    if info is None:
        return 1
    try:
        doc = action(_admin(info))
    except _ERRORS as exc:
        return _fail(str(exc))
    _print_clock(doc)
    return 0


def _clock_show(args: argparse.Namespace) -> int:
    return _clock_command(lambda admin: admin.clock())


def _clock_set(args: argparse.Namespace) -> int:
    return _clock_command(lambda admin: admin.set_clock(args.when))


def _clock_real(args: argparse.Namespace) -> int:
    return _clock_command(lambda admin: admin.real_time())


def _clock_freeze(args: argparse.Namespace) -> int:
    return _clock_command(lambda admin: admin.freeze_clock())


def _clock_flow(args: argparse.Namespace) -> int:
    return _clock_command(lambda admin: admin.flowing_clock())


def _clock_advance(args: argparse.Namespace) -> int:
    if args.to_next_hour == bool(args.duration):
        return _fail("give either a DURATION (90s, 2m, 1h) or --to-next-hour")
    if args.to_next_hour:
        return _clock_command(lambda admin: admin.advance_to_next_hour())
    try:
        seconds = parse_duration(args.duration)
    except ValueError as exc:
        return _fail(str(exc))
    return _clock_command(lambda admin: admin.advance(seconds))
