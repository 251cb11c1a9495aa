"""Graph summarisation as compression, on Zachary's karate club (lesson 8).

Calls the lab's SSumM (:func:`engine.graphs.ssumm.ssumm`, Lee et al. KDD 2020) and lays out what
a lesson draws: the input graph node by node, the summary supernode by supernode (each at the mean
position of its members), the bits of both, and the trade-off between the budget and the
reconstruction error over a range of budgets (the MDL view: fewer bits, more error).
"""
from __future__ import annotations

import networkx as nx
import numpy as np

from engine.graphs.ssumm import ssumm

RATIOS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def karate_layout(seed: int = 3) -> tuple[nx.Graph, np.ndarray]:
    """The karate club graph (34 members, 78 ties) and a fixed spring layout, (34, 2)."""
    G = nx.karate_club_graph()
    pos = nx.spring_layout(G, seed=seed)
    return G, np.array([pos[v] for v in G.nodes])


def summarize_karate(ratio: float = 0.4, *, error: str = "l1", seed: int = 0) -> dict:
    """SSumM of the karate club within ``ratio`` of its bits; what lesson 8 draws.

    >>> r = summarize_karate(0.5, seed=0)
    >>> bool(r["input_bits"] == 2 * 78 * np.log2(34)), r["size_bits"] <= r["target_bits"], r["n_supernodes"]
    (True, True, 17)
    """
    G, xy = karate_layout()
    s = ssumm(G, ratio=ratio, error=error, seed=seed)
    centres = np.array([xy[s.supernode_of == k].mean(axis=0) for k in range(s.n_supernodes)])
    return {
        "xy": xy, "edges": np.array(list(G.edges)), "supernode_of": s.supernode_of,
        "club": [G.nodes[v]["club"] for v in G.nodes],
        "centres": centres, "sizes": s.supernode_sizes, "superedges": s.superedges, "weights": s.weights,
        "densities": s.densities, "n_supernodes": s.n_supernodes, "n_superedges": s.n_superedges,
        "input_bits": s.input_bits, "size_bits": s.size_bits, "target_bits": s.target_bits,
        "re1": s.re1, "re2": s.re2, "ratio": s.ratio, "omega_max": s.omega_max,
    }


def tradeoff(*, error: str = "l1", seed: int = 0, ratios: tuple[float, ...] = RATIOS) -> dict:
    """Summary bits and RE1 of SSumM at each budget ratio (milliseconds each on 34 nodes)."""
    G, _ = karate_layout()
    rows = [ssumm(G, ratio=r, error=error, seed=seed) for r in ratios]
    return {"ratio": list(ratios), "size_bits": [s.size_bits for s in rows], "re1": [s.re1 for s in rows],
            "supernodes": [s.n_supernodes for s in rows], "input_bits": rows[0].input_bits}
