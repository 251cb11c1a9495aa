"""Wall time of the default accuracy–sparsity sweep (issue 3: under 60 s on 2 cores).

    nice -n 5 .venv/bin/python bench/sparse_sweep.py [--method magnitude] [--seeds 0]

The default ``SweepConfig``: one method at 6 sparsity levels (0.5 … 0.98) plus the dense baseline,
MLP 64-256-256-10 on digits, the app's default training (50 epochs + 10 fine-tuning), run one after
another in this process on one thread each, as ``python -m engine run sweep`` does (the app's job
runner runs the same runs as separate jobs, at most ``cpu_count - 1`` at a time). Prints each run's
row, the wall and CPU time, and the machine's load average (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.runs.reporter import NullReporter  # noqa: E402
from engine.sparse.experiments import EXPERIMENTS  # noqa: E402
from engine.sparse.sweep import SweepConfig  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", default="magnitude")
    ap.add_argument("--seeds", default="0")
    args = ap.parse_args()
    config = SweepConfig(methods=(args.method,), seeds=tuple(int(s) for s in args.seeds.split(",")))
    load_before = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    result = EXPERIMENTS["sweep"][1](config, NullReporter())
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    load_after = os.getloadavg()
    print(f"Default sweep: {args.method} × sparsities {list(config.sparsities)} × seeds {list(config.seeds)} "
          f"+ dense; MLP 64-256-256-10, digits, {config.epochs}+{config.finetune_epochs} epochs")
    print("| method | requested | sparsity | test accuracy % | s |\n|---|---|---|---|---|")
    for r in result["rows"]:
        print(f"| {r['method']} | {r['requested_sparsity']:.2f} | {r['sparsity']:.4f} | "
              f"{100 * r['test_accuracy']:.2f} | {r['seconds']:.1f} |")
    verdict = "under" if wall < 60 else "OVER"
    print(f"\n{len(result['rows'])} runs: wall {wall:.1f} s ({verdict} the 60 s target), CPU {cpu:.1f} s; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (1-min), {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
