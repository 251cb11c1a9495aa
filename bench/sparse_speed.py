"""Inference latency of a masked MLP: dense torch vs compacted vs torch CSR vs scipy CSR, at several densities.

The second table prunes whole hidden units (structured: the rows of a layer and the matching
columns of the next), 50 / 75 / 90 % of them by L2 norm as ``structured`` does, and compares the
dense model with the compacted one (the same function as a physically smaller dense model).

The digits-shaped MLP 64-256-256-10 is pruned by per-layer magnitude to each density (and once
to the 2:4 N:M pattern, density 0.5), then timed by ``engine.sparse.speed.measure_speed`` at
batch 1 and 64 on one thread. "vs dense" is the dense backend's median over this backend's, in
the same run (> 1: faster than dense); "ideal" is dense MACs / non-zero MACs.

    python bench/sparse_speed.py [--budget 0.8] [--threads 1]
    python bench/sparse_speed.py --trained rigl,magnitude --sparsity 0.98   # the speed meter of trained runs

``--trained`` trains each method with the app's defaults (``run_sparse``) and prints the
``result["speed"]`` rows the app shows next to a finished run.
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


@torch.no_grad()
def prune_units(model: nn.Sequential, fraction: float) -> nn.Sequential:
    """Zero the ``fraction`` of hidden units with the smallest incoming L2 norm (row and next column)."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for layer, nxt in zip(linears[:-1], linears[1:]):
        norms = layer.weight.norm(dim=1)
        k = max(1, round((1 - fraction) * norms.numel()))
        keep = torch.zeros_like(norms, dtype=torch.bool)
        keep[norms.topk(k).indices] = True
        layer.weight[~keep] = 0.0
        nxt.weight[:, ~keep] = 0.0
    return model


def structured(budget: float, threads: int) -> None:
    print()
    print(f"Structured (units removed), MLP 64-256-256-10, {threads} thread(s), median latency")
    print(f"{'units rm':>8} {'w sparsity':>10} {'backend':>10} {'batch':>5} {'median ms':>10} {'vs dense':>9} "
          f"{'params':>8} {'max|Δ|':>8}")
    for fraction in (0.5, 0.75, 0.9):
        model = prune_units(digits_mlp(), fraction)
        rows = measure_speed(model, (64,), batch_sizes=(1, 64), budget_s=budget, threads=threads,
                             backends=("dense", "compacted", "torch-csr"))
        for r in sorted(rows, key=lambda r: (r["batch"], r["backend"])):
            print(f"{fraction:>8.0%} {1 - r['density']:>10.2%} {r['backend']:>10} {r['batch']:>5} "
                  f"{r['median_ms']:>10.4f} {r['speedup_vs_dense']:>8.2f}x {r['params']:>8} {r['max_abs_diff']:>8.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=0.8, help="timing seconds per density")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--trained", default="", help="comma-separated methods: time trained runs instead")
    parser.add_argument("--sparsity", type=float, default=0.98)
    args = parser.parse_args()
    if args.trained:
        return trained(args.trained.split(","), args.sparsity)
    print(f"MLP 64-256-256-10, torch {torch.__version__}, {args.threads} thread(s), median latency")
    print(f"{'density':>8} {'backend':>10} {'batch':>5} {'median ms':>10} {'p90 ms':>8} {'vs dense':>9} {'ideal':>6} {'max|Δ|':>8}")
    for density in (1.0, 0.5, "2:4", 0.1, 0.02):
        model = prune(digits_mlp(), density)
        rows = measure_speed(model, (64,), batch_sizes=(1, 64), budget_s=args.budget, threads=args.threads)
        for r in sorted(rows, key=lambda r: (r["batch"], r["backend"])):
            label = f"{r['density']:.2f}" if density != "2:4" else "2:4"
            if r["median_ms"] is None:  # the untimed N:M row
                print(f"{label:>8} {r['backend']:>10} {r['batch']:>5} {'—':>10} {'—':>8} {'—':>9} "
                      f"{r['theoretical_flop_ratio']:>5.1f}x {'':>8}  {r['note']}")
                continue
            print(f"{label:>8} {r['backend']:>10} {r['batch']:>5} {r['median_ms']:>10.4f} {r['p90_ms']:>8.4f} "
                  f"{r['speedup_vs_dense']:>8.2f}x {r['theoretical_flop_ratio']:>5.1f}x {r['max_abs_diff']:>8.1e}")
    structured(args.budget, args.threads)


def trained(methods: list[str], sparsity: float) -> None:
    """The speed meter in the result of real runs (digits, MLP 64-256-256-10, app defaults)."""
    import os

    from engine.runs.reporter import NullReporter
    from engine.sparse.config import SparseConfig
    from engine.sparse.experiments import run_sparse

    print(f"Speed meter of trained runs (result['speed']), 1 thread; load average {os.getloadavg()[0]:.2f}")
    print("| method | sparsity | test acc % | backend | batch | median ms | × dense (measured) | FLOP ratio (ideal) |")
    print("|---|---|---|---|---|---|---|---|")
    for method in methods:
        r = run_sparse(SparseConfig(method=method, sparsity=0.0 if method == "dense" else sparsity), NullReporter())
        for row in sorted(r["speed"], key=lambda x: (x["batch"], x["backend"])):
            if row["median_ms"] is None:
                print(f"| {method} | {r['sparsity']:.3f} | {100 * r['test_accuracy']:.1f} | {row['backend']} | "
                      f"{row['batch']} | not timed | {row['note']} | |")
                continue
            print(f"| {method} | {r['sparsity']:.3f} | {100 * r['test_accuracy']:.1f} | {row['backend']} | "
                  f"{row['batch']} | {row['median_ms']:.4f} | {row['speedup_vs_dense']:.2f} | "
                  f"{row['theoretical_flop_ratio']:.1f} |")


if __name__ == "__main__":
    main()
