"""Accuracy–sparsity sweeps and layer sensitivity: what the comparison pages draw."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse.experiments import EXPERIMENTS
from engine.sparse.sweep import SensitivityConfig, SweepConfig, summarize_rows, sweep_configs

TINY = dict(hidden=(16,), epochs=1, finetune_epochs=1, batch_size=256)
LEVELS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


def _sweep(config, reporter=None):
    return EXPERIMENTS["sweep"][1](config, reporter or MemoryReporter())


def test_default_sweep_is_six_sparsity_levels_plus_a_dense_baseline():
    config = SweepConfig()
    assert config.sparsities == LEVELS and config.n_runs == 7
    runs = sweep_configs(config)
    assert [c.method for c in runs] == ["dense"] + ["magnitude"] * 6
    assert not any(c.speed_meter for c in runs)  # sweep rows do not need the speed meter


def test_sweep_rows_cover_methods_levels_and_seeds_with_a_dense_baseline():
    rep = MemoryReporter()
    config = SweepConfig(methods=("magnitude", "random-erk"), sparsities=LEVELS, seeds=(0, 1), **TINY)
    result = _sweep(config, rep)
    rows = result["rows"]
    assert len(rows) == result["n_runs"] == 2 * (1 + 2 * 6)
    for row in rows:
        assert {"method", "requested_sparsity", "sparsity", "seed", "test_accuracy", "val_accuracy"} <= set(row)
        assert row["sparsity"] == pytest.approx(row["requested_sparsity"], abs=0.01)
    assert {(r["method"], r["requested_sparsity"], r["seed"]) for r in rows} == (
        {("dense", 0.0, s) for s in (0, 1)} | {(m, p, s) for m in ("magnitude", "random-erk") for p in LEVELS for s in (0, 1)})
    dense = [r["test_accuracy"] for r in rows if r["method"] == "dense"]
    assert result["dense_test_accuracy"] == pytest.approx(np.mean(dense))
    summary = {(s["method"], s["requested_sparsity"]): s for s in result["summary"]}
    assert len(summary) == 1 + 2 * 6 and all(s["n_seeds"] == 2 for s in summary.values())
    point = summary[("magnitude", 0.9)]
    accs = [r["test_accuracy"] for r in rows if r["method"] == "magnitude" and r["requested_sparsity"] == 0.9]
    assert point["mean"] == pytest.approx(np.mean(accs)) and point["std"] == pytest.approx(np.std(accs, ddof=1))
    assert len(rep.values("test_accuracy/magnitude")) == 12  # drawn as each run finishes
    assert rep.progress_calls[-1] == (len(rows), len(rows))


def test_nm_methods_run_once_per_seed_at_their_pattern_sparsity():
    config = SweepConfig(methods=("nm-srste",), nm="1:4", seeds=(0,), include_dense=False, **TINY)
    rows = _sweep(config)["rows"]
    assert [(r["method"], r["requested_sparsity"], r["sparsity"]) for r in rows] == [("nm-srste", 0.75, 0.75)]


def test_cancelled_sweep_keeps_the_finished_rows():
    rep = MemoryReporter(stop_after=40)  # each run checks every step: a few runs fit
    result = _sweep(SweepConfig(seeds=(0,), **TINY), rep)
    assert 0 < len(result["rows"]) < result["n_runs"] and result["stopped"]


def test_sweep_refuses_bad_settings_before_running():
    with pytest.raises(ConfigError, match="Unknown method 'obs'"):
        SweepConfig(methods=("magnitude", "obs"))
    with pytest.raises(ConfigError, match="impossible"):
        SweepConfig(sparsities=(0.5, 1.0))
    with pytest.raises(ConfigError, match="Seeds must be distinct"):
        SweepConfig(seeds=(1, 1))


def test_summary_spread_is_zero_for_one_seed():
    rows = [{"method": "set", "requested_sparsity": 0.9, "seed": 0, "test_accuracy": 0.8, "sparsity": 0.9}]
    assert summarize_rows(rows) == [{"method": "set", "axis": "weight sparsity", "control": 0.9,
                                     "requested_sparsity": 0.9, "sparsity": 0.9, "mean": 0.8,
                                     "std": 0.0, "min": 0.8, "max": 0.8, "n": 1, "n_seeds": 1}]


def test_sensitivity_reports_a_layer_by_sparsity_accuracy_matrix():
    rep = MemoryReporter()
    config = SensitivityConfig(hidden=(32, 16), sparsities=(0.0, 0.5, 0.99), epochs=3, batch_size=64)
    result = EXPERIMENTS["sensitivity"][1](config, rep)
    assert result["layers"] == ["layers.0.weight", "layers.1.weight", "layers.2.weight"]
    acc = np.array(result["accuracy"])
    assert acc.shape == (3, 3) and np.all((acc >= 0) & (acc <= 1))
    assert np.allclose(acc[:, 0], result["dense_accuracy"])  # sparsity 0 changes nothing
    assert np.all(acc[:, 2] < result["dense_accuracy"])  # 99 % of any one layer hurts
    step, grid = rep.snapshots["sensitivity"][-1]
    assert grid.shape == (3, 3) and np.allclose(grid, acc)
    assert len(rep.values("sensitivity/layers.1.weight")) == 3 and rep.values("val/accuracy_dense")


def test_sensitivity_prunes_one_layer_at_a_time_and_restores_the_others():
    config = SensitivityConfig(hidden=(16,), sparsities=(0.9,), epochs=1, finetune_epochs=1, batch_size=256)
    a = EXPERIMENTS["sensitivity"][1](config, MemoryReporter())
    b = EXPERIMENTS["sensitivity"][1](config, MemoryReporter())
    assert a["accuracy"] == b["accuracy"]  # seeded, and each cell starts from the same dense weights


def test_rows_carry_the_axis_the_method_controls_and_the_weight_sparsity_reached():
    config = SweepConfig(methods=("structured", "rigl"), sparsities=(0.5,), seeds=(0,), include_dense=False,
                         **{**TINY, "hidden": (16, 16)})
    rows = {r["method"]: r for r in _sweep(config)["rows"]}
    s, r = rows["structured"], rows["rigl"]
    assert (s["axis"], s["control"], r["axis"], r["control"]) == ("units removed", 0.5, "weight sparsity", 0.5)
    assert s["sparsity"] == pytest.approx((512 + 192 + 80) / 1440, abs=1e-4)  # half the units of 16, 16: 54 % of weights
    assert r["sparsity"] == pytest.approx(0.5, abs=0.01)
    summary = {p["method"]: p for p in summarize_rows(list(rows.values()))}
    assert summary["structured"]["axis"] == "units removed" and summary["structured"]["n"] == 1


def test_sweep_scope_default_leaves_each_method_its_own():
    gmp, mag = (c for c in sweep_configs(SweepConfig(methods=("gmp", "magnitude"), sparsities=(0.9,),
                                                     include_dense=False)))
    assert (gmp.method_params["scope"], mag.method_params["scope"]) == ("layer", "global")
    forced = sweep_configs(SweepConfig(methods=("gmp",), sparsities=(0.9,), include_dense=False, scope="global"))
    assert forced[0].method_params["scope"] == "global"


def test_partial_rows_never_report_the_request_as_reached():
    from engine.sparse.sweep import partial_rows

    cfg = {"methods": ["magnitude"], "sparsities": [0.5, 0.9], "seeds": [0], "include_dense": False}
    rows = partial_rows(cfg, [("test_accuracy/magnitude", 0, 0.9), ("sweep/sparsity", 0, 0.4987),
                              ("test_accuracy/magnitude", 1, 0.8)])
    assert [(r["control"], r["sparsity"]) for r in rows] == [(0.5, 0.4987), (0.9, None)]
    assert partial_rows({"methods": ["nope"]}, []) == []


def test_rows_from_stored_runs_read_old_flat_configs_and_skip_unfinished():
    from engine.sparse.sweep import rows_from_results

    old = ({"method": "set", "sparsity": 0.9, "seed": 1, "drop_decay": "cosine"},
           {"test_accuracy": 0.9, "sparsity": 0.9, "requested_sparsity": 0.9, "val_accuracy": 0.9})
    rows = rows_from_results([old, ({"method": "rigl"}, {})])
    assert [(r["method"], r["axis"], r["control"], r["seed"]) for r in rows] == [("set", "weight sparsity", 0.9, 1)]
