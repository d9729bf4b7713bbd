"""``mmlab analyze``: run the analyzer on local files or S3 objects, without a container.

mmlab analyze baseline DATA [--no-header] [--format csv|json] [--out DIR]
                            [--categorical-drift-method LInfinity|ChiSquared]
mmlab analyze monitor DATA --statistics S --constraints C [--out DIR]
                           [--format capture|csv|json] [--no-header] [--start-time T] [--end-time T]
                           [--record-preprocessor-script PY] [--fail-on-violations]

DATA, S, C and --out may be ``s3://`` URIs (read and written with boto3; ``AWS_ENDPOINT_URL``
points it at the emulator). A prefix URI is downloaded with its key layout, so a capture
tree works as DATA.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EXIT_ERROR = 1
EXIT_VIOLATIONS = 3


def register(subparsers) -> None:
    """Add the ``analyze`` command (``baseline`` and ``monitor``) to the ``mmlab`` parser."""
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
    mon.set_defaults(func=_monitor)


# --------------------------------------------------------------------------------------------
# S3


def _s3():
    from mmutils.aws import boto_session

    return boto_session("live").client("s3")  # boto3 honours AWS_ENDPOINT_URL(_S3) itself


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI without a bucket: {uri}")
    return bucket, key


def download(uri: str, workdir: Path) -> Path:
    """Fetch an object (-> a file) or a prefix (-> a folder with the same key layout)."""
    client = _s3()
    bucket, key = _split(uri)
    prefix = key.rstrip("/")
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    if prefix in keys:  # a single object
        target = workdir / Path(prefix).name
        client.download_file(bucket, prefix, str(target))
        return target
    root = workdir / "data"
    root.mkdir(parents=True, exist_ok=True)
    for k in keys:
        if prefix and not k.startswith(prefix + "/"):
            continue  # "a/b" must not match "a/bc/…"
        rel = k[len(prefix) :].lstrip("/")
        if not rel or rel.endswith("/"):
            continue
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, k, str(target))
    return root


def upload(folder: Path, uri: str) -> list[str]:
    """Upload every file of ``folder`` under ``uri``; returns the URIs written."""
    client = _s3()
    bucket, key = _split(uri)
    written = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        dest = "/".join(
            part for part in (key.rstrip("/"), path.relative_to(folder).as_posix()) if part
        )
        client.upload_file(str(path), bucket, dest)
        written.append(f"s3://{bucket}/{dest}")
    return written


@contextmanager
def _local(uri: str | None, workdir: Path, name: str) -> Iterator[Path | None]:
    if uri is None:
        yield None
    elif uri.startswith("s3://"):
        sub = workdir / name
        sub.mkdir()
        yield download(uri, sub)
    else:
        yield Path(uri)


def _finish_output(out: str, local_out: Path) -> list[str]:
    if out.startswith("s3://"):
        return upload(local_out, out)
    return [str(p) for p in sorted(local_out.rglob("*")) if p.is_file()]


# --------------------------------------------------------------------------------------------
# Commands


def _baseline(args: argparse.Namespace) -> int:
    from mmutils.analyzer.baseline import suggest_baseline
    from mmutils.analyzer.errors import AnalyzerError

    try:
        with tempfile.TemporaryDirectory(prefix="mmlab-analyze-") as tmp:
            work = Path(tmp)
            local_out = work / "out" if args.out.startswith("s3://") else Path(args.out)
            with _local(args.data, work, "data") as data:
                fmt = {args.format or "csv": {"header": not args.no_header}}
                if args.format == "json":
                    fmt = {"json": {"lines": True}}
                result = suggest_baseline(
                    data,
                    dataset_format=fmt,
                    categorical_drift_method=args.categorical_drift_method,
                )
            from mmutils.analyzer.jsonfmt import write_documents

            write_documents(
                local_out,
                {"statistics.json": result.statistics, "constraints.json": result.constraints},
            )
            files = _finish_output(args.out, local_out)
    except (AnalyzerError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    stats = result.statistics
    types: dict[str, int] = {}
    for f in stats["features"]:
        types[f["inferred_type"]] = types.get(f["inferred_type"], 0) + 1
    summary = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
    print(
        f"Baseline: {stats['dataset']['item_count']} records, {len(stats['features'])} features ({summary})"
    )
    for f in files:
        print(f"  wrote {f}")
    return 0


def _monitor(args: argparse.Namespace) -> int:
    from mmutils.analyzer.errors import AnalyzerError
    from mmutils.analyzer.monitor import run_monitoring

    fmt = None
    if args.format == "capture":
        fmt = "sagemakerCaptureJson"
    elif args.format == "csv":
        fmt = {"csv": {"header": not args.no_header}}
    elif args.format == "json":
        fmt = {"json": {"lines": True}}
    try:
        with tempfile.TemporaryDirectory(prefix="mmlab-analyze-") as tmp:
            work = Path(tmp)
            local_out = work / "out" if args.out.startswith("s3://") else Path(args.out)
            with (
                _local(args.data, work, "data") as data,
                _local(args.statistics, work, "statistics") as statistics,
                _local(args.constraints, work, "constraints") as constraints,
            ):
                result = run_monitoring(
                    data,
                    statistics,
                    constraints,
                    dataset_format=fmt,
                    output_dir=local_out,
                    start_time=args.start_time,
                    end_time=args.end_time,
                    record_preprocessor_script=args.record_preprocessor_script,
                )
            files = _finish_output(args.out, local_out)
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
