"""How a learned graph is formed from node embeddings, and what it says (lesson 9).

StackVAE-G (Li et al., AI Open 2022, Sec. 3.3) forms its channel graph from node embeddings M
(one row per sensor): ``A0 = ReLU(α tanh(M Mᵀ))``, keeps the top-k entries of each row, adds
self-loops and row-normalises (:func:`graph_from_embeddings`, the numpy twin of
``engine.anomaly.stackvae_g.graph_from_similarity``; a test checks they agree). Two sensors get
an edge when their embeddings point the same way.

The lesson does not train StackVAE-G (that is a run on the lab page): it shows the two ends of
training. *At initialisation* the embeddings are random, so the graph is noise. A trained model's
embeddings make similar rows for channels the model reconstructs alike; the lesson stands in for
them with the channels' standardised series themselves (row i = z-scored series / √T), for which
``M Mᵀ`` is exactly the Pearson correlation matrix — "which sensors move together".
"""
from __future__ import annotations

import numpy as np

from engine.anomaly.interpret import adjacency_auroc
from engine.anomaly.synthetic import make_synthetic

EMBEDDINGS = ("series", "random")


def graph_from_embeddings(m: np.ndarray, *, alpha: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A0, Ã)``: ``A0 = ReLU(α tanh(M Mᵀ))``; Ã keeps A0's top-k per row, adds I and row-normalises.

    >>> m = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    >>> a0, a = graph_from_embeddings(m, alpha=1.0, k=2)
    >>> np.round(a, 3).tolist()
    [[0.711, 0.289, 0.0], [0.3, 0.7, 0.0], [0.0, 0.054, 0.946]]
    """
    s = m @ m.T  # (n, n) similarity
    a0 = np.maximum(alpha * np.tanh(s), 0.0)
    k = min(k, len(s))
    keep = np.argsort(-a0, axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(a0)
    np.put_along_axis(mask, keep, 1.0, axis=1)
    a = a0 * mask + np.eye(len(s))
    return a0, a / a.sum(axis=1, keepdims=True)


def adjacency_lesson(*, n_channels: int = 12, n_groups: int = 3, noise: float = 0.15, k: int = 4, alpha: float = 3.0,
                     embedding: str = "series", length: int = 400, seed: int = 0) -> dict:
    """Synthetic sensors in groups, their embeddings, the top-k graph, and its AUROC against the true groups.

    >>> r = adjacency_lesson(seed=0)
    >>> r["auroc"] > 0.95, adjacency_lesson(embedding="random", seed=0)["auroc"] < 0.8
    (True, True)
    """
    if embedding not in EMBEDDINGS:
        raise ValueError(f"Unknown embedding '{embedding}'; choose from {', '.join(EMBEDDINGS)}.")
    data = make_synthetic(n_channels=n_channels, n_groups=n_groups, train_length=length, test_length=60,
                          n_anomalies=0, noise=noise, seed=seed)
    x = np.asarray(data.train, dtype=float)  # (T, n)
    if embedding == "series":
        z = (x - x.mean(0)) / (x.std(0) + 1e-12)
        m = z.T / np.sqrt(len(z))  # (n, T): M Mᵀ = Pearson correlation
    else:
        m = np.random.default_rng(seed + 99).normal(size=(n_channels, 30)) / np.sqrt(30)
    a0, a = graph_from_embeddings(m, alpha=alpha, k=k)
    truth = np.asarray(data.true_graph)
    groups = _groups(truth)
    return {"series": x, "similarity": m @ m.T, "a0": a0, "adjacency": a, "true_graph": truth, "groups": groups,
            "order": np.argsort(groups, kind="stable"), "auroc": adjacency_auroc(a, truth), "k": k, "alpha": alpha}


def _groups(truth: np.ndarray) -> np.ndarray:
    """Group label of each channel from the true graph (connected components of its edges)."""
    n = len(truth)
    label = -np.ones(n, dtype=int)
    g = 0
    for i in range(n):
        if label[i] < 0:
            members = np.flatnonzero(truth[i]).tolist() + [i]
            label[members] = g
            g += 1
    return label
