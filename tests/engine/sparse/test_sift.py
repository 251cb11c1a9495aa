"""Sparse-IFT Sparse Wide: the widened network's FLOPs equal the dense model's (MLP and CNN, several
sparsities), the paper's width factor, training FLOPs in every run's result and sweep row."""
from __future__ import annotations

import math

import pytest
import torch

from engine.runs.reporter import MemoryReporter
from engine.sparse.build import build
from engine.sparse.config import SparseConfig
from engine.sparse.experiments import run_sparse
from engine.sparse.methods.sift import model_macs, wide_widths
from engine.sparse.models import layer_flops
from engine.sparse.sweep import SweepConfig


@pytest.mark.parametrize("model, sparsity", [("mlp", 0.5), ("mlp", 0.75), ("mlp", 0.9), ("mlp", 0.98),
                                             ("cnn", 0.5), ("cnn", 0.9)])
def test_the_built_sparse_wide_model_has_the_dense_models_flops_within_one_percent(model, sparsity):
    config = SparseConfig(method="sift-wide", model=model, sparsity=sparsity, hidden=(64, 64), channels=(8, 16),
                          speed_meter=False)
    data, wide, sp = build(config)
    dense = build(SparseConfig(method="dense", model=model, hidden=(64, 64), channels=(8, 16)))[1]
    x = data.x_train[:1]
    f_dense = sum(layer_flops(dense, x).values())
    f_wide = (1 - sparsity) * sum(layer_flops(wide, x).values())  # every layer at s (uniform)
    assert f_wide == pytest.approx(f_dense, rel=0.01)
    assert f_dense == model_macs(model, n_in=64, n_out=10, hidden=(64, 64), channels=(8, 16), image_shape=(8, 8))


def test_the_papers_factor_is_one_over_root_of_density_and_below_dense_flops_on_a_small_mlp():
    k, hidden, _ = wide_widths("mlp", n_in=64, n_out=10, hidden=(256, 256), channels=(), image_shape=None,
                               sparsity=0.75, width="paper")
    assert k == pytest.approx(2.0) and hidden == (512, 512)
    ratio = 0.25 * model_macs("mlp", n_in=64, n_out=10, hidden=hidden, channels=(), image_shape=None) / 84480
    assert 0.85 < ratio < 1.0  # the first and last layers are not widened on both sides: fewer FLOPs than dense


def test_a_run_reports_widths_and_iso_flop_training_cost_against_the_dense_run():
    common = dict(hidden=(32, 32), epochs=2, finetune_epochs=0, batch_size=128, speed_meter=False)
    r = run_sparse(SparseConfig(method="sift-wide", sparsity=0.9, method_params={"update_every": 3}, **common),
                   MemoryReporter())
    d = run_sparse(SparseConfig(method="dense", **common), MemoryReporter())
    info = r["sift"]
    assert all(abs(h - 32 * info["width_factor"]) < 1 for h in info["hidden"]) and info["paper_factor"] == pytest.approx(
        1 / math.sqrt(0.1), abs=1e-4)
    assert info["flop_ratio"] == pytest.approx(1.0, abs=0.01)
    assert r["train_flops"] == pytest.approx(d["train_flops"], rel=0.01)  # same steps, same FLOPs per step
    assert r["layers"][0]["shape"][0] == info["hidden"][0] and r["sparsity"] == pytest.approx(0.9, abs=1e-3)


def test_static_sparse_training_keeps_the_random_mask():
    config = SparseConfig(method="sift-wide", sparsity=0.8, hidden=(16,), epochs=2, batch_size=128, speed_meter=False,
                          method_params={"sparse_training": "static", "update_every": 2})
    data, model, sp = build(config)
    from engine.sparse.train import Trainer

    t = Trainer(model, sp, data, config, MemoryReporter())
    sp.on_train_begin(t)
    first = {f: m.clone() for f, m in sp.masks().items()}
    t.train(2, phase="train")
    assert all(torch.equal(first[f], sp.mask(f)) for f in first) and sp.updates == 0


def test_every_run_and_sweep_row_carries_training_flops():
    sweep = SweepConfig(methods=("magnitude", "rigl"), sparsities=(0.9,), seeds=(0,), hidden=(16,), epochs=1,
                        finetune_epochs=1, include_dense=False)
    from engine.sparse.experiments import _sweep

    out = _sweep(sweep, MemoryReporter())
    flops = {r["method"]: r["train_flops"] for r in out["rows"]}
    assert all(v and v > 0 for v in flops.values())
    # magnitude trains dense, then fine-tunes at 10 % density; RigL trains at 10 % throughout
    assert flops["rigl"] < flops["magnitude"]
