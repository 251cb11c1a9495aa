"""FastRP (Chen et al., CIKM 2019) vs a spectral embedding (scikit-learn) on Cora and CiteSeer.

    SPARSITY_LAB_DATA=/work/shared/data .venv/bin/python bench/gnn_fastrp_compare.py [--dim 128] [--seeds 3]

Both embed the graph only (no features); logistic regression trained on the Planetoid training
nodes, micro/macro-F1 on the test nodes; mean over seeds (the projection's / eigensolver's seed).
Embedding time only (the classifier's time is the same for both). No DeepWalk/node2vec package is
installed here, so those are not compared. Needs the shared data (skips otherwise).
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

from engine.graphs.fastrp import classify, fastrp, spectral_embedding  # noqa: E402
from engine.graphs.gnn_data import available_planetoid, load_node_data  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--seeds", type=int, default=3)
    args = p.parse_args()
    present = available_planetoid()
    if not present:
        print("Shared data (Cora/CiteSeer) not found: set SPARSITY_LAB_DATA. Nothing measured.")
        return 0
    print(f"| graph | embedding (dim {args.dim}) | micro-F1 | macro-F1 | embed s | time ratio vs FastRP |")
    print("|---|---|---|---|---|---|")
    for name in present:
        d = load_node_data(f"benchmark:{name}")
        rows = {}
        for label, fn in (("FastRP", fastrp), ("Spectral (sklearn SpectralEmbedding)", spectral_embedding)):
            mi, ma, ts = [], [], []
            for s in range(args.seeds):
                t0 = time.perf_counter()
                Z = fn(d.edges, d.n_nodes, dim=args.dim, seed=s)
                ts.append(time.perf_counter() - t0)
                c = classify(Z, d.labels, d.train, d.test)
                mi.append(c.micro_f1)
                ma.append(c.macro_f1)
            rows[label] = (np.mean(mi), np.mean(ma), np.median(ts))
        base = rows["FastRP"][2]
        for label, (mi, ma, t) in rows.items():
            print(f"| {name} | {label} | {mi:.3f} | {ma:.3f} | {t:.3f} | {t / base:.0f}× |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
