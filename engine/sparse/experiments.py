"""Experiments of the sparse training lab: ``sparse`` (one run), ``sweep`` and ``sensitivity``.

``run_sparse(config, reporter) -> dict`` builds data and model from the config, lets the method's
sparsifier run its recipe in the shared training loop (``engine.sparse.train``), then reports the
sparsity ledger, times the trained model's inference (``result["speed"]``: dense vs torch CSR vs
scipy CSR at batch 1 and 64, next to the theoretical FLOP ratio; ``speed_meter=False`` skips it),
exports (model, masks, YAML recipe) and returns the result dict. ``preflight(config)`` runs every
check that needs no training (data files, layer sizes) so bad input fails before a run starts.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from engine.errors import ConfigError
from engine.sparse.build import build, preflight
from engine.sparse.config import SparseConfig
from engine.sparse.sweep import SensitivityConfig, SweepConfig, run_sensitivity, run_sweep


def speed_meter(model, data, *, budget_s: float = 0.6) -> list[dict]:
    """The speed meter's rows for the trained ``model``: dense vs compacted vs torch/scipy CSR, batch 1 and 64.

    Each row (``engine.sparse.speed.measure_speed``): backend, batch, median_ms, p90_ms, repeats,
    speedup_vs_dense (measured), theoretical_flop_ratio (dense / non-zero MACs), density,
    max_abs_diff (sparse output vs dense), threads, note. An infinite ratio is reported as None.
    """
    from engine.sparse.speed import measure_speed

    rows = measure_speed(model, tuple(data.x_train.shape[1:]), batch_sizes=(1, 64), budget_s=budget_s, threads=1)
    for r in rows:
        for k in ("speedup_vs_dense", "theoretical_flop_ratio"):
            if r[k] is not None and not np.isfinite(r[k]):  # an untimed N:M row holds None
                r[k] = None
    return rows


def summarize(config: SparseConfig, model, sparsifier, data, seconds: float) -> dict:
    """The result dict: accuracies, sparsity, the ledger (``result["ledger"]``, its rows also as
    ``result["layers"]``), parameter and FLOP counts."""
    from engine.sparse.ledger import ledger_from_masks
    from engine.sparse.models import layer_flops, prunable
    from engine.sparse.train import accuracy

    masks = sparsifier.masks() if sparsifier.groups else {f: w != 0 for f, w in prunable(model).items()}
    macs = layer_flops(model, data.x_train)
    led = ledger_from_masks({k: m.numpy() for k, m in masks.items()}, method=config.method,
                            requested=config.requested, params=config.method_params, macs=macs)
    rows = led["layers"]
    params = list(model.parameters())
    return {
        "method": config.method,
        "dataset": config.dataset,
        "model": config.model,
        "seed": config.seed,
        "requested_sparsity": config.requested,
        "axis": led["axis"],
        "test_accuracy": accuracy(model, data.x_test, data.y_test),
        "val_accuracy": accuracy(model, data.x_val, data.y_val),
        "sparsity": led["total"]["sparsity"],
        "layers": rows,
        "ledger": led,
        "params_total": int(sum(p.numel() for p in params)),
        "params_nonzero": int(sum(int((p != 0).sum()) for p in params)),
        "flops_dense": int(sum(r["flops_dense"] for r in rows)),
        "flops_sparse": int(sum(r["flops_sparse"] for r in rows)),
        "seconds": round(seconds, 3),
    }


def sparsifier_target(config: SparseConfig) -> float:
    """The value the method aims at on its axis: N:M methods have 1 - N/M; dense has 0.

    >>> sparsifier_target(SparseConfig(method="nm-bdwp", method_params={"nm": "1:4"}))
    0.75
    """
    return config.requested


def run_sparse(config: SparseConfig, reporter) -> dict:
    """Train, prune and evaluate one model as ``config`` says; see the module docstring.

    Torch's thread count is the runner's policy (engine/runs/threads.py, applied by the worker).
    """
    from engine.sparse.export import export_all
    from engine.sparse.train import Trainer

    t0 = time.perf_counter()
    data, model, sparsifier = build(config)
    if config.method != "dense":
        sparsifier.check_model(model)  # e.g. a layer too small for the N:M pattern: ConfigError now
    trainer = Trainer(model, sparsifier, data, config, reporter)
    if data.image_shape is None and data.n_features == 2:
        pts = np.concatenate([data.x_train.numpy(), data.y_train.numpy()[:, None]], axis=1)
        reporter.snapshot("data/points", pts.astype(np.float32), 0, force=True)
    try:
        sparsifier.run(trainer)
    finally:
        if sparsifier.groups:
            trainer.snapshot_masks(force=True)
            from engine.sparse.masks import as_2d  # the final weights too, so every figure shows the last step

            for fqn in sparsifier.fqns:
                reporter.snapshot(f"weight/{fqn}", as_2d(sparsifier.weight(fqn).detach()).numpy().astype(np.float32),
                                  trainer.step, force=True)
    result = summarize(config, model, sparsifier, data, time.perf_counter() - t0)
    result.update(sparsifier.extra_result)
    for row in result["layers"]:  # a method's own per-layer figure (post-training pruning: relative output error)
        if row["name"] in result.get("layer_output_error", {}):
            row["output_error"] = result["layer_output_error"][row["name"]]
    from engine.sparse.ledger import warnings

    result["warnings"] = warnings(result["ledger"])
    result["stopped"] = trainer.stopped
    result["steps"] = trainer.step
    result["train_flops"] = int(trainer.train_flops)  # training FLOPs estimate (Trainer.count_flops)
    for w in result["warnings"]:
        reporter.log("Ledger: " + w)
    if config.speed_meter and not trainer.stopped:
        result["speed"] = speed_meter(model, data)
    if not trainer.stopped:
        export_all(config, model, sparsifier, reporter)
    return result


def sweep_point(config: dict) -> dict:
    """One point of a sweep, as a Ray task runs it: the sparse run of ``config`` (a
    :class:`SparseConfig` dict), returned as its :func:`engine.sparse.sweep.result_row` (here, not in
    ``sweep.py``, which this module imports: no import cycle)."""
    from engine.sparse.sweep import _Detached, check_data_path, result_row

    c = SparseConfig.from_dict(config)
    check_data_path(c.data_path)
    return result_row(c, run_sparse(c, _Detached()))


def _sweep(config, reporter):
    return run_sweep(config, reporter, run_one=run_sparse)


def _sensitivity(config, reporter):
    return run_sensitivity(config, reporter)


EXPERIMENTS = {
    "sparse": (SparseConfig, run_sparse),
    "sweep": (SweepConfig, _sweep),
    "sensitivity": (SensitivityConfig, _sensitivity),
}

__all__ = ["EXPERIMENTS", "SparseConfig", "SweepConfig", "SensitivityConfig", "run_sparse", "build", "preflight",
           "speed_meter", "ConfigError"]
