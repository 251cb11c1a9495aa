import gzip

import numpy as np
import pytest

from engine.anomaly import baselines as B
from engine.anomaly.interpret import read_interpretation
from engine.anomaly.metrics import auroc, best_f1, evaluate
from engine.errors import DataError
from engine.paths import shared_data_dir


def _subspace_data(seed=0, T=600, n=8, r=2):
    """Channels mix r latent signals; the test copy has channel 5 broken on [300, 340)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((r, n))
    train = rng.standard_normal((T, r)) @ W + 0.05 * rng.standard_normal((T, n))
    test = rng.standard_normal((T, r)) @ W + 0.05 * rng.standard_normal((T, n))
    y = np.zeros(T, int)
    y[300:340] = 1
    test[300:340, 5] += 2.0
    return train, test, y


def test_random_scores_are_seeded_uniform():
    a, b = B.random_scores(1000, seed=3), B.random_scores(1000, seed=3)
    assert np.array_equal(a, b) and not np.array_equal(a, B.random_scores(1000, seed=4))
    assert 0 <= a.min() and a.max() < 1


def test_pca_reconstruction_error_flags_points_off_the_subspace_and_their_channel():
    train, test, y = _subspace_data()
    tr, te, ch = B.pca_scores(train, test, n_components=2)
    assert tr.shape == (600,) and te.shape == (600,) and ch.shape == (600, 8)
    assert np.allclose(ch.sum(axis=1), te)
    assert auroc(te, y) > 0.99
    assert (ch[300:340].argmax(axis=1) == 5).mean() > 0.9


def test_pca_accepts_a_variance_share():
    train, test, _ = _subspace_data()
    _, te_share, _ = B.pca_scores(train, test, n_components=0.9)
    _, te_two, _ = B.pca_scores(train, test, n_components=2)
    assert np.allclose(te_share, te_two)  # two latent signals carry > 90 % of the variance


def test_iforest_scores_outliers_higher_and_is_seeded():
    rng = np.random.default_rng(0)
    train = rng.standard_normal((500, 3))
    test = rng.standard_normal((200, 3))
    test[:10] += 6
    tr, te = B.iforest_scores(train, test, seed=0, n_estimators=50)
    assert tr.shape == (500,) and te[:10].min() > np.median(te[10:])
    assert np.array_equal(te, B.iforest_scores(train, test, seed=0, n_estimators=50)[1])


def test_baselines_reject_mismatched_channels():
    with pytest.raises(DataError, match="same channels"):
        B.pca_scores(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(DataError, match="NaN"):
        B.iforest_scores(np.full((10, 3), np.nan), np.zeros((10, 3)), seed=0)


def test_harness_separates_a_real_baseline_from_noise_only_without_pa():
    train, test, y = _subspace_data()
    tr, te, _ = B.pca_scores(train, test, n_components=2)
    pca = evaluate(te, y, train_scores=tr)
    noise = B.random_scores(len(y), seed=0)
    rnd = evaluate(noise, y, train_scores=B.random_scores(len(y), seed=1))
    assert pca["best_f1"]["f1"] > 0.9 > 0.3 > rnd["best_f1"]["f1"]
    assert rnd["best_f1_pa"]["f1"] > 0.5  # PA alone flatters noise on a 40-step segment


def _load_smd(machine):
    root = shared_data_dir()
    smd = None if root is None else root / "SMD"
    if smd is None or not (smd / "train" / f"{machine}.txt.gz").is_file():
        pytest.skip("SMD data not available (set SPARSITY_LAB_DATA)")
    read = lambda p: np.loadtxt(gzip.open(p, "rt"), delimiter=",")  # noqa: E731
    return (read(smd / "train" / f"{machine}.txt.gz"), read(smd / "test" / f"{machine}.txt.gz"),
            np.loadtxt(smd / "test_label" / f"{machine}.txt", dtype=int),
            read_interpretation(smd / "interpretation_label" / f"{machine}.txt"))


@pytest.mark.slow
def test_pca_beats_random_on_smd_machine_1_2_pointwise_and_in_hitrate():
    train, test, y, interp = _load_smd("machine-1-2")
    tr, te, ch = B.pca_scores(train, test, n_components=0.9)
    out = evaluate(te, y, train_scores=tr, channel_scores=ch, interpretation=interp)
    rng = np.random.default_rng(0)
    rnd = evaluate(rng.random(len(y)), y, train_scores=rng.random(len(tr)),
                   channel_scores=rng.random(ch.shape), interpretation=interp)
    assert out["auroc"] > rnd["auroc"] + 0.1
    assert out["best_f1"]["f1"] > rnd["best_f1"]["f1"]
    assert out["hitrate@150"] > rnd["hitrate@150"]
    assert best_f1(te, y, adjust=True)["f1"] >= out["best_f1"]["f1"]
