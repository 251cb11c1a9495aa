"""The 'sparse' experiment: validation before running, reporting, determinism, cancel, divergence."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse.config import SparseConfig
from engine.sparse.experiments import EXPERIMENTS, run_sparse

TINY = dict(hidden=(32,), epochs=2, finetune_epochs=1, batch_size=128)


@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(sparsity=1.0), "impossible"),
        (dict(sparsity=-0.1), "Sparsity"),
        (dict(epochs=0), "Epochs"),
        (dict(method="pruneall"), "Unknown method"),
        (dict(method="nm-srste", nm="4:4"), "smaller than M"),
        (dict(method="nm-decay", method_params={"nm": "2-4"}), "2:4"),
        (dict(dataset="mnist"), "folder"),
        (dict(model="cnn", dataset="moons"), "CNN"),
    ],
)
def test_impossible_settings_are_refused_with_a_clear_message(bad, words):
    with pytest.raises(ConfigError, match=words):
        SparseConfig.from_dict(bad)


def test_registry_exposes_the_three_kinds():
    assert set(EXPERIMENTS) == {"sparse", "sweep", "sensitivity"}
    assert EXPERIMENTS["sparse"][0] is SparseConfig


def test_run_reports_metrics_masks_and_a_complete_result():
    rep = MemoryReporter()
    result = run_sparse(SparseConfig(**TINY, sparsity=0.9, method_params={"scope": "layer"}), rep)
    for name in ("train/loss", "train/accuracy", "val/accuracy", "sparsity", "density/layers.0.weight"):
        assert len(rep.values(name)) == 3, name  # one per epoch (2 train + 1 fine-tune)
    mask = rep.snapshots["mask/layers.0.weight"][-1][1]
    assert mask.dtype == np.uint8 and mask.shape == (32, 64)
    assert rep.progress_calls[-1][0] == rep.progress_calls[-1][1]
    assert abs(result["sparsity"] - 0.9) < 0.001
    assert [layer["name"] for layer in result["layers"]] == ["layers.0.weight", "layers.1.weight"]
    assert result["layers"][0]["shape"] == [32, 64]
    assert result["flops_sparse"] < 0.2 * result["flops_dense"]
    assert result["params_nonzero"] < result["params_total"]
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert {"model.safetensors", "masks.npz", "recipe.yaml", "model.pt"} <= set(rep.artifacts)


def test_same_config_and_seed_give_the_same_result():
    a = run_sparse(SparseConfig(**TINY, seed=3), MemoryReporter())
    b = run_sparse(SparseConfig(**TINY, seed=3), MemoryReporter())
    c = run_sparse(SparseConfig(**TINY, seed=4), MemoryReporter())
    assert a["test_accuracy"] == b["test_accuracy"] and a["layers"] == b["layers"]
    assert a["layers"] != c["layers"]


def test_cancel_returns_early_with_partial_results():
    rep = MemoryReporter(stop_after=5)
    result = run_sparse(SparseConfig(**TINY), rep)
    assert result["stopped"] and result["steps"] == 5
    assert "mask/layers.0.weight" in rep.snapshots  # the final mask is still reported


# NaN loss: see test_bad_input.py (a deterministic NaN at a known step, instead of a huge learning rate
# whose first non-finite loss depended on floating-point details and was flaky).


def test_two_d_sets_report_the_decision_boundary():
    rep = MemoryReporter()
    run_sparse(SparseConfig(dataset="moons", n_samples=200, hidden=(16,), epochs=2, finetune_epochs=0), rep)
    assert rep.snapshots["boundary"][-1][1].shape == (64, 64)
    assert rep.snapshots["data/points"][0][1].shape[1] == 3
