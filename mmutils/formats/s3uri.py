"""``s3://bucket/key`` URIs: split and join (the one definition in mmutils)."""

from __future__ import annotations

SCHEME = "s3://"


def is_s3(uri: object) -> bool:
    """True for a string that starts with ``s3://``."""
    return isinstance(uri, str) and uri.startswith(SCHEME)


def split(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/prefix`` -> ``("bucket", "key/prefix")``.

    Raises:
        ValueError: not an ``s3://`` URI, or one without a bucket.
    """
    if not is_s3(uri):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[len(SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI without a bucket: {uri!r}")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join S3 URI or key parts with exactly one ``/`` between them (empty parts skipped)."""
    out = base.rstrip("/")
    for part in parts:
        part = part.strip("/")
        if part:
            out = f"{out}/{part}" if out else part
    return out


def uri(bucket: str, key: str = "") -> str:
    """``("bucket", "a/b")`` -> ``"s3://bucket/a/b"``; the inverse of :func:`split`.

    The key is kept as it is (a key may begin with ``/``: ``("b", "/k")`` -> ``"s3://b//k"``,
    which :func:`split` reads back as ``("b", "/k")``).
    """
    return f"{SCHEME}{bucket}/{key}" if key else f"{SCHEME}{bucket}"
