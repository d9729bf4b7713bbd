"""The ``mmlab`` command line: one CLI for the whole project.

Each subcommand lives in its own module, which exposes ``register(subparsers)``; the module is
imported only to build the parser, so keep heavy imports inside the command functions.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mmutils import __version__

#: subcommand name -> module that registers it
COMMANDS: dict[str, str] = {
    "run": "mmutils.lab.runner",
    "data": "mmutils.data.cli",
    "analyze": "mmutils.lab.analyze_command",
    "emulator": "mmutils.emulator.cli",
    "cleanup": "mmutils.lab.cleanup",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the ``mmlab`` argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="mmlab",
        description="The SageMaker Model Monitor lab: data, analyzer, emulator and notebooks.",
    )
    parser.add_argument("--version", action="version", version=f"mmlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue  # that part of the project is not there (yet)
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mmlab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """The reader of stdout closed it (``mmlab ... | head -2``): stop quietly, as ``cat`` does.

    stdout is pointed at /dev/null so that Python's final flush cannot raise again.
    """
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141  # 128 + SIGPIPE, what a shell reports for a command killed by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
