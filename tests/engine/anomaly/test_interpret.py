import numpy as np
import pytest

from engine.anomaly import interpret as I
from engine.anomaly.metrics import segments
from engine.errors import DataError
from engine.paths import shared_data_dir


def test_parser_converts_dims_to_zero_based_and_skips_blank_lines():
    text = "4629-4688:9,10,11\n\n5486-5491:18\n"
    assert I.parse_interpretation(text) == [(4629, 4688, [8, 9, 10]), (5486, 5491, [17])]


def test_parser_rejects_a_malformed_line_with_its_number():
    with pytest.raises(DataError, match="line 2"):
        I.parse_interpretation("1-2:3\n5:4\n")


def test_smd_interpretation_segments_coincide_with_test_label_segments():
    """Proves the file convention: start 0-based, end exclusive (as the labels' segments)."""
    root = shared_data_dir()
    if root is None or not (root / "SMD" / "interpretation_label" / "machine-1-2.txt").is_file():
        pytest.skip("SMD data not available (set SPARSITY_LAB_DATA)")
    smd = root / "SMD"
    interp = I.read_interpretation(smd / "interpretation_label" / "machine-1-2.txt")
    labels = np.loadtxt(smd / "test_label" / "machine-1-2.txt", dtype=int)
    assert [(a, b) for a, b, _ in interp] == segments(labels)
    assert all(0 <= d < 38 for *_, dims in interp for d in dims)


def test_hit_rate_equals_hand_computed_value():
    # G = {0, 1}. t=0 ranks 0,2,3,1; t=1 ranks 1,0,2,3; t=2 (other segment, G={3}) ranks 3 first.
    s = np.array([[0.9, 0.1, 0.8, 0.7],
                  [0.8, 0.9, 0.2, 0.1],
                  [0.0, 0.1, 0.2, 0.3]])
    interp = [(0, 2, [0, 1]), (2, 3, [3])]
    # @100 %: top2 at t=0 -> {0,2}: 1/2; t=1 -> {1,0}: 1; t=2: top1 {3}: 1  => mean 5/6
    assert I.hit_rate(s, interp, p=1.0) == pytest.approx(5 / 6)
    # @150 %: top3 at t=0 -> {0,2,3}: 1/2; t=1: 1; t=2: floor(1.5)=1 -> 1 => still 5/6
    assert I.hit_rate(s, interp, p=1.5) == pytest.approx(5 / 6)
    # only the detected step t=0
    assert I.hit_rate(s, interp, p=1.0, points=[True, False, False]) == pytest.approx(0.5)
    assert np.isnan(I.hit_rate(s, interp, points=[False] * 3))


def test_hit_rate_accepts_segment_objects_and_skips_those_without_channels():
    from dataclasses import dataclass

    @dataclass
    class Seg:
        start: int
        end: int
        channels: tuple = ()

    s = np.array([[0.9, 0.1, 0.8, 0.7], [0.0, 0.0, 0.0, 1.0]])
    assert I.hit_rate(s, [Seg(0, 1, (0, 3)), Seg(1, 2)], p=1.0) == 0.5


def test_hit_rate_150_rewards_a_near_miss_that_100_does_not():
    s = np.array([[0.9, 0.1, 0.8, 0.7]])  # G = {0, 3}: 3 is ranked third
    assert I.hit_rate(s, [(0, 1, [0, 3])], p=1.0) == 0.5
    assert I.hit_rate(s, [(0, 1, [0, 3])], p=1.5) == 1.0


def test_hit_rate_rejects_labels_outside_the_scores():
    with pytest.raises(DataError, match="does not fit"):
        I.hit_rate(np.zeros((5, 3)), [(2, 9, [0])])


def test_channel_contributions_sum_to_one_and_rank_the_culprit_first():
    rng = np.random.default_rng(0)
    s = rng.random((50, 5))
    s[10:20, 3] += 10
    share = I.channel_contributions(s, 10, 20)
    assert share.sum() == pytest.approx(1.0) and share.argmax() == 3


def _chain_adjacency(n):
    A = np.zeros((n, n))
    A[0, 1] = A[0, 2] = A[0, 3] = 1.0  # channel 0 depends on 1, 2, 3
    return A


def test_fault_kind_sensor_when_only_the_channel_is_elevated():
    s = np.full((100, 6), 1.0)
    s[40:50, 0] = 10.0
    r = I.fault_kind(s, _chain_adjacency(6), 40, 50)
    assert r["kind"] == "sensor" and r["top_channel"] == 0
    assert r["neighbours"] == [1, 2, 3] and r["elevated_fraction"] == 0.0


def test_fault_kind_system_when_graph_neighbours_are_elevated_too():
    s = np.full((100, 6), 1.0)
    s[40:50, 0] = 10.0
    s[40:50, 1] = s[40:50, 2] = 6.0
    r = I.fault_kind(s, _chain_adjacency(6), 40, 50)
    assert r["kind"] == "system" and r["elevated_fraction"] == pytest.approx(2 / 3)
    # the same scores with neighbours elevated but NOT linked in the graph -> sensor
    A = np.zeros((6, 6))
    A[0, 4] = A[0, 5] = 1.0
    assert I.fault_kind(s, A, 40, 50)["kind"] == "sensor"


def test_fault_kind_none_when_nothing_stands_out():
    s = np.random.default_rng(1).random((100, 6)) + 1.0
    assert I.fault_kind(s, _chain_adjacency(6), 40, 50)["kind"] == "none"


def _two_groups(T=400, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(T), rng.standard_normal(T)
    X = np.column_stack([a, a, a, b, b, b]) + 0.3 * rng.standard_normal((T, 6))
    truth = np.zeros((6, 6), int)
    truth[:3, :3] = truth[3:, 3:] = 1
    np.fill_diagonal(truth, 0)
    return X, truth


def test_correlation_graph_recovers_two_obvious_groups():
    X, truth = _two_groups()
    A = I.correlation_graph(X, k=2)
    assert np.allclose(A.sum(axis=1), 1.0)
    assert np.array_equal(A > 0, truth == 1)
    assert I.adjacency_auroc(A, truth) == 1.0


def test_lasso_graph_puts_weight_inside_groups_only():
    X, truth = _two_groups()
    A = I.lasso_graph(X, alpha=0.05)
    assert A[truth == 0].max() < 0.05 < A[truth == 1].min()
    assert I.adjacency_auroc(A, truth) == 1.0


def test_adjacency_auroc_is_one_for_perfect_and_zero_for_inverted_graph():
    truth = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert I.adjacency_auroc(truth * 0.7, truth) == 1.0
    assert I.adjacency_auroc(1 - truth, truth) == 0.0
    with pytest.raises(DataError):
        I.adjacency_auroc(np.ones((3, 3)), np.zeros((3, 3)))


def test_graphical_lasso_recovers_a_sparse_chain_that_correlation_blurs():
    # A chain x0 -> x1 -> x2 -> x3: every pair correlates, but only neighbours are conditionally dependent.
    rng = np.random.default_rng(0)
    x = [rng.normal(size=2000)]
    for _ in range(3):
        x.append(0.8 * x[-1] + 0.6 * rng.normal(size=2000))
    X = np.c_[tuple(x)]
    G = I.glasso_graph(X)
    assert np.allclose(G, G.T) and np.all(np.diag(G) == 0)
    chain = np.zeros((4, 4), int)
    for i in range(3):
        chain[i, i + 1] = chain[i + 1, i] = 1
    assert I.adjacency_auroc(G, chain) == 1.0
    assert G[0, 3] < 0.05 and G[0, 1] > 0.4
    C = np.abs(np.corrcoef(X, rowvar=False))
    assert C[0, 3] > 0.3  # correlation links the chain's ends


def test_graphical_lasso_leaves_constant_channels_empty():
    rng = np.random.default_rng(1)
    X = np.c_[rng.normal(size=300), np.ones(300), rng.normal(size=300)]
    G = I.glasso_graph(X)
    assert np.all(G[1] == 0) and np.all(G[:, 1] == 0)
