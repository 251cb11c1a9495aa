"""Baselines evaluated by the same harness as the model (higher score = more anomalous).

* ``random_scores``: uniform noise. Under point adjustment it looks strong on long anomaly
  segments (Kim et al., AAAI 2022) — it is the floor every protocol must be read against.
* ``pca_scores``: squared reconstruction error after projecting on the principal subspace fitted
  on training data (``sklearn.decomposition.PCA``), per channel and summed.
* ``iforest_scores``: Isolation Forest (Liu, Ting & Zhou, ICDM 2008) from scikit-learn, fitted on
  training data; the score is ``-score_samples`` so that higher means more anomalous. It looks at
  each time step alone (no window), as in common SMD baselines.

Inputs are ``(T, n)`` arrays: time steps by channels.
"""
from __future__ import annotations

import numpy as np

from engine.errors import DataError

__all__ = ["random_scores", "pca_scores", "iforest_scores"]


def _pair(train, test) -> tuple[np.ndarray, np.ndarray]:
    tr, te = np.asarray(train, dtype=float), np.asarray(test, dtype=float)
    if tr.ndim != 2 or te.ndim != 2 or tr.shape[1] != te.shape[1]:
        raise DataError(f"Train and test must be (time, channels) with the same channels; "
                        f"got {tr.shape} and {te.shape}.")
    if len(tr) < 2:
        raise DataError("Need at least 2 training time steps.")
    if not (np.isfinite(tr).all() and np.isfinite(te).all()):
        raise DataError("Train or test data contain NaN/inf values; fill or drop them first.")
    return tr, te


def random_scores(n: int, seed: int) -> np.ndarray:
    """``n`` i.i.d. Uniform(0, 1) scores from ``numpy.random.default_rng(seed)``.

    >>> random_scores(3, 0).round(3).tolist()
    [0.637, 0.27, 0.041]
    """
    return np.random.default_rng(seed).random(int(n))


def pca_scores(train, test, *, n_components: float | int = 0.9
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA reconstruction error. ``n_components`` in (0, 1) keeps that share of the variance,
    an int keeps that many components.

    Returns ``(train_scores (T_tr,), test_scores (T_te,), channel_scores (T_te, n))`` with
    ``channel_scores = (x - x_hat)^2`` and scores their sum over channels.
    """
    from sklearn.decomposition import PCA

    tr, te = _pair(train, test)
    if isinstance(n_components, float) and not 0 < n_components < 1:
        raise DataError(f"n_components as a float must be in (0, 1), got {n_components}.")
    if isinstance(n_components, int) and not 1 <= n_components <= min(tr.shape):
        raise DataError(f"n_components must be between 1 and {min(tr.shape)}, got {n_components}.")
    pca = PCA(n_components=n_components, svd_solver="full").fit(tr)

    def err(x: np.ndarray) -> np.ndarray:
        return (x - pca.inverse_transform(pca.transform(x))) ** 2

    e_te = err(te)
    return err(tr).sum(axis=1), e_te.sum(axis=1), e_te


def iforest_scores(train, test, *, seed: int, n_estimators: int = 100
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Isolation Forest fitted on ``train``; returns ``(train_scores, test_scores)`` =
    ``-score_samples`` (higher = easier to isolate = more anomalous)."""
    from sklearn.ensemble import IsolationForest

    tr, te = _pair(train, test)
    f = IsolationForest(n_estimators=n_estimators, random_state=seed, n_jobs=1).fit(tr)
    return -f.score_samples(tr), -f.score_samples(te)
