"""Defining properties of the edge sparsifiers and of TEDDY's ℓ0 projection."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from engine.graphs import sparsify as spf


def _graph(n=120, seed=0):
    G = nx.barabasi_albert_graph(n, 3, seed=seed)  # hubs and leaves: degrees vary a lot
    e = np.array(sorted((min(a, b), max(a, b)) for a, b in G.edges()), dtype=np.int64)
    return e, n


@pytest.mark.parametrize("name", ["random", "teddy", "freedom"])
@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.37, 0.5, 0.9])
def test_every_sparsifier_keeps_exactly_the_requested_number_of_edges(name, sparsity):
    e, n = _graph()
    kept = spf.sparsify_edges(name, e, n, sparsity, seed=3)
    assert len(kept) == spf.kept_count(len(e), sparsity) == round(len(e) * (1 - sparsity))
    assert len(np.unique(kept)) == len(kept) and kept.min() >= 0 and kept.max() < len(e)


def test_kept_count_rejects_sparsity_one():
    with pytest.raises(ValueError):
        spf.kept_count(10, 1.0)


def test_teddy_keeps_the_edges_its_degree_score_ranks_highest():
    e, n = _graph()
    scores = spf.teddy_scores(e, n)
    kept = spf.teddy_edges(e, n, 0.6)
    removed = np.setdiff1d(np.arange(len(e)), kept)
    assert scores[kept].min() >= scores[removed].max()


def test_teddy_score_matches_its_definition_on_a_small_graph():
    e = np.array([[0, 1], [0, 2], [0, 3], [1, 2], [3, 4]])
    d = np.array([3, 2, 2, 2, 1], dtype=float)
    nbrs = {0: [1, 2, 3], 1: [0, 2], 2: [0, 1], 3: [0, 4], 4: [3]}
    t = np.array([sum(1 / np.sqrt(d[j]) for j in nbrs[i]) / d[i] ** 2 for i in range(5)])
    np.testing.assert_allclose(spf.teddy_scores(e, 5), t[e[:, 0]] * t[e[:, 1]])


def test_teddy_prefers_low_degree_edges_and_ignores_features():
    e, n = _graph()
    d = spf.degrees(e, n)
    kept = spf.teddy_edges(e, n, 0.5)
    removed = np.setdiff1d(np.arange(len(e)), kept)
    deg_sum = d[e[:, 0]] + d[e[:, 1]]
    assert deg_sum[kept].mean() < deg_sum[removed].mean()
    # deterministic: no seed, no features enter
    np.testing.assert_array_equal(kept, spf.teddy_edges(e.copy(), n, 0.5))


def test_freedom_rejection_rate_rises_with_endpoint_degree():
    e, n = _graph(300)
    d = spf.degrees(e, n)
    prod = d[e[:, 0]] * d[e[:, 1]]
    kept_times = np.zeros(len(e))
    for s in range(60):
        kept_times[spf.freedom_edges(e, n, 0.5, seed=s)] += 1
    reject = 1 - kept_times / 60
    q = np.quantile(prod, [0.25, 0.75])
    low, high = reject[prod <= q[0]].mean(), reject[prod >= q[1]].mean()
    assert high > low + 0.15
    rho = np.corrcoef(np.argsort(np.argsort(prod)), np.argsort(np.argsort(reject)))[0, 1]
    assert rho > 0.5


def test_freedom_probabilities_are_inverse_sqrt_degree_products():
    e = np.array([[0, 1], [0, 2], [1, 2], [2, 3]])
    d = np.array([2, 2, 3, 1], dtype=float)
    w = 1 / np.sqrt(d[e[:, 0]] * d[e[:, 1]])
    np.testing.assert_allclose(spf.freedom_probabilities(e, 4), w / w.sum())


def test_random_edges_depend_on_the_seed_only():
    e, n = _graph()
    a, b, c = (spf.random_edges(e, n, 0.5, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("k", [0, 1, 7, 50, 128])
def test_l0_projection_leaves_exactly_k_nonzero_weights_the_largest(k):
    g = torch.Generator().manual_seed(0)
    ws = [torch.randn(10, 8, generator=g), torch.randn(8, 6, generator=g)]
    before = torch.cat([w.reshape(-1).abs() for w in ws]).clone()
    spf.l0_project(ws, k)
    after = torch.cat([w.reshape(-1) for w in ws])
    assert int((after != 0).sum()) == k
    if 0 < k < 128:
        assert before[after != 0].min() >= before[after == 0].max()


def test_prune_lowest_never_revives_pruned_entries():
    alive = np.array([True, False, True, True])
    keep = spf.prune_lowest(np.array([0.1, 9.0, 0.5, 0.2]), alive, 2)
    assert keep.tolist() == [False, False, True, True]
