"""``mmlab cleanup --prefix P [--older-than 2h]``: delete what a lab left, found by its tags.

Workshops share live accounts; an attendee who skips notebook 04's cleanup leaves an endpoint
and an hourly schedule running, and billing. Every resource the notebooks create carries the
tags ``mmlab:lab = model-monitor`` and ``mmlab:prefix = <PREFIX>``
(:func:`mmutils.lab.notebook.lab_tags`); this command lists the SageMaker resources whose name
contains ``P``, keeps those whose ``mmlab:prefix`` tag is exactly ``P`` (so ``--prefix mmlab``
never touches ``mmlab-alice``'s), and deletes them in dependency order: monitoring schedules
(stopped first), then endpoints, endpoint configs and models. ``--s3`` also deletes the objects
under ``s3://<default bucket>/P/``. Running it twice is safe: the second run finds nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mmutils.lab.notebook import LAB_TAG, LAB_TAG_VALUE, PREFIX_TAG

#: (kind, list operation, summaries key, name key, ARN key, delete operation, delete parameter)
_KINDS = (
    (
        "monitoring schedule",
        "list_monitoring_schedules",
        "MonitoringScheduleSummaries",
        "MonitoringScheduleName",
        "MonitoringScheduleArn",
        "delete_monitoring_schedule",
        "MonitoringScheduleName",
    ),
    (
        "endpoint",
        "list_endpoints",
        "Endpoints",
        "EndpointName",
        "EndpointArn",
        "delete_endpoint",
        "EndpointName",
    ),
    (
        "endpoint config",
        "list_endpoint_configs",
        "EndpointConfigs",
        "EndpointConfigName",
        "EndpointConfigArn",
        "delete_endpoint_config",
        "EndpointConfigName",
    ),
    ("model", "list_models", "Models", "ModelName", "ModelArn", "delete_model", "ModelName"),
)


@dataclass(frozen=True)
class Found:
    """One resource of the lab."""

    kind: str
    name: str
    created: dt.datetime | None

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class CleanupReport:
    """What a cleanup found, deleted and left (too recent)."""

    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    s3_objects: int = 0


def _tags(sm, arn: str) -> dict[str, str]:
    tags = {}
    token = None
    while True:
        page = sm.list_tags(ResourceArn=arn, **({"NextToken": token} if token else {}))
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        token = page.get("NextToken")
        if not token:
            return tags


def find(sm, prefix: str) -> list[Found]:
    """The lab's resources tagged with ``prefix``, in deletion order (schedules first).

    Args:
        sm: a boto3 SageMaker client.
        prefix: the lab's ``PREFIX`` (matched exactly against the ``mmlab:prefix`` tag).
    """
    out = []
    for kind, list_op, key, name_key, arn_key, _, _ in _KINDS:
        token = None
        while True:
            kwargs = {"NameContains": prefix, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = getattr(sm, list_op)(**kwargs)
            for summary in page.get(key, []):
                tags = _tags(sm, summary[arn_key])
                if tags.get(LAB_TAG) == LAB_TAG_VALUE and tags.get(PREFIX_TAG) == prefix:
                    out.append(Found(kind, summary[name_key], summary.get("CreationTime")))
            token = page.get("NextToken")
            if not token:
                break
    return out


def _is_missing(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ValidationException", "ResourceNotFound")


def cleanup(
    session: Any,
    prefix: str,
    *,
    older_than: float | None = None,
    s3: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
) -> CleanupReport:
    """Delete the lab's resources tagged with ``prefix``.

    Args:
        session: the connected session (:func:`mmutils.connect` or anything with ``client``,
            ``bucket`` and optionally ``emulator``).
        prefix: the lab's ``PREFIX``.
        older_than: only resources created at least this many seconds ago (by the backend's
            clock: the emulator's, or real time).
        s3: also delete the objects under ``s3://<bucket>/<prefix>/``.
        dry_run: list, delete nothing.
        echo: where progress lines go.

    Returns:
        A :class:`CleanupReport`.
    """
    from mmutils.lab.notebook import delete_schedule_if_exists

    if not prefix:
        raise ValueError("cleanup needs a non-empty --prefix")
    sm = session.client("sagemaker")
    report = CleanupReport()
    now = _now(session)
    for item in find(sm, prefix):
        created = item.created
        if older_than is not None and created is not None:
            created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
            if (now - created).total_seconds() < older_than:
                report.kept.append(str(item))
                echo(f"keep   {item} (created {created:%Y-%m-%d %H:%M} UTC)")
                continue
        echo(("would delete " if dry_run else "delete ") + str(item))
        if dry_run:
            report.deleted.append(str(item))
            continue
        if item.kind == "monitoring schedule":
            delete_schedule_if_exists(sm, item.name)  # stops it first, waits until it is gone
        else:
            op, param = next((k[5], k[6]) for k in _KINDS if k[0] == item.kind)
            try:
                getattr(sm, op)(**{param: item.name})
            except sm.exceptions.ClientError as exc:
                if not _is_missing(exc):
                    raise
                continue
        report.deleted.append(str(item))
    if s3:
        report.s3_objects = _delete_s3(session, prefix, dry_run=dry_run, echo=echo)
    return report


def _now(session: Any) -> dt.datetime:
    emulator = getattr(session, "emulator", None)
    if emulator is not None:
        text = emulator.clock()["now"]
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt.datetime.now(dt.UTC)


def _delete_s3(session: Any, prefix: str, *, dry_run: bool, echo) -> int:
    s3 = session.client("s3")
    bucket = session.bucket
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys and not dry_run:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        count += len(keys)
    if count:
        echo(
            f"{'would delete' if dry_run else 'deleted'} {count} objects under s3://{bucket}/{prefix}/"
        )
    return count


def _cmd_cleanup(args: argparse.Namespace) -> int:
    from mmutils.emulator.admin_client import parse_duration
    from mmutils.lab.session import connect

    older = parse_duration(args.older_than) if args.older_than else None
    session = connect(args.backend, region=args.region, start=False)
    report = cleanup(session, args.prefix, older_than=older, s3=args.s3, dry_run=args.dry_run)
    if not report.deleted and not report.s3_objects:
        print(f"nothing of the lab with prefix {args.prefix!r} to delete", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add ``mmlab cleanup`` to the CLI."""
    p = subparsers.add_parser(
        "cleanup",
        help="delete what a lab left (schedules, endpoints, configs, models) by its prefix tag",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--prefix", required=True, help="the lab's PREFIX (exact mmlab:prefix tag)")
    p.add_argument(
        "--older-than", metavar="AGE", help="only resources at least this old, e.g. 2h or 90m"
    )
    p.add_argument("--backend", choices=("moto", "live"), default="moto")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--s3", action="store_true", help="also delete s3://<bucket>/<prefix>/")
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    p.set_defaults(func=_cmd_cleanup)
