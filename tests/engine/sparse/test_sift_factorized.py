"""Sparse-IFT Sparse Factorized: each Linear as sparse U·V whose inner width keeps the dense FLOPs
(several widths and sparsities), a full run's training FLOPs equal the dense run's, the CNN refused."""
from __future__ import annotations

import pytest
import torch

from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse import preflight
from engine.sparse.build import build
from engine.sparse.config import SparseConfig
from engine.sparse.experiments import run_sparse
from engine.sparse.models import layer_flops


@pytest.mark.parametrize("hidden", [(256, 256), (64, 32)])
@pytest.mark.parametrize("sparsity", [0.5, 0.75, 0.9, 0.98])
def test_the_built_sparse_factorized_model_has_the_dense_models_flops_within_one_percent(hidden, sparsity):
    data, model, sp = build(SparseConfig(method="sift-factorized", sparsity=sparsity, hidden=hidden, speed_meter=False))
    dense = build(SparseConfig(method="dense", hidden=hidden))[1]
    x = data.x_train[:1]
    f_dense = sum(layer_flops(dense, x).values())
    f_fact = sum((1 - sparsity) * v for v in layer_flops(model, x).values())  # every factor at s (uniform)
    assert f_fact == pytest.approx(f_dense, rel=0.01)
    assert len(sp.fqns) == 2 * len(dense.layers)  # V and U of every layer


def test_a_run_trains_at_the_dense_runs_flops_and_reports_the_inner_widths():
    common = dict(hidden=(32, 32), epochs=2, finetune_epochs=0, batch_size=128)
    torch.set_num_threads(1)
    r = run_sparse(SparseConfig(method="sift-factorized", sparsity=0.9, method_params={"update_every": 3}, **common),
                   MemoryReporter())
    d = run_sparse(SparseConfig(method="dense", speed_meter=False, **common), MemoryReporter())
    info = r["sift"]
    assert info["transformation"] == "factorized" and info["inner"] == [213, 160, 76]
    assert info["flop_ratio"] == pytest.approx(1.0, abs=0.01)
    assert r["train_flops"] == pytest.approx(d["train_flops"], rel=0.01)
    assert r["sparsity"] == pytest.approx(0.9, abs=1e-3) and len(r["layers"]) == 6
    assert {row["backend"] for row in r["speed"]} >= {"dense", "compacted"}  # the speed meter runs on the factors
    assert all(row["max_abs_diff"] is None or row["max_abs_diff"] < 1e-4 for row in r["speed"])


def test_the_cnn_is_refused_before_the_run():
    with pytest.raises(ConfigError, match="choose the MLP model"):
        preflight.check(SparseConfig(method="sift-factorized", model="cnn"))


def test_a_sweep_rows_carry_training_flops_and_factorized_matches_sparse_wide():
    from engine.sparse.experiments import _sweep
    from engine.sparse.sweep import SweepConfig

    sweep = SweepConfig(methods=("sift-wide", "sift-factorized", "wgsef"), sparsities=(0.9,), seeds=(0,),
                        hidden=(16, 16), epochs=1, finetune_epochs=0, include_dense=True)
    rows = {r["method"]: r for r in _sweep(sweep, MemoryReporter())["rows"]}
    assert set(rows) == {"dense", "sift-wide", "sift-factorized", "wgsef"}
    dense = rows["dense"]["train_flops"]
    for m in ("sift-wide", "sift-factorized"):  # iso-FLOP: the dense model's training FLOPs, same steps
        assert rows[m]["train_flops"] == pytest.approx(dense, rel=0.02), m
    assert rows["wgsef"]["train_flops"] > 0
