"""Monarch vs low-rank vs unstructured sparse at equal parameter count (MLP 64-256-256-10, digits).

    nice -n 10 .venv/bin/python bench/monarch_compare.py                  # seeds 0,1,2, 20 epochs
    nice -n 10 .venv/bin/python bench/monarch_compare.py --seeds 0 --epochs 5 --nblocks 4
    nice -n 10 .venv/bin/python bench/monarch_compare.py --seeds 0,1,2,3,4 --nblocks 4,16,64   # ≈ 50 / 90 / 97 %

Every model keeps the same number of weights (Dao et al. 2022 compare at equal parameters):

* ``monarch``: each hidden Linear is ``P L Pᵀ R`` with ``b`` blocks, trained end to end;
* ``monarch-project``: dense training for ``epochs``, each hidden layer projected onto the Monarch
  class (Algorithm 1), then ``finetune`` epochs (the paper's dense-to-sparse fine-tuning);
* ``low-rank``: each hidden Linear is ``U V`` with the rank that gives the Monarch layer's weights
  (``r = params / (n_in + n_out)``), trained end to end; ``low-rank-svd``: the trained dense layer
  truncated to that rank by SVD, then fine-tuned (the low-rank counterpart of the projection);
* ``rigl`` and ``magnitude``: unstructured sparsity with the same total number of weights
  (head included), RigL from scratch and one-shot magnitude pruning + fine-tuning.

Accuracy is test accuracy, mean ± std over seeds; ``fwd ms`` is the median forward time of a batch
of 256 on one thread (masked models run dense kernels: their zeros cost as much as non-zeros), a
ratio to the dense model's measured in the same process. The CPU is shared with other jobs.
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

from engine.runs.reporter import NullReporter  # noqa: E402
from engine.sparse.build import build  # noqa: E402
from engine.sparse.config import SparseConfig  # noqa: E402
from engine.sparse.methods.magnitude import DenseBaseline  # noqa: E402
from engine.sparse.models import MLP  # noqa: E402
from engine.sparse.monarch import monarch_params  # noqa: E402
from engine.sparse.train import Trainer, accuracy  # noqa: E402

HIDDEN = (256, 256)


class LowRank(nn.Module):
    """``x ↦ U (V x) + bias`` with rank ``r`` (the low-rank baseline)."""

    def __init__(self, n_in: int, n_out: int, rank: int) -> None:
        super().__init__()
        self.V = nn.Linear(n_in, rank, bias=False)
        self.U = nn.Linear(rank, n_out)

    def forward(self, x):
        return self.U(self.V(x))


def forward_ms(model, x, repeats: int = 30) -> float:
    model.eval()
    times = []
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def train(model, cfg, epochs):
    sp = DenseBaseline()
    sp.prepare(model, [])
    data = build(cfg)[0]
    tr = Trainer(model, sp, data, cfg, NullReporter())
    tr.train(epochs, phase="train")
    return data


def low_rank_model(n_in, n_out, b, dense=None):
    m = MLP(n_in, HIDDEN, n_out)
    for i in range(len(m.layers) - 1):
        lin = m.layers[i]
        rank = monarch_params(lin.in_features, lin.out_features, b) // (lin.in_features + lin.out_features)
        lr = LowRank(lin.in_features, lin.out_features, rank)
        if dense is not None:  # truncated SVD of the trained dense layer
            u, s, vh = torch.linalg.svd(dense.layers[i].weight.detach(), full_matrices=False)
            with torch.no_grad():
                lr.U.weight.copy_(u[:, :rank] * s[:rank].sqrt())
                lr.V.weight.copy_(s[:rank].sqrt()[:, None] * vh[:rank])
                lr.U.bias.copy_(dense.layers[i].bias)
        m.layers[i] = lr
    if dense is not None:
        with torch.no_grad():
            m.layers[-1].load_state_dict(dense.layers[-1].state_dict())
    return m


def n_weights(model) -> int:
    return sum(int((p != 0).sum()) for n, p in model.named_parameters() if not n.endswith("bias"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--finetune", type=int, default=5)
    ap.add_argument("--nblocks", default="4", help="comma-separated block counts, one table each (e.g. 4,16,64)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for b in (int(v) for v in args.nblocks.split(",")):
        table(args, b)


def table(args, b: int) -> None:
    seeds = [int(s) for s in args.seeds.split(",")]
    base = dict(hidden=HIDDEN, speed_meter=False)
    mon_cfg = SparseConfig(method="monarch", epochs=args.epochs, method_params={"nblocks": b}, **base)
    _, mon_model, mon_sp = build(mon_cfg)
    budget = mon_sp.accounting()["weights"]
    dense_total = mon_sp.accounting()["dense_weights"]
    s_eq = 1 - budget / dense_total
    rows: dict[str, dict] = {}
    x = torch.rand(256, 64)

    def add(name, acc, weights, model, secs):
        r = rows.setdefault(name, {"acc": [], "weights": weights, "ms": [], "secs": []})
        r["acc"].append(acc)
        r["ms"].append(forward_ms(model, x))
        r["secs"].append(secs)

    for seed in seeds:
        t0 = time.perf_counter()
        torch.manual_seed(seed)
        dense = MLP(64, HIDDEN, 10)
        cfg = SparseConfig(method="dense", epochs=args.epochs, seed=seed, **base)
        data = train(dense, cfg, args.epochs)
        add("dense", accuracy(dense, data.x_test, data.y_test), n_weights(dense), dense, time.perf_counter() - t0)
        for name, mp, extra in (("monarch", {"nblocks": b}, {}),
                                ("monarch-project", {"nblocks": b, "start": "project"}, {"finetune_epochs": args.finetune})):
            from engine.sparse.experiments import run_sparse

            t0 = time.perf_counter()
            c = SparseConfig(method="monarch", epochs=args.epochs, seed=seed, method_params=mp, **base, **extra)
            captured = {}
            orig = Trainer.__init__

            def spy(self, model, *a, **k):
                captured.setdefault("model", model)
                orig(self, model, *a, **k)

            Trainer.__init__ = spy
            try:
                r = run_sparse(c, NullReporter())
            finally:
                Trainer.__init__ = orig
            add(name, r["test_accuracy"], r["monarch"]["weights"], captured["model"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        torch.manual_seed(seed)
        lr_model = low_rank_model(64, 10, b)
        data = train(lr_model, SparseConfig(method="dense", epochs=args.epochs, seed=seed, **base), args.epochs)
        add("low-rank", accuracy(lr_model, data.x_test, data.y_test), n_weights(lr_model), lr_model,
            time.perf_counter() - t0)
        t0 = time.perf_counter()
        svd_model = low_rank_model(64, 10, b, dense=dense)
        train(svd_model, SparseConfig(method="dense", epochs=args.finetune, seed=seed, **base), args.finetune)
        add("low-rank-svd", accuracy(svd_model, data.x_test, data.y_test), n_weights(svd_model), svd_model,
            rows["dense"]["secs"][-1] + time.perf_counter() - t0)
        for method, extra in (("rigl", {}), ("magnitude", {"finetune_epochs": args.finetune})):
            from engine.sparse.experiments import run_sparse

            t0 = time.perf_counter()
            c = SparseConfig(method=method, sparsity=s_eq, epochs=args.epochs, seed=seed, **base, **extra)
            _, model, _ = build(c)
            r = run_sparse(c, NullReporter())
            add(method, r["test_accuracy"], r["params_nonzero"] - sum(HIDDEN) - 10, model, time.perf_counter() - t0)

    dense_ms = statistics.median(rows["dense"]["ms"])
    print(f"MLP 64-{'-'.join(map(str, HIDDEN))}-10 on digits, b = {b}, {args.epochs} epochs (+{args.finetune} "
          f"fine-tuning where it applies), seeds {args.seeds}; equal-weight budget {budget} of {dense_total} "
          f"(unstructured sparsity {s_eq:.4f})")
    print(f"{'model':<16} {'weights':>8} {'test acc %':>14} {'fwd ms (b256)':>14} {'vs dense':>9} {'run s':>7}")
    for name, r in rows.items():
        acc = [100 * a for a in r["acc"]]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        ms = statistics.median(r["ms"])
        print(f"{name:<16} {r['weights']:>8} {statistics.mean(acc):>8.2f} ± {sd:4.2f} {ms:>14.3f} "
              f"{dense_ms / ms:>8.2f}× {statistics.mean(r['secs']):>7.1f}")


if __name__ == "__main__":
    main()
