"""Wall time of ``mmlab run`` with default parameters (emulator start included).

Usage: ``.venv/bin/python benchmarks/bench_lab.py [--repeat N] [--notebooks 01_capture …]``
(default: all five notebooks). Target: ≤ 30 s for 01–04 on 2 cores. The code measured is the
``mmutils`` that ``PYTHONPATH`` names (so two checkouts can be compared, run after run).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--notebooks", nargs="+", help="run only these (names without .ipynb)")
    args = parser.parse_args()
    which = ["--notebooks", *args.notebooks] if args.notebooks else []
    times = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "mmutils.cli", "run", "--output", str(Path(tmp) / "run")]
                + which,
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
    label = " ".join(args.notebooks) if args.notebooks else "all notebooks"
    print(
        f"mmlab run ({label}), default parameters: median {statistics.median(times):.1f} s, "
        f"best {min(times):.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
