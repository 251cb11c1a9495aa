"""WGSEF against group lasso and norm-based unit pruning at the same training budget, on digits, and the
time of the group sparse envelope's prox against the number of groups d.

    nice -n 10 .venv/bin/python bench/wgsef_compare.py                 # both tables, 5 seeds
    nice -n 10 .venv/bin/python bench/wgsef_compare.py --seeds 0,1 --sparsities 0.5,0.9
    nice -n 10 .venv/bin/python bench/wgsef_compare.py --prox-only

Accuracy table: MLP 64-256-256-10, Adam lr 5e-3, batch 64 (the app's defaults). The same budget is the
same number of training epochs: ``structured`` (Li et al. 2017, L1 norm; and with group lasso,
Wen et al. 2016) trains ``E`` dense epochs, removes the units and fine-tunes ``F``; ``wgsef`` trains
``E + F`` epochs with the prox and no pruning step. Sparsity = fraction of hidden units removed, the
same ``k = round((1 − s) · units)`` per layer for all three. Each finished model is compacted
(removed units dropped physically) and timed by the speed meter's ``compacted`` backend
(``engine.sparse.speed``, batch 64, one thread) against the dense kernels on the same weights.

Prox table: ``prox_sparse_envelope`` (λ = 0.3, k = d/4, float64, random group norms; worst-case O(d),
a median search over the breakpoints) against the sorted O(d log d) search it replaced and a plain
``torch.sort`` of the same vector in the same process; ns per group stays flat as d grows when the
time is linear. Wall times are measured on a machine
shared with other jobs: read them as ratios.

Measured 2026-12-01 (5 seeds, 50+10 epochs, shared CPU), test accuracy %: units removed 0.50:
structured 98.27 ± 0.50, + group lasso 97.60 ± 0.89, wgsef 97.77 ± 0.44; 0.75: 97.72 ± 0.50,
97.72 ± 0.54, 97.99 ± 0.36; 0.90: 97.10 ± 0.42, 97.16 ± 0.93, 97.55 ± 0.64; 0.95: 95.54 ± 0.71,
97.05 ± 0.37, 96.82 ± 0.42. Compacted speed-up at batch 64 is the same for all three at equal k
(2.4× at 0.50, 4.0× at 0.75, 4.9× at 0.90, 5.2× at 0.95).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.runs.reporter import NullReporter  # noqa: E402
from engine.sparse.config import SparseConfig  # noqa: E402
from engine.sparse.experiments import run_sparse  # noqa: E402
from engine.sparse.prox import prox_half_ksupport_sq_sorted, prox_sparse_envelope  # noqa: E402


def fmt(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.2f} ± {sd:4.2f}"


def variants(epochs: int, finetune: int, group_lasso: float) -> dict[str, tuple[str, dict, dict]]:
    return {
        "structured (L1 norm, Li et al.)": ("structured", {}, {"epochs": epochs, "finetune_epochs": finetune}),
        f"structured + group lasso λ={group_lasso:g}": ("structured", {"group_lasso": group_lasso},
                                                        {"epochs": epochs, "finetune_epochs": finetune}),
        "wgsef (geometric ramp)": ("wgsef", {}, {"epochs": epochs + finetune, "finetune_epochs": 0}),
    }


def accuracy_table(seeds: list[int], sparsities: list[float], epochs: int, finetune: int, group_lasso: float) -> None:
    print("| method | units removed | weight sparsity | test acc. % (mean ± std) | params after compaction | "
          "compacted speed-up, batch 64 | wall s / run |")
    print("|---|---|---|---|---|---|---|")
    for s in sparsities:
        for label, (method, params, over) in variants(epochs, finetune, group_lasso).items():
            accs, wsp, secs, speedups, compact = [], [], [], [], []
            for seed in seeds:
                cfg = SparseConfig(method=method, sparsity=s, seed=seed, method_params=params, **over)
                t = time.perf_counter()
                r = run_sparse(cfg, NullReporter())
                secs.append(time.perf_counter() - t)
                accs.append(100 * r["test_accuracy"])
                wsp.append(r["sparsity"])
                row = next(x for x in r["speed"] if x["backend"] == "compacted" and x["batch"] == 64)
                speedups.append(row["speedup_vs_dense"])
                compact.append(row["params"])
                if method == "wgsef":
                    assert r["wgsef"]["exactly_k"], r["wgsef"]["nonzero_groups"]
            print(f"| {label} | {s:.2f} | {statistics.mean(wsp):.4f} | {fmt(accs)} | {statistics.mean(compact):,.0f} | "
                  f"{statistics.mean(speedups):.2f}× | {statistics.mean(secs):.1f} |", flush=True)


def prox_table(sizes=(10, 100, 1_000, 10_000, 100_000, 1_000_000)) -> None:
    print("\n| d (groups) | prox median ms | sorted-search prox ms | torch.sort ms | prox / sorted | prox ns per group |")
    print("|---|---|---|---|---|---|")
    gen = torch.Generator().manual_seed(0)
    for d in sizes:
        v = torch.rand(d, generator=gen, dtype=torch.float64)
        reps = max(5, min(200, 2_000_000 // d))

        def timed(fn) -> float:
            fn()
            out = []
            for _ in range(reps):
                t = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t)
            return statistics.median(out) * 1e3

        p = timed(lambda: prox_sparse_envelope(v, max(1, d // 4), 0.3))
        q = timed(lambda: prox_half_ksupport_sq_sorted(v / 0.7, max(1, d // 4), 0.3 / 0.7))
        s = timed(lambda: v.sort(descending=True))
        print(f"| {d:,} | {p:.4f} | {q:.4f} | {s:.4f} | {p / q:.2f} | {p * 1e6 / d:.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--sparsities", default="0.5,0.75,0.9")
    ap.add_argument("--epochs", type=int, default=50, help="E: dense epochs of structured (wgsef trains E + F)")
    ap.add_argument("--finetune", type=int, default=10, help="F: fine-tuning epochs of structured")
    ap.add_argument("--group-lasso", type=float, default=1e-3)
    ap.add_argument("--prox-only", action="store_true")
    ap.add_argument("--no-prox", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if not args.prox_only:
        seeds = [int(s) for s in args.seeds.split(",")]
        print(f"digits, MLP 64-256-256-10, seeds {seeds}, {args.epochs}+{args.finetune} epochs; shared CPU "
              "(wall times and speed-ups are ratios)\n")
        accuracy_table(seeds, [float(s) for s in args.sparsities.split(",")], args.epochs, args.finetune,
                       args.group_lasso)
    if not args.no_prox:
        prox_table()


if __name__ == "__main__":
    main()
