"""Scale-out on Dask against the local run, on the same capture files (issue 14).

    python benchmarks/bench_scaleout.py --size 1000000 --data-dir /tmp/mmbench
    python benchmarks/bench_scaleout.py --size 10000000 --data-dir /tmp/mmbench --repeat 1

Uses the data ``benchmarks/bench_analyzer.py`` generates (``DIR/<size>/``: the capture tree and
the training CSV; generated here when missing, and a baseline suggested once). Then, each
``--repeat`` times, alternately: ``run_monitoring_on_dask`` on a ``LocalCluster`` of
``--dask-workers`` worker processes (one thread each; the cluster starts before the clock and
its kernels are warmed by a first tiny task), and the local ``run_monitoring`` with
``--workers`` threads (kernels loaded before the clock too). Prints both medians, the overhead
(Dask / local) and whether the three output files are byte-identical.
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUTS = ("statistics.json", "constraints.json", "constraint_violations.json")


def _warm() -> bool:
    from mmutils.analyzer import forkserver

    forkserver.warm_compiled()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="records (default 1M)")
    parser.add_argument("--data-dir", required=True, help="bench_analyzer.py's data folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="local threads (default 2)")
    parser.add_argument(
        "--dask-workers", type=int, default=2, help="local cluster processes (default 2)"
    )
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    from mmutils.analyzer import run_monitoring, suggest_baseline
    from mmutils.scaleout import run_monitoring_on_dask

    folder = Path(args.data_dir) / str(args.size)
    if not (folder / "generated.json").exists():
        cmd = [sys.executable, str(HERE / "bench_analyzer.py"), "--sizes", str(args.size)]
        cmd += ["--cases", "baseline", "--repeat", "1", "--workers", "1"]
        subprocess.run([*cmd, "--data-dir", args.data_dir], check=True)
    base = folder / "baseline"
    if not (base / "statistics.json").exists():
        suggest_baseline(folder / "train.csv", output_dir=base)
    capture, out = folder / "capture", folder / "scaleout-out"
    stats, constraints = base / "statistics.json", base / "constraints.json"
    _warm()
    times: dict[str, list[float]] = {"dask": [], "local": []}
    with (
        LocalCluster(
            n_workers=args.dask_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm)
        for _ in range(args.repeat):
            start = time.perf_counter()
            run_monitoring_on_dask(client, capture, stats, constraints, output_dir=out / "dask")
            times["dask"].append(time.perf_counter() - start)
            start = time.perf_counter()
            run_monitoring(
                capture, stats, constraints, output_dir=out / "local", workers=args.workers
            )
            times["local"].append(time.perf_counter() - start)
    same = all(filecmp.cmp(out / "dask" / f, out / "local" / f, shallow=False) for f in OUTPUTS)
    dask, local = statistics.median(times["dask"]), statistics.median(times["local"])
    print(f"{args.size:,} records, medians of {args.repeat}")
    for name, runs in times.items():
        print(
            f"  {name:<6} {statistics.median(runs):7.2f} s  ({', '.join(f'{t:.2f}' for t in runs)})"
        )
    print(
        f"  Dask {args.dask_workers} processes / local {args.workers} threads = {dask / local:.2f}x"
    )
    print(f"  output files byte-identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
