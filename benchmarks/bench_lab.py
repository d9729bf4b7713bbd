"""Wall time of ``mmlab run`` with default parameters (all five notebooks, emulator start included).

Usage: ``.venv/bin/python benchmarks/bench_lab.py [--repeat N]``. Target: ≤ 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    times = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "mmutils.cli", "run", "--output", str(Path(tmp) / "run")],
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - t0
            if proc.returncode != 0:
                print(proc.stdout[-3000:], proc.stderr[-3000:])
                return 1
            per_nb = [ln for ln in proc.stdout.splitlines() if " done in " in ln]
        times.append(elapsed)
        print(
            f"run {i + 1}: {elapsed:.1f} s wall  ({'; '.join(s.split('] ')[-1] for s in per_nb)})"
        )
    print(f"mmlab run, default parameters: best {min(times):.1f} s, target <= 60 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
