"""engine.anomaly.adjacency: reading, checking, communities, thresholds, comparison, display shrinking."""
from __future__ import annotations

import io

import numpy as np
import pytest

from engine.anomaly import adjacency as J
from engine.errors import DataError


def _planted(n: int, groups: int, seed: int = 0, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.permutation(np.arange(n) % groups)
    a = (g[:, None] == g[None, :]) * rng.random((n, n)) + noise * rng.random((n, n))
    return a, g


def _same_partition(x: np.ndarray, y: np.ndarray) -> bool:
    return bool(np.array_equal(x[:, None] == x[None, :], y[:, None] == y[None, :]))


@pytest.mark.parametrize("method", ["louvain", "spectral"])
def test_communities_recover_planted_groups(method):
    a, g = _planted(40, 4)
    assert _same_partition(J.communities(a, method), g)
    order = J.community_order(a, J.communities(a, method))
    assert sorted(order) == list(range(40))
    # ordered by community: each group's channels are contiguous
    labels = J.communities(a, method)[order]
    assert (np.diff(labels) >= 0).all()


def test_spectral_with_a_given_number_of_clusters():
    a, _ = _planted(30, 3)
    assert len(np.unique(J.communities(a, "spectral", n_clusters=5))) == 5
    with pytest.raises(DataError, match="Unknown community method"):
        J.communities(a, "kmeans")


def test_negative_weights_cluster_by_magnitude_and_are_counted():
    a, g = _planted(20, 2)
    signed = a * np.where(np.random.default_rng(1).random(a.shape) < 0.5, -1, 1)
    assert _same_partition(J.communities(signed), g)
    assert J.summary(signed)["negative"] > 0 and J.summary(a)["negative"] == 0
    assert (J.keep_edges(signed, top_k=3) == J.keep_edges(a, top_k=3)).all()


def test_threshold_and_top_k_give_the_stated_density():
    a, _ = _planted(10, 2)
    keep = J.keep_edges(a, top_k=3)
    assert (keep.sum(axis=1) == 3).all() and not keep.diagonal().any()
    assert J.density(keep) == pytest.approx(30 / 90)
    keep = J.keep_edges(a, threshold=0.5)
    off = ~np.eye(10, dtype=bool)
    assert J.density(keep) == pytest.approx((a[off] >= 0.5).mean())


def test_compare_a_weighted_second_matrix_is_cut_to_its_top_k():
    a, g = _planted(12, 3)
    r = J.compare(a, a, k=3)
    assert r["jaccard"] == 1.0 and r["only_a"] == [] and r["only_b"] == [] and not r["truth_is_binary"]
    assert r["auroc"] == 1.0
    truth = ((g[:, None] == g[None, :]) & ~np.eye(12, dtype=bool)).astype(float)
    assert J.compare(a, truth)["auroc"] > 0.95 and J.compare(a, truth)["truth_is_binary"]
    with pytest.raises(DataError, match="differ in size"):
        J.compare(a, truth[:5, :5])


@pytest.mark.parametrize("m,message", [
    (np.zeros((2, 3)), "not square"), (np.zeros((1, 1)), "at least 2 channels"), (np.zeros(4), "dimension"),
    (np.array([[0, np.nan], [1, 0]]), "NaN or infinite"), (np.array([[0, 1], [np.inf, 0]]), "row 2, column 1"),
])
def test_bad_matrices_are_refused_with_a_reason(m, message):
    with pytest.raises(DataError, match=message):
        J.check_matrix(m)


def test_names_must_match_and_be_unique():
    with pytest.raises(DataError, match="3 channel names for a 2 x 2"):
        J.check_matrix(np.zeros((2, 2)), ["a", "b", "c"])
    with pytest.raises(DataError, match="appears more than once"):
        J.check_matrix(np.zeros((2, 2)), ["a", "a"])


def test_npy_and_names_file_round_trip():
    buf = io.BytesIO()
    np.save(buf, np.eye(3))
    got = J.read_matrix(buf.getvalue(), "m.npy", b"x,y,z")
    assert got.names == ["x", "y", "z"] and J.summary(got.matrix)["self_loops"] == 3
    with pytest.raises(DataError, match="not a readable .npy"):
        J.read_matrix(b"junk", "m.npy")


def test_a_5000_channel_matrix_is_computed_in_full_and_shrunk_for_display():
    a, g = _planted(5000, 5, noise=0.02)
    shown, block = J.block_average(a, 400)
    assert block == 13 and shown.shape == (385, 385)
    assert shown[0, 0] == pytest.approx(a[:13, :13].mean())
    assert J.summary(a)["n"] == 5000
    assert _same_partition(J.communities(a, "louvain"), g)  # on each channel's 20 strongest neighbours
    keep = J.keep_edges(a, top_k=5)
    assert keep.sum() == 25_000


def test_exports_parse_back():
    import pandas as pd

    a, _ = _planted(5, 2)
    names = ["a", "b", "c", "d", "e"]
    labels = J.communities(a)
    order = J.community_order(a, labels)
    m = pd.read_csv(io.StringIO(J.ordered_csv(a, names, order)), index_col=0)
    assert list(m.columns) == [names[i] for i in order]
    assert np.allclose(m.to_numpy(), a[np.ix_(order, order)])
    edges = pd.read_csv(io.StringIO(J.edges_csv(J.edge_list(a, names, J.keep_edges(a, top_k=2)))))
    assert len(edges) == 10 and list(edges.columns) == ["source", "target", "weight"]
    comm = pd.read_csv(io.StringIO(J.communities_csv(names, labels)))
    assert comm["community"].tolist() == labels.tolist()
