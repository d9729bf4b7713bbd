"""The persisted state folder: its layout, its format stamp, atomic writes, wiping, usage.

Layout (``{state_dir}/state``, ``state_dir`` defaulting to ``$MMLAB_HOME/emulator``)::

    FORMAT.json                       format number, mmlab and moto versions that wrote it
    snapshot.pkl                      everything but S3 objects (see snapshot.py), atomic
    summary.json                      counts written with each snapshot (for ``status``)
    s3/buckets/{account}/{bucket}.json     one marker per bucket (name, region)
    s3/objects/{account}/{bucket}/{h2}/{sha1(key)}.key   one pickled object per key

Every file is written to a temporary name in its folder, flushed (``fsync`` unless
``MMLAB_PERSIST_FSYNC=0``) and renamed over its final name, so a crash at any moment leaves
either the old or the new file, plus perhaps a temporary file that :func:`clean_temporaries`
removes at the next start. This module imports nothing of moto, so the CLI can report on a
folder without starting a server.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import sys
import threading
from pathlib import Path

#: bump when the layout or the pickled shapes change incompatibly
FORMAT = 1
FOLDER_NAME = "state"
FORMAT_FILE = "FORMAT.json"
SNAPSHOT_FILE = "snapshot.pkl"
SUMMARY_FILE = "summary.json"
TMP_PREFIX = ".tmp-"
WIPE_PREFIX = ".wipe-"
FRESH_HINT = "start empty with `mmlab emulator start --fresh` (deletes the saved state)"

_counter = itertools.count()
_counter_lock = threading.Lock()


class IncompatibleState(RuntimeError):
    """The state folder was written by another mmlab format or moto version."""


def root_of(state_dir: str | os.PathLike) -> Path:
    """The persisted-state folder inside an emulator working folder."""
    return Path(state_dir) / FOLDER_NAME


def fsync_enabled() -> bool:
    """False when ``MMLAB_PERSIST_FSYNC=0`` (writes still survive kill -9, not a power cut)."""
    return os.environ.get("MMLAB_PERSIST_FSYNC", "1") != "0"


def _tmp_name(path: Path) -> Path:
    with _counter_lock:
        n = next(_counter)
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{n}-{path.name}")


def atomic_write(path: Path, data: bytes | memoryview, *, sync: bool | None = None) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, whole.

    Args:
        path: the final file (its folder is created).
        data: the bytes.
        sync: fsync before the rename (default: :func:`fsync_enabled`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync_enabled() if sync is None else sync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)


def remove(path: Path) -> None:
    """Delete a file if it exists."""
    path.unlink(missing_ok=True)


def stamp() -> dict:
    """The format stamp this process writes (mmlab and moto versions)."""
    from importlib.metadata import version

    # the parent package is loaded already; importing it here would close an import loop
    mmlab = getattr(sys.modules.get("mmutils"), "__version__", "unknown")
    return {"format": FORMAT, "mmlab": mmlab, "moto": version("moto")}


def check_compatible(root: Path) -> None:
    """Refuse a folder written by another format or moto version (an empty folder is fine).

    Raises:
        IncompatibleState: the message names the folder, what wrote it and the way out.
    """
    if not root.is_dir():
        return
    fmt = root / FORMAT_FILE
    has_content = any(p.name != FORMAT_FILE and not p.name.startswith(".") for p in root.iterdir())
    if not fmt.exists():
        if has_content:
            raise IncompatibleState(
                f"the emulator state folder {root} has no {FORMAT_FILE}: it was written by an "
                f"older mmlab and cannot be loaded; {FRESH_HINT}"
            )
        return
    try:
        found = json.loads(fmt.read_text())
        found_format = found["format"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IncompatibleState(
            f"the emulator state folder {root} has an unreadable {FORMAT_FILE} ({exc}); "
            f"{FRESH_HINT}"
        ) from None
    mine = stamp()
    if found_format != mine["format"] or found.get("moto") != mine["moto"]:
        raise IncompatibleState(
            f"the emulator state folder {root} was written by mmlab {found.get('mmlab')} "
            f"(state format {found_format}, moto {found.get('moto')}); this is mmlab "
            f"{mine['mmlab']} (state format {mine['format']}, moto {mine['moto']}), which "
            f"cannot load it; {FRESH_HINT}"
        )


def write_stamp(root: Path) -> None:
    """Write ``FORMAT.json``."""
    atomic_write(root / FORMAT_FILE, (json.dumps(stamp(), indent=2) + "\n").encode())


def clean_temporaries(root: Path) -> int:
    """Remove temporary files and half-wiped folders a crash left behind; returns how many."""
    if not root.exists():
        return 0
    removed = 0
    for parent in (root, root.parent):
        for p in parent.glob(f"{WIPE_PREFIX}*"):
            shutil.rmtree(p, ignore_errors=True)
            removed += 1
    for p in root.rglob(f"{TMP_PREFIX}*"):
        p.unlink(missing_ok=True)
        removed += 1
    return removed


def wipe(root: Path) -> None:
    """Delete the folder's content (renamed away first: a crash mid-way leaves no half state)."""
    if not root.exists():
        return
    doomed = root.with_name(f"{WIPE_PREFIX}{root.name}-{os.getpid()}-{next(_counter)}")
    os.replace(root, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def usage(root: Path) -> dict:
    """What the folder holds, read from disk (no server needed).

    Returns:
        ``{"folder", "bytes", "buckets", "objects", "endpoints", "schedules", "snapshot_at"}``;
        the last three come from the last snapshot's summary (None when there is none).
    """
    total = 0
    objects = 0
    buckets = 0
    if root.exists():
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                try:
                    total += os.stat(os.path.join(dirpath, name)).st_size
                except OSError:
                    continue
                if name.endswith(".key"):
                    objects += 1
                elif name.endswith(".json") and f"{os.sep}buckets{os.sep}" in dirpath + os.sep:
                    buckets += 1
    summary = {}
    with contextlib.suppress(OSError, ValueError):
        summary = json.loads((root / SUMMARY_FILE).read_text())
    return {
        "folder": str(root),
        "bytes": total,
        "buckets": buckets,
        "objects": objects,
        "endpoints": summary.get("endpoints"),
        "schedules": summary.get("schedules"),
        "snapshot_at": summary.get("written_at"),
    }
