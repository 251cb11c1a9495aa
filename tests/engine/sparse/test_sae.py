"""Sparse autoencoders (Ayonrinde 2024): each allocation keeps exactly its budget, impossible k is
refused, and a tiny run reports L0, dead / under-used features, NMSE and top-activating digits."""
from __future__ import annotations

import json

import pytest
import torch

from engine.cli import main
from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse.sae import SAEConfig, allocate, capacities_for, run_sae


def affinity(b=32, f=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.relu(torch.randn(b, f, generator=g)) + 1e-3  # all positive: the mask is the code's support


@pytest.mark.parametrize("k", [1, 4, 16])
def test_topk_keeps_exactly_k_per_sample(k):
    a = affinity()
    mask = allocate(a, "topk", k)
    assert (mask.sum(1) == k).all()
    assert ((a * mask) != 0).sum(1).eq(k).all()
    kth = a.topk(k, dim=1).values[:, -1:]
    assert (a[mask].reshape(len(a), k) >= kth).all()  # and they are the k largest


@pytest.mark.parametrize("capacity", ["uniform", "zipf"])
def test_feature_choice_gives_each_feature_its_allocated_count(capacity):
    a = affinity(b=40, f=64)
    dens = torch.rand(64, generator=torch.Generator().manual_seed(3))
    caps = capacities_for(40, 64, 5, capacity, dens)
    assert int(caps.sum()) == 5 * 40 and int(caps.max()) <= 40
    mask = allocate(a, "feature-choice", 5, caps)
    assert torch.equal(mask.sum(0), caps)
    if capacity == "zipf":  # the most used feature gets the most tokens
        assert int(caps[dens.argmax()]) == int(caps.max()) and len(set(caps.tolist())) > 2
    for j in range(64):  # each feature keeps its largest affinities
        if 0 < caps[j] < 40:
            assert a[mask[:, j], j].min() >= a[~mask[:, j], j].max()


def test_mutual_choice_keeps_exactly_k_times_batch_in_total():
    a = affinity(b=32, f=64)
    mask = allocate(a, "mutual-choice", 3)
    assert int(mask.sum()) == 3 * 32
    assert a[mask].min() >= a[~mask].max()  # the global top k·B
    assert mask.sum(1).max() != mask.sum(1).min()  # per-sample L0 varies (adaptive)


def test_impossible_k_is_refused_before_the_run(tmp_path, capsys):
    for k in (256, 300, 0):
        with pytest.raises(ConfigError, match="k must be at least 1 and smaller than the SAE width"):
            SAEConfig(k=k, width=256)
    with pytest.raises(ConfigError, match="Unknown SAE variant"):
        SAEConfig(variant="batch-topk")
    rc = main(["run", "sae", "--k", "64", "--width", "64", "--quiet", "--db", str(tmp_path / "r.db"),
               "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "smaller than the SAE width 64" in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("variant", ["topk", "feature-choice", "mutual-choice"])
def test_a_tiny_sae_run_reports_sparsity_dead_features_and_top_digits(variant):
    torch.set_num_threads(1)
    cfg = SAEConfig(variant=variant, width=32, k=4, epochs=2, model_epochs=2, model_hidden=16, batch_size=128)
    rep = MemoryReporter()
    r = run_sae(cfg, rep)
    assert r["activation_sparsity"] is True and 0 < r["nmse"] < 1.5
    assert r["l0_mean"] <= 4.0 + 1e-9 if variant == "mutual-choice" else r["l0_mean"] > 0
    if variant == "topk":
        assert r["l0_min"] == r["l0_max"] == 4  # exactly k non-zeros in every code
    assert 0 <= r["dead_features"] <= 32 and len(r["density"]) == 32 and len(r["features"]) == 32
    assert r["dead_features"] == sum(1 for d in r["density"] if d == 0)
    f = r["features"][0]
    assert f["density"] == max(r["density"]) and len(f["top_labels"]) == len(f["top_indices"]) <= 8
    tiles = rep.snapshots["sae/top_digits"][-1][1]
    assert tiles.shape[0] % 8 == 0 and tiles.shape[0] <= 16 * 8 and tiles.shape[1] == 8 * len(f["top_indices"])
    json.dumps(r)
