"""Views of a summary that still teach when the graph is too large to draw node by node.

A block-averaged heatmap of a 3,000-node citation graph is almost white (each pixel averages
~140 node pairs of a graph with density 0.1 %), and a force layout of 100,000 nodes says nothing.
Three smaller windows onto the same summary do: the largest supernodes with their members, the
neighbourhood of one node coloured by supernode, and the adjacency cropped to the densest
supernodes at one pixel per node, beside its reconstruction Â.
"""
from __future__ import annotations

from collections import deque

import numpy as np


def largest_supernodes(supernode_of: np.ndarray, table: np.ndarray, node_ids, k: int = 10,
                       shown: int = 12) -> list[dict]:
    """The ``k`` supernodes with most members: size, density inside, superedges, some members.

    ``table``: the run's superedge rows ``(A, B, weight, density)``; ``node_ids``: original id of
    each node (index order).

    >>> rows = largest_supernodes(np.array([0, 0, 0, 1]), np.array([[0, 0, 3, 1.0], [0, 1, 2, 2 / 3]]),
    ...                           ["a", "b", "c", "d"], k=1)
    >>> rows[0]["supernode"], rows[0]["members"], rows[0]["density inside"], rows[0]["superedges"]
    (0, 3, 1.0, 2)
    >>> rows[0]["some members"]
    'a, b, c'
    """
    sn = np.asarray(supernode_of, dtype=np.int64)
    sizes = np.bincount(sn)
    P = np.asarray(table, dtype=float).reshape(-1, 4) if len(table) else np.zeros((0, 4))
    a, b, dens = P[:, 0].astype(np.int64), P[:, 1].astype(np.int64), P[:, 3]
    inside = np.zeros(sizes.size)
    inside[a[a == b]] = dens[a == b]
    degree = np.bincount(np.concatenate([a, b[a != b]]), minlength=sizes.size)
    order = np.argsort(-sizes, kind="stable")[:k]
    ids = list(node_ids)
    members_of = np.argsort(sn, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    rows = []
    for s in order.tolist():
        mem = members_of[starts[s]:starts[s + 1]][:shown]
        rows.append({"supernode": s, "members": int(sizes[s]), "density inside": float(inside[s]),
                     "superedges": int(degree[s]),
                     "some members": ", ".join(str(ids[i]) for i in mem) + (" …" if sizes[s] > shown else "")})
    return rows


def neighbourhood(edges: np.ndarray, n: int, center: int, *, radius: int = 2,
                  max_nodes: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Nodes within ``radius`` hops of ``center`` (breadth first, at most ``max_nodes``) and the
    input edges among them, as (node indices, (m, 2) edges in positions of that node array).

    >>> nodes, e = neighbourhood(np.array([[0, 1], [1, 2], [2, 3], [3, 4]]), 5, 2, radius=1)
    >>> nodes.tolist(), e.tolist()
    ([2, 1, 3], [[0, 1], [0, 2]])
    """
    import scipy.sparse as sp

    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    A = sp.csr_matrix((np.ones(2 * len(e), bool), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])),
                      shape=(n, n))
    seen = {center: 0}
    queue = deque([center])
    while queue and len(seen) < max_nodes:
        u = queue.popleft()
        if seen[u] >= radius:
            continue
        for v in A.indices[A.indptr[u]:A.indptr[u + 1]].tolist():
            if v not in seen:
                seen[v] = seen[u] + 1
                queue.append(v)
                if len(seen) >= max_nodes:
                    break
    nodes = np.fromiter(seen, dtype=np.int64)
    pos = np.full(n, -1, np.int64)
    pos[nodes] = np.arange(nodes.size)
    keep = (pos[e[:, 0]] >= 0) & (pos[e[:, 1]] >= 0)
    u, v = pos[e[keep, 0]], pos[e[keep, 1]]
    return nodes, np.stack([np.minimum(u, v), np.maximum(u, v)], axis=1)


def dense_crop(edges: np.ndarray, supernode_of: np.ndarray, table: np.ndarray, *,
               max_nodes: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A and Â at one pixel per node, for the densest supernodes (≥ 2 members) that fit.

    Supernodes are taken by decreasing density inside, then size, until ``max_nodes`` nodes;
    returns (node indices ordered by supernode, A, Â) with the diagonal left 0.

    >>> nodes, A, R = dense_crop(np.array([[0, 1], [2, 3]]), np.array([0, 0, 1, 1, 2]),
    ...                          np.array([[0, 0, 1, 1.0], [1, 1, 1, 1.0]]), max_nodes=4)
    >>> nodes.tolist(), float(A.sum()), float(R.sum())
    ([0, 1, 2, 3], 4.0, 4.0)
    """
    sn = np.asarray(supernode_of, dtype=np.int64)
    sizes = np.bincount(sn)
    P = np.asarray(table, dtype=float).reshape(-1, 4) if len(table) else np.zeros((0, 4))
    a, b, dens = P[:, 0].astype(np.int64), P[:, 1].astype(np.int64), P[:, 3]
    inside = np.zeros(sizes.size)
    inside[a[a == b]] = dens[a == b]
    candidates = [s for s in np.lexsort((-sizes, -inside)).tolist() if sizes[s] >= 2]
    chosen, total = [], 0
    for s in candidates:
        if total + sizes[s] > max_nodes:
            continue
        chosen.append(s)
        total += sizes[s]
    if not chosen:   # no supernode with 2+ members fits: the largest, cut to max_nodes
        chosen = [int(np.argmax(sizes))]
    rank = np.full(sizes.size, -1)
    rank[chosen] = np.arange(len(chosen))
    nodes = np.flatnonzero(rank[sn] >= 0)
    nodes = nodes[np.argsort(rank[sn[nodes]], kind="stable")][:max_nodes]
    m = nodes.size
    pos = np.full(sn.size, -1, np.int64)
    pos[nodes] = np.arange(m)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    keep = (pos[e[:, 0]] >= 0) & (pos[e[:, 1]] >= 0)
    A = np.zeros((m, m), np.float32)
    A[pos[e[keep, 0]], pos[e[keep, 1]]] = 1.0
    A = np.maximum(A, A.T)
    R = np.zeros((m, m), np.float32)
    block = {(int(x), int(y)): float(d) for x, y, d in zip(a, b, dens)}
    local = sn[nodes]
    for i, j in {(int(x), int(y)) for x in set(local.tolist()) for y in set(local.tolist()) if x <= y}:
        d = block.get((i, j), 0.0)
        if d:
            mi, mj = local == i, local == j
            R[np.ix_(mi, mj)] = d
            R[np.ix_(mj, mi)] = d
    np.fill_diagonal(R, 0.0)
    return nodes, A, R
