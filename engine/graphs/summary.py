"""A graph summary: supernodes, superedges and what they cost and lose.

A *summary* of a graph G = (V, E) partitions the nodes into **supernodes** (groups of nodes) and
keeps a few **superedges** between supernodes (a superedge may join a supernode to itself). A
superedge (A, B) carries a **weight** ω(A, B): the number of input edges between A and B (inside A
when A = B, each edge counted once). The summary stands for the *reconstructed* adjacency

    Â(i, j) = ω(A, B) / |Π_AB|   for i in A, j in B, i ≠ j, when (A, B) is a superedge, else 0,

where |Π_AB| is the number of node pairs in the block: |A|·|B|, or |A|(|A|−1)/2 inside A.
ω/|Π| is the superedge's **density**: the fraction of the block's node pairs that are edges.

Sizes and errors follow SSumM (Lee, Jo, Ko, Lim, Shin, KDD 2020, §2 and Eq. 1–2) exactly as the
authors' code computes them, so figures are comparable with ``shared/reference``:

* input size  ``Size(G) = 2·|E|·log2|V|`` bits (every edge as two node ids);
* summary size ``|P|·(2·log2|S| + log2 ω_max) + |V|·log2|S|`` bits (each superedge as two
  supernode ids and a weight, plus the supernode of every node);
* ``RE1 = Σ_{i≠j} |A_ij − Â_ij| / (|V|(|V|−1))`` and
  ``RE2 = sqrt(Σ_{i≠j} (A_ij − Â_ij)²) / (|V|(|V|−1))`` over ordered node pairs.

Both errors are computed in closed form per block, never from a dense |V|×|V| matrix: over its
unordered pairs, a kept block with e edges and density d = e/|Π| misses by 2e(1 − d) in absolute
value and e(1 − d) in squares; a block without a superedge misses its e edges (see
:func:`block_errors`); ordered pairs double both sums.

>>> import numpy as np
>>> s = Summary.from_blocks(supernode_of=[0, 0, 0, 1], superedges=[[0, 0]], weights=[3],
...                         n_edges=4)
>>> s.n_supernodes, s.n_superedges, s.density(0, 0)
(2, 1, 1.0)
>>> round(s.re1, 4), round(s.re2, 4)   # only edge 2-3 is lost: 2 ordered pairs of 12
(0.1667, 0.1179)
>>> print(s.to_text().replace("\\t", " "), end="")
<Subnode of each supernode>
0 0 1 2
1 3
<Superedge info>
0 0 3
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import DataError

__all__ = ["Summary", "block_errors", "summary_size_bits", "input_size_bits"]

# Largest graph whose dense |V|×|V| reconstruction we build (4096² float64 ≈ 134 MB).
DENSE_LIMIT = 4096


def input_size_bits(n_nodes: int, n_edges: int) -> float:
    """``Size(G) = 2·|E|·log2|V|``: bits to list every edge as two node ids (SSumM §2).

    >>> input_size_bits(4, 4)
    16.0
    """
    return 2.0 * n_edges * math.log2(n_nodes) if n_nodes > 1 else 0.0


def summary_size_bits(n_nodes: int, n_supernodes: int, n_superedges: int, omega_max: int) -> float:
    """Bits of a summary: ``|P|·(2·log2|S| + log2 ω_max) + |V|·log2|S|`` (SSumM §2, Eq. 1).

    >>> summary_size_bits(4, 2, 1, 3) == 1 * (2 + math.log2(3)) + 4
    True
    """
    log_s = math.log2(n_supernodes) if n_supernodes > 1 else 0.0
    log_w = math.log2(omega_max) if omega_max > 1 else 0.0
    return n_superedges * (2.0 * log_s + log_w) + n_nodes * log_s


def block_errors(e_true: np.ndarray, weight: np.ndarray, pairs: np.ndarray) -> tuple[float, float]:
    """Σ|A−Â| and Σ(A−Â)² over the *unordered* node pairs of kept blocks.

    A block with ``e_true`` input edges, ``pairs`` node pairs and superedge weight ``weight``
    reconstructs every pair as d = weight/pairs: its e_true edges each miss by 1 − d and its
    pairs − e_true non-edges each exceed by d. (Blocks without a superedge lose exactly their
    edges; callers add those.) With weight = e_true this is 2e(1−d) and e(1−d).

    >>> block_errors(np.array([2]), np.array([2]), np.array([4]))
    (2.0, 1.0)
    """
    e = np.asarray(e_true, dtype=np.float64)
    d = np.asarray(weight, dtype=np.float64) / np.asarray(pairs, dtype=np.float64)
    p = np.asarray(pairs, dtype=np.float64)
    l1 = e * (1.0 - d) + (p - e) * d
    l2 = e * (1.0 - d) ** 2 + (p - e) * d * d
    return float(l1.sum()), float(l2.sum())


def _errors(n_nodes: int, n_edges: int, kept_true: np.ndarray, kept_weight: np.ndarray,
            kept_pairs: np.ndarray) -> tuple[float, float]:
    """RE1, RE2 (ordered pairs) from the kept blocks' true edge counts, weights and pair counts."""
    if n_nodes < 2:
        return 0.0, 0.0
    l1, l2 = block_errors(kept_true, kept_weight, kept_pairs)
    lost = n_edges - float(np.sum(kept_true))      # edges in blocks without a superedge
    denom = float(n_nodes) * (n_nodes - 1)
    return 2.0 * (l1 + lost) / denom, math.sqrt(max(2.0 * (l2 + lost), 0.0)) / denom


@dataclass(repr=False, eq=False)
class Summary:
    """The result of a graph summarisation (SSumM and friends).

    Attributes (what the UI shows, in plain words):
        node_ids: original id of each node 0..n−1 (what a file or networkx graph called it).
        supernode_of: (n,) the supernode 0..S−1 that each node belongs to.
        superedges: (P, 2) supernode pairs A ≤ B that the summary keeps (A = B: inside A).
        weights: (P,) input edges in each superedge's block (inside a supernode, counted once).
        n_nodes: |V|, the number of nodes the sizes are computed with.
        n_edges: |E|, the number of input edges.
        size_bits: bits the summary needs, ``|P|(2 log2|S| + log2 ω_max) + |V| log2|S|``.
        input_bits: bits the input edge list needs, ``2|E| log2|V|``.
        target_bits: the budget k = ratio · input_bits the summary had to fit in.
        ratio: the budget as a fraction of the input size (rounded up to two decimals; see
            :func:`engine.graphs.ssumm.round_ratio`).
        error: which reconstruction error the summary minimised ("l1" or "l2").
        re1: mean absolute reconstruction error over ordered node pairs, Σ|A−Â|/(|V|(|V|−1)).
        re2: root of the summed squared error over ordered pairs, √Σ(A−Â)² / (|V|(|V|−1)).
        omega_max: the ω_max used in ``size_bits`` (SSumM keeps a running maximum of merged
            block counts, so it can exceed ``weights.max()``).
        history: one dict per iteration of the algorithm (see :func:`engine.graphs.ssumm.ssumm`).
        seconds: wall time of the summarisation.
    """

    node_ids: np.ndarray
    supernode_of: np.ndarray
    superedges: np.ndarray
    weights: np.ndarray
    n_nodes: int
    n_edges: int
    size_bits: float
    input_bits: float
    target_bits: float
    ratio: float
    error: str
    re1: float
    re2: float
    omega_max: int = 1
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.node_ids = np.asarray(self.node_ids)
        self.supernode_of = np.asarray(self.supernode_of, dtype=np.int64)
        self.superedges = np.asarray(self.superedges, dtype=np.int64).reshape(-1, 2)
        self.weights = np.asarray(self.weights, dtype=np.int64).reshape(-1)
        s = int(self.supernode_of.max()) + 1 if self.supernode_of.size else 0
        self._sizes = np.bincount(self.supernode_of, minlength=s).astype(np.int64)
        a, b = self.superedges[:, 0], self.superedges[:, 1]
        self._keys = a * max(s, 1) + b
        if self._keys.size and np.any(np.diff(self._keys) <= 0):
            order = np.argsort(self._keys, kind="stable")
            self.superedges, self.weights, self._keys = (
                self.superedges[order], self.weights[order], self._keys[order])

    # ------------------------------------------------------------------ basic views
    @property
    def n_supernodes(self) -> int:
        """|S|: the number of supernodes."""
        return int(self._sizes.size)

    @property
    def n_superedges(self) -> int:
        """|P|: the number of superedges (a superedge inside a supernode counts once)."""
        return int(self.superedges.shape[0])

    @property
    def supernode_sizes(self) -> np.ndarray:
        """(S,) the number of nodes in each supernode."""
        return self._sizes

    @property
    def size_ratio(self) -> float:
        """Summary size as a fraction of the input size (``size_bits / input_bits``)."""
        return self.size_bits / self.input_bits if self.input_bits > 0 else 0.0

    def members(self, s: int) -> np.ndarray:
        """Original ids of the nodes in supernode ``s``."""
        if not 0 <= s < self.n_supernodes:
            raise DataError(f"Supernode {s} does not exist (the summary has {self.n_supernodes}).")
        return self.node_ids[np.flatnonzero(self.supernode_of == s)]

    def pairs(self, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        """|Π_AB|: node pairs in block (A, B): |A|·|B|, or |A|(|A|−1)/2 when A = B."""
        a, b = np.asarray(a), np.asarray(b)
        sa, sb = self._sizes[a].astype(np.float64), self._sizes[b].astype(np.float64)
        return np.where(a == b, sa * (sa - 1) / 2.0, sa * sb)

    @property
    def densities(self) -> np.ndarray:
        """(P,) density ω/|Π| of each superedge: the value Â takes on its block."""
        if not self.n_superedges:
            return np.zeros(0)
        return self.weights / self.pairs(self.superedges[:, 0], self.superedges[:, 1])

    def density(self, a: int, b: int) -> float:
        """The reconstructed value Â(i, j) for i in supernode a, j in supernode b (0 without a superedge)."""
        a, b = (a, b) if a <= b else (b, a)
        key = a * max(self.n_supernodes, 1) + b
        i = int(np.searchsorted(self._keys, key))
        if i < self._keys.size and self._keys[i] == key:
            return float(self.weights[i] / self.pairs(a, b))
        return 0.0

    # ------------------------------------------------------------------ matrices
    def block_matrix(self, *, sparse: bool = False, max_side: int = DENSE_LIMIT):
        """(S, S) symmetric matrix of superedge densities (0 where no superedge).

        Dense ndarray by default (raises DataError when S > ``max_side``); ``sparse=True`` gives a
        ``scipy.sparse.csr_matrix`` of any size. Rows/columns are supernodes 0..S−1; shown as an
        image (block-downsampled) it is the summary's picture of the adjacency matrix.
        """
        s = self.n_supernodes
        a, b, d = self.superedges[:, 0], self.superedges[:, 1], self.densities
        if sparse:
            import scipy.sparse as sp
            off = a != b
            rows = np.concatenate([a, b[off]])
            cols = np.concatenate([b, a[off]])
            return sp.csr_matrix((np.concatenate([d, d[off]]), (rows, cols)), shape=(s, s))
        if s > max_side:
            raise DataError(f"The summary has {s} supernodes; a dense {s}×{s} matrix is too large "
                            f"(limit {max_side}). Use block_matrix(sparse=True).")
        m = np.zeros((s, s))
        m[a, b] = d
        m[b, a] = d
        return m

    def reconstructed_dense(self, order: np.ndarray | None = None, *,
                            max_nodes: int = DENSE_LIMIT) -> np.ndarray:
        """The reconstructed adjacency Â as a dense (n, n) array; small graphs only.

        ``order`` (optional) is a permutation of node indices giving the row/column order (e.g.
        nodes sorted by supernode). Raises DataError above ``max_nodes`` nodes.
        """
        n = self.supernode_of.size
        if n > max_nodes:
            raise DataError(f"The graph has {n} nodes; a dense {n}×{n} reconstruction is too large "
                            f"(limit {max_nodes}). Use block_matrix() for a picture instead.")
        sn = self.supernode_of if order is None else self.supernode_of[np.asarray(order)]
        m = self.block_matrix(max_side=max(self.n_supernodes, 1))[np.ix_(sn, sn)]
        np.fill_diagonal(m, 0.0)
        return m

    # ------------------------------------------------------------------ errors
    def errors_from_edges(self, edges: np.ndarray) -> tuple[float, float]:
        """(RE1, RE2) recomputed from the input edges, in closed form per block.

        ``edges``: (E, 2) node indices 0..n−1 (undirected, each edge once). Counts the edges of
        every block from scratch, so it checks ``weights`` instead of trusting them.
        """
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        n, s = self.supernode_of.size, max(self.n_supernodes, 1)
        if edges.size and (edges.min() < 0 or edges.max() >= n):
            raise DataError(f"Edges refer to nodes outside 0..{n - 1}.")
        sa, sb = self.supernode_of[edges[:, 0]], self.supernode_of[edges[:, 1]]
        keys = np.minimum(sa, sb) * s + np.maximum(sa, sb)
        ukeys, counts = np.unique(keys, return_counts=True)
        e_true = np.zeros(self.n_superedges, np.int64)
        if ukeys.size:
            i = np.minimum(np.searchsorted(ukeys, self._keys), ukeys.size - 1)
            e_true = np.where(ukeys[i] == self._keys, counts[i], 0)
        pairs = self.pairs(self.superedges[:, 0], self.superedges[:, 1])
        return _errors(n, edges.shape[0], e_true, self.weights, pairs)

    # ------------------------------------------------------------------ conversions
    def to_networkx(self):
        """The summary graph: one node per supernode (attrs ``size``, ``members``: original ids),
        one edge per superedge (attrs ``weight``: input edges in the block, ``density``); a
        superedge inside a supernode is a self loop."""
        import networkx as nx

        g = nx.Graph()
        order = np.argsort(self.supernode_of, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(self._sizes)])
        for s in range(self.n_supernodes):
            ids = self.node_ids[order[bounds[s]:bounds[s + 1]]]
            g.add_node(s, size=int(self._sizes[s]), members=ids.tolist())
        for (a, b), w, d in zip(self.superedges.tolist(), self.weights.tolist(), self.densities.tolist()):
            g.add_edge(a, b, weight=int(w), density=float(d))
        return g

    def to_text(self) -> str:
        """The authors' output format (``summary_<name>.txt`` of the SSumM release).

        ``<Subnode of each supernode>``, then ``supernode<TAB>member<TAB>member...`` per supernode
        (original ids), then ``<Superedge info>``, then ``A<TAB>B<TAB>weight`` per superedge.
        """
        order = np.argsort(self.supernode_of, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(self._sizes)])
        ids = [str(x) for x in self.node_ids[order].tolist()]
        lines = ["<Subnode of each supernode>"]
        for s in range(self.n_supernodes):
            lines.append("\t".join([str(s), *ids[bounds[s]:bounds[s + 1]]]))
        lines.append("<Superedge info>")
        lines.extend(f"{a}\t{b}\t{w}" for (a, b), w in zip(self.superedges.tolist(), self.weights.tolist()))
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str, edges: np.ndarray | None = None, *, ratio: float = float("nan"),
                  error: str = "") -> "Summary":
        """Read a summary written in the authors' format (ours or the SSumM release's).

        ``edges``: the input graph's edges as (E, 2) *original ids* (the ids the text lists as
        members). With them, |E|, the input size and RE1/RE2 are recomputed exactly; without them
        those are unknown (``n_edges`` = −1, errors NaN). ``size_bits`` uses the largest weight
        in the file as ω_max (the authors' running maximum is not in the file).
        """
        lines = [ln.rstrip("\r") for ln in text.splitlines()]
        try:
            i_nodes = lines.index("<Subnode of each supernode>")
            i_edges = lines.index("<Superedge info>")
        except ValueError:
            raise DataError("Not an SSumM summary: expected the lines '<Subnode of each supernode>' "
                            "and '<Superedge info>'.") from None
        label_of: dict[str, int] = {}
        member_tokens: list[str] = []
        member_sn: list[int] = []
        for ln in lines[i_nodes + 1:i_edges]:
            parts = ln.split()
            if not parts:
                continue
            if parts[0] in label_of:
                raise DataError(f"Supernode {parts[0]} is listed twice in the summary.")
            label_of[parts[0]] = len(label_of)
            member_tokens.extend(parts[1:])
            member_sn.extend([label_of[parts[0]]] * (len(parts) - 1))
        tokens = np.array(member_tokens)
        try:
            node_ids = tokens.astype(np.int64)
        except ValueError:
            node_ids = tokens
        if np.unique(node_ids).size != node_ids.size:
            raise DataError("A node is listed in more than one supernode.")
        order = np.argsort(node_ids, kind="stable")
        node_ids = node_ids[order]
        supernode_of = np.asarray(member_sn, dtype=np.int64)[order]
        sedges, weights = [], []
        for ln in lines[i_edges + 1:]:
            parts = ln.split()
            if not parts:
                continue
            if len(parts) < 3 or parts[0] not in label_of or parts[1] not in label_of:
                raise DataError(f"Bad superedge line {ln!r}: expected 'A<TAB>B<TAB>weight' with known supernodes.")
            a, b = label_of[parts[0]], label_of[parts[1]]
            sedges.append((min(a, b), max(a, b)))
            weights.append(int(parts[2]))
        idx_edges = None
        if edges is not None:
            e = np.asarray(edges).reshape(-1, 2)
            pos = np.searchsorted(node_ids, e.ravel())
            pos = np.minimum(pos, node_ids.size - 1)
            if not np.all(node_ids[pos] == e.ravel()):
                raise DataError("Some edges refer to nodes that are not in the summary.")
            idx_edges = pos.reshape(-1, 2)
        return cls.from_blocks(supernode_of, sedges, weights, node_ids=node_ids,
                               n_edges=-1 if idx_edges is None else idx_edges.shape[0],
                               edges=idx_edges, ratio=ratio, error=error)

    @classmethod
    def from_blocks(cls, supernode_of, superedges, weights, *, node_ids=None, n_edges: int,
                    edges: np.ndarray | None = None, omega_max: int | None = None,
                    target_bits: float = float("nan"), ratio: float = float("nan"),
                    error: str = "") -> "Summary":
        """Build a summary from a partition and superedges; sizes and errors are derived.

        Errors need either ``edges`` (node indices, recounted per block) or weights that are the
        true block counts (then the closed form uses them); ``n_edges`` = −1 means unknown (NaN).
        """
        supernode_of = np.asarray(supernode_of, dtype=np.int64)
        n = supernode_of.size
        weights = np.asarray(weights, dtype=np.int64).reshape(-1)
        if node_ids is None:
            node_ids = np.arange(n)
        w_max = int(weights.max()) if weights.size else 1
        omega = max(w_max, 1) if omega_max is None else omega_max
        s_count = int(supernode_of.max()) + 1 if n else 0
        size = summary_size_bits(n, s_count, weights.size, omega)
        inp = input_size_bits(n, n_edges) if n_edges >= 0 else float("nan")
        out = cls(node_ids=node_ids, supernode_of=supernode_of, superedges=np.asarray(superedges).reshape(-1, 2),
                  weights=weights, n_nodes=n, n_edges=n_edges, size_bits=size, input_bits=inp,
                  target_bits=target_bits, ratio=ratio, error=error, re1=float("nan"),
                  re2=float("nan"), omega_max=omega)
        if edges is not None:
            out.re1, out.re2 = out.errors_from_edges(edges)
        elif n_edges >= 0:
            pairs = out.pairs(out.superedges[:, 0], out.superedges[:, 1])
            out.re1, out.re2 = _errors(n, n_edges, out.weights, out.weights, pairs)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The scalar figures as a JSON-serialisable dict (no arrays)."""
        return {"n_nodes": self.n_nodes, "n_edges": self.n_edges, "n_supernodes": self.n_supernodes,
                "n_superedges": self.n_superedges, "size_bits": self.size_bits,
                "input_bits": self.input_bits, "target_bits": self.target_bits,
                "size_ratio": self.size_ratio, "ratio": self.ratio, "error": self.error,
                "re1": self.re1, "re2": self.re2, "omega_max": self.omega_max,
                "iterations": len(self.history), "seconds": self.seconds}

    def __repr__(self) -> str:
        return (f"Summary(|V|={self.n_nodes}, |E|={self.n_edges}, |S|={self.n_supernodes}, "
                f"|P|={self.n_superedges}, size={self.size_bits:.1f}/{self.input_bits:.1f} bits, "
                f"RE1={self.re1:.4g}, RE2={self.re2:.4g})")
