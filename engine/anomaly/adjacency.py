"""Inspect any model's adjacency matrix: read it, check it, cluster it, threshold it, compare it.

What the "Inspect an adjacency" page composes; numpy, scipy, networkx and scikit-learn only.

* **Reading.** A CSV whose header holds the channel names (a first column of row names, if any,
  is dropped after checking it matches the header), or a ``.npy`` array plus an optional names
  file (one name per line, or one comma-separated line). :func:`check_matrix` rejects a
  non-square or 1 x 1 matrix, NaN / infinite entries and names that do not match its size, each
  with a message that says where.
* **Negative weights** (e.g. a GDN/MTGNN score matrix, a partial correlation) are kept: the
  heatmap shows the signed values on a diverging scale, and every computation that needs a
  strength (clustering, thresholds, top-k, degrees, AUROC) uses ``|w|``. The read-out counts them.
* **Communities.** Louvain (Blondel et al., J. Stat. Mech. 2008; ``networkx.community.
  louvain_communities``) or spectral clustering (Ng, Jordan & Weiss, NIPS 2001; scikit-learn's
  ``SpectralClustering`` on a precomputed affinity, the number of clusters from the largest
  eigengap of the normalised Laplacian unless given), both on the symmetrised ``(|A| + |A|^T)/2``
  without self-loops. Above :data:`DENSE_LIMIT` channels they run on each channel's
  :data:`SPARSE_K` strongest neighbours of the full matrix (a documented simplification that keeps
  a 5,000-channel matrix at seconds, not hours); everything else is computed on the full matrix.
* **Display.** :func:`block_average` shrinks a big matrix to at most ``size`` x ``size`` blocks
  for drawing only.
* **Comparison** with a second matrix or a 0/1 ground truth: AUROC of ``|A|`` off the diagonal
  against the truth (a weighted second matrix is first cut to its top-k per row), the Jaccard
  index of the two top-k edge sets, and the edges only one of them has.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from engine.errors import DataError

__all__ = ["Adjacency", "read_matrix", "check_matrix", "summary", "communities", "community_order",
           "keep_edges", "density", "edge_list", "degrees", "compare", "block_average", "layout",
           "ordered_csv", "edges_csv", "communities_csv", "edge_indices", "off_diagonal_weights"]

DENSE_LIMIT = 500  # channels above which communities use each channel's SPARSE_K strongest neighbours
SPARSE_K = 20
MAX_CHANNELS = 20_000


@dataclass
class Adjacency:
    """A checked square matrix with its channel names and notes on how it was read."""

    matrix: np.ndarray
    names: list[str]
    notes: list[str] = field(default_factory=list)


def _names_from(blob: bytes) -> list[str]:
    text = blob.decode("utf-8-sig", errors="replace").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and "," in lines[0]:
        return [v.strip() for v in lines[0].split(",")]
    return lines


def read_matrix(blob: bytes, filename: str, names_blob: bytes | None = None) -> Adjacency:
    """Read a CSV (header = names) or ``.npy`` (plus optional names file) and check it.

    >>> a = read_matrix(b"a,b,c\\n0,1,0\\n1,0,2\\n0,2,0\\n", "g.csv")
    >>> a.names, a.matrix.tolist()
    (['a', 'b', 'c'], [[0.0, 1.0, 0.0], [1.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    >>> read_matrix(b",a,b\\na,0,1\\nb,1,0\\n", "g.csv").names   # a first column of row names is dropped
    ['a', 'b']
    """
    name = filename.lower()
    if name.endswith(".npy"):
        try:
            m = np.load(io.BytesIO(blob), allow_pickle=False)
        except (ValueError, OSError, EOFError):
            raise DataError(f"{filename}: not a readable .npy array of numbers (write one with numpy.save; "
                            "object arrays are not loaded).") from None
        if m.dtype.kind not in "biuf":
            raise DataError(f"{filename}: the array holds {m.dtype} values, not numbers.")
        m = np.asarray(m, dtype=float)
        names = _names_from(names_blob) if names_blob else None
        notes = [] if names else ["No names file: channels are named 0, 1, 2, …"]
        if m.ndim == 2 and names is None:
            names = [str(i) for i in range(m.shape[0])]
        return Adjacency(*check_matrix(m, names, source=filename), notes=notes)
    import pandas as pd

    try:
        df = pd.read_csv(io.BytesIO(blob))
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{filename}: not a readable CSV ({err}).") from None
    notes: list[str] = []
    if df.shape[1] >= 1 and not pd.api.types.is_numeric_dtype(df.iloc[:, 0]):
        row_names = [str(v) for v in df.iloc[:, 0]]
        df = df.iloc[:, 1:]
        if row_names != [str(c) for c in df.columns]:
            notes.append("The first column (row names) differs from the header; the header's names are used.")
    bad = [str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise DataError(f"{filename}: column(s) {', '.join(bad[:5])} hold text, not weights.")
    m = df.to_numpy(dtype=float)
    names = [str(c) for c in df.columns]
    if names_blob:
        names = _names_from(names_blob)
        notes.append("Names from the names file replace the CSV header.")
    return Adjacency(*check_matrix(m, names, source=filename), notes=notes)


def check_matrix(m, names: list[str] | None = None, *, source: str = "The matrix") -> tuple[np.ndarray, list[str]]:
    """The matrix as float and its names, or a DataError that says what is wrong.

    >>> check_matrix([[0, 1], [1, 0]])[1]
    ['0', '1']
    >>> check_matrix([[0, 1, 2], [1, 0, 2]])
    Traceback (most recent call last):
    ...
    engine.errors.DataError: The matrix is 2 x 3, not square: an adjacency needs one row and one column per channel.
    """
    a = np.asarray(m, dtype=float)
    if a.ndim != 2:
        raise DataError(f"{source} has {a.ndim} dimension(s); an adjacency is a 2-D square matrix.")
    r, c = a.shape
    if r != c:
        raise DataError(f"{source} is {r} x {c}, not square: an adjacency needs one row and one column per channel.")
    if r < 2:
        raise DataError(f"{source} is {r} x {c}: a graph needs at least 2 channels to have an edge.")
    if r > MAX_CHANNELS:
        raise DataError(f"{source} has {r:,} channels; at most {MAX_CHANNELS:,} are inspected here.")
    bad = ~np.isfinite(a)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(f"{source} has {int(bad.sum()):,} NaN or infinite entries (first at row {i + 1}, "
                        f"column {j + 1}); replace them (e.g. by 0 for no edge) and upload again.")
    names = [str(i) for i in range(r)] if names is None else [str(n) for n in names]
    if len(names) != r:
        raise DataError(f"{len(names)} channel names for a {r} x {r} matrix; give exactly {r} names.")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DataError(f"Channel names must be unique; '{dup}' appears more than once.")
    return a, names


def _strength(a: np.ndarray) -> np.ndarray:
    """(|A| + |A|^T) / 2 with a zero diagonal: the undirected strength used for clustering."""
    s = np.abs(a)
    s = (s + s.T) / 2
    np.fill_diagonal(s, 0.0)
    return s


def summary(a: np.ndarray) -> dict:
    """Read-outs: channels, nonzero off-diagonal share, symmetry, self-loops, negative weights.

    ``asymmetry`` is ``max|A - A^T| / max|A|`` (0 = symmetric).

    >>> s = summary(np.array([[0.5, 1.0], [0.0, 0.0]]))
    >>> s["n"], s["density"], s["symmetric"], s["asymmetry"], s["self_loops"], s["negative"]
    (2, 0.5, False, 1.0, 1, 0)
    """
    n = len(a)
    off = ~np.eye(n, dtype=bool)
    top = float(np.abs(a).max())
    asym = float(np.abs(a - a.T).max() / top) if top > 0 else 0.0
    diag = np.diag(a)
    return {"n": n, "density": float((a[off] != 0).mean()), "symmetric": asym <= 1e-9, "asymmetry": asym,
            "self_loops": int((diag != 0).sum()), "self_loop_weight": float(np.abs(diag).sum()),
            "negative": int((a < 0).sum()), "min": float(a.min()), "max": float(a.max()),
            "row_sums_one": bool(np.allclose(a.sum(axis=1), 1.0))}


def _sparsified(s: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` strongest entries kept (then symmetrised by max)."""
    idx = np.argpartition(-s, min(k, len(s) - 1), axis=1)[:, :k]
    out = np.zeros_like(s)
    rows = np.arange(len(s))[:, None]
    out[rows, idx] = s[rows, idx]
    return np.maximum(out, out.T)


def communities(a: np.ndarray, method: str = "louvain", *, n_clusters: int | None = None,
                seed: int = 0) -> np.ndarray:
    """One community label per channel (0, 1, …, largest community first).

    >>> a = np.kron(np.eye(2), np.ones((3, 3))) + 0.01
    >>> communities(a, "louvain").tolist(), communities(a, "spectral").tolist()
    ([0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1])
    """
    s = _strength(np.asarray(a, dtype=float))
    n = len(s)
    if n > DENSE_LIMIT:
        s = _sparsified(s, SPARSE_K)
    if s.max() <= 0:
        return np.zeros(n, dtype=int)
    if method == "louvain":
        import networkx as nx

        g = nx.from_scipy_sparse_array(_sparse(s))
        g.add_nodes_from(range(n))
        groups = nx.community.louvain_communities(g, weight="weight", seed=seed)
        labels = np.zeros(n, dtype=int)
        for c, members in enumerate(groups):
            labels[list(members)] = c
    elif method == "spectral":
        labels = _spectral(s, n_clusters, seed)
    else:
        raise DataError(f"Unknown community method '{method}': choose louvain or spectral.")
    # relabel: largest community first, ties by first member
    sizes = np.bincount(labels)
    rank = sorted(range(len(sizes)), key=lambda c: (-sizes[c], int(np.flatnonzero(labels == c)[0])))
    remap = np.empty(len(sizes), dtype=int)
    remap[rank] = np.arange(len(sizes))
    return remap[labels]


def _sparse(s: np.ndarray):
    import scipy.sparse as sp

    return sp.csr_array(s)


def _spectral(s: np.ndarray, n_clusters: int | None, seed: int) -> np.ndarray:
    import scipy.sparse as sp
    from scipy.sparse.csgraph import laplacian
    from sklearn.cluster import SpectralClustering

    n = len(s)
    if n_clusters is None:  # largest eigengap among the smallest eigenvalues of the normalised Laplacian
        lap = laplacian(sp.csr_array(s), normed=True)
        m = min(n - 1, 20)
        if n <= DENSE_LIMIT:
            vals = np.sort(np.linalg.eigvalsh(lap.toarray()))[:m + 1]
        else:
            from scipy.sparse.linalg import eigsh

            vals = np.sort(eigsh(lap, k=m + 1, sigma=-0.01, which="LM", return_eigenvectors=False))
        n_clusters = int(np.argmax(np.diff(vals[:m + 1]))) + 1
    n_clusters = max(1, min(int(n_clusters), n))
    if n_clusters == 1:
        return np.zeros(n, dtype=int)
    affinity = sp.csr_array(s) if n > DENSE_LIMIT else s + 1e-12 * (1 - np.eye(n))
    return SpectralClustering(n_clusters=n_clusters, affinity="precomputed", random_state=seed,
                              assign_labels="cluster_qr").fit(affinity).labels_.astype(int)


def community_order(a: np.ndarray, labels: np.ndarray) -> list[int]:
    """Channels grouped by community, strongest (weighted degree) first within each.

    >>> community_order(np.array([[0, 1, 0], [1, 0, 3], [0, 3, 0.]]), np.array([1, 0, 0]))
    [1, 2, 0]
    """
    strength = _strength(np.asarray(a, dtype=float)).sum(axis=1)
    return [int(i) for i in np.lexsort((-strength, np.asarray(labels)))]


def keep_edges(a: np.ndarray, *, threshold: float | None = None, top_k: int | None = None) -> np.ndarray:
    """Boolean mask of the off-diagonal edges kept: ``|w| >= threshold`` and/or each row's
    ``top_k`` strongest nonzero ``|w|`` (both given: both must hold).

    >>> keep_edges(np.array([[0, .9, .1], [.2, 0, .8], [.5, .4, 0]]), top_k=1).astype(int).tolist()
    [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    """
    s = np.abs(np.asarray(a, dtype=float))
    n = len(s)
    keep = (s != 0) & ~np.eye(n, dtype=bool)
    if threshold is not None:
        keep &= s >= threshold
    if top_k is not None:
        k = max(0, min(int(top_k), n - 1))
        off = np.where(np.eye(n, dtype=bool), -np.inf, s)
        rank = np.zeros_like(keep)
        if k:
            idx = np.argpartition(-off, k - 1, axis=1)[:, :k]
            rank[np.arange(n)[:, None], idx] = True
        keep &= rank
    return keep


def density(keep: np.ndarray) -> float:
    """Share of the n(n-1) off-diagonal entries kept.

    >>> density(np.array([[False, True], [False, False]]))
    0.5
    """
    n = len(keep)
    return float(keep[~np.eye(n, dtype=bool)].mean()) if n > 1 else 0.0


def edge_list(a: np.ndarray, names: list[str], keep: np.ndarray) -> list[tuple[str, str, float]]:
    """(row channel, column channel, weight) of the kept edges, strongest |w| first.

    >>> edge_list(np.array([[0, .2], [-.7, 0]]), ["a", "b"], np.array([[0, 1], [1, 0]], bool))
    [('b', 'a', -0.7), ('a', 'b', 0.2)]
    """
    i, j = np.nonzero(keep)
    w = np.asarray(a, dtype=float)[i, j]
    order = np.argsort(-np.abs(w), kind="stable")
    return [(names[i[o]], names[j[o]], float(w[o])) for o in order]


def degrees(keep: np.ndarray) -> dict[str, np.ndarray]:
    """Out-degree (row) and in-degree (column) of the kept edges.

    >>> {k: v.tolist() for k, v in degrees(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]], bool)).items()}
    {'out': [2, 1, 0], 'in': [0, 1, 2]}
    """
    return {"out": keep.sum(axis=1).astype(int), "in": keep.sum(axis=0).astype(int)}


def compare(a: np.ndarray, b: np.ndarray, *, k: int = 5) -> dict:
    """Compare ``a`` with ``b`` (a second matrix or a 0/1 ground truth), same size.

    ``b`` with only 0/1 entries is the truth as given; a weighted ``b`` is cut to its top-``k``
    per row first. Returns ``auroc`` (of ``|a|`` off the diagonal vs that truth; None when the
    truth has no edge or every pair is an edge), ``jaccard`` of the two top-``k``-per-row edge
    sets, ``only_a`` / ``only_b`` (index pairs in one top-k set only) and ``truth_is_binary``.

    >>> t = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> r = compare(np.array([[0, .9, .1], [.8, 0, .2], [0, .3, 0]]), t, k=1)
    >>> r["auroc"], r["jaccard"], r["only_a"], r["only_b"]
    (1.0, 0.667, [(2, 1)], [])
    """
    from sklearn.metrics import roc_auc_score

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise DataError(f"The two matrices differ in size: {a.shape[0]} x {a.shape[1]} vs {b.shape[0]} x {b.shape[1]}.")
    n = len(a)
    off = ~np.eye(n, dtype=bool)
    binary = bool(np.isin(b, (0, 1)).all())
    truth = (b != 0) & off if binary else keep_edges(b, top_k=k)
    y = truth[off]
    auroc = float(roc_auc_score(y, np.abs(a)[off])) if 0 < y.sum() < y.size else None
    ka = keep_edges(a, top_k=k)
    kb = truth if binary else keep_edges(b, top_k=k)
    union = (ka | kb).sum()
    jac = round(float((ka & kb).sum() / union), 3) if union else 1.0
    pairs = lambda m: [(int(i), int(j)) for i, j in np.argwhere(m)]  # noqa: E731
    return {"auroc": None if auroc is None else round(auroc, 4), "jaccard": jac, "only_a": pairs(ka & ~kb),
            "only_b": pairs(kb & ~ka), "truth_is_binary": binary, "k": k}


def block_average(a: np.ndarray, size: int = 400) -> tuple[np.ndarray, int]:
    """For drawing only: average ``b x b`` blocks so the result is at most ``size`` per side.

    Returns the shrunk matrix and ``b`` (1 = unchanged); a last partial block averages what it has.

    >>> m, b = block_average(np.arange(16.0).reshape(4, 4), 2)
    >>> m.tolist(), b
    ([[2.5, 4.5], [10.5, 12.5]], 2)
    """
    a = np.asarray(a, dtype=float)
    n = len(a)
    b = int(np.ceil(n / size)) if n > size else 1
    if b == 1:
        return a, 1
    m = -(-n // b)
    pad = np.full((m * b, m * b), np.nan)
    pad[:n, :n] = a
    with np.errstate(invalid="ignore"):
        return np.nanmean(pad.reshape(m, b, m, b), axis=(1, 3)), b


def layout(keep: np.ndarray, a: np.ndarray, seed: int = 0) -> np.ndarray:
    """Node positions (n, 2) for drawing the kept graph: networkx's spring layout weighted by |w|."""
    import networkx as nx

    n = len(keep)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    s = np.abs(np.asarray(a, dtype=float))
    for i, j in np.argwhere(keep | keep.T):
        if i < j:
            g.add_edge(int(i), int(j), weight=float(max(s[i, j], s[j, i])))
    pos = nx.spring_layout(g, weight="weight", seed=seed)
    return np.array([pos[i] for i in range(n)])


def _csv(rows: list[list]) -> str:
    import csv

    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def ordered_csv(a: np.ndarray, names: list[str], order: list[int]) -> str:
    """The matrix in ``order`` as CSV, names in the header and first column.

    >>> ordered_csv(np.array([[0, 1], [2, 0]]), ["a", "b"], [1, 0]).splitlines()
    [',b,a', 'b,0.0,2.0', 'a,1.0,0.0']
    """
    a = np.asarray(a, dtype=float)
    return _csv([[""] + [names[i] for i in order]]
                + [[names[i]] + [float(a[i, j]) for j in order] for i in order])


def edges_csv(edges: list[tuple[str, str, float]]) -> str:
    """``source,target,weight`` rows (source = row channel).

    >>> edges_csv([("a", "b", 0.5)]).splitlines()
    ['source,target,weight', 'a,b,0.5']
    """
    return _csv([["source", "target", "weight"]] + [list(e) for e in edges])


def communities_csv(names: list[str], labels: np.ndarray) -> str:
    """``channel,community`` rows.

    >>> communities_csv(["a", "b"], np.array([0, 1])).splitlines()
    ['channel,community', 'a,0', 'b,1']
    """
    return _csv([["channel", "community"]] + [[n, int(c)] for n, c in zip(names, labels)])


def edge_indices(a: np.ndarray, keep: np.ndarray, limit: int | None = None) -> list[tuple[int, int, float]]:
    """(i, j, weight) of the kept edges, strongest |w| first, at most ``limit`` of them.

    >>> edge_indices(np.array([[0, .2], [-.7, 0]]), np.array([[0, 1], [1, 0]], bool), 1)
    [(1, 0, -0.7)]
    """
    i, j = np.nonzero(keep)
    w = np.asarray(a, dtype=float)[i, j]
    order = np.argsort(-np.abs(w), kind="stable")[:limit]
    return [(int(i[o]), int(j[o]), float(w[o])) for o in order]


def off_diagonal_weights(a: np.ndarray, max_values: int = 200_000) -> np.ndarray:
    """The nonzero off-diagonal weights (evenly subsampled to ``max_values`` for a histogram).

    >>> off_diagonal_weights(np.array([[1, 0, 2], [3, 1, 0], [0, 0, 1.]])).tolist()
    [2.0, 3.0]
    """
    a = np.asarray(a, dtype=float)
    w = a[~np.eye(len(a), dtype=bool)]
    w = w[w != 0]
    if len(w) > max_values:
        w = w[np.linspace(0, len(w) - 1, max_values).astype(int)]
    return w
