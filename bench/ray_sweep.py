"""The same sweep on the local backend and on Ray: Ray's overhead per point, and wall time as the cluster grows.

A sparse sweep (digits MLP, magnitude pruning over sparsity levels, + dense) runs

1. on ``local`` (one point after another in this process, one torch thread): the baseline;
2. on a Ray cluster of 1 CPU started here (same CPU count as the baseline): fresh (workers
   import torch) and warm (second sweep on the same cluster) — overhead per point as a ratio;
3. on Ray clusters of 1, 2, 4 CPUs (k local worker processes, the simulated cluster growing).

Every Ray sweep's rows are checked equal to the local rows (same seeds, same numbers). Beyond
this machine's cores the wall time cannot fall: there are only ``cores`` CPUs to share.

    python bench/ray_sweep.py [--epochs 20] [--levels 0.5,0.7,0.8,0.9,0.95,0.98] [--cpus 1,2,4]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from engine.runs import threads  # noqa: E402

threads.set_env(1)


def _noop() -> int:
    return 0


def _rows(result):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in result["rows"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--levels", default="0.5,0.7,0.8,0.9,0.95,0.98")
    ap.add_argument("--cpus", default="1,2,4", help="Ray cluster sizes (CPUs) to time")
    ap.add_argument("--repeats", type=int, default=3, help="warm sweeps per size (the median is shown)")
    args = ap.parse_args()
    from engine.runs.ray_backend import _single_machine, ray_available

    if not ray_available():
        print("ray is not installed (pip install -r requirements.txt): nothing to compare")
        return 0
    import ray

    from engine.runs.reporter import MemoryReporter
    from engine.sparse.experiments import EXPERIMENTS
    from engine.sparse.sweep import SweepConfig

    threads.apply(1)
    run = EXPERIMENTS["sweep"][1]
    kw = dict(methods=("magnitude",), sparsities=tuple(float(x) for x in args.levels.split(",")), seeds=(0,),
              epochs=args.epochs, finetune_epochs=5, hidden=(64,))
    n = SweepConfig(**kw).n_runs
    run(SweepConfig(**{**kw, "epochs": 1}), MemoryReporter())  # warm this process too (imports, first-use costs)
    walls = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        local = run(SweepConfig(**kw), MemoryReporter())
        walls.append(time.perf_counter() - t)
    t_local = float(np.median(walls))
    print(f"sweep: {n} points (digits MLP 64, magnitude, {args.epochs} epochs + 5 fine-tuning); "
          f"{threads.cores()} cores on this machine, shared with other work while measured")
    print(f"{'backend':<34} {'CPUs':>4} {'wall s':>7} {'s/point':>8} {'vs local':>9}  same rows")
    print(f"{'local (this process)':<34} {1:>4} {t_local:7.2f} {t_local / n:8.2f} {1.0:9.2f}  -")
    _single_machine(ray, True)  # 127.0.0.1 only
    for cpus in [int(c) for c in args.cpus.split(",")]:
        t = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, object_store_memory=80 * 1024 * 1024,
                 _node_ip_address="127.0.0.1", log_to_driver=False, configure_logging=False)
        t_start = time.perf_counter() - t
        try:
            for label in ("fresh", "warm"):
                walls, same = [], True
                for _ in range(1 if label == "fresh" else args.repeats):
                    t = time.perf_counter()
                    res = run(SweepConfig(**kw, backend="ray", address="auto"), MemoryReporter())
                    walls.append(time.perf_counter() - t)
                    same = same and _rows(res) == _rows(local) and not res["failed"]
                wall = float(np.median(walls))
                name = f"ray, {label} workers (+{t_start:.1f} s start)" if label == "fresh" else "ray, warm workers"
                print(f"{name:<34} {cpus:>4} {wall:7.2f} {wall / n:8.2f} {wall / t_local:9.2f}  {'yes' if same else 'NO'}")
            if cpus == 1:
                noop = ray.remote(num_cpus=1, max_retries=0)(_noop)
                ray.get([noop.remote() for _ in range(20)])
                t = time.perf_counter()
                ray.get([noop.remote() for _ in range(200)])
                task_ms = (time.perf_counter() - t) / 200 * 1000
        finally:
            ray.shutdown()
    print(f"vs local = wall / local wall (median of {args.repeats}); with 1 CPU it is Ray's cost per point as a "
          "ratio (warm: scheduling + result transfer; fresh: + each worker importing torch once).")
    if "task_ms" in locals():
        print(f"an empty Ray task costs {task_ms:.2f} ms on 1 CPU (= {task_ms / 1000 / (t_local / n):.2%} of one "
              "point of this sweep)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
