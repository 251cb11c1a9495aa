"""TopK vs Feature Choice vs Mutual Choice SAEs at equal sparsity (Ayonrinde 2024's claim: fewer dead
features and lower reconstruction error for FC / MC than TopK), on the 64 hidden activations of a
64-64-10 MLP trained on digits (activation sparsity).

    nice -n 10 .venv/bin/python bench/sae_compare.py                       # k=8, F=256, 30 epochs, seeds 0,1,2
    nice -n 10 .venv/bin/python bench/sae_compare.py --seeds 0 --epochs 5

Every run has the same budget, k·B active codes per training batch (L0 = k on average); the test
split is coded in batches of B as in training. NMSE = ‖x − x̂‖² / ‖x − x̄‖² on the test split; dead =
never active on the training split; under-used = active on fewer than 10 % of k/F of it.
Mean ± std over seeds. The CPU is shared with other jobs (times are indicative only).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.runs.reporter import NullReporter  # noqa: E402
from engine.sparse.sae import SAEConfig, run_sae  # noqa: E402

ROWS = [("topk", "uniform", "none"), ("topk", "uniform", "k"), ("topk", "uniform", "zipf"),
        ("feature-choice", "uniform", "zipf"), ("feature-choice", "zipf", "zipf"),
        ("mutual-choice", "uniform", "none"), ("mutual-choice", "uniform", "zipf")]


def ms(values, digits=3):
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--width", type=int, default=256)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"SAE on digits MLP 64-64-10 hidden activations; F = {args.width}, k = {args.k}, {args.epochs} epochs, "
          f"seeds {args.seeds}")
    print(f"{'variant':<16} {'capacity':<8} {'aux':<5} {'test NMSE':>16} {'dead':>12} {'under-used':>12} "
          f"{'L0 mean':>8} {'L0 min-max':>10} {'s/run':>6}")
    for variant, capacity, aux in ROWS:
        rs = [run_sae(SAEConfig(variant=variant, capacity=capacity, aux=aux, k=args.k, width=args.width,
                                epochs=args.epochs, seed=s), NullReporter()) for s in seeds]
        print(f"{variant:<16} {capacity:<8} {aux:<5} {ms([r['nmse'] for r in rs]):>16} "
              f"{ms([r['dead_features'] for r in rs], 1):>12} {ms([r['underused_features'] for r in rs], 1):>12} "
              f"{statistics.mean(r['l0_mean'] for r in rs):>8.2f} "
              f"{min(r['l0_min'] for r in rs):>4}-{max(r['l0_max'] for r in rs):<5} "
              f"{statistics.mean(r['seconds'] for r in rs):>6.1f}")


if __name__ == "__main__":
    main()
