"""Stage ``s3://`` inputs and outputs of a local tool through a working folder.

The analyzer reads and writes local paths only; ``mmlab analyze`` accepts ``s3://`` URIs too.
This module bridges the two: an input URI is downloaded into a working folder (an object
becomes a file, a prefix a folder with the same key layout, so a capture tree stays a capture
tree), and an output folder is uploaded under an output URI afterwards. Local paths pass
through untouched.

S3 is reached with a plain boto3 session (:func:`mmutils.lab.session.boto_session` with the
``live`` backend), which honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``, so the same
commands work against the emulator.
"""

from __future__ import annotations

from pathlib import Path

from mmutils.formats import s3uri


def s3_client():
    """An S3 client of boto3's default chain (imported here: boto3 is heavy)."""
    from mmutils.lab.session import boto_session

    return boto_session("live").client("s3")  # boto3 honours AWS_ENDPOINT_URL(_S3) itself


def download(uri: str, workdir: Path) -> Path:
    """Fetch an object or a prefix into ``workdir``.

    Args:
        uri: ``s3://bucket/key``: an object (downloaded as ``workdir/{name}``) or a prefix
            (downloaded as ``workdir/data/`` with the keys' layout below the prefix; ``a/b``
            does not match ``a/bc/…``).
        workdir: an existing, empty folder.

    Returns:
        The downloaded file, or the folder holding the prefix's objects.

    Raises:
        ValueError: ``uri`` is not an S3 URI with a bucket.
    """
    client = s3_client()
    bucket, key = s3uri.split(uri)
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
            continue  # the prefix itself or a folder marker
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, k, str(target))
    return root


def upload(folder: Path, uri: str) -> list[str]:
    """Upload every file of ``folder`` (at any depth) under ``uri``.

    Args:
        folder: the local folder.
        uri: ``s3://bucket/prefix``; a file ``folder/a/b.json`` goes to ``prefix/a/b.json``.

    Returns:
        The URIs written, in sorted path order.

    Raises:
        ValueError: ``uri`` is not an S3 URI with a bucket.
    """
    client = s3_client()
    bucket, key = s3uri.split(uri)
    written = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        dest = s3uri.join(key, path.relative_to(folder).as_posix())
        client.upload_file(str(path), bucket, dest)
        written.append(s3uri.uri(bucket, dest))
    return written


def local_input(location: str | None, workdir: Path, name: str) -> Path | None:
    """The local path of an input: a path as given, or an ``s3://`` URI downloaded.

    Args:
        location: a local path, an ``s3://`` URI, or ``None`` (no such input).
        workdir: the working folder; a URI is downloaded into ``workdir/{name}``.
        name: the input's subfolder (one per input, so inputs never collide).

    Returns:
        The local file or folder, or ``None`` when ``location`` is ``None``.
    """
    if location is None:
        return None
    if s3uri.is_s3(location):
        sub = workdir / name
        sub.mkdir()
        return download(location, sub)
    return Path(location)


def local_output(location: str, workdir: Path) -> Path:
    """Where to write an output locally: ``location`` itself, or ``workdir/out`` for a URI."""
    return workdir / "out" if s3uri.is_s3(location) else Path(location)


def publish_output(location: str, local: Path) -> list[str]:
    """Upload ``local`` when ``location`` is a URI; returns the files written, as shown to users.

    Args:
        location: the output the user asked for (a folder or an ``s3://`` URI).
        local: the folder the tool wrote (see :func:`local_output`).

    Returns:
        The URIs uploaded, or the local files (sorted) when ``location`` is a folder.
    """
    if s3uri.is_s3(location):
        return upload(local, location)
    return [str(p) for p in sorted(local.rglob("*")) if p.is_file()]
