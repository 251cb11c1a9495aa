"""Random search over random masks: the search budget is what it says, the winner is trained from the
shared initialisation, and impossible settings are refused before a run."""
from __future__ import annotations

import pytest

from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse.config import SparseConfig
from engine.sparse.experiments import run_sparse


def test_a_run_reports_the_search_and_counts_its_epochs_and_flops():
    common = dict(hidden=(32,), epochs=2, batch_size=128, speed_meter=False, sparsity=0.9)
    r = run_sparse(SparseConfig(method="random-search", method_params={"candidates": 3, "search_epochs": 1}, **common),
                   MemoryReporter())
    u = run_sparse(SparseConfig(method="random-uniform", **common), MemoryReporter())
    info = r["random_search"]
    assert len(info["candidates_val_accuracy"]) == 3 and info["search_epochs_total"] == 3
    assert r["steps"] == u["steps"] * 5 // 2  # 3 search epochs + 2 training epochs against 2
    assert r["train_flops"] == pytest.approx(u["train_flops"] * 5 / 2, rel=0.02)
    assert r["sparsity"] == pytest.approx(u["sparsity"], abs=1e-6)


@pytest.mark.parametrize("params, words", [({"candidates": 0}, "at least 1 candidate"),
                                           ({"search_epochs": 0}, "at least 1 epoch")])
def test_impossible_settings_are_refused(params, words):
    with pytest.raises(ConfigError, match=words):
        SparseConfig(method="random-search", method_params=params)


def test_node_space_search_removes_whole_units_and_reports_the_weight_sparsity_that_follows():
    common = dict(hidden=(32, 32), epochs=1, batch_size=128, speed_meter=False, sparsity=0.5)
    r = run_sparse(SparseConfig(method="random-search-nodes", method_params={"candidates": 2, "search_epochs": 1},
                                **common), MemoryReporter())
    led = r["ledger"]
    assert led["counts"] == "units" and [row["units_removed"] for row in led["layers"]] == [16, 16, 0]
    # 16 of 32 units kept in both hidden layers: 64·16 + 16·16 + 16·10 of 64·32 + 32·32 + 32·10 weights
    assert r["sparsity"] == pytest.approx(1 - (64 * 16 + 16 * 16 + 16 * 10) / (64 * 32 + 32 * 32 + 32 * 10), abs=1e-6)
    assert len(r["random_search"]["candidates_val_accuracy"]) == 2
