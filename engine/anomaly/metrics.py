"""Evaluation protocols for time-series anomaly detection, all reported side by side.

A detector gives one score per time step (higher = more anomalous); a threshold turns scores into
0/1 predictions, ``pred = scores >= threshold``. How predictions are compared with labels changes
the verdict a lot, so :func:`evaluate` reports every protocol at once:

* **point-wise** precision / recall / F1: each time step counts once.
* **point-adjusted (PA)** F1 (Xu et al., WWW 2018 "Donut"; OmniAnomaly, Su et al., KDD 2019): if
  any point of a true anomaly segment is detected, the whole segment counts as detected. PA makes
  even random scores look strong on long segments (Kim et al., AAAI 2022) — hence the others.
* **PA%K** (Kim et al., AAAI 2022, "Towards a Rigorous Evaluation of Time-series Anomaly
  Detection", Sec. 4): a segment is adjusted only if *more than* K % of its points are detected.
  Convention (as the authors' ``tadpak`` package): K = 0 is PA, K = 100 is point-wise. The curve of
  F1 over K = 0, 10, ..., 100 and its area (normalised to [0, 1]) summarise it.
* **best F1** over all thresholds (with and without PA): an oracle upper bound, never deployable.
* **POT** threshold (Siffer et al., KDD 2017, "Anomaly Detection in Streams with Extreme Value
  Theory"), fitted on *training* scores only: the deployable threshold.
* **AUROC / AUPRC** (threshold-free, point-wise, via scikit-learn).

Arrays are 1-D, labels 0/1 of the same length; bad input raises :class:`~engine.errors.DataError`.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats
from sklearn import metrics as skm

from engine.errors import DataError

__all__ = [
    "segments", "prf", "point_adjust", "pa_k", "pa_k_curve", "pa_k_auc", "best_f1",
    "best_f1_pa_k", "pot_threshold", "auroc", "auprc", "evaluate", "DEFAULT_KS",
]

DEFAULT_KS: tuple[int, ...] = tuple(range(0, 101, 10))  # Kim et al. 2022 vary K in steps of 10


# --------------------------------------------------------------------------- input checks
def _labels(labels, n: int | None = None) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise DataError(f"Labels must be a 1-D array of 0/1, got shape {y.shape}.")
    if n is not None and len(y) != n:
        raise DataError(f"Scores/predictions have {n} points but labels have {len(y)}; "
                        "they must cover the same time steps.")
    if y.size and not np.isin(y, (0, 1, True, False)).all():
        raise DataError("Labels must be 0/1 (anomaly = 1).")
    return y.astype(bool)


def _scores(scores, name: str = "scores") -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise DataError(f"{name} must be a 1-D array (one score per time step), got shape {s.shape}.")
    if not np.isfinite(s).all():
        bad = int((~np.isfinite(s)).sum())
        raise DataError(f"{name} contain {bad} NaN/inf values; the model probably diverged "
                        "or the input had gaps. Clean or retrain before evaluating.")
    return s


def _pred(pred) -> np.ndarray:
    p = np.asarray(pred)
    if p.ndim != 1:
        raise DataError(f"Predictions must be a 1-D 0/1 array, got shape {p.shape}.")
    return p.astype(bool)


# --------------------------------------------------------------------------- segments & PA
def segments(labels) -> list[tuple[int, int]]:
    """Contiguous runs of 1s in ``labels`` as ``(start, end)`` pairs, ``end`` exclusive.

    >>> segments([0, 1, 1, 0, 0, 1])
    [(1, 3), (5, 6)]
    """
    s, e = _segment_bounds(_labels(labels))
    return [(int(a), int(b)) for a, b in zip(s, e)]


def _segment_bounds(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.concatenate(([0], y.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _fill(n: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Boolean mask with ``[starts[i], ends[i])`` set (vectorised)."""
    mark = np.zeros(n + 1, dtype=np.int64)
    np.add.at(mark, starts, 1)
    np.add.at(mark, ends, -1)
    return np.cumsum(mark[:-1]) > 0


def prf(pred, labels) -> dict:
    """Point-wise precision, recall, F1 and the counts ``tp, fp, fn``.

    Empty denominators give 0 (no positive predictions -> precision 0; no positive labels ->
    recall 0), so F1 is 0 rather than NaN.

    >>> r = prf([1, 1, 0, 0], [1, 0, 1, 0])
    >>> r["precision"], r["recall"], r["f1"]
    (0.5, 0.5, 0.5)
    """
    p = _pred(pred)
    y = _labels(labels, len(p))
    tp = int(np.count_nonzero(p & y))
    fp = int(np.count_nonzero(p & ~y))
    fn = int(np.count_nonzero(~p & y))
    return _prf_counts(tp, fp, fn)


def _prf_counts(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def pa_k(pred, labels, k: float) -> np.ndarray:
    """PA%K (Kim et al., AAAI 2022): mark a whole true segment detected iff the detected
    fraction of its points is **strictly greater** than ``k`` percent; other points unchanged.

    ``k = 0`` is classic point adjustment (any hit); ``k = 100`` never adjusts (point-wise).

    >>> pa_k([0, 1, 0, 0, 0, 0], [0, 1, 1, 1, 1, 0], 20).astype(int).tolist()   # 1/4 > 20 %
    [0, 1, 1, 1, 1, 0]
    >>> pa_k([0, 1, 0, 0, 0, 0], [0, 1, 1, 1, 1, 0], 25).astype(int).tolist()   # 1/4 not > 25 %
    [0, 1, 0, 0, 0, 0]
    """
    p = _pred(pred)
    y = _labels(labels, len(p))
    if not 0 <= k <= 100:
        raise DataError(f"PA%K needs K in [0, 100], got {k}.")
    starts, ends = _segment_bounds(y)
    if len(starts) == 0:
        return p.copy()
    c = np.concatenate(([0], np.cumsum(p, dtype=np.int64)))
    hits = c[ends] - c[starts]
    adjust = hits > (k / 100.0) * (ends - starts)
    return p | _fill(len(p), starts[adjust], ends[adjust])


def point_adjust(pred, labels) -> np.ndarray:
    """Point adjustment (Xu et al. 2018; OmniAnomaly 2019): one detected point in a true segment
    marks the whole segment detected. Same as ``pa_k(pred, labels, 0)``.

    >>> point_adjust([0, 0, 1, 0, 0, 1], [0, 1, 1, 1, 0, 0]).astype(int).tolist()
    [0, 1, 1, 1, 0, 1]
    """
    return pa_k(pred, labels, 0)


def pa_k_curve(pred, labels, ks: Sequence[float] = DEFAULT_KS) -> tuple[list[float], list[float]]:
    """F1 after PA%K for each K in ``ks`` (percent). Returns ``(ks, f1s)`` as lists."""
    p = _pred(pred)
    y = _labels(labels, len(p))
    ks = [float(k) for k in ks]
    return ks, [prf(pa_k(p, y, k), y)["f1"] for k in ks]


def pa_k_auc(pred, labels, ks: Sequence[float] = DEFAULT_KS) -> float:
    """Area under the F1-vs-K curve (trapezoid over K/100), normalised to [0, 1] by the K range.

    >>> round(pa_k_auc([0, 1, 0, 0], [0, 1, 1, 0]), 3)  # F1 1 at K=0..40, 2/3 at K=50..100
    0.817
    """
    ks_, f1s = pa_k_curve(pred, labels, ks)
    return _auc(ks_, f1s)


def _auc(ks: Sequence[float], f1s: Sequence[float]) -> float:
    x = np.asarray(ks, dtype=float) / 100.0
    if len(x) < 2 or x[-1] == x[0]:
        return float(f1s[0]) if len(f1s) else 0.0
    return float(np.trapezoid(f1s, x) / (x[-1] - x[0]))


# --------------------------------------------------------------------------- best F1
def _sweep(item_scores: np.ndarray, pos: np.ndarray, neg: np.ndarray, n_pos: int,
           n_thresholds: int | None) -> dict:
    """Best F1 when predicting ``item_score >= t``; each item carries ``pos`` true-positive and
    ``neg`` false-positive weight. Candidate thresholds are the item scores themselves (exact), or
    ``n_thresholds`` evenly spaced quantiles of them (the usual grid search)."""
    order = np.argsort(-item_scores, kind="stable")
    s, tp, fp = item_scores[order], np.cumsum(pos[order]), np.cumsum(neg[order])
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # last index of each distinct score
    s, tp, fp = s[last], tp[last], fp[last]
    if n_thresholds is not None:
        grid = np.unique(np.quantile(item_scores, np.linspace(0, 1, n_thresholds)))
        # index of the smallest distinct score >= each grid value (s is descending)
        idx = np.searchsorted(-s, -grid, side="right") - 1
        idx = np.unique(idx[idx >= 0])
        s, tp, fp = s[idx], tp[idx], fp[idx]
    f1 = np.where(tp > 0, 2 * tp / np.maximum(tp + fp + n_pos, 1), 0.0)
    i = int(np.argmax(f1))
    res = _prf_counts(int(tp[i]), int(fp[i]), int(n_pos - tp[i]))
    res["threshold"] = float(s[i])
    return res


def best_f1(scores, labels, *, adjust: bool, n_thresholds: int | None = None) -> dict:
    """Best F1 over thresholds (``pred = scores >= threshold``), with or without point adjustment.

    Exact (every distinct score is tried) in O(T log T). Under PA a true segment is detected iff
    its **maximum** score is >= threshold, so each segment becomes one item weighing its length
    and the sweep is the same as the point-wise one. ``n_thresholds`` restricts the search to that
    many quantiles of the scores (cheaper, slightly lower). Returns ``f1, precision, recall,
    threshold, tp, fp, fn``. With no positive labels F1 is 0.

    >>> best_f1([0.1, 0.9, 0.2, 0.8, 0.3], [0, 1, 1, 0, 0], adjust=False)["f1"]
    0.6666666666666666
    >>> best_f1([0.1, 0.9, 0.2, 0.8, 0.3], [0, 1, 1, 0, 0], adjust=True)["f1"]
    1.0
    """
    s = _scores(scores)
    y = _labels(labels, len(s))
    if len(s) == 0:
        raise DataError("Cannot evaluate an empty score series.")
    n_pos = int(y.sum())
    if adjust:
        starts, ends = _segment_bounds(y)
        seg_max = _segment_max(s, starts, ends) if len(starts) else np.empty(0)
        normal = s[~y]
        items = np.concatenate((normal, seg_max))
        pos = np.concatenate((np.zeros(len(normal), np.int64), ends - starts))
        neg = np.concatenate((np.ones(len(normal), np.int64), np.zeros(len(starts), np.int64)))
    else:
        items, pos, neg = s, y.astype(np.int64), (~y).astype(np.int64)
    return _sweep(items, pos, neg, n_pos, n_thresholds)


def _segment_max(s: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Max of ``s`` over each ``[start, end)`` (vectorised via reduceat on interleaved bounds)."""
    idx = np.column_stack((starts, ends)).ravel()
    padded = np.concatenate((s, [-np.inf]))  # so an end equal to len(s) is a valid index
    return np.maximum.reduceat(padded, idx)[::2]


def best_f1_pa_k(scores, labels, ks: Sequence[float] = DEFAULT_KS, *,
                 n_thresholds: int = 200) -> tuple[list[float], list[float]]:
    """For each K, the best PA%K F1 over ``n_thresholds`` score quantiles (oracle threshold per K).

    Grid search (not exact): F1 after PA%K is not monotone in a per-segment statistic for 0<K<100.
    """
    s = _scores(scores)
    y = _labels(labels, len(s))
    starts, ends = _segment_bounds(y)
    lengths = ends - starts
    n_pos = int(y.sum())
    kf = np.asarray(ks, dtype=float)[:, None] / 100.0  # (K, 1)
    grid = np.unique(np.quantile(s, np.linspace(0, 1, n_thresholds)))
    best = np.zeros(len(kf))
    for t in grid:
        p = s >= t
        fp = int(np.count_nonzero(p & ~y))  # PA%K never changes false positives
        c = np.concatenate(([0], np.cumsum(p, dtype=np.int64)))
        hits = c[ends] - c[starts]  # (S,)
        tp = np.where(hits > kf * lengths, lengths, hits).sum(axis=1)  # (K,)
        f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + (n_pos - tp), 1), 0.0)
        best = np.maximum(best, f1)
    return [float(k) for k in ks], best.tolist()


# --------------------------------------------------------------------------- POT
def pot_threshold(train_scores, *, q: float = 1e-3, level: float = 0.98,
                  test_scores=None, return_info: bool = False):
    """Peaks-over-threshold threshold (Siffer et al., KDD 2017, Sec. 3, Alg. 1 "POT").

    1. Initial threshold ``t`` = empirical ``level`` quantile of the training scores.
    2. Peaks ``Y_i = X_i - t`` for ``X_i > t`` (``N_t`` of them, out of ``n`` scores) follow a
       Generalised Pareto Distribution (Pickands–Balkema–de Haan; paper Eq. 2):
       ``P(X - t > y | X > t) ~ (1 + gamma*y/sigma)^(-1/gamma)``.
       ``(gamma, sigma)`` are fitted by maximum likelihood with location 0
       (``scipy.stats.genpareto.fit(peaks, floc=0)``; the paper uses Grimshaw's trick for the same
       MLE).
    3. Final threshold (paper Eq. 3): ``z_q = t + sigma/gamma * ((q*n/N_t)^(-gamma) - 1)``;
       for ``gamma -> 0`` the limit ``z_q = t - sigma*ln(q*n/N_t)``. ``P(X > z_q) ~ q``.

    ``test_scores`` are accepted for API symmetry but unused: this is the batch POT calibrated on
    training scores only (the streaming SPOT update is not implemented).

    Fallbacks (``info["method"]`` says which was used): fewer than 10 peaks, constant peaks, a
    failed/non-finite fit, or ``q*n/N_t >= 1`` -> the empirical ``1 - q`` quantile of the training
    scores ("empirical"). Constant training scores -> that constant ("constant"); then any larger
    test score is flagged.

    With ``return_info`` returns ``(z_q, info)`` where info has t, gamma, sigma, n_peaks, method.
    """
    s = _scores(train_scores, "training scores")
    if not 0 < q < 1 or not 0 < level < 1:
        raise DataError(f"POT needs 0 < q < 1 and 0 < level < 1, got q={q}, level={level}.")
    if len(s) == 0:
        raise DataError("POT needs training scores; got an empty array.")
    n = len(s)
    t = float(np.quantile(s, level))
    peaks = s[s > t] - t
    info = {"t": t, "gamma": None, "sigma": None, "n_peaks": int(len(peaks)), "n": n}

    def done(z: float, method: str):
        info["method"] = method
        return (float(z), info) if return_info else float(z)

    if np.ptp(s) == 0:
        return done(s[0], "constant")
    ratio = q * n / max(len(peaks), 1)
    if len(peaks) < 10 or np.ptp(peaks) == 0 or ratio >= 1:
        return done(np.quantile(s, 1 - q), "empirical")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gamma, _, sigma = stats.genpareto.fit(peaks, floc=0)
    except Exception:  # scipy optimiser failure -> documented fallback
        return done(np.quantile(s, 1 - q), "empirical")
    info.update(gamma=float(gamma), sigma=float(sigma))
    if not (np.isfinite(gamma) and np.isfinite(sigma) and sigma > 0):
        return done(np.quantile(s, 1 - q), "empirical")
    if abs(gamma) < 1e-8:
        z = t - sigma * math.log(ratio)
    else:
        z = t + sigma / gamma * (ratio ** (-gamma) - 1)
    if not np.isfinite(z):
        return done(np.quantile(s, 1 - q), "empirical")
    return done(z, "gpd")


# --------------------------------------------------------------------------- threshold-free
def auroc(scores, labels) -> float:
    """Point-wise area under the ROC curve (``sklearn.metrics.roc_auc_score``)."""
    s = _scores(scores)
    y = _labels(labels, len(s))
    if y.all() or not y.any():
        raise DataError("AUROC needs both normal and anomalous labels in the evaluated range.")
    return float(skm.roc_auc_score(y, s))


def auprc(scores, labels) -> float:
    """Point-wise area under the precision–recall curve (``average_precision_score``)."""
    s = _scores(scores)
    y = _labels(labels, len(s))
    if not y.any():
        raise DataError("AUPRC needs at least one anomalous label in the evaluated range.")
    return float(skm.average_precision_score(y, s))


# --------------------------------------------------------------------------- everything at once
def _short(d: dict) -> dict:
    return {k: d[k] for k in ("precision", "recall", "f1", "tp", "fp", "fn") if k in d}


def evaluate(test_scores, labels, *, train_scores, channel_scores=None, interpretation=None,
             q: float = 1e-3, level: float = 0.98, ks: Sequence[float] = DEFAULT_KS,
             n_thresholds_pa_k: int = 100) -> dict:
    """Every protocol in one JSON-serialisable dict (floats, ints, lists, None, str).

    Keys: ``pot`` {threshold, method, gamma, sigma, t, n_peaks, point{...}, pa{...}},
    ``best_f1`` and ``best_f1_pa`` {f1, precision, recall, threshold, tp, fp, fn},
    ``pa_k`` {ks, f1, auc} at the POT threshold, ``pa_k_best`` {ks, f1, auc} with the best
    threshold per K (oracle, grid of ``n_thresholds_pa_k`` quantiles), ``auroc``, ``auprc``,
    ``n_points``, ``n_anomalies``, ``n_segments``, ``notes`` (list of sentences), and, when
    ``channel_scores`` (T, n) and ``interpretation`` (see :mod:`engine.anomaly.interpret`) are
    given: ``hitrate@100``, ``hitrate@150`` over all labelled points, and
    ``hitrate_detected@100`` / ``@150`` over the points detected at the POT threshold (the
    OmniAnomaly protocol; None if none detected).

    Without positive labels, F1s are 0 and AUROC/AUPRC are None, with a note.
    """
    s = _scores(test_scores, "test scores")
    y = _labels(labels, len(s))
    z, info = pot_threshold(train_scores, q=q, level=level, return_info=True)
    notes: list[str] = []
    if info["method"] != "gpd":
        notes.append(f"POT fell back to the '{info['method']}' threshold "
                     f"({info['n_peaks']} peaks over the {level:.0%} quantile).")
    pred = s >= z
    if not pred.any():
        notes.append("The POT threshold flags no test point: its F1 scores are 0.")
    out: dict = {
        "n_points": int(len(s)), "n_anomalies": int(y.sum()), "n_segments": len(segments(y)),
        "pot": {"threshold": float(z), **info, "predicted_rate": float(pred.mean()),
                "point": _short(prf(pred, y)), "pa": _short(prf(point_adjust(pred, y), y))},
        "best_f1": best_f1(s, y, adjust=False),
        "best_f1_pa": best_f1(s, y, adjust=True),
    }
    ks_, f1s = pa_k_curve(pred, y, ks)
    out["pa_k"] = {"ks": ks_, "f1": f1s, "auc": _auc(ks_, f1s), "threshold": float(z)}
    ks_, f1b = best_f1_pa_k(s, y, ks, n_thresholds=n_thresholds_pa_k)
    out["pa_k_best"] = {"ks": ks_, "f1": f1b, "auc": _auc(ks_, f1b)}
    if y.any() and not y.all():
        out["auroc"], out["auprc"] = auroc(s, y), auprc(s, y)
    else:
        out["auroc"] = out["auprc"] = None
        notes.append("The labels contain no anomaly (or only anomalies): F1 scores are 0 and "
                     "AUROC/AUPRC are undefined (None).")
    if channel_scores is not None and interpretation is not None:
        from engine.anomaly.interpret import hit_rate

        for p in (100, 150):
            out[f"hitrate@{p}"] = _none_if_nan(hit_rate(channel_scores, interpretation, p=p / 100))
            out[f"hitrate_detected@{p}"] = _none_if_nan(
                hit_rate(channel_scores, interpretation, p=p / 100, points=pred))
    out["notes"] = notes
    return out


def _none_if_nan(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


PROTOCOLS = (("F1 at the POT threshold", ("pot", "point", "f1")), ("best F1", ("best_f1", "f1")),
             ("best F1 + PA", ("best_f1_pa", "f1")), ("PA%K AUC", ("pa_k", "auc")), ("AUROC", ("auroc",)),
             ("AUPRC", ("auprc",)))


def protocol_winners(metrics: dict) -> list[dict]:
    """Which method scores highest under each protocol of one run (an :func:`evaluate` dict per
    method), with the runner-up and how far random gets, so a page can say who wins where.

    >>> m = {"StackVAE-G": {"best_f1": {"f1": 0.4}, "best_f1_pa": {"f1": 0.86}},
    ...      "PCA": {"best_f1": {"f1": 0.6}, "best_f1_pa": {"f1": 0.88}},
    ...      "Random": {"best_f1": {"f1": 0.3}, "best_f1_pa": {"f1": 0.80}}}
    >>> [(w["protocol"], w["winner"], w["random"]) for w in protocol_winners(m)]
    [('best F1', 'PCA', 0.3), ('best F1 + PA', 'PCA', 0.8)]
    """
    out = []
    for title, path in PROTOCOLS:
        values = {}
        for name, m in metrics.items():
            v = m
            for key in path:
                v = v.get(key) if isinstance(v, dict) else None
            if isinstance(v, (int, float)) and np.isfinite(v):
                values[name] = float(v)
        ranked = sorted((n for n in values if n != "Random"), key=lambda n: -values[n])
        if not ranked:
            continue
        out.append({"protocol": title, "winner": ranked[0], "value": values[ranked[0]],
                    "runner_up": ranked[1] if len(ranked) > 1 else None,
                    "runner_up_value": values[ranked[1]] if len(ranked) > 1 else None,
                    "random": values.get("Random")})
    return out
