"""The emulator's durable state: load at start, write through S3, snapshot the rest, save at stop.

:data:`PERSISTENCE` is opened by the server on its state folder before it serves (``open``),
and closed after the stop hooks have flushed capture (``close``: one last snapshot). In between

- every S3 change is on disk before its request is answered (:mod:`.s3_store`), which includes
  the capture writer's flushes (every 0.25 s), so a crash loses at most the capture of the last
  flush interval;
- a background thread pickles the rest every :attr:`Persistence.snapshot_interval` seconds
  (written only when it changed; :mod:`.snapshot`);
- moto's reset (``POST /moto-api/reset``, ``mmlab emulator reset``) also empties the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
import time
from pathlib import Path

from mmutils.emulator import patch_table, s3io
from mmutils.emulator.persistence import folder, s3_store, snapshot
from mmutils.emulator.state import STATE

INTERVAL_ENV = "MMLAB_SNAPSHOT_INTERVAL"
MOTO_RESET = "moto.moto_api._internal.models.MotoAPIBackend.reset"


def _read_object(account: str, bucket: str, key: str) -> bytes | None:
    try:
        return s3io.get_bytes(account, bucket, key)
    except Exception:  # noqa: BLE001 - a missing bucket or key: nothing to re-open
        return None


class Persistence:
    """The state folder of this emulator process (inactive until :meth:`open`)."""

    snapshot_interval = 1.0

    def __init__(self) -> None:
        self.root: Path | None = None
        self.s3: s3_store.S3Store | None = None
        self.last_load: dict = {}
        self._digest: bytes | None = None
        self._snap_lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """True between :meth:`open` and :meth:`close`."""
        return self.s3 is not None and self.s3.enabled

    def open(self, state_dir: str | Path, *, fresh: bool = False) -> dict:
        """Load the state folder of ``state_dir`` (or empty it first) and start persisting.

        Args:
            state_dir: the emulator's working folder; the state is in its ``state/``.
            fresh: delete the saved state first.

        Returns:
            What was loaded: ``{"buckets", "objects", "bytes", "quarantined", "backends",
            "schedules", "repaired", "seconds"}``.

        Raises:
            folder.IncompatibleState: the folder was written by another format or moto.
        """
        t0 = time.perf_counter()
        root = folder.root_of(state_dir)
        if fresh:
            folder.wipe(root)
        folder.clean_temporaries(root)
        folder.check_compatible(root)
        store = s3_store.S3Store(root)
        self.root, self.s3 = root, store
        with STATE.lock:
            report = store.load()
            snap = root / folder.SNAPSHOT_FILE
            if snap.exists():
                data = snap.read_bytes()
                report.update(snapshot.load(data, _read_object))
                self._digest = hashlib.sha256(data).digest()
            else:
                report.update({"backends": 0, "schedules": 0, "repaired": []})
        root.mkdir(parents=True, exist_ok=True)
        folder.write_stamp(root)
        store.enabled = True
        if report["repaired"]:
            self.snapshot()  # the repaired statuses are what a second crash must find
        report["seconds"] = round(time.perf_counter() - t0, 3)
        self.last_load = report
        self._stop.clear()
        with contextlib.suppress(ValueError):  # tests snapshot more often to crash during one
            self.snapshot_interval = float(os.environ.get(INTERVAL_ENV, self.snapshot_interval))
        self._thread = threading.Thread(target=self._loop, name="mmlab-snapshots", daemon=True)
        self._thread.start()
        return report

    def snapshot(self) -> bool:
        """Write a snapshot if the state changed since the last one; True if written."""
        if not self.active:
            return False
        with self._snap_lock:
            data, summary = snapshot.dumps()
            digest = hashlib.sha256(data).digest()
            if digest == self._digest:
                return False
            folder.atomic_write(self.root / folder.SNAPSHOT_FILE, data)
            folder.atomic_write(
                self.root / folder.SUMMARY_FILE, json.dumps(summary).encode(), sync=False
            )
            self._digest = digest
            return True

    def _loop(self) -> None:
        while not self._stop.wait(self.snapshot_interval):
            try:
                self.snapshot()
            except Exception as exc:  # noqa: BLE001 - keep snapshotting; say why once per failure
                print(f"mmlab emulator: snapshot failed: {exc!r}", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Stop the snapshot thread and write the final snapshot (after capture was flushed)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.active:
            self.snapshot()
            self.s3.enabled = False

    def wipe(self) -> None:
        """Empty the folder (after moto's reset), keeping persistence on."""
        if self.root is None:
            return
        with self._snap_lock:
            folder.wipe(self.root)
            self.root.mkdir(parents=True, exist_ok=True)
            folder.write_stamp(self.root)
            self._digest = None


#: The durable state of this emulator process.
PERSISTENCE = Persistence()


def _wrap_moto_reset(original):
    def reset(self):
        with PERSISTENCE._snap_lock:
            original(self)
            PERSISTENCE.wipe()

    reset.__wrapped__ = original
    return reset


def install() -> None:
    """Make new buckets durable and let moto's reset empty the folder (idempotent)."""
    patch_table.wrap(s3_store.CREATE_BUCKET, s3_store.wrap_create_bucket(lambda: PERSISTENCE.s3))
    patch_table.wrap(s3_store.DELETE_BUCKET, s3_store.wrap_delete_bucket(lambda: PERSISTENCE.s3))
    patch_table.wrap(MOTO_RESET, _wrap_moto_reset)
