"""FastRP node embeddings (Chen, Sultan, Tian, Chen & Skiena, "Fast and Accurate Network Embeddings
via Very Sparse Random Projection", CIKM 2019, Algorithm 1).

A node's embedding mixes its neighbourhoods at several distances, compressed by a random projection:

    R  — n × d very sparse random projection (Li, Hastie & Church 2006): entries √s · {+1, 0, −1}
         with probabilities 1/(2s), 1 − 1/s, 1/(2s), s = √n (density 1/s), as in the paper;
    A  — the transition matrix D⁻¹S of the graph S (each row sums to 1);
    L  — diag(d_i^β): degree normalisation (β < 0 gives low-degree nodes more weight);
    N₁ = A·L·R,  N_i = A·N_{i−1} (i = 2..k),  N = Σ α_i N_i.

As in the authors' code (github.com/GTmac/FastRP, ``fastrp_merge``), each N_i is L2-normalised
per row before the weighted sum, and the result is standardised per column. Defaults follow the
authors' CiteSeer notebook: k = 4, α = (0, 0, 1, 2), β = 0.5 (their grid found it best there).
Isolated nodes have no transition row: their embedding is all zeros (before standardising).

Node classification: scikit-learn ``LogisticRegression`` on the embeddings of the training nodes,
micro- and macro-F1 on the test nodes. For comparison, :func:`spectral_embedding` (Laplacian
eigenmaps via ``sklearn.manifold.SpectralEmbedding``). No DeepWalk / node2vec package is installed
in this project, so none is compared.

>>> e = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3]])
>>> Z = fastrp(e, 6, dim=8, seed=0)
>>> Z.shape, bool(np.allclose(Z.mean(axis=0), 0, atol=1e-6))
((6, 8), True)
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

DEFAULT_WEIGHTS = (0.0, 0.0, 1.0, 2.0)
DEFAULT_BETA = 0.5


def very_sparse_projection(n: int, dim: int, *, s: float | None = None, seed: int = 0) -> sp.csr_matrix:
    """n × dim matrix with entries √s·{+1, 0, −1} at probabilities 1/(2s), 1 − 1/s, 1/(2s); s = √n.

    >>> R = very_sparse_projection(10_000, 64, seed=1)
    >>> round(R.nnz / (10_000 * 64), 3), sorted(set(np.round(R.data, 3).tolist()))
    (0.01, [-10.0, 10.0])
    """
    s = float(np.sqrt(n)) if s is None else float(s)
    rng = np.random.default_rng(seed)
    nnz = rng.binomial(n * dim, 1.0 / s)
    flat = rng.choice(n * dim, size=nnz, replace=False)
    signs = np.where(rng.random(nnz) < 0.5, -1.0, 1.0) * np.sqrt(s)
    return sp.csr_matrix((signs, (flat // dim, flat % dim)), shape=(n, dim))


def transition_matrix(edges: np.ndarray, n: int) -> sp.csr_matrix:
    """D⁻¹S of the undirected graph (rows of isolated nodes are zero)."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    S = sp.csr_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n))
    d = np.asarray(S.sum(axis=1)).ravel()
    return sp.diags(np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)) @ S


def _l2_rows(M: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(M, axis=1, keepdims=True)
    return np.divide(M, norm, out=np.zeros_like(M), where=norm > 0)


def fastrp(edges: np.ndarray, n: int, *, dim: int = 128, weights=DEFAULT_WEIGHTS, beta: float = DEFAULT_BETA,
           seed: int = 0, normalise: bool = True) -> np.ndarray:
    """FastRP embeddings (n × dim) of an undirected graph given by its edge list."""
    A = transition_matrix(edges, n)
    d = np.asarray((A != 0).sum(axis=1)).ravel().astype(float)
    L = sp.diags(np.where(d > 0, np.power(np.maximum(d, 1.0), beta), 0.0))
    R = very_sparse_projection(n, dim, seed=seed)
    N = np.asarray((A @ (L @ R)).todense())  # N₁ = A L R
    out = np.zeros((n, dim))
    for i, alpha in enumerate(weights):
        if i > 0:
            N = A @ N  # N_i = A N_{i−1}
        if alpha:
            out += alpha * (_l2_rows(N) if normalise else N)
    std = out.std(axis=0)
    return (out - out.mean(axis=0)) / np.where(std > 0, std, 1.0)


def spectral_embedding(edges: np.ndarray, n: int, *, dim: int = 128, seed: int = 0) -> np.ndarray:
    """Laplacian eigenmaps (``sklearn.manifold.SpectralEmbedding`` on the adjacency)."""
    from sklearn.manifold import SpectralEmbedding

    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    S = sp.csr_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n))
    S = S + sp.eye(n) * 1e-8  # isolated nodes keep a non-zero degree
    return SpectralEmbedding(n_components=min(dim, n - 2), affinity="precomputed", random_state=seed).fit_transform(S)


@dataclass
class Classification:
    micro_f1: float
    macro_f1: float
    seconds: float


def classify(Z: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray, *, seed: int = 0) -> Classification:
    """Logistic regression on ``Z[train]``; micro/macro-F1 on ``Z[test]``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    t0 = time.perf_counter()
    clf = LogisticRegression(max_iter=2000, random_state=seed).fit(Z[train], labels[train])
    pred = clf.predict(Z[test])
    return Classification(float(f1_score(labels[test], pred, average="micro")),
                          float(f1_score(labels[test], pred, average="macro")), time.perf_counter() - t0)


def project_2d(Z: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """A 2-D picture of the embeddings (PCA; fast and deterministic)."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(Z).astype(np.float32)
