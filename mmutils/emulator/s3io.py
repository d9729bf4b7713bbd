"""In-process access to moto's S3 backend (the emulator's own objects, no HTTP round trip)."""

from __future__ import annotations

from moto.s3.models import s3_backends

from mmutils.emulator.state import require


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/prefix`` -> ``("bucket", "key/prefix")``.

    Raises:
        ValueError: not an ``s3://`` URI.
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI without a bucket: {uri!r}")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join S3 URI/key parts with exactly one ``/`` between them."""
    out = base.rstrip("/")
    for part in parts:
        part = part.strip("/")
        if part:
            out = f"{out}/{part}" if out else part
    return out


def backend(account: str):
    """moto's S3 backend of an account."""
    return s3_backends[account]["aws"]


def list_keys(account: str, bucket: str, prefix: str) -> list[str]:
    """Names of the objects of ``bucket`` that start with ``prefix``, sorted.

    Raises:
        moto's MissingBucket: no such bucket.
    """
    b = backend(account).get_bucket(bucket)
    return sorted(name for name in list(b.keys.keys()) if name.startswith(prefix))


def get_bytes(account: str, bucket: str, key: str) -> bytes:
    """An object's bytes.

    Raises:
        KeyError: no such object.
    """
    obj = backend(account).get_object(bucket, key)
    if obj is None:
        raise KeyError(f"s3://{bucket}/{key}")
    return obj.value


def put_bytes(account: str, bucket: str, key: str, data: bytes) -> None:
    """Write an object (no S3 event notifications)."""
    backend(account).put_object(bucket, key, data, disable_notification=True)


def check_moto() -> None:
    """Check the moto S3 internals used here.

    Raises:
        RuntimeError: naming the moto version and the missing piece.
    """
    from moto.s3.models import S3Backend

    require(S3Backend, "get_bucket", "get_object", "put_object")
