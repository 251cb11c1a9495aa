"""The GCN and the graph-lottery procedures: they learn, reach their sparsities exactly, are seeded."""
from __future__ import annotations

import numpy as np
import pytest

from engine.graphs.gnn import GCNSettings, train_dense, train_oneshot, train_teddy, train_ugs, ugs_schedule
from engine.graphs.gnn_data import load_node_data, planetoid_like_split
from engine.paths import shared_data_dir

SMALL = "generator:csbm?blocks=3&size=40&p_in=0.12&p_out=0.01&features=30&signal=0.15&seed=2"
FAST = GCNSettings(epochs=40)


@pytest.fixture(scope="module")
def data():
    return load_node_data(SMALL)


def test_dense_gcn_learns_the_contextual_sbm(data):
    t = train_dense(data, seed=0, settings=FAST)
    assert t.test_accuracy > 0.8
    assert t.graph_sparsity == 0 and t.weight_sparsity == 0


def test_the_graph_helps_the_gcn(data):
    # without edges (sparsity close to 1) the GCN sees only noisy features
    with_graph = np.mean([train_dense(data, seed=s, settings=FAST).test_accuracy for s in range(2)])
    almost_none = np.mean([train_oneshot(data, "random", 0.99, 0.0, seed=s, settings=FAST).test_accuracy
                           for s in range(2)])
    assert with_graph > almost_none + 0.1


def test_same_seed_same_result(data):
    a, b = (train_teddy(data, 0.5, 0.5, seed=3, settings=FAST) for _ in range(2))
    assert a.test_accuracy == b.test_accuracy
    np.testing.assert_array_equal(a.kept, b.kept)


@pytest.mark.parametrize("gs,ws", [(0.3, 0.5), (0.6, 0.9)])
def test_teddy_reaches_both_sparsities_exactly(data, gs, ws):
    t = train_teddy(data, gs, ws, seed=0, settings=FAST)
    assert len(t.kept) == round(data.n_edges * (1 - gs))
    assert t.weight_nonzero == round(t.weight_total * (1 - ws))


def test_random_and_freedom_reach_both_sparsities(data):
    for m in ("random", "freedom"):
        t = train_oneshot(data, m, 0.4, 0.7, seed=0, settings=FAST)
        assert len(t.kept) == round(data.n_edges * 0.6)
        assert t.weight_nonzero <= round(t.weight_total * 0.3)
        assert t.weight_nonzero >= round(t.weight_total * 0.3) - 5  # a kept weight may be exactly 0


def test_ugs_schedule_prunes_pg_and_ptheta_per_round_and_ends_at_the_targets():
    s = ugs_schedule(0.3, 0.8)
    assert s[0] == pytest.approx((0.05, 0.2))
    assert s[-1] == pytest.approx((0.3, 0.8))
    assert all(b[0] >= a[0] and b[1] >= a[1] for a, b in zip(s, s[1:]))


def test_ugs_prunes_iteratively_to_the_exact_targets(data):
    t = train_ugs(data, 0.15, 0.5, seed=0, settings=GCNSettings(epochs=15))
    assert len(t.rounds) == len(ugs_schedule(0.15, 0.5)) >= 3
    assert [r["graph_sparsity"] for r in t.rounds] == sorted(r["graph_sparsity"] for r in t.rounds)
    assert len(t.kept) == round(data.n_edges * 0.85)
    assert t.weight_nonzero <= round(t.weight_total * 0.5)


def test_cancel_stops_training(data):
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 5

    t = train_dense(data, seed=0, settings=FAST, should_stop=stop)
    assert t.stopped and t.epochs == 5


def test_planetoid_like_split_is_disjoint_and_seeded():
    labels = np.repeat(np.arange(4), 50)
    a = planetoid_like_split(labels, seed=1)
    b = planetoid_like_split(labels, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    tr, va, te = a
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    assert np.bincount(labels[tr]).tolist() == [16, 16, 16, 16]


needs_data = pytest.mark.skipif(shared_data_dir() is None or not (shared_data_dir() / "graphs/cora.features.npz").is_file(),
                                reason="shared data (Cora) not present: set SPARSITY_LAB_DATA")


@needs_data
def test_cora_loads_with_the_planetoid_split():
    d = load_node_data("benchmark:cora")
    assert (d.n_nodes, d.n_edges, d.n_classes, d.features.shape[1]) == (2708, 5278, 7, 1433)
    assert (len(d.train), len(d.val), len(d.test)) == (140, 500, 1000)


@needs_data
def test_dense_gcn_on_cora_is_near_the_published_accuracy():
    d = load_node_data("benchmark:cora")
    accs = [train_dense(d, seed=s).test_accuracy for s in range(2)]
    assert 0.795 <= np.mean(accs) <= 0.835  # published 81.5 %
