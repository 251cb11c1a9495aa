"""Dense two-layer GCN (Kipf & Welling 2017) on Cora and CiteSeer: mean ± std test accuracy over seeds.

    SPARSITY_LAB_DATA=/work/shared/data .venv/bin/python bench/gnn_accuracy.py [--seeds 10]

Kipf & Welling's settings (hidden 16, dropout 0.5, Adam lr 0.01, weight decay 5e-4 on layer 1,
200 epochs, early stopping window 10 on the validation loss); test accuracy of the model when
training stops. Published: Cora 81.5 %, CiteSeer 70.3 %. Needs the shared data (skips otherwise).
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

from engine.graphs.gnn import train_dense  # noqa: E402
from engine.graphs.gnn_data import available_planetoid, load_node_data  # noqa: E402

PUBLISHED = {"cora": 81.5, "citeseer": 70.3}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=10)
    args = p.parse_args()
    present = available_planetoid()
    if not present:
        print("Shared data (Cora/CiteSeer) not found: set SPARSITY_LAB_DATA. Nothing measured.")
        return 0
    print(f"| graph | published | this GCN, mean ± std over {args.seeds} seeds | best-val-epoch test acc | epochs | s / run |")
    print("|---|---|---|---|---|---|")
    for name in present:
        d = load_node_data(f"benchmark:{name}")
        accs, best, epochs, secs = [], [], [], []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            t = train_dense(d, seed=seed)
            secs.append(time.perf_counter() - t0)
            accs.append(100 * t.test_accuracy)
            best.append(100 * t.test_accuracy_best_val)
            epochs.append(t.epochs)
        m = float(np.mean(accs))
        print(f"| {name} | {PUBLISHED[name]:.1f} | {m:.1f} ± {np.std(accs):.1f} ({m - PUBLISHED[name]:+.1f}) | "
              f"{np.mean(best):.1f} ± {np.std(best):.1f} | {np.mean(epochs):.0f} | {np.mean(secs):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
