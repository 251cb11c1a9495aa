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
from engine.sparse.config import SparseConfig
from engine.sparse.sweep import SensitivityConfig, SweepConfig, run_sensitivity, run_sweep


def build(config: SparseConfig):
    """Seeded data, model and sparsifier of ``config`` (raises ConfigError / DataError before training)."""
    from engine.sparse import data as data_mod
    from engine.sparse.methods import make_sparsifier
    from engine.sparse.models import build_model

    torch.manual_seed(config.seed)
    data = data_mod.load(config.dataset, seed=config.seed, val_frac=config.val_frac, test_frac=config.test_frac,
                         n_samples=config.n_samples, noise=config.noise, data_path=config.data_path,
                         max_train=config.max_train)
    model = build_model(config.model, n_in=data.n_features, n_out=data.n_classes, hidden=config.hidden,
                        channels=config.channels, image_shape=data.image_shape)
    sparsifier = make_sparsifier(config)
    sparsifier.prepare(model, None if config.method != "dense" else [])
    return data, model, sparsifier


def preflight(config: SparseConfig) -> None:
    """Check what can be checked without training, so impossible settings fail before a run starts.

    Reads the data (an IDX file with a bad header, a wrong size or non-28×28 images raises
    DataError), builds the model and lets the sparsifier check it (a layer too small for the N:M
    pattern raises ConfigError). The CLI calls it before recording a run; the app may too.
    """
    _, model, sparsifier = build(config)
    if hasattr(sparsifier, "check_model"):
        sparsifier.check_model(model)


def speed_meter(model, data, *, budget_s: float = 0.6) -> list[dict]:
    """The speed meter's rows for the trained ``model``: dense vs torch CSR vs scipy CSR, batch 1 and 64.

    Each row (``engine.sparse.speed.measure_speed``): backend, batch, median_ms, p90_ms, repeats,
    speedup_vs_dense (measured), theoretical_flop_ratio (dense / non-zero MACs), density,
    max_abs_diff (sparse output vs dense), threads, note. An infinite ratio is reported as None.
    """
    from engine.sparse.speed import measure_speed

    rows = measure_speed(model, tuple(data.x_train.shape[1:]), batch_sizes=(1, 64), budget_s=budget_s, threads=1)
    for r in rows:
        for k in ("speedup_vs_dense", "theoretical_flop_ratio"):
            if not np.isfinite(r[k]):
                r[k] = None
    return rows


def summarize(config: SparseConfig, model, sparsifier, data, seconds: float) -> dict:
    """The result dict: accuracies, sparsity, ledger rows, parameter and FLOP counts."""
    from engine.sparse.ledger import ledger, warnings
    from engine.sparse.models import layer_flops, prunable
    from engine.sparse.train import accuracy

    masks = sparsifier.masks() if sparsifier.groups else {f: w != 0 for f, w in prunable(model).items()}
    targets = getattr(sparsifier, "targets", None) or {f: 1.0 - sparsifier_target(config) for f in masks}
    macs = layer_flops(model, data.x_train)
    rows = ledger(masks, targets, macs)
    kept = sum(r["kept"] for r in rows)
    total = sum(r["total"] for r in rows)
    params = list(model.parameters())
    return {
        "method": config.method,
        "dataset": config.dataset,
        "model": config.model,
        "seed": config.seed,
        "requested_sparsity": sparsifier_target(config),
        "test_accuracy": accuracy(model, data.x_test, data.y_test),
        "val_accuracy": accuracy(model, data.x_val, data.y_val),
        "sparsity": 1.0 - kept / max(total, 1),
        "layers": rows,
        "warnings": warnings(rows),
        "params_total": int(sum(p.numel() for p in params)),
        "params_nonzero": int(sum(int((p != 0).sum()) for p in params)),
        "flops_dense": int(sum(r["flops_dense"] for r in rows)),
        "flops_sparse": int(sum(r["flops_sparse"] for r in rows)),
        "seconds": round(seconds, 3),
    }


def sparsifier_target(config: SparseConfig) -> float:
    """The sparsity the method aims at: N:M methods have 1 - N/M; dense has 0.

    >>> sparsifier_target(SparseConfig(method="nm-bdwp", nm="1:4")), sparsifier_target(SparseConfig(method="dense"))
    (0.75, 0.0)
    """
    from engine.sparse.methods.registry import NM_METHODS

    if config.method == "dense":
        return 0.0
    if config.method in NM_METHODS:
        n, m = config.nm_pair
        return 1.0 - n / m
    return config.sparsity


def run_sparse(config: SparseConfig, reporter) -> dict:
    """Train, prune and evaluate one model as ``config`` says; see the module docstring.

    Torch's thread count is the runner's policy (engine/runs/threads.py, applied by the worker).
    """
    from engine.sparse.export import export_all
    from engine.sparse.train import Trainer

    t0 = time.perf_counter()
    data, model, sparsifier = build(config)
    if hasattr(sparsifier, "check_model"):
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
    result = summarize(config, model, sparsifier, data, time.perf_counter() - t0)
    result.update(getattr(sparsifier, "extra_result", {}))
    result["stopped"] = trainer.stopped
    result["steps"] = trainer.step
    for w in result["warnings"]:
        reporter.log("Ledger: " + w)
    if config.speed_meter and not trainer.stopped:
        result["speed"] = speed_meter(model, data)
    if not trainer.stopped:
        export_all(config, model, sparsifier, reporter)
    return result


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
