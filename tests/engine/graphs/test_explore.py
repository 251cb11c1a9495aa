"""The large-graph views: largest supernodes, neighbourhoods, dense crops at one pixel per node."""
from __future__ import annotations

import networkx as nx
import numpy as np

from engine.graphs.explore import dense_crop, largest_supernodes, neighbourhood
from engine.graphs.ssumm import ssumm_edges


def _sbm():
    G = nx.stochastic_block_model([40] * 5, [[0.5 if i == j else 0.01 for j in range(5)] for i in range(5)], seed=1)
    e = np.array(G.edges(), dtype=np.int64)
    s = ssumm_edges(e, G.number_of_nodes(), ratio=0.3, seed=0)
    table = np.column_stack([s.superedges, s.weights, s.densities])
    return G, e, s, table


def test_neighbourhood_is_every_node_within_the_radius_up_to_the_cap():
    G, e, _, _ = _sbm()
    nodes, sub = neighbourhood(e, G.number_of_nodes(), 0, radius=1, max_nodes=1000)
    assert set(nodes.tolist()) == {0, *G.neighbors(0)}
    assert len(sub) == G.subgraph(nodes.tolist()).number_of_edges()
    capped, _ = neighbourhood(e, G.number_of_nodes(), 0, radius=3, max_nodes=25)
    assert capped.size == 25 and capped[0] == 0


def test_dense_crop_shows_the_true_pairs_and_the_summary_densities():
    G, e, s, table = _sbm()
    nodes, A, R = dense_crop(e, s.supernode_of, table, max_nodes=120)
    assert 2 <= nodes.size <= 120
    truth = nx.to_numpy_array(G, nodelist=nodes.tolist())
    assert np.array_equal(A, truth.astype(np.float32))
    dens = s.block_matrix()
    sn = s.supernode_of[nodes]
    off = ~np.eye(nodes.size, dtype=bool)
    assert np.allclose(R[off], dens[np.ix_(sn, sn)][off])
    # supernodes come whole and grouped: positions of one supernode are contiguous
    change = np.flatnonzero(np.diff(sn)) + 1
    assert len(set(sn.tolist())) == len(change) + 1


def test_largest_supernodes_are_sorted_and_count_members():
    _, _, s, table = _sbm()
    rows = largest_supernodes(s.supernode_of, table, list(range(200)), k=5)
    sizes = [r["members"] for r in rows]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == np.bincount(s.supernode_of).max()
