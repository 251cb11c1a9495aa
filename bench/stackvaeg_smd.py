"""StackVAE-G on SMD machines and SMAP channels: every protocol beside random, PCA and IForest.

Runs the app's experiment (``engine.anomaly.experiments.run_stackvaeg``) per SMD machine and per
SMAP channel and prints, per method: point-wise P/R/F1 and PA F1 at the POT threshold (fitted on
training scores), best F1 without / with PA (oracle), PA%K AUC at the POT threshold, AUROC, and on
SMD the interpretation HitRate@100 % / @150 %; then the mean over machines (channels), and speed
(seconds per epoch, training windows per second, seconds to score the full test set, peak memory).

    nice -n 5 .venv/bin/python bench/stackvaeg_smd.py --machines machine-1-2 --epochs 20 --train-stride 5
    nice -n 5 .venv/bin/python bench/stackvaeg_smd.py --machines none --smap P-1,S-1,E-1 --epochs 20

``--train-stride s`` trains on every s-th window (a speed-up, not in the paper; 1 = released).
    nice -n 5 .venv/bin/python bench/stackvaeg_smd.py --speed --machines machine-1-2 --train-stride 10

Without the shared data the script says so and exits 0.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.anomaly.experiments import StackVAEGConfig, run_stackvaeg  # noqa: E402
from engine.paths import shared_data_dir  # noqa: E402
from engine.runs.reporter import MemoryReporter  # noqa: E402

METHODS = ("StackVAE-G", "Random", "PCA", "IsolationForest")
COLS = ("P", "R", "F1", "PA-F1", "bestF1", "bestF1-PA", "PA%K-AUC", "AUROC", "Hit@100", "Hit@150")


def row(m: dict) -> list[float]:
    pot = m["pot"]
    nan = float("nan")
    val = lambda x: nan if x is None else float(x)  # noqa: E731
    return [pot["point"]["precision"], pot["point"]["recall"], pot["point"]["f1"], pot["pa"]["f1"],
            m["best_f1"]["f1"], m["best_f1_pa"]["f1"], m["pa_k"]["auc"], val(m["auroc"]),
            val(m.get("hitrate@100")), val(m.get("hitrate@150"))]


def show(title: str, table: dict[str, list[float]]) -> None:
    print(f"\n{title}\n{'method':<16}" + "".join(f"{c:>10}" for c in COLS))
    for name, vals in table.items():
        print(f"{name:<16}" + "".join(f"{v:>10.3f}" if np.isfinite(v) else f"{'-':>10}" for v in vals))


def bench(cfg: StackVAEGConfig, label: str, store: dict[str, list[list[float]]]) -> None:
    t0 = time.perf_counter()
    r = run_stackvaeg(cfg, MemoryReporter())
    table = {name: row(r["metrics"][name]) for name in METHODS if name in r["metrics"]}
    for name, vals in table.items():
        store.setdefault(name, []).append(vals)
    show(f"{label}: {r['data']['train_rows']} train / {r['data']['test_rows']} test rows, "
         f"{r['data']['n_channels']} channels, {r['n_params']:,} parameters", table)
    print(f"speed: {r['seconds_per_epoch']:.1f} s/epoch, {r['windows_per_second']:.0f} training windows/s "
          f"(stride {cfg.train_stride}), full test set scored in {r['score_seconds']:.1f} s, "
          f"peak memory {r['peak_memory_mb']:.0f} MB, run {time.perf_counter() - t0:.0f} s, "
          f"load {os.getloadavg()[0]:.2f}")


def speed(root: Path, machine: str, stride: int, threads: int) -> None:
    """Training throughput and full test-set scoring time on one SMD machine (no evaluation)."""
    import resource

    import torch

    from engine.anomaly.datasets import load_smd, prepared
    from engine.anomaly.stackvae_g import StackVAEG

    torch.set_num_threads(threads)
    data = prepared(load_smd(root / "SMD", machine), 100)
    model = StackVAEG(epochs=1, train_stride=stride).fit(data.train)
    t0 = time.perf_counter()
    model.score_samples(data.test)
    score_s = time.perf_counter() - t0
    n_windows = len(data.train) - 99
    print(f"\nspeed, SMD {machine} ({data.n_channels} channels, {n_windows} training windows), "
          f"{threads} torch thread(s), load {os.getloadavg()[0]:.2f}:")
    print(f"{'training windows/s':>20} {'s/epoch (stride 1)':>20} {'score test set (s)':>20} {'peak MB':>8}")
    print(f"{model.windows_per_second_:>20.0f} {n_windows / model.windows_per_second_:>20.1f} {score_s:>20.1f} "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:>8.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--machines", default="machine-1-2", help="comma list, or 'none'")
    ap.add_argument("--smap", default="", help="comma list of SMAP channels, e.g. P-1,S-1")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--train-stride", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--speed", action="store_true", help="only time training (1 epoch) and test scoring")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    root = shared_data_dir()
    if root is None:
        print("No shared data folder (SPARSITY_LAB_DATA or ../shared/data): nothing to bench.")
        return
    if args.speed:
        speed(root, args.machines.split(",")[0], args.train_stride, args.threads)
        return
    print(f"StackVAE-G, {args.epochs} epochs (released: 256), train stride {args.train_stride}, seed "
          f"{args.seed}; P/R/F1/PA-F1/PA%K at the POT threshold fitted on training scores; best F1 is an "
          f"oracle over thresholds. Load average at start: {os.getloadavg()[0]:.2f}")
    for dataset, names, sub in (("smd", args.machines, "SMD"), ("smap", args.smap, "SMAP")):
        names = [n for n in names.split(",") if n and n != "none"]
        if not names:
            continue
        if not (root / sub).is_dir():
            print(f"No {sub} folder under {root}: skipped.")
            continue
        scores: dict[str, list[list[float]]] = {}
        for name in names:
            cfg = StackVAEGConfig(data=dataset, data_dir=str(root / sub), machine=name, channel=name,
                                  epochs=args.epochs, train_stride=args.train_stride, seed=args.seed)
            bench(cfg, f"{sub} {name}", scores)
        if len(names) > 1:
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (no HitRate on SMAP)
            show(f"{sub}: mean over {len(names)} ({', '.join(names)})",
                 {k: list(np.nanmean(np.array(v, dtype=float), axis=0)) for k, v in scores.items()})


if __name__ == "__main__":
    main()
