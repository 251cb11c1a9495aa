"""Experiments "sparse graphs for learning": a GCN on a sparsified graph, a sweep of them, FastRP.

- kind ``gnn``: one sparsifier (``none`` = dense, ``random``, ``teddy``, ``ugs``, ``freedom``) at a
  graph sparsity (share of edges removed) and a weight sparsity (share of GCN weights zeroed);
  reports per epoch ``train_loss``, ``val_loss``, ``val_accuracy``, ``test_accuracy`` (TEDDY's
  dense teacher as ``teacher_*``; UGS per round ``round_graph_sparsity``, ``round_weight_sparsity``,
  ``round_test_accuracy``), snapshots ``kept`` (0/1 per edge; per round for UGS), ``edge_score``,
  ``degrees``, and for graphs up to 2,000 nodes ``edges`` and ``labels`` for drawing. Result keys:
  ``test_accuracy``, ``graph_sparsity``, ``weight_sparsity`` (reached), ``test_accuracy_best_val``, …
- kind ``gnn-sweep``: sparsifiers × (graph, weight) sparsity levels × seeds, one metric row each.
- kind ``fastrp``: FastRP embeddings + logistic regression: ``micro_f1``, ``macro_f1``, timings,
  optionally the spectral-embedding comparison; snapshot ``embedding_2d`` (PCA) and ``labels``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from engine.config import Config, require
from engine.errors import ConfigError
from engine.graphs import sparsify as spf
from engine.graphs.gnn_data import NodeData, check_node_source, describe_node_source, load_node_data

SPARSIFIERS = ("none", "random", "teddy", "ugs", "freedom")
SPARSIFIER_TITLES = {
    "none": "Dense (no sparsification)",
    "random": "Random edges + random weights",
    "teddy": "TEDDY (degree score, ℓ0 PGD, distillation)",
    "ugs": "UGS (iterative joint masks)",
    "freedom": "FREEDOM degree-sensitive sampling (outside recommendation) + ℓ0 PGD",
}
DRAW_MAX_NODES = 2_000


def _fraction(x, what: str, *, upper_open: bool = True) -> None:
    ok = isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and 0 <= x < 1
    require(ok, f"The {what} must be a fraction from 0 up to (not including) 1, got {x!r}.")


def _seed(seed) -> None:
    require(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0,
            f"seed must be a non-negative whole number, got {seed!r}.")


def load_checked(graph: str, labels: str = "", features: str = "", *, need_features: bool = True) -> NodeData:
    """The labelled graph of a config, or ConfigError/DataError saying why it cannot be learned on."""
    require(isinstance(graph, str) and graph != "", "Pick a graph to learn on.")
    check_node_source(graph)
    data = load_node_data(graph, labels, features)
    if data.n_edges == 0:
        raise ConfigError(f"{data.name} has no edges: there is nothing to sparsify or propagate over.")
    if need_features and data.features is None:
        raise ConfigError(f"{data.name} has no node features: a GCN needs a feature vector per node "
                          "(give a features .npz, or use FastRP, which needs none).")
    if data.n_classes < 2 or len(data.train) == 0 or len(data.test) == 0:
        raise ConfigError(f"{data.name} needs labels of at least two classes, with nodes to train and to test on.")
    return data


def data_notes(data: NodeData) -> list[str]:
    """Plain sentences about the graph a user should know before a run (isolated nodes, components)."""
    notes = list(data.notes)
    iso = data.isolated
    if iso:
        notes.append(f"{iso} isolated node{'s' * (iso != 1)} (no edge): the GCN sees only their own features "
                     "(self loop), FastRP gives them a zero embedding, and no sparsifier can touch them.")
    return notes


@dataclass(frozen=True)
class GNNConfig(Config):
    graph: str = "generator:csbm"  # see engine.graphs.gnn_data
    labels: str = ""  # label file for path: graphs
    features: str = ""  # features .npz for path: graphs
    sparsifier: str = "teddy"
    graph_sparsity: float = 0.5  # share of edges removed
    weight_sparsity: float = 0.5  # share of GCN weights zeroed
    seed: int = 0
    hidden: int = 16
    dropout: float = 0.5
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200
    patience: int = 10  # early-stopping window on val loss (Kipf & Welling); 0 = off
    distill: float = 10.0  # TEDDY's λ (authors' README example)

    def validate(self) -> None:
        require(self.sparsifier in SPARSIFIERS,
                f"sparsifier must be one of {', '.join(SPARSIFIERS)}, got {self.sparsifier!r}.")
        _fraction(self.graph_sparsity, "graph sparsity")
        _fraction(self.weight_sparsity, "weight sparsity")
        _seed(self.seed)
        require(isinstance(self.hidden, int) and 1 <= self.hidden <= 1024, "hidden must be 1 … 1024 units.")
        require(isinstance(self.epochs, int) and 1 <= self.epochs <= 2000, "epochs must be 1 … 2000.")
        require(isinstance(self.patience, int) and 0 <= self.patience <= 1000, "patience must be 0 … 1000.")
        require(0 <= self.dropout < 1, "dropout must be in [0, 1).")
        require(self.lr > 0 and self.weight_decay >= 0 and self.distill >= 0,
                "lr must be positive; weight decay and distillation weight non-negative.")
        data = load_checked(self.graph, self.labels, self.features)
        if self.sparsifier != "none" and spf.kept_count(data.n_edges, self.graph_sparsity) == 0:
            raise ConfigError(f"A graph sparsity of {self.graph_sparsity:g} would remove every one of the "
                              f"{data.n_edges} edges; choose a smaller one.")


@dataclass(frozen=True)
class GNNSweepConfig(Config):
    graph: str = "generator:csbm"
    labels: str = ""
    features: str = ""
    sparsifiers: tuple[str, ...] = ("teddy", "random")
    graph_sparsities: tuple[float, ...] = (0.2, 0.5, 0.8)
    weight_sparsities: tuple[float, ...] = (0.2, 0.5, 0.8)  # paired with graph_sparsities
    seeds: tuple[int, ...] = (0, 1)
    epochs: int = 200
    distill: float = 10.0

    def validate(self) -> None:
        require(len(self.sparsifiers) >= 1 and all(s in SPARSIFIERS for s in self.sparsifiers),
                f"sparsifiers must be among {', '.join(SPARSIFIERS)}.")
        require(len(self.graph_sparsities) >= 1 and len(self.graph_sparsities) == len(self.weight_sparsities),
                "Give as many weight sparsities as graph sparsities (they are paired).")
        require(1 <= len(self.seeds) <= 20, "Give 1 … 20 seeds.")
        require(len(self.sparsifiers) * len(self.graph_sparsities) * len(self.seeds) <= 200,
                "At most 200 runs in one sweep.")
        for gs, ws in zip(self.graph_sparsities, self.weight_sparsities):
            _fraction(gs, "graph sparsity")
            _fraction(ws, "weight sparsity")
        for s in self.seeds:
            _seed(s)
        require(isinstance(self.epochs, int) and 1 <= self.epochs <= 2000, "epochs must be 1 … 2000.")
        data = load_checked(self.graph, self.labels, self.features)
        if spf.kept_count(data.n_edges, max(self.graph_sparsities)) == 0:
            raise ConfigError(f"A graph sparsity of {max(self.graph_sparsities):g} would remove every edge.")


@dataclass(frozen=True)
class FastRPConfig(Config):
    graph: str = "generator:csbm"
    labels: str = ""
    dim: int = 128
    weights: tuple[float, ...] = (0.0, 0.0, 1.0, 2.0)  # α_1..α_k
    beta: float = 0.5  # degree normalisation exponent
    seed: int = 0
    compare_spectral: bool = False

    def validate(self) -> None:
        require(isinstance(self.dim, int) and 2 <= self.dim <= 1024, "dim must be a whole number 2 … 1024.")
        require(1 <= len(self.weights) <= 10 and any(w != 0 for w in self.weights),
                "Give 1 … 10 weights α_i, not all zero.")
        require(isinstance(self.beta, (int, float)) and -2 <= self.beta <= 2, "β must be between -2 and 2.")
        _seed(self.seed)
        load_checked(self.graph, self.labels, need_features=False)


# ---------------------------------------------------------------- runs


def _settings(c):
    from engine.graphs.gnn import GCNSettings

    return GCNSettings(hidden=getattr(c, "hidden", 16), dropout=getattr(c, "dropout", 0.5), lr=getattr(c, "lr", 0.01),
                       weight_decay=getattr(c, "weight_decay", 5e-4), epochs=c.epochs, patience=getattr(c, "patience", 10))


def _total_steps(config: GNNConfig) -> int:
    if config.sparsifier == "teddy":
        return 2 * config.epochs
    if config.sparsifier == "ugs":
        from engine.graphs.gnn import ugs_schedule

        return (len(ugs_schedule(config.graph_sparsity, config.weight_sparsity)) + 1) * config.epochs
    return config.epochs


def run_gnn(config: GNNConfig, reporter) -> dict:
    """Sparsify the graph (and the GCN's weights), train, report live."""
    from engine.graphs.gnn import train_dense, train_oneshot, train_teddy, train_ugs

    data = load_checked(config.graph, config.labels, config.features)
    reporter.log(f"{data.name}: {data.n_nodes} nodes, {data.n_edges} edges, {data.n_classes} classes, "
                 f"{len(data.train)}/{len(data.val)}/{len(data.test)} train/val/test nodes.")
    notes = data_notes(data)
    for note in notes:
        reporter.log(note)
    total = _total_steps(config)
    reporter.progress(0, total)
    drawable = data.n_nodes <= DRAW_MAX_NODES
    degrees = data.degrees.astype(np.int32)
    reporter.snapshot("degrees", degrees, 0, force=True)
    if drawable:
        reporter.snapshot("edges", data.edges.astype(np.int32), 0, force=True)
        reporter.snapshot("labels", data.labels.astype(np.int32), 0, force=True)

    def on_epoch(step: int, row: dict) -> None:
        for k, v in row.items():
            if k not in ("epoch", "teacher_epoch"):
                reporter.metric(k, float(v), step)
        reporter.progress(min(step, total), total)

    def on_round(r: int, info: dict, kept_mask: np.ndarray) -> None:
        reporter.metric("round_graph_sparsity", float(info["graph_sparsity"]), r)
        reporter.metric("round_weight_sparsity", float(info["weight_sparsity"]), r)
        reporter.metric("round_test_accuracy", float(info["mask_test_accuracy"]), r)
        reporter.snapshot("kept", kept_mask.astype(np.uint8), r, force=True)
        reporter.log(f"UGS round {r}: graph sparsity {info['graph_sparsity']:.3f}, weight sparsity "
                     f"{info['weight_sparsity']:.3f}.")

    # one-shot sparsifiers: show the kept edges before training starts
    if config.sparsifier in ("teddy", "random", "freedom"):
        kept0 = spf.sparsify_edges(config.sparsifier, data.edges, data.n_nodes, config.graph_sparsity, seed=config.seed)
        mask = np.zeros(data.n_edges, dtype=np.uint8)
        mask[kept0] = 1
        reporter.snapshot("kept", mask, 0, force=True)
    settings = _settings(config)
    common = dict(seed=config.seed, settings=settings, on_epoch=on_epoch, should_stop=reporter.should_stop)
    t0 = time.perf_counter()
    if config.sparsifier == "none":
        ticket = train_dense(data, **common)
    elif config.sparsifier == "teddy":
        ticket = train_teddy(data, config.graph_sparsity, config.weight_sparsity, distill=config.distill, **common)
    elif config.sparsifier == "ugs":
        ticket = train_ugs(data, config.graph_sparsity, config.weight_sparsity, on_round=on_round, **common)
    else:
        ticket = train_oneshot(data, config.sparsifier, config.graph_sparsity, config.weight_sparsity, **common)
    seconds = time.perf_counter() - t0
    mask = np.zeros(data.n_edges, dtype=np.uint8)
    mask[ticket.kept] = 1
    step = max(total, 1)
    reporter.snapshot("kept", mask, step, force=True)
    if ticket.edge_scores is not None:
        reporter.snapshot("edge_score", np.asarray(ticket.edge_scores, dtype=np.float32), step, force=True)
    elif config.sparsifier == "random":
        pass
    if ticket.stopped:
        notes.append("Cancelled: the accuracy is that of the model when the run was stopped.")
    reporter.progress(total, total)
    return {
        "graph": data.name, "nodes": data.n_nodes, "edges": data.n_edges, "classes": data.n_classes,
        "sparsifier": config.sparsifier, "test_accuracy": ticket.test_accuracy,
        "test_accuracy_best_val": ticket.test_accuracy_best_val, "val_accuracy": ticket.val_accuracy,
        "graph_sparsity": ticket.graph_sparsity, "weight_sparsity": ticket.weight_sparsity,
        "target_graph_sparsity": 0.0 if config.sparsifier == "none" else config.graph_sparsity,
        "target_weight_sparsity": 0.0 if config.sparsifier == "none" else config.weight_sparsity,
        "kept_edges": int(len(ticket.kept)), "weights_nonzero": ticket.weight_nonzero,
        "weights_total": ticket.weight_total, "epochs": ticket.epochs, "seconds": seconds,
        "rounds": [{k: (float(v) if not isinstance(v, list) else v) for k, v in r.items()} for r in ticket.rounds],
        "drawable": drawable, "stopped_early": ticket.stopped, "notes": notes, "citation": data.citation,
    }


SWEEP_METRICS = ("graph_sparsity", "weight_sparsity", "test_accuracy", "seconds")


def run_gnn_sweep(config: GNNSweepConfig, reporter) -> dict:
    """Every sparsifier at every (graph, weight) sparsity level and seed; one metric row per run."""
    from engine.graphs.gnn import GCNSettings, train_method

    data = load_checked(config.graph, config.labels, config.features)
    notes = data_notes(data)
    jobs = [(m, gs, ws, s) for m in config.sparsifiers for gs, ws in zip(config.graph_sparsities, config.weight_sparsities)
            for s in config.seeds]
    reporter.progress(0, len(jobs))
    rows = []
    settings = GCNSettings(epochs=config.epochs)
    for i, (m, gs, ws, seed) in enumerate(jobs):
        if reporter.should_stop():
            notes.append(f"Cancelled: {len(rows)} of {len(jobs)} runs done.")
            break
        method = "dense" if m == "none" else m
        t = train_method(data, method, gs, ws, seed=seed, settings=settings, distill=config.distill)
        row = {"sparsifier": m, "seed": seed, "target_graph_sparsity": gs, "target_weight_sparsity": ws,
               "graph_sparsity": t.graph_sparsity, "weight_sparsity": t.weight_sparsity,
               "test_accuracy": t.test_accuracy, "seconds": t.seconds}
        rows.append(row)
        for k in SWEEP_METRICS:
            reporter.metric(f"{m}/{k}", float(row[k]), i)
        reporter.log(f"{m} at graph {gs:g} / weights {ws:g}, seed {seed}: test accuracy {t.test_accuracy:.3f}")
        reporter.progress(i + 1, len(jobs))
    return {"graph": data.name, "nodes": data.n_nodes, "edges": data.n_edges, "rows": rows, "notes": notes}


def run_fastrp(config: FastRPConfig, reporter) -> dict:
    """FastRP embeddings, logistic-regression node classification, and optionally a spectral embedding."""
    from engine.graphs.fastrp import classify, fastrp, project_2d, spectral_embedding

    data = load_checked(config.graph, config.labels, need_features=False)
    notes = data_notes(data)
    for note in notes:
        reporter.log(note)
    steps = 3 if config.compare_spectral else 2
    reporter.progress(0, steps)
    t0 = time.perf_counter()
    Z = fastrp(data.edges, data.n_nodes, dim=config.dim, weights=config.weights, beta=config.beta, seed=config.seed)
    embed_s = time.perf_counter() - t0
    reporter.metric("embedding_seconds", embed_s, 0)
    reporter.progress(1, steps)
    c = classify(Z, data.labels, data.train, data.test, seed=config.seed)
    reporter.metric("micro_f1", c.micro_f1, 0)
    reporter.metric("macro_f1", c.macro_f1, 0)
    reporter.snapshot("embedding_2d", project_2d(Z, seed=config.seed), 0, force=True)
    reporter.snapshot("labels", data.labels.astype(np.int32), 0, force=True)
    reporter.progress(2, steps)
    result = {"graph": data.name, "nodes": data.n_nodes, "edges": data.n_edges, "dim": config.dim,
              "micro_f1": c.micro_f1, "macro_f1": c.macro_f1, "embedding_seconds": embed_s,
              "classify_seconds": c.seconds, "notes": notes, "citation": data.citation}
    if config.compare_spectral and not reporter.should_stop():
        t0 = time.perf_counter()
        S = spectral_embedding(data.edges, data.n_nodes, dim=config.dim, seed=config.seed)
        s_s = time.perf_counter() - t0
        cs = classify(S, data.labels, data.train, data.test, seed=config.seed)
        result.update(spectral_micro_f1=cs.micro_f1, spectral_macro_f1=cs.macro_f1, spectral_seconds=s_s)
        reporter.metric("spectral_micro_f1", cs.micro_f1, 1)
        reporter.metric("spectral_macro_f1", cs.macro_f1, 1)
        reporter.metric("spectral_seconds", s_s, 1)
        reporter.progress(3, steps)
    return result


EXPERIMENTS = {
    "gnn": (GNNConfig, run_gnn),
    "gnn-sweep": (GNNSweepConfig, run_gnn_sweep),
    "fastrp": (FastRPConfig, run_fastrp),
}


def describe(config) -> str:
    return describe_node_source(config.graph)
