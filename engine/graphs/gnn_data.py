"""Labelled graphs with node features for learning: Planetoid citation graphs and built-in ones.

A *node-classification graph* (:class:`NodeData`) is an undirected edge list plus, per node, a
feature vector, a class label (``-1`` = unlabelled) and a train / validation / test split. Sources
(strings stored in a run's config, so a worker rebuilds the same data):

- ``generator:csbm?blocks=4&size=100&p_in=0.05&p_out=0.005&features=100&signal=0.07&seed=0`` —
  a *contextual* stochastic block model: SBM edges (dense inside a block) and binary bag-of-words
  features whose class-specific "topic words" are more frequent (``signal`` = extra probability).
  The built-in default: no file needed, learns in a second.
- ``builtin:karate`` — Zachary's karate club, the club each member joined as label, one-hot
  identity features (as in Kipf & Welling's karate demo).
- ``benchmark:cora`` / ``benchmark:citeseer`` — the Planetoid files in the shared data folder
  (edges, labels, ``features.npz``, ``split.json``: 20 labelled nodes per class, 500 val, 1,000 test;
  Yang, Cohen & Salakhutdinov, ICML 2016).
- ``path:/edges.txt`` with a labels file (``node<TAB>label``) and optionally a features ``.npz``.

>>> d = load_node_data("generator:csbm?blocks=2&size=30&features=20&seed=1")
>>> d.n_nodes, d.features.shape, sorted(set(d.labels.tolist())), len(d.train), d.n_classes
(60, (60, 20), [0, 1], 20, 2)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import scipy.sparse as sp

from engine.errors import ConfigError, DataError
from engine.graphs.generators import benchmark_dir

PLANETOID = {"cora": ("Cora citations", "McCallum et al. 2000; Planetoid split (Yang et al. 2016)"),
             "citeseer": ("CiteSeer citations", "Giles et al. 1998; Planetoid split (Yang et al. 2016)")}

# name -> (default, low, high, integer)
CSBM_PARAMS: dict[str, tuple[float, float, float, bool]] = {
    "blocks": (4, 2, 20, True), "size": (100, 5, 2000, True), "p_in": (0.05, 0.0, 1.0, False),
    "p_out": (0.005, 0.0, 1.0, False), "features": (100, 2, 2000, True), "signal": (0.07, 0.0, 1.0, False),
    "seed": (0, 0, 2**31 - 1, True),
}


@dataclass
class NodeData:
    """A graph for node classification.

    ``edges`` (E, 2) int64 with ``u < v``, unique; ``features`` (n, f) float32, rows in node order
    (``None`` when the graph has none: FastRP still works, a GCN does not); ``labels`` (n,) int64,
    ``-1`` = unlabelled; ``train``/``val``/``test`` int64 node indices (labelled nodes only).
    """

    name: str
    edges: np.ndarray
    n_nodes: int
    features: np.ndarray | None
    labels: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    notes: list[str] = field(default_factory=list)
    citation: str = ""

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1 if self.labels.size else 0

    @property
    def degrees(self) -> np.ndarray:
        return np.bincount(self.edges.ravel(), minlength=self.n_nodes)

    @property
    def isolated(self) -> int:
        """Nodes without any edge."""
        return int((self.degrees == 0).sum())


def _unique_edges(pairs: np.ndarray, n: int) -> np.ndarray:
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    a, b = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    key = np.unique(a * np.int64(n) + b)
    return np.stack([key // n, key % n], axis=1).astype(np.int64)


def planetoid_like_split(labels: np.ndarray, *, per_class: int = 20, val: int = 500, test: int = 1000,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planetoid-style split of labelled nodes: ``per_class`` per class for training (at most a third
    of the class), then ``val`` and ``test`` nodes at random, each capped at half of what is left.

    >>> tr, va, te = planetoid_like_split(np.array([0] * 30 + [1] * 30), per_class=5)
    >>> len(tr), len(va), len(te), len(set(tr) | set(va) | set(te))
    (10, 25, 25, 60)
    """
    rng = np.random.default_rng(seed)
    labelled = np.flatnonzero(labels >= 0)
    train = []
    for c in np.unique(labels[labelled]):
        members = rng.permutation(labelled[labels[labelled] == c])
        train.extend(members[:max(1, min(per_class, len(members) // 3))].tolist())
    train = np.sort(np.asarray(train, dtype=np.int64))
    rest = rng.permutation(np.setdiff1d(labelled, train))
    n_val = min(val, len(rest) // 2)
    n_test = min(test, len(rest) - n_val)
    return train, np.sort(rest[:n_val]), np.sort(rest[n_val:n_val + n_test])


def csbm(*, blocks: int = 4, size: int = 100, p_in: float = 0.05, p_out: float = 0.005, features: int = 100,
         signal: float = 0.07, seed: int = 0) -> NodeData:
    """Contextual SBM: SBM edges and binary features, each class with its own topic words.

    Each of ``features`` words belongs to one class's topic (round robin); a node has a word with
    probability 0.03, or ``0.03 + signal`` when the word belongs to its class's topic.
    """
    import networkx as nx

    P = np.full((blocks, blocks), p_out)
    np.fill_diagonal(P, p_in)
    G = nx.stochastic_block_model([size] * blocks, P.tolist(), seed=seed)
    n = blocks * size
    labels = np.repeat(np.arange(blocks), size).astype(np.int64)
    rng = np.random.default_rng(seed + 1)
    topic = np.arange(features) % blocks  # the class each word belongs to
    prob = 0.03 + signal * (labels[:, None] == topic[None, :])
    X = (rng.random((n, features)) < prob).astype(np.float32)
    edges = _unique_edges(np.array(list(G.edges()), dtype=np.int64).reshape(-1, 2), n)
    tr, va, te = planetoid_like_split(labels, seed=seed)
    return NodeData("Contextual SBM", edges, n, X, labels, tr, va, te,
                    citation="generated: networkx stochastic_block_model + class-dependent binary features")


def karate() -> NodeData:
    """Zachary's karate club: club after the split as label, one-hot identity features."""
    import networkx as nx

    G = nx.karate_club_graph()
    labels = np.array([0 if G.nodes[i]["club"] == "Mr. Hi" else 1 for i in G.nodes], dtype=np.int64)
    edges = _unique_edges(np.array(list(G.edges()), dtype=np.int64), G.number_of_nodes())
    tr, va, te = planetoid_like_split(labels, per_class=2, seed=0)
    return NodeData("Zachary's karate club", edges, G.number_of_nodes(), np.eye(34, dtype=np.float32), labels,
                    tr, va, te, citation="Zachary 1977 (networkx)")


def _read_labels(path: Path, node_ids: np.ndarray | None) -> np.ndarray:
    """Labels (``node<TAB>label`` lines) in the order of ``node_ids``; DataError when they do not match."""
    try:
        table = np.loadtxt(path, dtype=np.int64, ndmin=2)
    except (OSError, ValueError) as err:
        raise DataError(f"The label file {path.name} must hold one 'node<TAB>label' pair of whole numbers "
                        f"per line ({err}).") from None
    if table.shape[1] < 2:
        raise DataError(f"The label file {path.name} needs two columns: node id and label.")
    lookup = dict(zip(table[:, 0].tolist(), table[:, 1].tolist()))
    if node_ids is None:
        return table[np.argsort(table[:, 0]), 1]
    missing = [int(i) for i in node_ids if int(i) not in lookup]
    unknown = len(set(lookup) - set(int(i) for i in node_ids))
    if missing or unknown:
        raise DataError(f"The label file {path.name} does not match the graph's nodes: {len(missing)} node(s) "
                        f"of the graph have no label (e.g. {missing[:3]}) and {unknown} label(s) name nodes "
                        "that are not in the graph. Give one label per node (use -1 for unlabelled).")
    return np.array([lookup[int(i)] for i in node_ids], dtype=np.int64)


def _row_normalise(X: np.ndarray) -> np.ndarray:
    s = X.sum(axis=1, keepdims=True)
    return np.divide(X, s, out=np.zeros_like(X), where=s > 0)


def load_planetoid(name: str, folder: Path | None = None) -> NodeData:
    """Cora or CiteSeer from the Planetoid files (all nodes kept, isolated ones included).

    Test nodes without a label (CiteSeer: 15, label -1) are left out of the test set.
    """
    folder = folder or benchmark_dir()
    if folder is None or not (folder / f"{name}.edges.txt").is_file():
        raise DataError(f"{PLANETOID.get(name, (name,))[0]} is not available: the shared data folder "
                        "(SPARSITY_LAB_DATA, else ../shared/data) has no graphs/"
                        f"{name}.edges.txt.")
    feats = sp.load_npz(folder / f"{name}.features.npz")
    n = feats.shape[0]
    labels = _read_labels(folder / f"{name}.labels.txt", np.arange(n))
    pairs = np.loadtxt(folder / f"{name}.edges.txt", dtype=np.int64, ndmin=2)
    edges = _unique_edges(pairs, n)
    split = json.loads((folder / f"{name}.split.json").read_text())
    tr, va, te = (np.asarray(split[k], dtype=np.int64) for k in ("train", "val", "test"))
    notes = []
    unlabelled = int((labels[te] < 0).sum())
    if unlabelled:
        notes.append(f"{unlabelled} test nodes have no label (-1) and are left out of the test accuracy.")
        te = te[labels[te] >= 0]
    data = NodeData(PLANETOID[name][0], edges, n, np.asarray(feats.todense(), dtype=np.float32), labels,
                    tr, va, te, notes, citation=PLANETOID[name][1])
    return data


def load_path(edges_path: str, labels_path: str, features_path: str = "") -> NodeData:
    """A user's edge list with a label file (and optionally a features ``.npz``, rows in sorted id order)."""
    from engine.graphs.io import read_edge_list

    g = read_edge_list(Path(edges_path))
    if not labels_path:
        raise DataError("This graph has no labels: give a label file (node<TAB>label per line) to learn on it.")
    if g.node_ids.dtype.kind not in "iu":
        raise DataError("Node ids must be whole numbers to be matched with a label file.")
    labels = _read_labels(Path(labels_path), g.node_ids)
    X = None
    if features_path:
        try:
            X = np.asarray(sp.load_npz(features_path).todense(), dtype=np.float32)
        except (OSError, ValueError) as err:
            raise DataError(f"Cannot read the features file as a scipy sparse .npz ({err}).") from None
        if X.shape[0] != g.n_nodes:
            raise DataError(f"The features file has {X.shape[0]} rows but the graph has {g.n_nodes} nodes.")
    tr, va, te = planetoid_like_split(labels)
    return NodeData(Path(edges_path).name, g.edges, g.n_nodes, X, labels, tr, va, te, list(g.notes))


def csbm_params(params: dict[str, str]) -> dict[str, float]:
    unknown = sorted(set(params) - set(CSBM_PARAMS))
    if unknown:
        raise ConfigError(f"Unknown parameter(s) for the contextual SBM: {', '.join(unknown)}.")
    out: dict[str, float] = {}
    for k, (default, lo, hi, integer) in CSBM_PARAMS.items():
        try:
            x = float(params.get(k, default))
        except ValueError:
            raise ConfigError(f"Contextual SBM: {k} must be a number, got {params[k]!r}.") from None
        if not lo <= x <= hi or (integer and x != int(x)):
            raise ConfigError(f"Contextual SBM: {k} must be {'a whole number ' if integer else ''}"
                              f"between {lo:g} and {hi:g}, got {x:g}.")
        out[k] = int(x) if integer else x
    return out


def check_node_source(source: str) -> None:
    """ConfigError when a node-data source string is malformed (without building the data)."""
    kind, _, rest = source.partition(":")
    name, _, query = rest.partition("?")
    if kind == "generator" and name == "csbm":
        csbm_params(dict(parse_qsl(query)))
    elif kind == "builtin" and name == "karate":
        pass
    elif kind == "benchmark" and name in PLANETOID:
        pass
    elif kind == "path" and rest:
        pass
    else:
        raise ConfigError(f"Graph '{source}' cannot be learned on: use generator:csbm, builtin:karate, "
                          "benchmark:cora, benchmark:citeseer or path:<edge list> with a label file.")


@lru_cache(maxsize=8)
def load_node_data(source: str, labels: str = "", features: str = "") -> NodeData:
    """Build or read the labelled graph named by ``source`` (cached: do not modify the result)."""
    check_node_source(source)
    kind, _, rest = source.partition(":")
    name, _, query = rest.partition("?")
    if kind == "generator":
        return csbm(**csbm_params(dict(parse_qsl(query))))
    if kind == "builtin":
        return karate()
    if kind == "benchmark":
        return load_planetoid(name)
    return load_path(rest, labels, features)


def available_planetoid() -> dict[str, str]:
    """Planetoid graphs present in the shared data folder: name -> title."""
    folder = benchmark_dir()
    if folder is None:
        return {}
    return {k: t for k, (t, _) in PLANETOID.items() if (folder / f"{k}.features.npz").is_file()}


def describe_node_source(source: str) -> str:
    kind, _, rest = source.partition(":")
    name = rest.partition("?")[0]
    if kind == "benchmark":
        return PLANETOID.get(name, (name,))[0]
    if kind == "builtin":
        return "Zachary's karate club"
    if kind == "generator":
        return "Contextual SBM"
    return Path(rest).name
