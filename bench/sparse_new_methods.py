"""The methods of issue 13 beside magnitude and RigL on digits: accuracy (mean ± std over seeds) and
wall time at 50 %, 90 % and 98 % where each applies, and the post-training claims checked.

    nice -n 10 .venv/bin/python bench/sparse_new_methods.py                       # everything, 5 seeds
    nice -n 10 .venv/bin/python bench/sparse_new_methods.py --methods wanda,sparsegpt --seeds 0,1
    nice -n 10 .venv/bin/python bench/sparse_new_methods.py --ordering-only        # the post-training claim

Every run uses the app's defaults (MLP 64-256-256-10, Adam lr 5e-3, batch 64, 50 epochs; + 10
fine-tuning epochs for magnitude) unless flags say otherwise. Post-training methods (post-magnitude,
wanda, sparsegpt) train the same 50 dense epochs and prune once from 128 calibration samples with
**no retraining**; their table rows also give the mean relative per-layer output error
``‖WX − ŴX‖/‖WX‖``. ``train GFLOPs`` is the result's ``train_flops`` (training FLOPs estimate) where the
method reports one. The wall times are measured on a machine shared with other jobs: read them as
ratios between rows of one run, not absolute figures.

The ordering check (``--ordering``, on by default): Wanda (Sun et al. 2024, Table 2) and SparseGPT
(Frantar & Alistarh 2023, Fig. 1 / Table 2) report, at 50–60 % unstructured sparsity without
retraining, accuracy SparseGPT ≥ Wanda > magnitude and the same order for the reconstruction error;
here both are measured on the same trained model (same seed: the dense phase is identical) and
the table says, per sparsity, how many seeds keep each order.
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

# method -> sparsities it is benched at (post-training pruning without retraining collapses at 98 %: shown anyway)
DEFAULT = {
    "magnitude": (0.5, 0.9, 0.98), "rigl": (0.5, 0.9, 0.98),
    "post-magnitude": (0.5, 0.9, 0.98), "wanda": (0.5, 0.9, 0.98), "sparsegpt": (0.5, 0.9, 0.98),
    "sift-wide": (0.5, 0.9, 0.98), "sift-factorized": (0.5, 0.9, 0.98), "random-uniform": (0.5, 0.9, 0.98), "random-search": (0.5, 0.9, 0.98),
}
POST = ("post-magnitude", "wanda", "sparsegpt")


def run(method: str, sparsity: float, seed: int, params: dict, over: dict) -> tuple[dict, float]:
    cfg = SparseConfig(method=method, sparsity=sparsity, seed=seed, speed_meter=False, method_params=params, **over)
    t = time.perf_counter()
    r = run_sparse(cfg, NullReporter())
    return r, time.perf_counter() - t


def fmt(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.2f} ± {sd:4.2f}"


def table(methods: dict, seeds: list[int], over: dict, extra: dict) -> None:
    print("| method | sparsity asked | sparsity reached | test acc. % (mean ± std) | dense acc. before % | "
          "mean layer output error | train GFLOPs | wall s / run |")
    print("|---|---|---|---|---|---|---|---|")
    for method, levels in methods.items():
        for s in levels:
            accs, secs, reached, dense, err, flops = [], [], [], [], [], []
            for seed in seeds:
                r, sec = run(method, s, seed, extra.get(method, {}), over)
                accs.append(100 * r["test_accuracy"])
                secs.append(sec)
                reached.append(r["sparsity"])
                if "dense_test_accuracy" in r:
                    dense.append(100 * r["dense_test_accuracy"])
                if "layer_output_error" in r:
                    err.append(statistics.mean(r["layer_output_error"].values()))
                if r.get("train_flops"):
                    flops.append(r["train_flops"] / 1e9)
            cells = [method, f"{s:.2f}", f"{statistics.mean(reached):.4f}", fmt(accs), fmt(dense) if dense else "—",
                     f"{statistics.mean(err):.4f}" if err else "—", f"{statistics.mean(flops):.2f}" if flops else "—",
                     f"{statistics.mean(secs):.2f}"]
            print("| " + " | ".join(cells) + " |", flush=True)


def ordering(seeds: list[int], over: dict, levels=(0.5, 0.6)) -> None:
    """Per sparsity: accuracy and mean output error of the three post-training methods, and on how
    many seeds SparseGPT ≥ Wanda > magnitude holds (accuracy) and SparseGPT ≤ Wanda ≤ magnitude (error)."""
    print("\n| sparsity | post-magnitude acc. % | wanda acc. % | sparsegpt acc. % | error mag / wanda / sgpt | "
          "seeds with acc. SparseGPT ≥ Wanda > magnitude | seeds with error SparseGPT ≤ Wanda ≤ magnitude |")
    print("|---|---|---|---|---|---|---|")
    for s in levels:
        acc = {m: [] for m in POST}
        err = {m: [] for m in POST}
        for seed in seeds:
            for m in POST:
                r, _ = run(m, s, seed, {}, over)
                acc[m].append(100 * r["test_accuracy"])
                err[m].append(statistics.mean(r["layer_output_error"].values()))
        acc_ok = sum(acc["sparsegpt"][i] >= acc["wanda"][i] > acc["post-magnitude"][i] for i in range(len(seeds)))
        err_ok = sum(err["sparsegpt"][i] <= err["wanda"][i] <= err["post-magnitude"][i] for i in range(len(seeds)))
        errs = " / ".join(f"{statistics.mean(err[m]):.3f}" for m in POST)
        print(f"| {s:.2f} | {fmt(acc['post-magnitude'])} | {fmt(acc['wanda'])} | {fmt(acc['sparsegpt'])} | {errs} | "
              f"{acc_ok}/{len(seeds)} | {err_ok}/{len(seeds)} |", flush=True)


def verdict(seeds: list[int], over: dict, levels=(0.9, 0.98)) -> None:
    """Random search (10 candidates × 3 epochs, then 50 epochs) against one random mask at the same
    sparsity trained 50 epochs, and trained 80 epochs (the same training FLOPs as the whole search)."""
    epochs = over.get("epochs", 50)
    print(f"\n| sparsity | random-uniform, {epochs} ep. | random-uniform, {epochs + 30} ep. (same FLOPs) | "
          "random-search | search − random (same FLOPs) | seeds search > random (same FLOPs) |")
    print("|---|---|---|---|---|---|")
    for s in levels:
        short, long, search = [], [], []
        for seed in seeds:
            short.append(100 * run("random-uniform", s, seed, {}, over)[0]["test_accuracy"])
            long.append(100 * run("random-uniform", s, seed, {}, {**over, "epochs": epochs + 30})[0]["test_accuracy"])
            search.append(100 * run("random-search", s, seed, {}, over)[0]["test_accuracy"])
        wins = sum(a > b for a, b in zip(search, long))
        print(f"| {s:.2f} | {fmt(short)} | {fmt(long)} | {fmt(search)} | "
              f"{statistics.mean(search) - statistics.mean(long):+.2f} | {wins}/{len(seeds)} |", flush=True)


def verdict_nodes(seeds: list[int], over: dict, levels=(0.5, 0.75, 0.9)) -> None:
    """The paper's own search space: random search over node masks (random-search-nodes, 10 candidates
    × 3 epochs, then 50) against one random node mask at the same unit sparsity (candidates=1), trained
    50 epochs and 80 epochs (about the whole search's training FLOPs)."""
    epochs = over.get("epochs", 50)
    one = {"candidates": 1, "search_epochs": 1}
    print(f"\n| units removed | weight sparsity | one random node mask, {epochs} ep. | same, {epochs + 30} ep. "
          "(≈ same FLOPs) | random-search-nodes | search − random (same FLOPs) | seeds search > random |")
    print("|---|---|---|---|---|---|---|")
    for s in levels:
        short, long, search, weight = [], [], [], []
        for seed in seeds:
            short.append(100 * run("random-search-nodes", s, seed, one, over)[0]["test_accuracy"])
            long.append(100 * run("random-search-nodes", s, seed, one, {**over, "epochs": epochs + 30})[0]["test_accuracy"])
            r = run("random-search-nodes", s, seed, {}, over)[0]
            search.append(100 * r["test_accuracy"])
            weight.append(r["sparsity"])
        wins = sum(a > b for a, b in zip(search, long))
        print(f"| {s:.2f} | {statistics.mean(weight):.3f} | {fmt(short)} | {fmt(long)} | {fmt(search)} | "
              f"{statistics.mean(search) - statistics.mean(long):+.2f} | {wins}/{len(seeds)} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(DEFAULT), help="comma-separated, from: " + ", ".join(DEFAULT))
    ap.add_argument("--sparsities", default=None, help="override every method's levels, e.g. 0.5,0.9")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--ordering-only", action="store_true", help="only the post-training ordering check")
    ap.add_argument("--no-ordering", action="store_true")
    ap.add_argument("--verdict-only", action="store_true", help="only random search against random masks")
    ap.add_argument("--verdict-nodes-only", action="store_true", help="only node-space random search against random node masks")
    ap.add_argument("--no-verdict", action="store_true", help="skip random search against random masks")
    args = ap.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    over = {"epochs": args.epochs} if args.epochs else {}
    levels = tuple(float(s) for s in args.sparsities.split(",")) if args.sparsities else None
    methods = {m: levels or DEFAULT[m] for m in args.methods.split(",") if m}
    print(f"digits, MLP 64-256-256-10, seeds {seeds}, {over or 'app defaults'}; shared CPU (wall times are ratios)\n")
    if args.verdict_only:
        verdict(seeds, over)
        return
    if args.verdict_nodes_only:
        verdict_nodes(seeds, over)
        return
    if not args.ordering_only:
        table(methods, seeds, over, {})
    if not args.no_ordering:
        ordering(seeds, over)
    if not args.ordering_only and not args.no_verdict:
        verdict(seeds, over)


if __name__ == "__main__":
    main()
