"""In-process access to moto's S3 backend (the emulator's own objects, no HTTP round trip).

S3 URIs are split and joined by :mod:`mmutils.formats.s3uri`; this module only reads and writes
objects of an account's buckets.
"""

from __future__ import annotations

from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends


def backend(account: str):
    """moto's S3 backend of an account."""
    return s3_backends[account]["aws"]


def list_keys(account: str, bucket: str, prefix: str, *, missing_ok: bool = False) -> list[str]:
    """Names of the objects of ``bucket`` that start with ``prefix``, sorted.

    Args:
        missing_ok: a missing bucket holds no objects (as a window without data reads on AWS).

    Raises:
        moto's MissingBucket: no such bucket (unless ``missing_ok``).
    """
    try:
        b = backend(account).get_bucket(bucket)
    except MissingBucket:
        if missing_ok:
            return []
        raise
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
