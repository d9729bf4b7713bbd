"""S3 objects written through to disk before the request that wrote them is answered.

Every bucket moto creates gets a :class:`DurableKeyStore` as its key store (moto's
``_VersionedKeyStore``, subclassed): whatever path changes a key (PutObject, CopyObject,
CompleteMultipartUpload, DeleteObject(s), the capture writer, the processing runtime) goes
through ``setlist``/``__setitem__``/``pop``/``__delitem__``, and the store writes the key's
latest version to ``s3/objects/{account}/{bucket}/{h2}/{sha1(key)}.key`` (moto's own pickled
``FakeKey``: body, ETag, metadata, times) with :func:`folder.atomic_write`, or deletes that
file. Bucket creation writes a marker ``s3/buckets/{account}/{bucket}.json``; DeleteBucket
removes it. Only the latest version of a key is kept (the lab uses no versioned buckets).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
import threading
from pathlib import Path

from moto.s3.models import FakeDeleteMarker, FakeKey, s3_backends
from moto.s3.utils import _VersionedKeyStore

from mmutils.emulator.persistence import folder

CREATE_BUCKET = "moto.s3.models.S3Backend.create_bucket"
DELETE_BUCKET = "moto.s3.models.S3Backend.delete_bucket"


def key_file(root: Path, account: str, bucket: str, key: str) -> Path:
    """The file that holds one object."""
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()
    return root / "s3" / "objects" / account / bucket / digest[:2] / f"{digest}.key"


def bucket_file(root: Path, account: str, bucket: str) -> Path:
    """The marker of one bucket."""
    return root / "s3" / "buckets" / account / f"{bucket}.json"


class S3Store:
    """Writes S3 changes of every account to a state folder.

    Args:
        root: the state folder.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.enabled = False
        self._lock = threading.Lock()

    def key_changed(self, account: str, bucket: str, store: _VersionedKeyStore, key: str) -> None:
        """Persist the latest version of ``key`` (or delete its file when it has none)."""
        if not self.enabled:
            return
        path = key_file(self.root, account, bucket, key)
        # one writer at a time: the file always ends up holding the latest in-memory version
        with self._lock:
            latest = store.get(key)
            if isinstance(latest, FakeKey) and not isinstance(latest, FakeDeleteMarker):
                folder.atomic_write(path, pickle.dumps(latest, protocol=pickle.HIGHEST_PROTOCOL))
            else:
                folder.remove(path)

    def bucket_created(self, account: str, bucket) -> None:
        """Write a bucket's marker and make its key store durable."""
        make_durable(bucket, account, self)
        if self.enabled:
            doc = {"name": bucket.name, "region": bucket.region_name, "account": account}
            folder.atomic_write(
                bucket_file(self.root, account, bucket.name), json.dumps(doc).encode()
            )

    def bucket_deleted(self, account: str, name: str) -> None:
        """Remove a bucket's marker and its (empty) object folder."""
        if self.enabled:
            folder.remove(bucket_file(self.root, account, name))

    # ------------------------------------------------------------------------------ loading
    def load(self) -> dict:
        """Recreate every persisted bucket and object in moto (nothing is written meanwhile).

        Unreadable object files (which atomic writes make unlikely) are moved to
        ``quarantine/`` with a warning instead of stopping the start.

        Returns:
            ``{"buckets": n, "objects": n, "bytes": n, "quarantined": n}``.
        """
        counts = {"buckets": 0, "objects": 0, "bytes": 0, "quarantined": 0}
        base = self.root / "s3"
        for marker in sorted((base / "buckets").glob("*/*.json")):
            account = marker.parent.name
            try:
                doc = json.loads(marker.read_text())
                name, region = doc["name"], doc["region"]
            except (OSError, ValueError, KeyError) as exc:
                self._quarantine(marker, exc)
                counts["quarantined"] += 1
                continue
            backend = s3_backends[account]["aws"]
            bucket = backend.buckets.get(name) or backend.create_bucket(name, region)
            make_durable(bucket, account, self)
            counts["buckets"] += 1
        objects = base / "objects"
        for account_dir in sorted(objects.glob("*")) if objects.exists() else []:
            backend = s3_backends[account_dir.name]["aws"]
            for bucket_dir in sorted(account_dir.iterdir()):
                bucket = backend.buckets.get(bucket_dir.name)
                if bucket is None:  # objects whose marker was lost: the bucket comes back
                    bucket = backend.create_bucket(bucket_dir.name, "us-east-1")
                    make_durable(bucket, account_dir.name, self)
                    counts["buckets"] += 1
                for path in bucket_dir.glob("*/*.key"):
                    try:
                        obj = pickle.loads(path.read_bytes())
                        name = obj.name
                    except Exception as exc:  # noqa: BLE001 - any damage: set aside, go on
                        self._quarantine(path, exc)
                        counts["quarantined"] += 1
                        continue
                    dict.__setitem__(bucket.keys, name, [obj])
                    counts["objects"] += 1
                    counts["bytes"] += obj.size
        return counts

    def _quarantine(self, path: Path, exc: BaseException) -> None:
        target = self.root / "quarantine" / path.relative_to(self.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
        print(
            f"mmlab emulator: could not load {path} ({type(exc).__name__}: {exc}); "
            f"moved it to {target}",
            file=sys.stderr,
            flush=True,
        )


class DurableKeyStore(_VersionedKeyStore):
    """moto's key store of one bucket, telling an :class:`S3Store` about every change."""

    def _changed(self, key: str) -> None:
        sink = self.__dict__.get("_mmlab_sink")
        if sink is not None:
            store, account, bucket = sink
            store.key_changed(account, bucket, self, key)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self._changed(key)

    def setlist(self, key, list_):
        super().setlist(key, list_)
        self._changed(key)

    def pop(self, key):
        super().pop(key)
        self._changed(key)

    def __delitem__(self, key):
        super().__delitem__(key)
        self._changed(key)


def make_durable(bucket, account: str, store: S3Store) -> None:
    """Give a moto bucket a :class:`DurableKeyStore` (keeping the keys it has)."""
    keys = bucket.keys
    if not isinstance(keys, DurableKeyStore):
        durable = DurableKeyStore()
        for name in list(dict.keys(keys)):
            dict.__setitem__(durable, name, dict.__getitem__(keys, name))
        bucket.keys = durable
        keys = durable
    keys.__dict__["_mmlab_sink"] = (store, account, bucket.name)


def wrap_create_bucket(store_ref):
    """``S3Backend.create_bucket`` that makes the new bucket durable (``store_ref()``: the store)."""

    def wrapper(original):
        def create_bucket(self, bucket_name, region_name, *args, **kwargs):
            bucket = original(self, bucket_name, region_name, *args, **kwargs)
            store = store_ref()
            if store is not None:
                store.bucket_created(self.account_id, bucket)
            return bucket

        create_bucket.__wrapped__ = original
        return create_bucket

    return wrapper


def wrap_delete_bucket(store_ref):
    """``S3Backend.delete_bucket`` that removes the bucket's marker."""

    def wrapper(original):
        def delete_bucket(self, bucket_name, *args, **kwargs):
            deleted = original(self, bucket_name, *args, **kwargs)
            store = store_ref()
            if deleted is not None and store is not None:
                store.bucket_deleted(self.account_id, bucket_name)
            return deleted

        delete_bucket.__wrapped__ = original
        return delete_bucket

    return wrapper
