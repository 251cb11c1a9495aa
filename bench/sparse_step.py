"""Cost of one masked training step against a dense step and against ``torch.nn.utils.prune``.

    .venv/bin/python bench/sparse_step.py [--steps 300] [--repeats 7] [--sparsity 0.9]

Same model (MLP 64-256-256-10), batch 64 of digits, Adam, one thread, CPU time of this process,
interleaved in short blocks, median over repeats. Variants:

* dense        — the lab's training step with no sparsifier (the baseline);
* lab (in-place masks) — the lab's step with a magnitude sparsifier: gradients masked in place with
                 one ``torch._foreach_mul_`` (pruned weights then stay exactly 0: zero gradient, zero
                 optimizer moments; ``engine.sparse.train``);
* parametrize  — the same masks as a ``torch.nn.utils.parametrize`` ``W * M`` parametrization
                 (torch.ao.pruning's ``FakeSparsity``);
* nn.utils.prune — ``prune.custom_from_mask`` (a forward pre-hook recomputing ``W_orig * M``).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.ao.pruning.sparsifier.utils import FakeSparsity  # noqa: E402
from torch.nn.utils import parametrize, prune  # noqa: E402

from engine.runs.reporter import NullReporter  # noqa: E402
from engine.sparse.config import SparseConfig  # noqa: E402
from engine.sparse.experiments import build  # noqa: E402
from engine.sparse.train import Trainer, make_optimizer  # noqa: E402


def lab_step(method: str, sparsity: float):
    cfg = SparseConfig(method=method, sparsity=sparsity)
    data, model, sp = build(cfg)
    trainer = Trainer(model, sp, data, cfg, NullReporter())
    if method != "dense":
        sp.step()  # masks in place (magnitude)
    x, y = data.x_train[:64], data.y_train[:64]
    return lambda: trainer.train_step(x, y)


def plain_loop(kind: str, sparsity: float):
    cfg = SparseConfig(method="magnitude", sparsity=sparsity)
    data, model, sp = build(cfg)
    sp.step()
    masks = {f: m.clone() for f, m in sp.masks().items()}
    sp.squash_mask()
    for fqn, m in masks.items():
        module = model.get_submodule(fqn.rsplit(".", 1)[0])
        if kind == "parametrize":
            parametrize.register_parametrization(module, "weight", FakeSparsity(m.float()))
        else:
            prune.custom_from_mask(module, "weight", m)
    opt = make_optimizer(model, "adam", cfg.lr, 0.9, 0.0)
    loss_fn = nn.CrossEntropyLoss()
    x, y = data.x_train[:64], data.y_train[:64]

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def timed(step, n: int) -> float:
    """CPU seconds per step of this process (the machine is shared: wall time would count other jobs)."""
    t = time.process_time()
    for _ in range(n):
        step()
    return (time.process_time() - t) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sparsity", type=float, default=0.9)
    args = ap.parse_args()
    torch.set_num_threads(1)
    variants = {
        "dense": lab_step("dense", 0.0),
        "lab (in-place masks)": lab_step("magnitude", args.sparsity),
        "parametrize (FakeSparsity)": plain_loop("parametrize", args.sparsity),
        "torch.nn.utils.prune": plain_loop("prune", args.sparsity),
    }
    for step in variants.values():  # warm up
        timed(step, 30)
    times = {k: [] for k in variants}
    for _ in range(args.repeats):  # interleaved, so machine load hits all variants alike
        for k, step in variants.items():
            times[k].append(timed(step, args.steps))
    import os

    dense = statistics.median(times["dense"])
    prune_t = statistics.median(times["torch.nn.utils.prune"])
    print(f"MLP 64-256-256-10, batch 64, Adam, 1 thread, sparsity {args.sparsity}, "
          f"{args.steps} steps × {args.repeats} repeats (median CPU time); load average {os.getloadavg()[0]:.2f}")
    print("| variant | µs / step | × dense | × nn.utils.prune |\n|---|---|---|---|")
    for k, ts in times.items():
        t = statistics.median(ts)
        print(f"| {k} | {t * 1e6:.0f} | {t / dense:.3f} | {t / prune_t:.3f} |")


if __name__ == "__main__":
    main()
