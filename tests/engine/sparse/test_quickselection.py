"""QuickSelection (Atashgahi et al. 2022): importance is the strength of the input neurons of the
SET-trained sparse denoising autoencoder, exactly K features are selected, bad K is refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse import quickselection as qs


@pytest.fixture(scope="module")
def run():
    torch.set_num_threads(1)
    rep = MemoryReporter()
    captured = {}
    original = qs.input_strength

    def spy(weight):  # keep the encoder weight the final strength is computed from
        captured["weight"] = np.array(weight, copy=True)
        return original(weight)

    qs.input_strength = spy
    try:
        result = qs.run_quickselection(qs.QuickSelectionConfig(k_features=10, hidden_units=40, epochs=3), rep)
    finally:
        qs.input_strength = original
    return result, rep, captured["weight"]


def test_importance_is_the_strength_of_the_input_neurons(run):
    result, _, weight = run
    assert weight.shape == (40, 64)  # the encoder: hidden × inputs
    assert np.allclose(result["strength"], np.abs(weight).sum(axis=0), atol=1e-5)
    assert (weight != 0).mean() == pytest.approx(result["er_density"], abs=1 / weight.size)  # sparse (ER)


def test_exactly_k_features_are_selected_the_strongest(run):
    result, rep, _ = run
    sel, s = result["selected"], np.array(result["strength"])
    assert len(sel) == len(set(sel)) == 10
    assert s[sel].min() >= np.delete(s, sel).max()
    picked = rep.snapshots["qs/selected"][-1][1]
    assert picked.shape == (8, 8) and int(picked.sum()) == 10 and all(picked.reshape(-1)[sel] == 1)
    assert len(result["random_selected"]) == len(result["mutual_info_selected"]) == 10
    assert set(result["accuracy"]) == {"quickselection", "all features", "random K", "mutual information (SelectKBest)"}


def test_set_keeps_the_density_while_the_connections_move(run):
    result, rep, _ = run
    dens = result["encoder_density_by_epoch"]
    assert len(dens) == 3 and len(set(dens)) == 1
    first, last = rep.snapshots["qs/strength"][0][1], rep.snapshots["qs/strength"][-1][1]
    assert not np.allclose(first, last)


def test_bad_k_is_refused_before_the_run(tmp_path, capsys):
    for k in (0, 64, 100):
        with pytest.raises(ConfigError, match="smaller than the 64 input features"):
            qs.QuickSelectionConfig(k_features=k)
    rc = main(["run", "quickselection", "--k-features", "64", "--quiet", "--db", str(tmp_path / "r.db"),
               "--json", str(tmp_path / "r.json")])
    assert rc == 2 and "smaller than the 64" in capsys.readouterr().err and not (tmp_path / "r.json").exists()
