"""The capture writer: SageMaker's data capture (spec §A) as JSONL files in S3, one a minute.

- A record is the compact JSON line of :func:`mmutils.formats.capture_record.build_line` (which
  also holds the encoding rules: ``CSV``/``JSON`` for the endpoint config's content types,
  otherwise ``BASE64``).
- Key: :func:`mmutils.formats.capture_key.capture_file_key`,
  ``{dest}/{endpoint}/{variant}/yyyy/mm/dd/HH/{MM-SS-mmm}-{uuid4}.jsonl``, named after the
  emulator time of the file's first record. A new file starts when a record is 60 s or more
  after the file's first record, when the hour changes, or when a file reaches
  :attr:`CaptureWriter.max_file_bytes` (a frozen manual clock would otherwise grow one file
  without bound).
- Visibility and safety: an open file is re-put in full whenever it changed, by a flusher
  thread every :attr:`CaptureWriter.flush_interval` seconds; :meth:`CaptureWriter.flush` writes
  everything at once (admin ``flush``, before a monitoring execution reads its window, on
  UpdateEndpoint/DeleteEndpoint and when the server stops). A file whose bucket is missing stays
  buffered and is retried; nothing is dropped except by ``/moto-api/reset``.
- Sampling: each invocation is captured with probability ``InitialSamplingPercentage`` / 100,
  drawn from a per-endpoint generator seeded from the emulator seed (deterministic after
  ``POST /moto-api/mmlab/seed``).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import threading
from dataclasses import dataclass, field

from mmutils.emulator import patch_table, s3io
from mmutils.emulator.clock import CLOCK
from mmutils.emulator.state import STATE
from mmutils.formats import s3uri
from mmutils.formats.capture_key import capture_file_key, hour_folder
from mmutils.formats.capture_record import build_line


@dataclass
class _File:
    bucket: str
    key: str
    start: dt.datetime
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    dirty: bool = False


class CaptureWriter:
    """Buffers capture records per endpoint variant and keeps S3 up to date."""

    roll_seconds = 60.0
    max_file_bytes = 8 * 1024 * 1024
    flush_interval = 0.25

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the buffers
        self._write_lock = threading.Lock()  # one writer at a time keeps puts in order
        self._open: dict[tuple, _File] = {}
        self._closed: list[tuple[tuple, _File]] = []
        self._samplers: dict[tuple, random.Random] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._warned: set[str] = set()

    # ----------------------------------------------------------------------------- recording
    def sampled(self, account: str, region: str, endpoint: str, percentage: float) -> bool:
        """Whether this invocation is captured (deterministic per endpoint after a seed)."""
        if percentage >= 100:
            return True
        if percentage <= 0:
            return False
        key = (account, region, endpoint)
        with self._lock:
            rng = self._samplers.get(key)
            if rng is None:
                rng = self._samplers[key] = random.Random(f"{STATE.ids.seed_value}:{endpoint}")
            return rng.random() * 100 < percentage

    def record(
        self,
        *,
        account: str,
        region: str,
        endpoint: str,
        variant: str,
        config: dict,
        request: bytes,
        request_type: str,
        response: bytes,
        response_type: str,
        inference_id: str | None = None,
        custom_attributes: str | None = None,
    ) -> bool:
        """Capture one successful invocation if capture is on and it is sampled; True if so."""
        if not config or not config.get("EnableCapture"):
            return False
        percentage = float(config.get("InitialSamplingPercentage", 100))
        if not self.sampled(account, region, endpoint, percentage):
            return False
        bucket, prefix = s3uri.split(config["DestinationS3Uri"])
        when = CLOCK.now()
        line = build_line(
            config=config,
            request=request,
            request_type=request_type,
            response=response,
            response_type=response_type,
            event_id=STATE.ids.uuid4(),
            when=when,
            inference_id=inference_id,
            custom_attributes=custom_attributes,
        )
        slot = (account, region, endpoint, variant)
        with self._lock:
            current = self._open.get(slot)
            if current is None or self._must_roll(current, when, bucket, prefix, len(line)):
                if current is not None:
                    self._closed.append((slot, current))
                key = capture_file_key(prefix, endpoint, variant, when, STATE.ids.uuid4())
                current = self._open[slot] = _File(bucket=bucket, key=key, start=when)
            current.lines.append(line)
            current.size += len(line)
            current.dirty = True
        return True

    def _must_roll(self, f: _File, when: dt.datetime, bucket: str, prefix: str, size: int) -> bool:
        if f.bucket != bucket or not f.key.startswith(prefix):
            return True  # destination changed
        if (when - f.start).total_seconds() >= self.roll_seconds or when < f.start:
            return True
        if hour_folder(when) != hour_folder(f.start):
            return True
        return f.size + size > self.max_file_bytes and f.size > 0

    # ------------------------------------------------------------------------------- writing
    def flush(self, only: tuple[str, str, str] | None = None) -> int:
        """Write every changed file (or those of one ``(account, region, endpoint)``) to S3.

        Returns:
            The number of objects written.
        """
        with self._write_lock:
            with self._lock:
                todo = []
                for slot, f in list(self._closed) + list(self._open.items()):
                    if only is not None and slot[:3] != only:
                        continue
                    if f.dirty:
                        todo.append((slot, f, b"".join(f.lines)))
                        f.dirty = False
            written = 0
            failed = []
            for slot, f, content in todo:
                try:
                    s3io.put_bytes(slot[0], f.bucket, f.key, content)
                    written += 1
                except Exception as exc:  # noqa: BLE001 - keep the records, retry next time
                    failed.append(f)
                    self._warn(f.bucket, exc)
            with self._lock:
                for f in failed:
                    f.dirty = True
                self._closed = [(s, f) for s, f in self._closed if f.dirty]
            return written

    def _warn(self, bucket: str, exc: Exception) -> None:
        if bucket not in self._warned:
            self._warned.add(bucket)
            print(
                f"mmlab emulator: capture for bucket {bucket!r} kept in memory, "
                f"cannot write it yet: {exc}",
                file=sys.stderr,
                flush=True,
            )

    def flush_endpoint(self, account: str, region: str, endpoint: str) -> int:
        """Write the buffered records of one endpoint."""
        return self.flush(only=(account, region, endpoint))

    def forget_endpoint(self, account: str, region: str, endpoint: str) -> None:
        """Close the endpoint's open files (after a flush) and forget its sampler."""
        with self._lock:
            for slot in [s for s in self._open if s[:3] == (account, region, endpoint)]:
                f = self._open.pop(slot)
                if f.dirty:
                    self._closed.append((slot, f))
            self._samplers.pop((account, region, endpoint), None)

    def has_unwritten(self) -> bool:
        """True when some captured record is not in S3 yet (cheap: no sums)."""
        with self._lock:
            return any(f.dirty for f in self._open.values()) or any(
                f.dirty for _, f in self._closed
            )

    def pending(self) -> int:
        """Number of records not yet written to S3 (for tests and health checks)."""
        with self._lock:
            files = [f for _, f in self._closed] + list(self._open.values())
            return sum(len(f.lines) for f in files if f.dirty)

    def reset(self) -> None:
        """Drop every buffer and sampler (``/moto-api/reset``: S3 is emptied too)."""
        with self._write_lock, self._lock:
            self._open.clear()
            self._closed.clear()
            self._samplers.clear()
            self._warned.clear()

    def export_state(self) -> dict:
        """The samplers and the open files (without their lines) for a snapshot."""
        with self._lock:
            return {
                "samplers": dict(self._samplers),
                "open": {s: (f.bucket, f.key, f.start) for s, f in self._open.items()},
            }

    def import_state(self, doc: dict, read_object) -> None:
        """Take back :meth:`export_state`; open files are re-read from S3 to go on appending.

        Args:
            doc: what :meth:`export_state` returned.
            read_object: ``(account, bucket, key) -> bytes | None``; a file that never reached
                S3 is not re-opened (the next record starts a new one).
        """
        with self._lock:
            self._samplers.update(doc.get("samplers") or {})
            for slot, (bucket, key, start) in (doc.get("open") or {}).items():
                content = read_object(slot[0], bucket, key)
                if content is None:
                    continue
                lines = content.splitlines(keepends=True)
                self._open[slot] = _File(bucket, key, start, lines, len(content), dirty=False)

    def reseed(self) -> None:
        """Restart the sampling generators (after a new seed)."""
        with self._lock:
            self._samplers.clear()

    # --------------------------------------------------------------------------- background
    def start(self) -> None:
        """Start the flusher thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mmlab-capture-flusher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - the flusher must survive
                print(f"mmlab emulator: capture flush failed: {exc}", file=sys.stderr)

    def stop(self) -> None:
        """Stop the flusher and write everything that is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()


#: The capture writer of this emulator process.
WRITER = CaptureWriter()


def _read_your_writes(method):
    """Wrap an S3 request handler so a GET/HEAD first writes every buffered capture record."""

    def handler(self, request, full_url, *args, **kwargs):
        if request.method in ("GET", "HEAD") and WRITER.has_unwritten():
            WRITER.flush()
        return method(self, request, full_url, *args, **kwargs)

    handler.__wrapped__ = method
    return handler


#: the S3 request handlers that first write buffered capture (read-your-writes)
READ_HANDLERS = (
    "moto.s3.responses.S3Response._bucket_response",
    "moto.s3.responses.S3Response._key_response",
)


def _install_read_your_writes() -> None:
    """S3 reads see every record captured before them (AWS delivers late; a lab must not)."""
    for target in READ_HANDLERS:
        owner, name = patch_table.resolve(target)
        current = getattr(owner, name)
        if not hasattr(current, "__wrapped__"):
            setattr(owner, name, _read_your_writes(current))


def install() -> None:
    """Hook the writer into the emulator's flush/stop/reset/seed events and start it."""
    _install_read_your_writes()
    STATE.on_flush(WRITER.flush)
    STATE.on_stop(WRITER.stop)
    STATE.on_reset(WRITER.reset)
    STATE.on_seed(WRITER.reseed)
    WRITER.start()
