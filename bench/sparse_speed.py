"""Inference latency of a masked MLP: dense torch vs torch CSR vs scipy CSR, at several densities.

The digits-shaped MLP 64-256-256-10 is pruned by per-layer magnitude to each density (and once
to the 2:4 N:M pattern, density 0.5), then timed by ``engine.sparse.speed.measure_speed`` at
batch 1 and 64 on one thread. "vs dense" is the dense backend's median over this backend's, in
the same run (> 1: faster than dense); "ideal" is dense MACs / non-zero MACs.

    python bench/sparse_speed.py [--budget 0.8] [--threads 1]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.sparse.nm import nm_mask  # noqa: E402
from engine.sparse.speed import measure_speed  # noqa: E402


def digits_mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


@torch.no_grad()
def prune(model: nn.Sequential, density: float | str) -> nn.Sequential:
    for layer in model:
        if not isinstance(layer, nn.Linear):
            continue
        w = layer.weight
        if density == "2:4":
            w.mul_(nm_mask(w, 2, 4))
            continue
        k = max(1, round(density * w.numel()))
        threshold = w.abs().flatten().kthvalue(w.numel() - k + 1).values
        w.mul_(w.abs() >= threshold)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=0.8, help="timing seconds per density")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"MLP 64-256-256-10, torch {torch.__version__}, {args.threads} thread(s), median latency")
    print(f"{'density':>8} {'backend':>10} {'batch':>5} {'median ms':>10} {'p90 ms':>8} {'vs dense':>9} {'ideal':>6} {'max|Δ|':>8}")
    for density in (1.0, 0.5, "2:4", 0.1, 0.02):
        model = prune(digits_mlp(), density)
        rows = measure_speed(model, (64,), batch_sizes=(1, 64), budget_s=args.budget, threads=args.threads)
        for r in sorted(rows, key=lambda r: (r["batch"], r["backend"])):
            label = f"{r['density']:.2f}" if density != "2:4" else "2:4"
            print(f"{label:>8} {r['backend']:>10} {r['batch']:>5} {r['median_ms']:>10.4f} {r['p90_ms']:>8.4f} "
                  f"{r['speedup_vs_dense']:>8.2f}x {r['theoretical_flop_ratio']:>5.1f}x {r['max_abs_diff']:>8.1e}")


if __name__ == "__main__":
    main()
