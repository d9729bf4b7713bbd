"""Cost of the durable emulator: invokes/s with persistence on and off, disk per 1k captured
records, and start time against the size of the saved state (up to 100k captured records).

Run: ``python benchmarks/bench_persistence.py [--invocations 1500] [--records 100000]``.
Each measurement starts its own server (``python -m mmutils.emulator.server``) on a free
loopback port in a temporary folder. Start time is from process launch to the ready line,
including the load of the saved state. The 100k-record state is made of capture files of
1,000 real captured lines each, written through S3 (the same files a long traffic run leaves).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_emulator as bench  # noqa: E402

from mmutils.emulator.admin_client import EmulatorClient  # noqa: E402
from mmutils.paths import TEST_DATA  # noqa: E402


def start(state_dir: str, env: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmutils.emulator.server", "--port", "0", "--state-dir", state_dir],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
    )
    line = proc.stdout.readline().strip()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1], time.perf_counter() - t0


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def invokes(env: dict[str, str], rows: list[str], n: int) -> float:
    with tempfile.TemporaryDirectory(prefix="mmlab-bench-") as state:
        proc, url, _ = start(state, env)
        try:
            bench.client(url, "s3").create_bucket(Bucket="bench")
            return bench.bench_invoke(url, rows, n, 1)
        finally:
            stop(proc)


def disk_per_1k(rows: list[str], n: int) -> tuple[float, list[bytes]]:
    """Bytes on disk per 1,000 captured records, and the captured lines (for the big state)."""
    with tempfile.TemporaryDirectory(prefix="mmlab-bench-") as state:
        proc, url, _ = start(state, {})
        try:
            s3 = bench.client(url, "s3")
            s3.create_bucket(Bucket="bench")
            bench.bench_invoke(url, rows, n, 1)
            EmulatorClient(url).flush()
            lines = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix="dc/"):
                for item in page.get("Contents", []):
                    body = s3.get_object(Bucket="bench", Key=item["Key"])["Body"].read()
                    lines += body.splitlines(keepends=True)
        finally:
            stop(proc)
        capture = Path(state) / "state" / "s3" / "objects"
        total = sum(folder_bytes(p) for p in capture.glob("*/bench") if p.is_dir()) - len(
            (TEST_DATA / "model.tar.gz").read_bytes()
        )
        return total / len(lines) * 1000, lines


def start_times(lines: list[bytes], records: int) -> list[tuple[str, int, float, float]]:
    """(label, records, state MB, start seconds) for an empty, a lab-sized and a big state."""
    out = []
    with tempfile.TemporaryDirectory(prefix="mmlab-bench-") as state:
        proc, url, seconds = start(state, {})
        out.append(("empty state", 0, folder_bytes(Path(state) / "state") / 1e6, seconds))
        s3 = bench.client(url, "s3")
        s3.create_bucket(Bucket="bench")
        bench.deploy(url, "ep")
        written = 0
        plan = [("lab state (~3.6k records)", 3600), (f"{records // 1000}k records", records)]
        for label, target in plan:
            n = 0
            while written < target:
                chunk = min(1000, target - written)
                body = b"".join(lines[(written + i) % len(lines)] for i in range(chunk))
                s3.put_object(
                    Bucket="bench",
                    Key=f"dc/ep/AllTraffic/2026/01/05/10/{n:06d}-{target}.jsonl",
                    Body=body,
                )
                written += chunk
                n += 1
            stop(proc)
            proc, url, seconds = start(state, {})
            s3 = bench.client(url, "s3")
            out.append((label, written, folder_bytes(Path(state) / "state") / 1e6, seconds))
        stop(proc)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=1500)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    rows = (TEST_DATA / "test-dataset-input-cols.csv").read_text().splitlines()
    off = invokes({"MMLAB_PERSIST": "0"}, rows, args.invocations)
    on = invokes({}, rows, args.invocations)
    no_sync = invokes({"MMLAB_PERSIST_FSYNC": "0"}, rows, args.invocations)
    per_1k, lines = disk_per_1k(rows, 1000)
    starts = start_times(lines, args.records)
    print(f"InvokeEndpoint with capture, 1 client, persistence off : {off:6.0f} calls/s")
    print(f"InvokeEndpoint with capture, 1 client, persistence on  : {on:6.0f} calls/s")
    print(f"InvokeEndpoint with capture, 1 client, on without fsync: {no_sync:6.0f} calls/s")
    print(f"disk per 1,000 captured records: {per_1k / 1e3:.0f} kB")
    for label, n, mb, seconds in starts:
        print(f"start with {label:28s}: {seconds:5.2f} s  ({n} records, state {mb:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
