"""Edge sparsifiers for learning on graphs: ``edges -> indices of the kept edges``, graph sparsity as knob.

Every sparsifier keeps exactly :func:`kept_count` ``= round(|E| (1 - sparsity))`` undirected edges.

- :func:`random_edges` — uniform at random (the baseline of every graph-lottery paper).
- :func:`teddy_edges` — TEDDY (Seo, Yun & Yang, "TEDDY: Trimming Edges with Degree-based
  Discrimination strategY", ICLR 2024, §4.1): one-shot, from degrees only (features are not
  used). Each node gets ``t_i = (1/d_i) · (1/d_i) Σ_{j∈N(i)} 1/√d_j`` — its own degree and the
  degrees of its neighbours (the "multi-level degree information"); an edge scores
  ``T_ij = t_i · t_j`` and the highest-scoring edges are kept, so edges between low-degree nodes
  survive and edges between hubs go first. The formula is the one of the authors' code
  (``compute_edge_score`` in github.com/hyunjin72/TEDDY, ``pruning.py``); the equation numbers of
  the paper were not checked here.
- :func:`freedom_edges` — FREEDOM's degree-sensitive edge pruning (Zhou & Shen, "A Tale of Two
  Graphs: Freezing and Denoising Graph Structures for Multimodal Recommendation", ACM MM 2023,
  §3.3): keep ``round(|E|(1-ρ))`` edges sampled without replacement with probability
  ``∝ 1/(√d_i √d_j)``, so edges of high-degree endpoints are rejected more often. FREEDOM does this
  on a user-item graph and resamples every epoch during training; here it is used outside
  recommendation, as a one-shot sparsifier (one sample, kept for training and testing).
- :func:`l0_project` — TEDDY's projection onto the ℓ0 ball (§4.2): keep exactly the k
  largest-magnitude weights over all layers, zero the rest.

UGS (Chen et al., ICML 2021), the iterative joint adjacency + weight masks, needs training and is in
:mod:`engine.graphs.gnn` (:func:`engine.graphs.gnn.train_ugs`); its per-round pruning step is
:func:`prune_lowest`.

>>> e = np.array([[0, 1], [0, 2], [0, 3], [1, 2], [3, 4]])
>>> kept_count(len(e), 0.4), teddy_edges(e, 5, 0.4).tolist()
(3, [2, 3, 4])
"""
from __future__ import annotations

import numpy as np

SPARSIFIERS = ("random", "teddy", "ugs", "freedom")


def kept_count(n_edges: int, sparsity: float) -> int:
    """Edges kept at graph sparsity ``sparsity`` (share of edges removed): ``round(|E|(1-s))``.

    >>> kept_count(10, 0.25), kept_count(5278, 0.5)
    (8, 2639)
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"graph sparsity must be in [0, 1), got {sparsity}")
    return int(round(n_edges * (1.0 - sparsity)))


def degrees(edges: np.ndarray, n_nodes: int) -> np.ndarray:
    return np.bincount(np.asarray(edges, dtype=np.int64).ravel(), minlength=n_nodes).astype(np.float64)


def random_edges(edges: np.ndarray, n_nodes: int, sparsity: float, *, seed: int = 0) -> np.ndarray:
    """Indices of ``kept_count`` edges chosen uniformly at random (sorted)."""
    k = kept_count(len(edges), sparsity)
    return np.sort(np.random.default_rng(seed).permutation(len(edges))[:k])


def teddy_node_scores(edges: np.ndarray, n_nodes: int) -> np.ndarray:
    """TEDDY's node term ``t_i = (1/d_i) · mean_{j∈N(i)} 1/√d_j`` (0 for isolated nodes).

    >>> teddy_node_scores(np.array([[0, 1], [1, 2]]), 3).round(4).tolist()
    [0.7071, 0.5, 0.7071]
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    d = degrees(e, n_nodes)
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    inv_sqrt = np.sqrt(inv)
    s = np.bincount(e[:, 0], weights=inv_sqrt[e[:, 1]], minlength=n_nodes) \
        + np.bincount(e[:, 1], weights=inv_sqrt[e[:, 0]], minlength=n_nodes)  # Σ_{j∈N(i)} 1/√d_j
    return s * inv * inv


def teddy_scores(edges: np.ndarray, n_nodes: int) -> np.ndarray:
    """TEDDY's edge score ``T_ij = t_i t_j`` of every edge (higher = more important, kept)."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    t = teddy_node_scores(e, n_nodes)
    return t[e[:, 0]] * t[e[:, 1]]


def teddy_edges(edges: np.ndarray, n_nodes: int, sparsity: float) -> np.ndarray:
    """Indices (sorted) of the ``kept_count`` edges with the highest TEDDY score (ties: lower index)."""
    k = kept_count(len(edges), sparsity)
    order = np.argsort(-teddy_scores(edges, n_nodes), kind="stable")
    return np.sort(order[:k])


def freedom_probabilities(edges: np.ndarray, n_nodes: int) -> np.ndarray:
    """FREEDOM's sampling weights ``1/(√d_i √d_j)``, normalised to sum to 1."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    d = degrees(e, n_nodes)
    w = 1.0 / np.sqrt(d[e[:, 0]] * d[e[:, 1]])
    return w / w.sum()


def freedom_edges(edges: np.ndarray, n_nodes: int, sparsity: float, *, seed: int = 0) -> np.ndarray:
    """Indices (sorted) of ``kept_count`` edges sampled without replacement ∝ ``1/(√d_i √d_j)``.

    Successive sampling without replacement (what ``torch.multinomial(w, k)`` in the authors'
    code does), drawn in one pass with Efraimidis–Spirakis keys ``log(u)/w``.
    """
    k = kept_count(len(edges), sparsity)
    w = freedom_probabilities(edges, n_nodes)
    u = np.random.default_rng(seed).random(len(w))
    keys = np.log(np.maximum(u, 1e-300)) / w
    return np.sort(np.argsort(-keys, kind="stable")[:k])


def sparsify_edges(name: str, edges: np.ndarray, n_nodes: int, sparsity: float, *, seed: int = 0) -> np.ndarray:
    """Dispatch to a one-shot sparsifier by name (``random``, ``teddy``, ``freedom``)."""
    if name == "random":
        return random_edges(edges, n_nodes, sparsity, seed=seed)
    if name == "teddy":
        return teddy_edges(edges, n_nodes, sparsity)
    if name == "freedom":
        return freedom_edges(edges, n_nodes, sparsity, seed=seed)
    raise ValueError(f"no one-shot edge sparsifier named {name!r}")


def l0_project(tensors, k: int) -> None:
    """Project weights onto the ℓ0 ball in place: keep exactly the ``k`` largest |w| over all tensors.

    >>> import torch
    >>> a, b = torch.tensor([3.0, -1.0, 0.5]), torch.tensor([[-2.0, 0.1]])
    >>> l0_project([a, b], 2); a.tolist(), b.tolist()
    ([3.0, 0.0, 0.0], [[-2.0, 0.0]])
    """
    import torch

    with torch.no_grad():
        flat = torch.cat([t.reshape(-1).abs() for t in tensors])
        keep = torch.zeros_like(flat, dtype=torch.bool)
        if k > 0:
            keep[torch.topk(flat, min(k, flat.numel()), largest=True, sorted=False).indices] = True
        start = 0
        for t in tensors:
            n = t.numel()
            t.masked_fill_(~keep[start:start + n].reshape(t.shape), 0.0)
            start += n


def prune_lowest(scores: np.ndarray, alive: np.ndarray, n_keep: int) -> np.ndarray:
    """UGS's pruning step: among ``alive`` entries keep the ``n_keep`` with the largest |score|.

    >>> prune_lowest(np.array([0.9, 0.1, 0.5, 0.7]), np.array([True, True, True, False]), 2).tolist()
    [True, False, True, False]
    """
    s = np.where(alive, np.abs(scores), -np.inf)
    keep = np.zeros(len(s), dtype=bool)
    keep[np.argsort(-s, kind="stable")[:n_keep]] = True
    return keep & alive
