"""Training-step cost of the N:M recipes (SR-STE, BDWP, MDGF, SDGF) relative to a dense step.

One step = forward, cross-entropy, backward, SGD update, on an MLP (64-W-W-10, batch 64), the
digits shape at W=256 and a wider one. The hidden layers are trained 2:4; the 10-way output
layer stays dense in every variant (10 outputs are not a multiple of 4, which BDWP's backward
mask needs). Methods are timed round-robin in the same process, one thread; the table gives
median ms per step and the ratio to dense. No method can be faster than dense on a CPU: they
compute the N:M masks and products with dense kernels (see engine/sparse/nm.py).

    python bench/nm_overhead.py [--steps 40] [--threads 1]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.sparse.nm import SRSTE, DecayingNM, to_bdwp  # noqa: E402


def mlp(width: int) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


def build(method: str, width: int):
    model = mlp(width)
    hidden = [model[0], model[2]]
    decaying = []
    if method == "sr-ste":
        for layer in hidden:
            parametrize.register_parametrization(layer, "weight", SRSTE(2, 4))
    elif method == "bdwp":
        to_bdwp(model, 2, 4, fqns=["0.weight", "2.weight"])
    elif method in ("mdgf", "sdgf"):
        for layer in hidden:
            p = DecayingNM(2, 4, method)
            p.set_progress(40, 100)  # mid-training: masks are computed and applied
            decaying.append(p)
            parametrize.register_parametrization(layer, "weight", p)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, opt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps per method and width")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    methods = ["dense", "sr-ste", "bdwp", "mdgf", "sdgf"]
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 64, generator=gen), torch.randint(0, 10, (64,), generator=gen)
    print(f"train step, batch 64, 2:4 on hidden layers, torch {torch.__version__}, {args.threads} thread(s)")
    print(f"{'width':>5} {'method':>7} {'median ms':>10} {'p90 ms':>8} {'vs dense':>9}")
    for width in (256, 1024):
        built = {m: build(m, width) for m in methods}

        def step(model, opt):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        for model, opt in built.values():  # warm-up
            for _ in range(3):
                step(model, opt)
        times = {m: [] for m in methods}
        for _ in range(args.steps):  # round-robin: load changes hit every method alike
            for m, (model, opt) in built.items():
                t0 = time.perf_counter()
                step(model, opt)
                times[m].append((time.perf_counter() - t0) * 1e3)
        base = float(np.median(times["dense"]))
        for m in methods:
            med = float(np.median(times[m]))
            print(f"{width:>5} {m:>7} {med:>10.3f} {np.percentile(times[m], 90):>8.3f} {med / base:>8.2f}x")


if __name__ == "__main__":
    main()
