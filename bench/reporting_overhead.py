"""Cost of reporting to the run store, relative to a training step (issue: ≤ 5 %).

Trains the digits MLP 64-256-256-10 for a fixed number of steps three ways in one process:
no reporter, a NullReporter (the cost of the calls alone), the StoreReporter (loss and progress
every step, 3 mask snapshots offered to the throttle every 10 steps), and the StoreReporter with
3 snapshots forced into the store every step (worst case). Runs are interleaved, medians reported.

    python bench/reporting_overhead.py [--steps 600]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from sklearn.datasets import load_digits

from engine.runs.reporter import NullReporter, StoreReporter
from engine.runs.store import RunStore


def train(steps: int, reporter, masks_every_step: bool) -> float:
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for step in range(steps):
        idx = torch.randint(0, len(x), (64,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if reporter is not None:
            reporter.should_stop()
            reporter.metric("train/loss", loss.item(), step)
            reporter.progress(step + 1, steps)
            if masks_every_step or step % 10 == 0:  # experiments offer masks when they may have changed
                for i, layer in enumerate(m for m in model if isinstance(m, torch.nn.Linear)):
                    reporter.snapshot(f"mask/{i}", (layer.weight.detach().abs() > 0.05).numpy(), step,
                                      force=masks_every_step)
    if reporter is not None and hasattr(reporter, "close"):
        reporter.close()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp()
    store = RunStore(os.path.join(tmp, "bench.db"))
    rows = {"no reporter": [], "NullReporter": [], "StoreReporter (throttled, default)": [],
            "StoreReporter, every snapshot forced": []}
    train(50, None, False)  # warm-up
    for _ in range(args.repeats):
        rows["no reporter"].append(train(args.steps, None, False))
        rows["NullReporter"].append(train(args.steps, NullReporter(), False))
        rid = store.create_run("bench", {})
        rows["StoreReporter (throttled, default)"].append(train(args.steps, StoreReporter(store, rid), False))
        rid = store.create_run("bench", {})
        rows["StoreReporter, every snapshot forced"].append(train(args.steps, StoreReporter(store, rid), True))
    base = np.median(rows["no reporter"])
    print(f"digits MLP 64-256-256-10, batch 64, {args.steps} steps x {args.repeats} repeats, 1 thread")
    print(f"{'reporting':<40} {'ms/step':>8} {'ratio':>7}")
    for name, vals in rows.items():
        med = np.median(vals)
        print(f"{name:<40} {med * 1e3:>8.3f} {med / base:>7.3f}")


if __name__ == "__main__":
    main()
