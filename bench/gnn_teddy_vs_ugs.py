"""TEDDY (one-shot) vs UGS (iterative) vs random at equal graph and weight sparsity, on Cora and CiteSeer.

    SPARSITY_LAB_DATA=/work/shared/data .venv/bin/python bench/gnn_teddy_vs_ugs.py [--seeds 5] [--levels 0.15:0.5,0.3:0.8,0.5:0.9]

Each level is ``graph sparsity : weight sparsity``; every method reaches both exactly. Same GCN for
all (2 layers, 16 hidden, Kipf & Welling's settings); test accuracy of the model when training stops
(early stopping window 10), mean ± std over seeds, and wall time per run (TEDDY's includes training
its dense teacher; UGS's all its rounds). One torch thread. Needs the shared data (skips otherwise).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")

from engine.graphs.gnn import train_dense, train_method  # noqa: E402
from engine.graphs.gnn_data import available_planetoid, load_node_data  # noqa: E402

METHODS = ("teddy", "ugs", "random")


def main() -> int:
    import torch

    torch.set_num_threads(1)
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--levels", default="0.15:0.5,0.3:0.8,0.5:0.9")
    p.add_argument("--graphs", default="cora,citeseer")
    args = p.parse_args()
    levels = [tuple(float(x) for x in lv.split(":")) for lv in args.levels.split(",")]
    present = available_planetoid()
    graphs = [g for g in args.graphs.split(",") if g in present]
    if not graphs:
        print("Shared data (Cora/CiteSeer) not found: set SPARSITY_LAB_DATA. Nothing measured.")
        return 0
    print(f"| graph | graph sp. | weight sp. | method | test acc % (mean ± std, {args.seeds} seeds) | s / run |")
    print("|---|---|---|---|---|---|")
    for name in graphs:
        d = load_node_data(f"benchmark:{name}")
        dense = [100 * train_dense(d, seed=s).test_accuracy for s in range(args.seeds)]
        print(f"| {name} | 0 | 0 | dense | {np.mean(dense):.1f} ± {np.std(dense):.1f} | |", flush=True)
        for gs, ws in levels:
            for m in METHODS:
                accs, secs, reached = [], [], set()
                for s in range(args.seeds):
                    t0 = time.perf_counter()
                    t = train_method(d, m, gs, ws, seed=s)
                    secs.append(time.perf_counter() - t0)
                    accs.append(100 * t.test_accuracy)
                    reached.add((round(t.graph_sparsity, 3), round(t.weight_sparsity, 3)))
                r = ", ".join(f"{a:g}/{b:g}" for a, b in sorted(reached))
                print(f"| {name} | {gs:g} | {ws:g} | {m} (reached {r}) | {np.mean(accs):.1f} ± {np.std(accs):.1f} "
                      f"| {np.mean(secs):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
