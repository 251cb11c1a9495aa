"""Interpreting anomalies: which channels explain them, and is it a sensor or a system fault.

* **HitRate@P%** (OmniAnomaly, Su et al., KDD 2019, Sec. 5.4; InterFusion, Li et al., KDD 2021,
  Sec. 5.1): for an anomalous time step with ground-truth channel set ``G``, rank the channels by
  their anomaly score and keep the top ``floor(P% * |G|)``;
  ``HitRate@P% = |top ∩ G| / |G|``, averaged over the evaluated time steps. P = 100 % and 150 %.
  The papers evaluate it on the detected (true-positive) points; :func:`hit_rate` takes a
  ``points`` mask for that, and by default uses every labelled point.
  Simplification vs InterFusion's script: it first aggregates the scores of all detected points of
  a segment (minimum reconstruction probability) and ranks once per segment; here each point is
  ranked on its own scores.
* SMD's interpretation labels: one line per segment, ``start-end:d1,d2,...``, ``start`` 0-based,
  ``end`` exclusive, dimensions 1-based (checked against ``test_label``; converted to 0-based here).
* Channel graphs for comparison with a learned adjacency: top-k |Pearson|, Lasso regression and
  the graphical lasso (Friedman, Hastie, Tibshirani, Biostatistics 2008: a sparse precision matrix,
  the classical sparse-graph estimate; scikit-learn's ``GraphicalLassoCV`` picks its penalty).
* A simple, documented sensor-vs-system fault rule on top of a learned adjacency.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.errors import DataError

__all__ = [
    "parse_interpretation", "read_interpretation", "hit_rate", "channel_contributions",
    "fault_kind", "correlation_graph", "lasso_graph", "glasso_graph", "adjacency_auroc",
]

Interpretation = list[tuple[int, int, list[int]]]


def parse_interpretation(text: str) -> Interpretation:
    """Parse interpretation-label lines ``start-end:d1,d2,...`` into ``(start, end, dims)`` with
    ``end`` exclusive and ``dims`` converted from 1-based to 0-based.

    >>> parse_interpretation("15-20:1,3\\n30-31:38\\n")
    [(15, 20, [0, 2]), (30, 31, [37])]
    """
    out: Interpretation = []
    for i, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            span, dims = line.split(":")
            a, b = (int(v) for v in span.split("-"))
            d = [int(v) - 1 for v in dims.split(",") if v.strip()]
        except ValueError:
            raise DataError(f"Interpretation label line {i} is not 'start-end:d1,d2,...': {line!r}")
        if a < 0 or b <= a or not d or min(d) < 0:
            raise DataError(f"Interpretation label line {i} has an empty span or a dimension < 1: "
                            f"{line!r}")
        out.append((a, b, d))
    return out


def read_interpretation(path: str | os.PathLike) -> Interpretation:
    """Read an SMD ``interpretation_label/<machine>.txt`` file (see :func:`parse_interpretation`)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"Interpretation label file not found: {p}")
    return parse_interpretation(p.read_text())


def _channel_scores(channel_scores) -> np.ndarray:
    c = np.asarray(channel_scores, dtype=float)
    if c.ndim != 2:
        raise DataError(f"Channel scores must be a (time, channels) array, got shape {c.shape}.")
    if not np.isfinite(c).all():
        raise DataError("Channel scores contain NaN/inf values; cannot rank channels.")
    return c


def _triples(interpretation) -> Interpretation:
    """Accept ``(start, end, dims)`` tuples or objects with ``start, end`` and ``channels`` (or
    ``dims``) attributes, e.g. ``engine.anomaly.datasets.Segment``; segments without channels are
    skipped (no ground truth to hit)."""
    out: Interpretation = []
    for seg in interpretation:
        if hasattr(seg, "start"):
            dims = getattr(seg, "channels", None)
            dims = getattr(seg, "dims", ()) if dims is None else dims
            a, b = seg.start, seg.end
        else:
            a, b, dims = seg
        if len(dims):
            out.append((int(a), int(b), [int(d) for d in dims]))
    return out


def hit_rate(channel_scores, interpretation: Interpretation, *, p: float = 1.0,
             points=None) -> float:
    """HitRate@P% (``p = 1.0`` is 100 %, ``1.5`` is 150 %); higher channel score = more anomalous.

    For each evaluated step ``t`` in a labelled segment with ground truth ``G``:
    ``|top_{floor(p*|G|)}(scores[t]) ∩ G| / |G|`` (top capped at the number of channels); the
    result is the mean over steps. ``points`` (bool, length T) restricts the steps, e.g. to the
    detected ones. Returns NaN if no step is evaluated. Ties are broken by channel order.
    ``interpretation``: ``(start, end, dims_0based)`` tuples or ``Segment``-like objects.

    >>> s = np.array([[0.9, 0.1, 0.8, 0.0], [0.1, 0.9, 0.8, 0.0]])
    >>> hit_rate(s, [(0, 2, [0, 2])], p=1.0)   # t=0: top2={0,2} -> 1; t=1: top2={1,2} -> 1/2
    0.75
    """
    c = _channel_scores(channel_scores)
    T, n = c.shape
    mask = None if points is None else np.asarray(points, dtype=bool)
    if mask is not None and mask.shape != (T,):
        raise DataError(f"points mask has shape {mask.shape}, expected ({T},).")
    total, count = 0.0, 0
    for a, b, dims in _triples(interpretation):
        if b > T or max(dims) >= n:
            raise DataError(f"Interpretation segment {a}-{b} on dims {[d + 1 for d in dims]} "
                            f"does not fit channel scores of shape {c.shape}.")
        rows = np.arange(a, b) if mask is None else np.arange(a, b)[mask[a:b]]
        if len(rows) == 0:
            continue
        g = np.zeros(n, dtype=bool)
        g[dims] = True
        k = min(int(np.floor(p * g.sum() + 1e-9)), n)
        top = np.argsort(-c[rows], axis=1, kind="stable")[:, :k]  # (L, k)
        total += (g[top].sum(axis=1) / g.sum()).sum()
        count += len(rows)
    return float(total / count) if count else float("nan")


def channel_contributions(channel_scores, start: int, end: int) -> np.ndarray:
    """Share of each channel in the summed score of steps ``[start, end)``; sums to 1.

    Scores are shifted so the smallest channel sum is 0 if any is negative (e.g. negative
    log-likelihoods); an all-zero segment gives equal shares.

    >>> channel_contributions([[1.0, 3.0], [1.0, 3.0]], 0, 2).tolist()
    [0.25, 0.75]
    """
    c = _channel_scores(channel_scores)
    if not 0 <= start < end <= len(c):
        raise DataError(f"Segment [{start}, {end}) is outside the series of length {len(c)}.")
    s = c[start:end].sum(axis=0)
    if s.min() < 0:
        s = s - s.min()
    tot = s.sum()
    return s / tot if tot > 0 else np.full(len(s), 1.0 / len(s))


def fault_kind(channel_scores, adjacency, start: int, end: int, *, baseline=None,
               ratio: float = 3.0, n_neighbours: int = 3) -> dict:
    """Sensor vs system fault for segment ``[start, end)`` — a simple rule, not from a paper.

    1. Elevation of channel ``j``: ``r_j = mean(scores[start:end, j]) / baseline_j``; the
       baseline is the per-channel median score outside the segment unless given (e.g. the
       median training score per channel). Scores are assumed >= 0 (reconstruction errors).
    2. Top channel ``c`` = argmax ``r``. If ``r_c < ratio``: kind ``"none"`` (nothing stands out).
    3. Its graph neighbours: the ``n_neighbours`` channels with the largest
       ``|A[c, j]| + |A[j, c]|`` (nonzero only) in the learned adjacency.
    4. ``"system"`` if at least half of those neighbours are elevated too (``r_j >= ratio``), the
       fault spreading along the dependency graph; otherwise ``"sensor"`` (one channel misbehaves
       while the channels it depends on look normal). No neighbours -> ``"sensor"``.

    Returns the kind with its evidence: top_channel, top_ratio, neighbours, neighbour_ratios,
    elevated_fraction, rule.
    """
    c = _channel_scores(channel_scores)
    T, n = c.shape
    A = np.asarray(adjacency, dtype=float)
    if A.shape != (n, n):
        raise DataError(f"Adjacency has shape {A.shape}, expected ({n}, {n}) for {n} channels.")
    if not 0 <= start < end <= T:
        raise DataError(f"Segment [{start}, {end}) is outside the series of length {T}.")
    if baseline is None:
        outside = np.r_[c[:start], c[end:]]
        baseline = np.median(outside, axis=0) if len(outside) else np.ones(n)
    base = np.maximum(np.asarray(baseline, dtype=float), 1e-12)
    r = c[start:end].mean(axis=0) / base
    top = int(np.argmax(r))
    w = np.abs(A[top]) + np.abs(A[:, top])
    w[top] = 0.0
    order = [int(j) for j in np.argsort(-w, kind="stable")[:n_neighbours] if w[j] > 0]
    nr = r[order]
    frac = float((nr >= ratio).mean()) if len(order) else 0.0
    if r[top] < ratio:
        kind = "none"
    else:
        kind = "system" if len(order) and frac >= 0.5 else "sensor"
    return {
        "kind": kind, "top_channel": top, "top_ratio": float(r[top]), "neighbours": order,
        "neighbour_ratios": nr.tolist(), "elevated_fraction": frac,
        "rule": (f"top channel elevated >= {ratio:g}x its baseline; 'system' if >= half of its "
                 f"{n_neighbours} strongest graph neighbours are elevated too, else 'sensor'"),
    }


def _matrix(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 3 or X.shape[1] < 2:
        raise DataError(f"Need a (time >= 3, channels >= 2) array, got shape {X.shape}.")
    if not np.isfinite(X).all():
        raise DataError("The series contains NaN/inf values.")
    return X


def correlation_graph(X, k: int) -> np.ndarray:
    """Top-``k`` |Pearson correlation| neighbours per channel, each row normalised to sum 1.

    Constant channels have no correlation (zero row). ``A[i, j]`` is the weight of ``j`` for ``i``.
    """
    X = _matrix(X)
    n = X.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        C = np.abs(np.nan_to_num(np.corrcoef(X, rowvar=False)))
    np.fill_diagonal(C, 0.0)
    k = max(0, min(int(k), n - 1))
    A = np.zeros_like(C)
    if k:
        idx = np.argsort(-C, axis=1, kind="stable")[:, :k]
        rows = np.arange(n)[:, None]
        A[rows, idx] = C[rows, idx]
    s = A.sum(axis=1, keepdims=True)
    return np.divide(A, s, out=np.zeros_like(A), where=s > 0)


def lasso_graph(X, alpha: float) -> np.ndarray:
    """Regress each (standardised) channel on all others with ``sklearn.linear_model.Lasso``;
    ``A[i, j] = |coef of j when predicting i|``. Constant channels get an empty row."""
    from sklearn.linear_model import Lasso

    X = _matrix(X)
    n = X.shape[1]
    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    A = np.zeros((n, n))
    for i in range(n):
        if sd[i] == 0:
            continue
        others = np.r_[0:i, i + 1:n]
        A[i, others] = np.abs(Lasso(alpha=alpha, max_iter=5000).fit(Z[:, others], Z[:, i]).coef_)
    return A


def glasso_graph(X, *, max_rows: int = 5000, seed: int = 0) -> np.ndarray:
    """Graphical lasso: ``A[i, j] = |partial correlation of i and j|`` from the sparse precision
    matrix ``Theta`` that ``sklearn.covariance.GraphicalLassoCV`` fits to the standardised channels
    (penalty chosen by 5-fold cross-validation); ``-Theta_ij / sqrt(Theta_ii Theta_jj)``, zero
    diagonal, symmetric. Constant channels get an empty row. Series longer than ``max_rows`` are
    subsampled evenly (the covariance, not the order, matters). If the CV path fails to converge
    (an ill-conditioned covariance), a fixed penalty of 0.1 is used instead.

    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(400, 2))
    >>> X = np.c_[z[:, 0], z[:, 0] + 0.3 * rng.normal(size=400), z[:, 1], z[:, 1] + 0.3 * rng.normal(size=400)]
    >>> A = glasso_graph(X)
    >>> bool(A[0, 1] > 0.5 and A[2, 3] > 0.5 and A[0, 2] < 0.1 and A[1, 3] < 0.1), bool(np.allclose(A, A.T))
    (True, True)
    """
    import warnings

    from sklearn.covariance import GraphicalLasso, GraphicalLassoCV
    from sklearn.exceptions import ConvergenceWarning

    X = _matrix(X)
    if len(X) > max_rows:
        X = X[np.linspace(0, len(X) - 1, max_rows).astype(int)]
    n = X.shape[1]
    sd = X.std(axis=0)
    live = np.flatnonzero(sd > 1e-12)
    A = np.zeros((n, n))
    if len(live) < 2:
        return A
    Z = (X[:, live] - X[:, live].mean(axis=0)) / sd[live]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            theta = GraphicalLassoCV(cv=5, max_iter=200).fit(Z).precision_
        except (FloatingPointError, ValueError):
            theta = GraphicalLasso(alpha=0.1, max_iter=200).fit(Z).precision_
    d = np.sqrt(np.abs(np.diag(theta)))
    P = np.abs(theta / np.outer(d, d))
    np.fill_diagonal(P, 0.0)
    A[np.ix_(live, live)] = P
    return A


def adjacency_auroc(A, true_A) -> float:
    """AUROC of the off-diagonal ``|A|`` entries as scores for the 0/1 entries of ``true_A``.

    >>> adjacency_auroc([[0, .9, .1], [.8, 0, .2], [0, .3, 0]], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    1.0
    """
    from sklearn.metrics import roc_auc_score

    A, T = np.abs(np.asarray(A, dtype=float)), np.asarray(true_A)
    if A.shape != T.shape or A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise DataError(f"Adjacency shapes differ or are not square: {A.shape} vs {T.shape}.")
    off = ~np.eye(len(A), dtype=bool)
    y = T[off] != 0
    if y.all() or not y.any():
        raise DataError("The true graph needs both edges and non-edges off the diagonal.")
    return float(roc_auc_score(y, A[off]))
