"""Post-training pruning (post-magnitude, Wanda, SparseGPT): the papers' ordering of per-layer output
error on the same calibration set of a *trained* model, exact unstructured and N:M patterns, no
retraining, and impossible settings refused before a run."""
from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest
import torch

from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse.build import build
from engine.sparse.config import SparseConfig
from engine.sparse.experiments import preflight, run_sparse
from engine.sparse.methods.posttrain import (layer_inputs, magnitude_prune, output_error, sparsegpt_prune,
                                             wanda_prune)
from engine.sparse.nm import nm_violations
from engine.sparse.train import Trainer

PRUNERS = {"magnitude": magnitude_prune, "wanda": wanda_prune, "sparsegpt": sparsegpt_prune}


@functools.lru_cache(maxsize=None)
def trained_layers(seed: int = 0):
    """A 64-128-128-10 MLP trained dense on digits, with each layer's weight and dense calibration inputs."""
    torch.set_num_threads(1)
    config = SparseConfig(method="dense", hidden=(128, 128), epochs=15, finetune_epochs=0, seed=seed, speed_meter=False)
    data, model, sp = build(config)
    Trainer(model, sp, data, config, MemoryReporter()).train(config.epochs, phase="train")
    calib = data.x_train[torch.randperm(len(data.x_train), generator=torch.Generator().manual_seed(seed))[:128]]
    out = []
    for i, layer in enumerate(model.layers):
        out.append((f"layers.{i}.weight", layer.weight.detach().clone(), layer_inputs(model, layer, calib)))
    return out


@pytest.mark.parametrize("sparsity, nm", [(0.5, None), (0.6, None), (0.9, None), (0.5, (2, 4)), (0.75, (1, 4))])
def test_on_a_trained_model_sparsegpt_error_is_at_most_wandas_which_is_at_most_magnitudes(sparsity, nm):
    """The papers' ordering at 50-60 % and 2:4. At 90 % (and 1:4) Wanda's per-output rule is *not* always
    better than layer-wise magnitude (the 10-class output layer: 0.600 vs 0.598 at 90 %), so there
    only SparseGPT ≤ both is asserted."""
    for fqn, w, x in trained_layers():
        errors = {}
        for name, prune in PRUNERS.items():
            keep, w_hat = prune(w, x, sparsity, nm)
            assert bool((w_hat[~keep] == 0).all())
            if nm is None:
                assert int(keep.sum()) == round((1 - sparsity) * w.numel()), (name, fqn)
            else:
                assert nm_violations(w_hat, *nm) == 0
                assert bool((keep.reshape(-1, nm[1]).sum(1) == nm[0]).all()), (name, fqn)
            errors[name] = output_error(w, w_hat, x)
        assert errors["sparsegpt"] <= min(errors["wanda"], errors["magnitude"]), (fqn, errors)
        if sparsity <= 0.6:
            assert errors["wanda"] <= errors["magnitude"], (fqn, errors)


def test_wanda_compares_per_output_and_leaves_kept_weights_alone():
    fqn, w, x = trained_layers()[1]
    keep, w_hat = wanda_prune(w, x, 0.5)
    assert bool((keep.sum(1) == w.shape[1] // 2).all())  # every output row loses exactly half
    assert torch.equal(w_hat[keep], w[keep])


def test_sparsegpt_reconstruction_lowers_the_error_of_its_own_mask():
    """The OBS update is what makes SparseGPT better: its mask with the original weights is worse."""
    fqn, w, x = trained_layers()[1]
    keep, w_hat = sparsegpt_prune(w, x, 0.7)
    assert output_error(w, w_hat, x) < 0.8 * output_error(w, w * keep, x)
    assert not torch.equal(w_hat[keep], w[keep])  # the surviving weights were updated


def test_sparsegpt_with_a_single_block_equals_blocks_of_columns_at_n_m():
    """Lazy batched updates are an exact reordering of the same arithmetic (Frantar & Alistarh, Sec. 3.4)."""
    fqn, w, x = trained_layers()[1]
    a = sparsegpt_prune(w, x, 0.5, (2, 4), blocksize=128)
    b = sparsegpt_prune(w, x, 0.5, (2, 4), blocksize=16)
    assert torch.equal(a[0], b[0]) and torch.allclose(a[1], b[1], atol=1e-5)


@pytest.mark.parametrize("method", ["post-magnitude", "wanda", "sparsegpt"])
def test_a_run_prunes_once_without_retraining_and_reports_per_layer_error(method):
    config = SparseConfig(method=method, sparsity=0.6, hidden=(32, 32), epochs=3, batch_size=128, speed_meter=False,
                          method_params={"calibration": 32})
    r = run_sparse(config, MemoryReporter())
    assert r["steps"] == 3 * (len(build(config)[0].x_train) // 128)  # no fine-tuning steps
    assert r["sparsity"] == pytest.approx(0.6, abs=1e-3) and r["calibration_samples"] == 32
    assert set(r["layer_output_error"]) == {row["name"] for row in r["layers"]}
    assert all(row["output_error"] == r["layer_output_error"][row["name"]] for row in r["ledger"]["layers"])
    assert all(0 < e < 1.5 for e in r["layer_output_error"].values())
    assert 0 <= r["dense_test_accuracy"] <= 1


def test_nm_run_has_the_pattern_and_its_sparsity():
    config = SparseConfig(method="sparsegpt", hidden=(32, 32), epochs=2, batch_size=128, speed_meter=False,
                          method_params={"nm": "2:4"})
    assert config.requested == 0.5
    r = run_sparse(config, MemoryReporter())
    assert r["sparsity"] == 0.5 and all(row["density"] == 0.5 for row in r["layers"])


@pytest.mark.parametrize("params, words", [
    ({"calibration": 0}, "at least 1 sample"),
    ({"calibration": -3}, "at least 1 sample"),
    ({"nm": "4:4"}, "N must be smaller than M"),
    ({"nm": "2-4"}, "must look like 2:4"),
    ({"damp": 0}, "dampening"),
])
def test_impossible_settings_are_refused_when_the_config_is_made(params, words):
    with pytest.raises(ConfigError, match=words):
        SparseConfig(method="sparsegpt", method_params=params)


def test_a_pattern_the_layers_cannot_hold_is_refused_before_training():
    with pytest.raises(ConfigError, match="not a multiple of 4"):
        preflight(SparseConfig(method="wanda", hidden=(6,), method_params={"nm": "2:4"}))


def test_cli_refuses_zero_calibration_samples_with_a_sentence(tmp_path):
    out = subprocess.run([sys.executable, "-m", "engine", "run", "sparse", "--method", "wanda", "--calibration", "0",
                          "--db", str(tmp_path / "r.db")], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "at least 1 sample" in out.stderr + out.stdout and "Traceback" not in out.stderr


def test_cli_runs_sparsegpt_with_json_contract(tmp_path):
    path = tmp_path / "r.json"
    out = subprocess.run([sys.executable, "-m", "engine", "run", "sparse", "--method", "sparsegpt", "--sparsity", "0.5",
                          "--epochs", "2", "--hidden", "32,32", "--calibration", "16", "--speed-meter", "false",
                          "--json", str(path), "--db", str(tmp_path / "r.db"), "--quiet"],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    r = json.loads(path.read_text())
    assert {"sparsity", "test_accuracy", "layers", "layer_output_error"} <= set(r)
    assert r["layers"][0]["shape"] == [32, 64]


def test_a_sweep_runs_post_training_methods_unstructured_at_each_level_not_at_the_sweeps_n_m_pattern():
    from engine.sparse.sweep import SweepConfig, sweep_configs

    configs = sweep_configs(SweepConfig(methods=("wanda", "nm-srste"), sparsities=(0.5, 0.9), nm="2:4"))
    wanda = [c for c in configs if c.method == "wanda"]
    assert [c.requested for c in wanda] == [0.5, 0.9] and all(c.method_params["nm"] == "none" for c in wanda)
    assert [c.method_params["nm"] for c in configs if c.method == "nm-srste"] == ["2:4"]
