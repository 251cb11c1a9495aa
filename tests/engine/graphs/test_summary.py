"""Summary: derived sizes and errors, text format, networkx export, matrices."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from engine.errors import DataError
from engine.graphs.ssumm import ssumm
from engine.graphs.summary import Summary, input_size_bits, summary_size_bits


@pytest.fixture(scope="module")
def karate():
    G = nx.relabel_nodes(nx.karate_club_graph(), lambda i: 100 + i)
    return G, ssumm(G, ratio=0.3, seed=0)


def _edges_ids(G):
    return np.array(list(G.edges), dtype=np.int64)


def test_sizes_follow_the_reference_definitions():
    assert input_size_bits(1024, 10) == 2 * 10 * 10
    assert summary_size_bits(1024, 16, 5, 8) == 5 * (2 * 4 + 3) + 1024 * 4
    assert summary_size_bits(10, 1, 0, 1) == 0.0


def test_text_round_trip_keeps_partition_superedges_and_errors(karate):
    G, s = karate
    t = Summary.from_text(s.to_text(), _edges_ids(G))
    assert t.to_text() == s.to_text()
    assert np.array_equal(t.node_ids, s.node_ids)
    assert np.array_equal(t.supernode_of, s.supernode_of)
    assert np.array_equal(t.superedges, s.superedges) and np.array_equal(t.weights, s.weights)
    assert (t.re1, t.re2) == pytest.approx((s.re1, s.re2), rel=1e-12)
    assert t.n_edges == s.n_edges and t.input_bits == pytest.approx(s.input_bits)
    assert t.size_bits <= s.size_bits     # file ω_max ≤ the algorithm's running maximum


def test_reads_the_authors_files_with_their_own_ids():
    text = ("<Subnode of each supernode>\n17\t5\t6\t7\n3\t8\n<Superedge info>\n17\t17\t3\n"
            "17\t3\t1\n")
    s = Summary.from_text(text, np.array([[5, 6], [6, 7], [5, 7], [7, 8]]))
    assert s.node_ids.tolist() == [5, 6, 7, 8] and s.supernode_of.tolist() == [0, 0, 0, 1]
    assert s.superedges.tolist() == [[0, 0], [0, 1]] and s.weights.tolist() == [3, 1]
    assert s.re1 == pytest.approx(2 * (1 - 1 / 3) * 1 * 2 / 12)   # block (0,1): 1 edge of 3 pairs
    assert s.density(1, 0) == pytest.approx(1 / 3)


def test_from_text_without_edges_marks_errors_unknown():
    s = Summary.from_text("<Subnode of each supernode>\n0\t1\t2\n<Superedge info>\n0\t0\t1\n")
    assert s.n_edges == -1 and math.isnan(s.re1)


def test_from_text_rejects_other_text():
    with pytest.raises(DataError):
        Summary.from_text("hello")


def test_networkx_export_has_sizes_members_weights_and_densities(karate):
    G, s = karate
    H = s.to_networkx()
    assert H.number_of_nodes() == s.n_supernodes and H.number_of_edges() == s.n_superedges
    assert sum(d["size"] for _, d in H.nodes(data=True)) == 34
    assert sorted(m for _, d in H.nodes(data=True) for m in d["members"]) == sorted(G.nodes)
    for a, b, d in H.edges(data=True):
        assert d["density"] == pytest.approx(s.density(a, b))
        assert 0 < d["density"] <= 1


def test_block_matrix_is_symmetric_and_matches_sparse(karate):
    _G, s = karate
    M = s.block_matrix()
    assert M.shape == (s.n_supernodes,) * 2 and np.allclose(M, M.T)
    assert np.allclose(s.block_matrix(sparse=True).toarray(), M)
    with pytest.raises(DataError):
        s.block_matrix(max_side=2)


def test_reconstruction_is_blockwise_constant_with_zero_diagonal(karate):
    _G, s = karate
    R = s.reconstructed_dense()
    assert np.all(np.diag(R) == 0)
    i, j = 0, 1
    assert R[i, j] == pytest.approx(s.density(s.supernode_of[i], s.supernode_of[j]))
    order = np.argsort(s.supernode_of, kind="stable")
    assert np.allclose(s.reconstructed_dense(order), R[np.ix_(order, order)])
    with pytest.raises(DataError):
        s.reconstructed_dense(max_nodes=10)


def test_errors_from_edges_recounts_blocks():
    s = Summary.from_blocks([0, 0, 1, 1], [[0, 1]], [4], n_edges=4)
    e = np.array([[0, 2], [0, 3], [1, 2], [1, 3]])
    assert s.errors_from_edges(e) == pytest.approx((0.0, 0.0))
    # a summary whose weight disagrees with the graph: every pair of the block is off by 1/4
    wrong = Summary.from_blocks([0, 0, 1, 1], [[0, 1]], [3], n_edges=4)
    re1, re2 = wrong.errors_from_edges(e)
    assert re1 == pytest.approx(2 * 4 * 0.25 / 12) and re2 == pytest.approx(math.sqrt(8 / 16) / 12)


def test_members_and_missing_supernode(karate):
    _G, s = karate
    assert sum(s.members(k).size for k in range(s.n_supernodes)) == 34
    with pytest.raises(DataError):
        s.members(s.n_supernodes)
