import json
import math

import numpy as np
import pytest

from engine.anomaly import metrics as M
from engine.anomaly.baselines import random_scores
from engine.errors import DataError


def _labels_with_segments(T, segs):
    y = np.zeros(T, dtype=int)
    for a, b in segs:
        y[a:b] = 1
    return y


def _brute_best_f1(s, y, adjust):
    best = 0.0
    for t in np.unique(s):
        p = s >= t
        if adjust:
            p = M.point_adjust(p, y)
        best = max(best, M.prf(p, y)["f1"])
    return best


def test_segments_include_series_edges():
    assert M.segments([1, 1, 0, 1, 0, 1]) == [(0, 2), (3, 4), (5, 6)]
    assert M.segments([0, 0]) == []


def test_point_adjust_turns_one_detected_point_into_whole_segment():
    y = _labels_with_segments(20, [(3, 10), (14, 18)])
    pred = np.zeros(20, dtype=bool)
    pred[7] = True  # one hit inside the first segment
    pred[1] = True  # a false positive stays as it is
    adj = M.point_adjust(pred, y)
    assert adj[3:10].all() and not adj[14:18].any()
    assert adj[1] and adj.sum() == 8
    assert M.prf(pred, y)["recall"] == pytest.approx(1 / 11)
    assert M.prf(adj, y)["recall"] == pytest.approx(7 / 11)


def test_pa_k_zero_equals_pa_and_hundred_equals_pointwise():
    rng = np.random.default_rng(0)
    y = (np.convolve(rng.random(500) < 0.03, np.ones(12), "same") > 0).astype(int)
    pred = rng.random(500) < 0.2
    assert np.array_equal(M.pa_k(pred, y, 0), M.point_adjust(pred, y))
    assert np.array_equal(M.pa_k(pred, y, 100), pred)
    assert not np.array_equal(M.point_adjust(pred, y), pred)  # the case is not trivial


def test_pa_k_needs_strictly_more_than_k_percent():
    y = _labels_with_segments(12, [(2, 12)])  # 10 points
    pred = np.zeros(12, dtype=bool)
    pred[2:5] = True  # 30 %
    assert M.pa_k(pred, y, 29)[2:12].all()
    assert M.pa_k(pred, y, 30).sum() == 3


def test_pa_k_f1_decreases_with_k_and_auc_lies_between_extremes():
    rng = np.random.default_rng(1)
    y = _labels_with_segments(400, [(50, 120), (200, 230), (300, 380)])
    pred = rng.random(400) < 0.3
    ks, f1s = M.pa_k_curve(pred, y)
    assert ks[0] == 0 and ks[-1] == 100
    assert all(a >= b for a, b in zip(f1s, f1s[1:]))
    assert f1s[-1] <= M.pa_k_auc(pred, y) <= f1s[0]


def test_best_f1_finds_the_hand_made_optimum():
    s = np.array([0.1, 0.2, 0.95, 0.9, 0.4, 0.85, 0.3, 0.05])
    y = np.array([0, 0, 1, 1, 0, 1, 0, 0])
    r = M.best_f1(s, y, adjust=False)
    assert r["f1"] == 1.0 and r["threshold"] == 0.85


def test_best_f1_pa_uses_segment_maximum():
    # normal points score 0.2..0.6; the segment scores 0.1 except one 0.7 point: only the
    # segment's maximum matters under PA, so t = 0.7 catches the whole segment and nothing else
    s = np.linspace(0.2, 0.6, 30)
    s[10:15] = [0.1, 0.1, 0.7, 0.1, 0.1]
    y = _labels_with_segments(30, [(10, 15)])
    assert M.best_f1(s, y, adjust=False)["f1"] < 0.5
    r = M.best_f1(s, y, adjust=True)
    assert r["f1"] == 1.0 and r["threshold"] == 0.7


@pytest.mark.parametrize("adjust", [False, True])
def test_best_f1_equals_brute_force_over_all_thresholds(adjust):
    rng = np.random.default_rng(7)
    for _ in range(5):
        y = (np.convolve(rng.random(300) < 0.02, np.ones(9), "same") > 0).astype(int)
        s = np.round(rng.random(300) + 0.4 * y, 2)  # rounding creates ties
        assert M.best_f1(s, y, adjust=adjust)["f1"] == pytest.approx(_brute_best_f1(s, y, adjust))


def test_best_f1_on_a_grid_never_beats_the_exact_search():
    rng = np.random.default_rng(3)
    y = (rng.random(1000) < 0.05).astype(int)
    s = rng.random(1000) + y
    exact = M.best_f1(s, y, adjust=False)["f1"]
    assert M.best_f1(s, y, adjust=False, n_thresholds=20)["f1"] <= exact + 1e-12


def test_best_f1_pa_k_matches_the_slow_definition():
    rng = np.random.default_rng(4)
    y = _labels_with_segments(300, [(20, 60), (100, 110), (200, 280)])
    s = rng.random(300) + 0.3 * y
    ks, fast = M.best_f1_pa_k(s, y, (0, 30, 100), n_thresholds=15)
    grid = np.unique(np.quantile(s, np.linspace(0, 1, 15)))
    slow = [max(M.prf(M.pa_k(s >= t, y, k), y)["f1"] for t in grid) for k in ks]
    assert fast == pytest.approx(slow)


def test_pot_threshold_recovers_exponential_tail_quantile():
    x = np.random.default_rng(0).exponential(1.0, 100_000)
    q = 1e-3
    z, info = M.pot_threshold(x, q=q, level=0.98, return_info=True)
    assert info["method"] == "gpd" and abs(info["gamma"]) < 0.1
    assert z == pytest.approx(-math.log(q), rel=0.05)  # P(X > z) = q  <=>  z = -ln q


def test_pot_threshold_recovers_heavy_pareto_tail_beyond_the_data():
    # Lomax (Pareto II, shape 2): P(X > x) = (1 + x)^-2, so the q-quantile is q^-1/2 - 1.
    x = np.random.default_rng(1).pareto(2.0, 20_000)
    q = 1e-5  # far beyond the sample: the empirical quantile cannot reach it
    z, info = M.pot_threshold(x, q=q, level=0.98, return_info=True)
    truth = q ** -0.5 - 1
    assert info["gamma"] == pytest.approx(0.5, abs=0.15)
    assert z == pytest.approx(truth, rel=0.35)
    assert z > x.max()


def test_pot_threshold_falls_back_on_degenerate_scores():
    assert M.pot_threshold(np.full(100, 2.0)) == 2.0
    _, info = M.pot_threshold(np.arange(50.0), return_info=True)  # 1 peak only
    assert info["method"] == "empirical"


def test_random_scores_look_strong_under_pa_but_not_pointwise():
    """The PA pitfall (Kim et al. 2022): noise + point adjustment beats real detectors."""
    T = 5000
    y = _labels_with_segments(T, [(500, 800), (2000, 2400), (3500, 3900)])
    s = random_scores(T, seed=0)
    point = M.best_f1(s, y, adjust=False)["f1"]
    pa = M.best_f1(s, y, adjust=True)["f1"]
    assert point < 0.4  # about 2 * 0.22 / (1 + 0.22) ≈ 0.36 for predicting all
    assert pa > 0.9
    assert M.auroc(s, y) == pytest.approx(0.5, abs=0.05)


def test_evaluate_reports_every_protocol_as_json():
    rng = np.random.default_rng(5)
    y = _labels_with_segments(2000, [(300, 340), (1200, 1260)])
    train = rng.exponential(1.0, 3000)
    test = rng.exponential(1.0, 2000) + 6 * y
    ch = rng.random((2000, 4))
    ch[300:340, 1] += 5
    out = M.evaluate(test, y, train_scores=train, channel_scores=ch,
                     interpretation=[(300, 340, [1])])
    json.dumps(out)
    for key in ("pot", "best_f1", "best_f1_pa", "pa_k", "pa_k_best", "auroc", "auprc",
                "hitrate@100", "hitrate@150", "notes"):
        assert key in out
    assert set(out["pot"]) >= {"threshold", "point", "pa"}
    assert out["pot"]["pa"]["f1"] >= out["pot"]["point"]["f1"]
    assert out["best_f1_pa"]["f1"] >= out["best_f1"]["f1"] > 0.9
    assert out["hitrate@100"] == 1.0
    assert len(out["pa_k"]["f1"]) == len(out["pa_k"]["ks"]) == 11


def test_evaluate_without_anomalies_gives_zero_f1_and_a_note():
    rng = np.random.default_rng(6)
    out = M.evaluate(rng.random(100), np.zeros(100, int), train_scores=rng.random(100))
    assert out["best_f1"]["f1"] == 0 and out["auroc"] is None
    assert any("no anomaly" in n for n in out["notes"])


def test_evaluate_rejects_bad_input_with_a_clear_message():
    with pytest.raises(DataError, match="same time steps"):
        M.evaluate(np.zeros(10), np.zeros(9), train_scores=np.ones(10))
    with pytest.raises(DataError, match="NaN"):
        M.evaluate(np.r_[np.nan, np.zeros(9)], np.zeros(10), train_scores=np.ones(10))
    with pytest.raises(DataError, match="0/1"):
        M.prf([1, 0], [2, 0])
