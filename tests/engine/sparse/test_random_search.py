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
