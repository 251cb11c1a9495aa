"""SSumM: sparse summarisation of massive graphs (Lee, Jo, Ko, Lim, Shin; KDD 2020).

Given a graph and a budget of k bits, SSumM finds a summary (supernodes and a few superedges,
see :mod:`engine.graphs.summary`) of at most k bits whose reconstruction error is small. It
greedily merges nodes into supernodes and, for every pair of supernodes, chooses the cheaper
encoding in the minimum-description-length sense (§3.2): a superedge costs
``2·log2|S| + log2 ω_max`` bits plus ``|Π|·H(density)`` bits of corrections, while listing the
block's edges costs ``2·log2|V|`` bits each. That choice decides whether the superedge exists, so
the summary stays *sparse*. The L1 variant never keeps a superedge of density < ½ (such a block
reconstructs worse than zero in L1).

Algorithm 1 of the paper, as the authors' code runs it:

1. T = 20 iterations with merge threshold θ(t) = 1/(1+t), and θ = 0 in the last one.
2. Each iteration groups supernodes by min-hash signatures of their closed neighbourhoods under
   10 random orders of the nodes (§3.3; random 62-bit keys per node stand for the permutations): equal first hash → same group; groups larger than 500 are
   split by the next hash, and by chunks of 500 when all hashes agree.
3. In each group Q, |Q| random pairs are sampled and the pair with the largest relative cost
   reduction is merged if that reduction is ≥ θ(t); the group is done after ⌈log2⌈log2|Q|⌉⌉
   consecutive failures (so, as in the authors' code, a group of two is never tried).
4. As soon as the summary size is ≤ k, merging stops.
5. Then blocks not kept as superedges are dropped, supernodes left without any superedge are
   gathered into one, and if the summary is still over budget, superedges are removed in order
   of least error increase (the L1 or L2 increase) until it fits (§3.4, "further sparsification").

Definitions (input size ``2|E|log2|V|``, budget ``k = ratio·Size(G)`` with the ratio rounded *up* to
two decimals (see :func:`round_ratio` for five ratios where the Java's rounding differs), summary size ``|P|(2log2|S| + log2 ω_max) + |V|log2|S|``, RE1/RE2 over ordered
pairs) match ``shared/reference/ssumm_reference.md`` so that figures compare with the authors'.

Details and where this differs from the authors' Java code (also said in the UI text):

* further sparsification ranks a superedge *inside* a supernode as the authors' code does, which
  under-counts its error increase (e·d/2 instead of e·d in L2; (d − 1)·e instead of (2d − 1)·e in
  L1, so in L1 such superedges go first), because the published figures come from that code;
  ``exact_drop=True`` ranks every superedge by its exact error increase, as the paper's text says
  (errors then come out up to ~5 % lower than the authors' on sparse graphs in L1);
* ties in that ranking (common: single edges between single nodes) are broken at random
  (seeded); the authors' code meets them in hash-map order, which is effectively random;
* ω_max in the size is, as in the authors' code, a running maximum of merged block counts (a
  block inside a supernode counted over ordered pairs, i.e. twice); it never decreases;
* a group whose 10 hashes all agree and that is still larger than 500 is cut into chunks of 500
  (the authors' code leaves its supernodes unmerged in that iteration; this is rare);
* isolated nodes (possible when ``n_nodes`` exceeds the ids in the edge list) start gathered in
  one supernode without superedges and take no part in merging; the reference has none, since it
  counts only the nodes that occur in the edge list;
* it is seeded (numpy + splitmix64) and so reproducible; the Java release is unseeded.

>>> import networkx as nx
>>> G = nx.complete_graph(6)                                   # two 6-cliques ...
>>> G.add_edges_from(nx.complete_graph(range(6, 12)).edges)
>>> G.add_edge(0, 6)                                           # ... joined by one edge
>>> s = ssumm(G, ratio=0.1, seed=1)
>>> s.supernode_of.tolist()
[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
>>> s.superedges.tolist(), s.weights.tolist()   # 10 % of 222 bits: room for one clique only
([[1, 1]], [15])
>>> round(s.size_bits, 1), round(s.target_bits, 1), round(s.re1, 4)
(18.9, 22.2, 0.2424)
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from engine.errors import ConfigError, DataError
from engine.graphs import _ssumm_numba as K
from engine.graphs.summary import Summary, _errors, input_size_bits, summary_size_bits

__all__ = ["ssumm", "ssumm_edges", "round_ratio", "N_HASHES", "MAX_GROUP"]

N_HASHES = 10      # min-hash permutations per iteration (authors' code: k = 10)
MAX_GROUP = 500    # largest candidate group (authors' divThreshold)
MAX_INDEX_SLACK = 10_000_000   # |V| may exceed the edges' endpoints (isolated nodes) by at most this


def round_ratio(ratio: float) -> float:
    """The budget ratio rounded *up* to two decimals, exactly.

    The authors' Java rounds up to two decimals too, but as ``Math.ceil(ratio * 100) / 100`` in
    floating point, and ``0.07 * 100`` is 7.000000000000001: at 0.07, 0.14, 0.28, 0.55 and 0.56
    (the only such ratios of 0.01 … 1.00) its budget is one percentage point higher (0.08, 0.15,
    0.29, 0.56, 0.57). This function does not copy that artefact: compare with the Java at those
    ratios by asking for the Java's budget (e.g. 0.08 for its 0.07).

    >>> round_ratio(0.3), round_ratio(0.101), round_ratio(0.07), round_ratio(1.0)
    (0.3, 0.11, 0.07, 1.0)
    >>> [k / 100 for k in range(1, 101) if math.ceil(k / 100 * 100) != k]   # where the Java differs
    [0.07, 0.14, 0.28, 0.55, 0.56]
    """
    return math.ceil(round(ratio * 100.0, 9)) / 100.0


def ssumm(G, *, ratio: float, error: str = "l1", iterations: int = 20, seed: int | None = None,
          callback: Callable[[dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None, exact_drop: bool = False,
          skip_half_density: bool = False) -> Summary:
    """Summarise an undirected networkx graph within ``ratio`` of its size (SSumM, KDD 2020).

    Parameters
    ----------
    G : networkx.Graph
        Undirected; node ids are any hashables (kept in ``Summary.node_ids``). Self loops are
        ignored, multi-edges count once. Isolated nodes count in |V| (see module notes); nodes
        whose only edges are self loops are left out, as the edge-list reader does.
    ratio : float
        Budget k as a fraction of the input size ``2|E|log2|V|``, in (0, 1]; rounded up to two
        decimals.
    error : {"l1", "l2"}
        The reconstruction error the summary minimises (the paper's two variants).
    iterations : int
        T, the number of merge iterations (paper: 20).
    seed : int or None
        Makes the run reproducible.
    callback : callable(dict), optional
        Called after each iteration with ``iteration, threshold, size_bits, target_bits,
        supernodes, superedges, re1, re2, merges, seconds`` (``seconds`` since the start; the
        errors are those of the summary if it were finished now, in closed form).
    should_stop : callable() -> bool, optional
        Checked before the first iteration and after each; True stops early and returns the
        current summary, finished as usual (so it is within the budget).
    exact_drop : bool
        Rank superedges for the final sparsification by their exact error increase instead of
        the authors' code's ranking (see the module notes). Default False, like the reference.
    skip_half_density : bool
        L1 only, this project's option (not the paper's): never keep a superedge of density
        exactly ½ (the paper's test keeps d ≥ ½). Such a block has the same RE1 whether it is
        reconstructed as ½ or as 0, so its superedge only costs bits; skipping it leaves bits for
        merges that lower RE1. Default False (faithful to the paper and the authors' code).

    Returns
    -------
    Summary

    Notes
    -----
    A budget so small that no useful summary fits (the membership term |V|·log2|S| alone exceeds
    it for any |S| > 1) is not an error: the result is the best effort of SSumM's last step, one
    supernode without superedges (0 bits, every edge lost). A graph without edges gives one
    supernode, 0 bits and no error.

    Examples
    --------
    >>> import networkx as nx
    >>> s = ssumm(nx.path_graph(["a", "b", "c"]), ratio=0.9, seed=1)
    >>> s.n_nodes, s.n_edges, s.size_bits <= s.target_bits
    (3, 2, True)
    """
    if G.is_directed():
        raise DataError("SSumM summarises undirected graphs; pass G.to_undirected().")
    from engine.graphs.io import graph_nodes

    nodes, _ = graph_nodes(G)
    if not nodes:
        raise DataError("The graph has no nodes.")
    index = {v: i for i, v in enumerate(nodes)}
    pairs = [(index[u], index[v]) for u, v in G.edges() if u != v]
    edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return ssumm_edges(edges, len(nodes), ratio=ratio, error=error, iterations=iterations,
                       seed=seed, callback=callback, should_stop=should_stop,
                       node_ids=_id_array(nodes), exact_drop=exact_drop,
                       skip_half_density=skip_half_density)


def _id_array(nodes: list) -> np.ndarray:
    """Node ids as an int64 or str array when they all are ints or strs, else an object array."""
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in nodes):
        try:
            return np.array(nodes, dtype=np.int64)
        except OverflowError:
            pass
    elif all(isinstance(v, str) for v in nodes):
        return np.array(nodes, dtype=str)
    out = np.empty(len(nodes), dtype=object)
    out[:] = nodes
    return out


def ssumm_edges(edges: np.ndarray, n_nodes: int | None = None, *, ratio: float, error: str = "l1",
                iterations: int = 20, seed: int | None = None,
                callback: Callable[[dict], None] | None = None,
                should_stop: Callable[[], bool] | None = None,
                node_ids: np.ndarray | None = None, exact_drop: bool = False,
                skip_half_density: bool = False) -> Summary:
    """SSumM on an edge array: the fast path for large graphs (same options as :func:`ssumm`).

    ``edges``: (E, 2) integer node indices 0..n−1, undirected. Reversed, duplicate and self-loop
    edges are cleaned up. ``n_nodes``: |V| (default: largest index + 1). ``node_ids``: original
    id of each index (default: the indices).

    >>> e = np.array([[0, 1], [0, 2], [1, 2], [2, 3], [3, 4], [3, 5], [4, 5]])
    >>> s = ssumm_edges(e, ratio=0.8, seed=0)
    >>> s.n_nodes, s.n_edges, s.size_bits <= s.target_bits
    (6, 7, True)
    """
    t0 = time.perf_counter()
    l1 = _check_options(ratio, error, iterations)
    mode = (2 if skip_half_density else 1) if l1 else 0     # the kernels' error mode (see _merged_cost)
    edges, n = _canonical_edges(edges, n_nodes)
    if node_ids is None:
        node_ids = np.arange(n)
    node_ids = np.asarray(node_ids)
    if node_ids.shape[0] != n:
        raise DataError(f"node_ids has {node_ids.shape[0]} entries for {n} nodes.")
    E = edges.shape[0]
    used_ratio = round_ratio(ratio)
    input_bits = input_size_bits(n, E)
    target = used_ratio * input_bits
    err_name = "l1" if l1 else "l2"
    if E == 0:      # nothing to encode: one supernode, no superedges, 0 bits, no error
        return Summary(node_ids=node_ids, supernode_of=np.zeros(n, np.int64),
                       superedges=np.zeros((0, 2), np.int64), weights=np.zeros(0, np.int64),
                       n_nodes=n, n_edges=0, size_bits=0.0, input_bits=0.0, target_bits=0.0,
                       ratio=used_ratio, error=err_name, re1=0.0, re2=0.0, omega_max=1,
                       seconds=time.perf_counter() - t0)

    rng = np.random.default_rng(seed)
    st = _State(edges, n, rng)
    sparse_cost = 2.0 * math.log2(n)
    history: list[dict[str, Any]] = []
    for t in range(1, iterations + 1):
        if t == 1 and should_stop is not None and should_stop():
            break   # cancelled before the first merge (e.g. while a large graph was loading)
        theta = 1.0 / (1 + t) if t < iterations else 0.0
        members, gptr = _candidate_groups(st, edges, rng)
        reached, merges = K.merge_groups(
            members, gptr, theta, target, n, sparse_cost, mode, st.start, st.length, st.cap, st.nbr,
            st.cnt, st.kept, st.size, st.parent, st.alive, st.dcost, st.mcost, st.ist, st.rng,
            st.dup, st.stamp)
        info = _iteration_info(st, n, E, t, theta, target, int(merges), time.perf_counter() - t0)
        history.append(info)
        if callback is not None:
            callback(info)
        if reached or (should_stop is not None and should_stop()):
            break

    supernode_of, a, b, w, omega = _finish(st, n, target, l1, exact_drop, rng)
    s_count = int(supernode_of.max()) + 1
    out = Summary(node_ids=node_ids, supernode_of=supernode_of, superedges=np.stack([a, b], 1),
                  weights=w, n_nodes=n, n_edges=E,
                  size_bits=summary_size_bits(n, s_count, a.size, omega), input_bits=input_bits,
                  target_bits=target, ratio=used_ratio, error=err_name, re1=0.0, re2=0.0,
                  omega_max=omega, history=history)
    pairs = out.pairs(out.superedges[:, 0], out.superedges[:, 1])
    out.re1, out.re2 = _errors(n, E, out.weights, out.weights, pairs)
    out.seconds = time.perf_counter() - t0
    return out


# ---------------------------------------------------------------------------- internals
def _check_options(ratio: float, error: str, iterations: int) -> bool:
    try:
        ratio = float(ratio)
    except (TypeError, ValueError):
        raise ConfigError(f"The ratio must be a number in (0, 1], not {ratio!r}.") from None
    if not 0.0 < ratio <= 1.0:
        raise ConfigError(f"The ratio is the summary's budget as a fraction of the input size; "
                          f"it must be in (0, 1], not {ratio}.")
    e = str(error).lower().strip()
    if e not in ("l1", "l2", "1", "2"):
        raise ConfigError(f"The error must be 'l1' or 'l2', not {error!r}.")
    if not isinstance(iterations, (int, np.integer)) or iterations < 1:
        raise ConfigError(f"iterations must be a positive whole number, not {iterations!r}.")
    return e in ("l1", "1")


def _canonical_edges(edges, n_nodes: int | None) -> tuple[np.ndarray, int]:
    """(E, 2) int64 with u < v, sorted, unique, no self loops; and |V|."""
    try:
        e = np.asarray(edges)
    except Exception:  # noqa: BLE001 - ragged input
        raise DataError("Edges must be an (E, 2) array of integer node indices.") from None
    if e.size == 0:
        e = np.zeros((0, 2), np.int64)
    if e.ndim != 2 or e.shape[1] != 2 or (e.size and e.dtype.kind not in "iu"):
        raise DataError(f"Edges must be an (E, 2) array of integer node indices, got shape "
                        f"{e.shape} and type {e.dtype}.")
    e = e.astype(np.int64, copy=False)
    if e.size and e.min() < 0:
        raise DataError("Node indices must be ≥ 0 (map labels to 0..n−1 first).")
    top = int(e.max()) + 1 if e.size else 0
    n = top if n_nodes is None else int(n_nodes)
    if n < top:
        raise DataError(f"Edges refer to node {top - 1} but n_nodes is {n}.")
    if n < 1:
        raise DataError("The graph has no nodes.")
    if n > MAX_INDEX_SLACK + 2 * e.shape[0]:
        raise DataError(f"Node indices go up to {n - 1:,} for only {e.shape[0]:,} edges: these look like "
                        "raw ids, not indices 0..n−1. Number the nodes first (engine.graphs.io.read_edge_list "
                        "and ssumm(G) do this).")
    u, v = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
    keep = u != v
    key = u[keep] * n + v[keep]
    if key.size > 1 and not np.all(key[1:] > key[:-1]):
        key = np.sort(key)      # np.unique by sorting: numpy 2's hash-based unique is ~15x slower here
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    return np.stack([key // n, key % n], axis=1), n


class _State:
    """Summary graph in the kernels' flat-pool layout (see :mod:`._ssumm_numba`)."""

    def __init__(self, edges: np.ndarray, n: int, rng: np.random.Generator):
        E = edges.shape[0]
        u, v = edges[:, 0], edges[:, 1]
        deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
        src = np.concatenate([u, v])
        dst = np.concatenate([v, u])
        order = np.argsort(src * np.int64(n) + dst)     # by (src, dst); one key sorts faster
        self.nbr = np.zeros(4 * E + 16, np.int32)
        self.cnt = np.zeros(4 * E + 16, np.int32)
        self.kept = np.zeros(4 * E + 16, np.uint8)
        self.nbr[:2 * E] = dst[order]
        self.cnt[:2 * E] = 1
        self.kept[:2 * E] = 1           # at first every edge is a superedge of density 1
        self.start = np.concatenate([[0], np.cumsum(deg)[:-1]]).astype(np.int64)
        self.length = deg.astype(np.int64)
        self.cap = self.length.copy()
        self.size = np.ones(n, np.int64)
        self.parent = np.arange(n, dtype=np.int64)
        self.alive = np.ones(n, np.uint8)
        self.dcost = np.zeros(n)        # entropy of density 1 is 0 bits
        self.mcost = deg.astype(np.int64)
        # isolated nodes start gathered in one supernode without superedges
        iso = np.flatnonzero(deg == 0)
        self.iso_root = -1
        if iso.size:
            self.iso_root = int(iso[0])
            self.parent[iso] = iso[0]
            self.alive[iso[1:]] = 0
            self.size[iso[1:]] = 0
            self.size[iso[0]] = iso.size
        S = n - max(iso.size - 1, 0)
        self.ist = np.array([S, E, 1, 2 * E], np.int64)    # S, P, ω_max, pool end
        self.rng = np.array([rng.integers(0, 2**63, dtype=np.uint64)], np.uint64)
        self.dup = np.zeros((MAX_GROUP, MAX_GROUP), np.int64)
        self.stamp = np.zeros(1, np.int64)


def _candidate_groups(st: _State, edges: np.ndarray, rng: np.random.Generator):
    """Candidate groups of one iteration (§3.3) as (members, offsets)."""
    n = st.size.size
    cand = np.flatnonzero(st.alive)
    if st.iso_root >= 0:
        cand = cand[cand != st.iso_root]
    cand_index = np.full(n, -1, np.int64)
    cand_index[cand] = np.arange(cand.size)
    # iid random 62-bit keys rank the nodes in a uniformly random order, like a permutation
    keys = rng.integers(0, 2**62, size=(n, N_HASHES), dtype=np.int64)
    root = K.find_roots(st.parent)
    sig = K.signatures(edges[:, 0], edges[:, 1], keys, root, cand_index, cand.size)
    order = np.lexsort((cand, sig[:, 0]))
    members, sig = cand[order], sig[order]
    cuts = np.flatnonzero(np.diff(sig[:, 0])) + 1
    bounds = np.concatenate([[0], cuts, [cand.size]])
    sizes = np.diff(bounds)
    if sizes.size == 0 or sizes.max() <= MAX_GROUP:
        return members, bounds.astype(np.int64)
    out_members, out_bounds = [], [0]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        for g in _split(members[lo:hi], sig[lo:hi], 0):
            out_members.append(g)
            out_bounds.append(out_bounds[-1] + g.size)
    return np.concatenate(out_members), np.array(out_bounds, np.int64)


def _split(members: np.ndarray, sig: np.ndarray, col: int) -> list[np.ndarray]:
    """Split a group (equal hashes up to ``col``) by the next hashes, then into chunks of 500."""
    if members.size <= MAX_GROUP:
        return [members]
    if col + 1 >= sig.shape[1]:
        return [members[c:c + MAX_GROUP] for c in range(0, members.size, MAX_GROUP)]
    order = np.argsort(sig[:, col + 1], kind="stable")
    members, sig = members[order], sig[order]
    cuts = np.flatnonzero(np.diff(sig[:, col + 1])) + 1
    bounds = np.concatenate([[0], cuts, [members.size]])
    out: list[np.ndarray] = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        out.extend(_split(members[lo:hi], sig[lo:hi], col + 1))
    return out


def _iteration_info(st: _State, n: int, E: int, t: int, theta: float, target: float, merges: int,
                    seconds: float) -> dict[str, Any]:
    S, P, omega = int(st.ist[0]), int(st.ist[1]), int(st.ist[2])
    s1, s2, _se = K.kept_error_sums(st.alive, st.start, st.length, st.nbr, st.cnt, st.kept, st.size)
    denom = float(n) * (n - 1) if n > 1 else 1.0
    return {"iteration": t, "threshold": theta, "size_bits": summary_size_bits(n, S, P, omega),
            "target_bits": target, "supernodes": S, "superedges": P,
            "re1": 2.0 * (E + s1) / denom, "re2": math.sqrt(max(2.0 * (E - s2), 0.0)) / denom,
            "merges": merges, "seconds": seconds}


def _finish(st: _State, n: int, target: float, l1: bool, exact: bool,
            rng: np.random.Generator):
    """Drop non-kept blocks, gather supernodes without superedges, sparsify to the budget (§3.4)."""
    a, b, e, k = K.extract_blocks(st.alive, st.start, st.length, st.nbr, st.cnt, st.kept)
    keep = k == 1
    a, b, e = a[keep], b[keep], e[keep]
    omega = int(st.ist[2])
    alive = st.alive.astype(bool)
    has_edge = np.zeros(n, bool)
    has_edge[a] = True
    has_edge[b] = True
    n_with = int(has_edge.sum())
    iso0 = bool(np.any(alive & ~has_edge))
    P = a.size
    size = summary_size_bits(n, n_with + iso0, P, omega)
    if size > target and P:
        sa, sb = st.size[a].astype(np.float64), st.size[b].astype(np.float64)
        pairs = np.where(a == b, sa * (sa - 1) / 2.0, sa * sb)
        d = e / pairs
        cost = e * (2.0 * d - 1.0) if l1 else e * d     # error increase of dropping (÷2)
        if not exact:   # the authors' ranking of superedges inside a supernode
            cost = np.where(a == b, e * (d - 1.0) if l1 else e * d / 2.0, cost)
        # equal costs are common (e.g. single edges between single nodes); the authors' code meets
        # them in hash-map order, i.e. effectively at random, so ties are broken at random here
        order = np.lexsort((rng.permutation(P), cost))
        pos = np.empty(P, np.int64)
        pos[order] = np.arange(P)
        last = np.full(n, -1, np.int64)
        np.maximum.at(last, a, pos)
        np.maximum.at(last, b, pos)
        gone = np.cumsum(np.bincount(last[has_edge], minlength=P))    # gone[j]: lost all by j
        r = np.arange(P + 1)
        gone_r = np.concatenate([[0], gone])                            # after removing r
        S_r = (n_with - gone_r) + ((gone_r > 0) | iso0)
        ls = np.log2(np.maximum(S_r, 1))
        lw = math.log2(omega) if omega > 1 else 0.0
        size_r = (P - r) * (2 * ls + lw) + n * ls
        r_star = int(np.argmax(size_r <= target))     # size_r[P] = 0 ≤ target, so it exists
        keep2 = np.ones(P, bool)
        keep2[order[:r_star]] = False
        a, b, e = a[keep2], b[keep2], e[keep2]
        has_edge[:] = False
        has_edge[a] = True
        has_edge[b] = True
    root = K.find_roots(st.parent)
    # supernodes with superedges keep their identity; all others become one supernode
    label = np.where(has_edge[root], root, -1)
    uniq, first, inv = np.unique(label, return_index=True, return_inverse=True)
    rank = np.empty(uniq.size, np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(uniq.size)   # number by first node
    supernode_of = rank[inv.reshape(-1)]
    lookup = np.full(n, -1, np.int64)
    lookup[uniq[uniq >= 0]] = rank[uniq >= 0]
    A, B = lookup[a], lookup[b]
    A, B = np.minimum(A, B), np.maximum(A, B)
    order = np.lexsort((B, A))
    return supernode_of, A[order], B[order], e[order], omega
