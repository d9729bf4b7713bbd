"""``mmlab analyze``: run the analyzer on local files or S3 objects, without a container.

mmlab analyze baseline DATA [--no-header] [--format csv|json] [--out DIR]
                            [--categorical-drift-method LInfinity|ChiSquared] [--max-runtime S]
mmlab analyze monitor DATA --statistics S --constraints C [--out DIR]
                           [--format capture|csv|json] [--no-header] [--start-time T] [--end-time T]
                           [--record-preprocessor-script PY] [--fail-on-violations]
                           [--max-runtime S]

With a record pre-processor or a time limit (``--max-runtime`` / ``MMLAB_MAX_RUNTIME``) the
analysis runs in an isolated child process: a script that exits, calls ``os._exit`` or hangs
fails the command with exit status 255, and nothing it started outlives the command.

DATA, S, C and --out may be ``s3://`` URIs (staged through a temporary folder by
:mod:`mmutils.lab.s3stage`; ``AWS_ENDPOINT_URL`` points boto3 at the emulator). A prefix URI
is downloaded with its key layout, so a capture tree works as DATA. The analyzer itself only
sees local paths.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from mmutils.lab import s3stage

EXIT_ERROR = 1
EXIT_VIOLATIONS = 3
#: the analysis ended abnormally (a script ended the process, time limit, signal): like the container
EXIT_FAILED = 255


def register(subparsers) -> None:
    """Add the ``analyze`` command (``baseline`` and ``monitor``) to the ``mmlab`` parser.

    Args:
        subparsers: the ``mmlab`` parser's subparsers action.
    """
    analyze = subparsers.add_parser(
        "analyze",
        help="run the Model Monitor analyzer (baseline / monitor) on files or S3 data",
        description="The data-quality analyzer of SageMaker Model Monitor, run locally.",
    )
    sub = analyze.add_subparsers(dest="analyze_command", metavar="ACTION")
    analyze.set_defaults(func=lambda _args: analyze.print_help() or 2)

    base = sub.add_parser(
        "baseline",
        help="suggest statistics.json and constraints.json for a dataset",
        description="Profile a CSV / JSON-lines dataset like a baselining job.",
    )
    base.add_argument("data", help="file, folder or s3:// URI of the dataset")
    base.add_argument("--no-header", action="store_true", help="CSV files have no header line")
    base.add_argument("--format", choices=["csv", "json"], default=None, help="dataset format")
    base.add_argument("--out", default="baseline-results", help="output folder or s3:// URI")
    base.add_argument(
        "--categorical-drift-method",
        choices=["LInfinity", "ChiSquared"],
        default=None,
        help="write the newer image's categorical drift settings",
    )
    _add_max_runtime(base)
    _add_workers(base)
    base.set_defaults(func=_baseline)

    mon = sub.add_parser(
        "monitor",
        help="check a window of data against a baseline (constraint_violations.json)",
        description="Analyse capture data (or a CSV / JSON-lines file) like a monitoring "
        "execution.",
    )
    mon.add_argument("data", help="capture folder / .jsonl file, CSV or JSON lines, or s3:// URI")
    mon.add_argument("--statistics", required=True, help="baseline statistics.json")
    mon.add_argument("--constraints", required=True, help="baseline constraints.json")
    mon.add_argument("--out", default="monitoring-results", help="output folder or s3:// URI")
    mon.add_argument("--format", choices=["capture", "csv", "json"], default=None)
    mon.add_argument("--no-header", action="store_true", help="CSV data has no header line")
    mon.add_argument("--start-time", default=None, help="window start (ISO-8601)")
    mon.add_argument("--end-time", default=None, help="window end (ISO-8601)")
    mon.add_argument("--record-preprocessor-script", default=None, help="pre-processor .py")
    mon.add_argument(
        "--fail-on-violations",
        action="store_true",
        help=f"exit with {EXIT_VIOLATIONS} when there are violations",
    )
    _add_max_runtime(mon)
    _add_workers(mon)
    mon.set_defaults(func=_monitor)


def _add_max_runtime(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-runtime",
        default=None,
        metavar="SECONDS",
        help="stop the analysis after this many seconds (default: $MMLAB_MAX_RUNTIME, no limit)",
    )


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid worker count {text!r}: expected an integer >= 1")
    return value


def _add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="threads to use (default: $MMLAB_ANALYZER_WORKERS, else the usable cores, at most "
        "4); the outputs are byte-identical for any N",
    )


def _isolated(payload: dict) -> int:
    """Child side of an isolated command: run it in this (child) process."""
    args = argparse.Namespace(**payload["args"])
    return {"baseline": _baseline_here, "monitor": _monitor_here}[payload["command"]](args)


def _run(command: str, args: argparse.Namespace) -> int:
    """Run a command here, or isolated when a script runs or a time limit is set.

    Customer scripts and time limits need a child process (see
    :mod:`mmutils.analyzer.isolation`): a script that ends the process or hangs then fails the
    command with exit status 255 instead of ending it with the script's status.
    """
    import os

    from mmutils.analyzer import isolation
    from mmutils.analyzer.errors import AnalyzerError

    raw = (
        args.max_runtime
        if args.max_runtime is not None
        else os.environ.get(isolation.MAX_RUNTIME_ENV)
    )
    try:
        limit = isolation.parse_max_runtime(
            raw, "--max-runtime" if args.max_runtime is not None else isolation.MAX_RUNTIME_ENV
        )
    except AnalyzerError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    here = {"baseline": _baseline_here, "monitor": _monitor_here}[command]
    if limit is None and not getattr(args, "record_preprocessor_script", None):
        return here(args)
    payload = {k: v for k, v in vars(args).items() if k != "func"}
    outcome = isolation.call(
        f"{__name__}:_isolated", {"command": command, "args": payload}, max_runtime=limit
    )
    if outcome.reported and isinstance(outcome.result, int):
        return outcome.result
    if outcome.timed_out:
        print(
            f"error: the analysis exceeded --max-runtime {limit:g} seconds and was stopped",
            file=sys.stderr,
        )
    elif outcome.stopped:
        print("error: the analysis was stopped", file=sys.stderr)
    else:
        print(
            f"error: the analysis process {outcome.how_it_ended()} (a record preprocessor "
            "script may have ended it); no output was written",
            file=sys.stderr,
        )
    return EXIT_FAILED


def _baseline(args: argparse.Namespace) -> int:
    return _run("baseline", args)


def _monitor(args: argparse.Namespace) -> int:
    return _run("monitor", args)


# --------------------------------------------------------------------------------------------
# Commands (the analyzer is imported here, not at parser-building time)


def _baseline_here(args: argparse.Namespace) -> int:
    from mmutils.analyzer.baseline import suggest_baseline
    from mmutils.analyzer.errors import AnalyzerError
    from mmutils.analyzer.jsonfmt import write_documents
    from mmutils.formats.reports import CONSTRAINTS, STATISTICS

    try:
        with tempfile.TemporaryDirectory(prefix="mmlab-analyze-") as tmp:
            work = Path(tmp)
            local_out = s3stage.local_output(args.out, work)
            data = s3stage.local_input(args.data, work, "data")
            fmt = {args.format or "csv": {"header": not args.no_header}}
            if args.format == "json":
                fmt = {"json": {"lines": True}}
            result = suggest_baseline(
                data,
                dataset_format=fmt,
                categorical_drift_method=args.categorical_drift_method,
                workers=getattr(args, "workers", None),
            )
            write_documents(
                local_out, {STATISTICS: result.statistics, CONSTRAINTS: result.constraints}
            )
            files = s3stage.publish_output(args.out, local_out)
    except (AnalyzerError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    stats = result.statistics
    types: dict[str, int] = {}
    for f in stats["features"]:
        types[f["inferred_type"]] = types.get(f["inferred_type"], 0) + 1
    summary = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
    print(
        f"Baseline: {stats['dataset']['item_count']} records, "
        f"{len(stats['features'])} features ({summary})"
    )
    for f in files:
        print(f"  wrote {f}")
    return 0


def _dataset_format(args: argparse.Namespace) -> str | dict | None:
    """The analyzer's ``dataset_format`` for ``--format`` / ``--no-header`` (None: guess)."""
    if args.format == "capture":
        return "sagemakerCaptureJson"
    if args.format == "csv":
        return {"csv": {"header": not args.no_header}}
    if args.format == "json":
        return {"json": {"lines": True}}
    return None


def _monitor_here(args: argparse.Namespace) -> int:
    from mmutils.analyzer.errors import AnalyzerError
    from mmutils.analyzer.monitor import run_monitoring

    try:
        with tempfile.TemporaryDirectory(prefix="mmlab-analyze-") as tmp:
            work = Path(tmp)
            local_out = s3stage.local_output(args.out, work)
            result = run_monitoring(
                s3stage.local_input(args.data, work, "data"),
                s3stage.local_input(args.statistics, work, "statistics"),
                s3stage.local_input(args.constraints, work, "constraints"),
                dataset_format=_dataset_format(args),
                output_dir=local_out,
                start_time=args.start_time,
                end_time=args.end_time,
                record_preprocessor_script=args.record_preprocessor_script,
                workers=getattr(args, "workers", None),
            )
            files = s3stage.publish_output(args.out, local_out)
    except (AnalyzerError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(result.exit_message)
    print(f"  {result.item_count} records, {len(result.statistics['features'])} features")
    for check, count in result.counts_by_check().items():
        print(f"  {check}: {count}")
    for f in files:
        print(f"  wrote {f}")
    if args.fail_on_violations and result.violations:
        return EXIT_VIOLATIONS
    return 0
