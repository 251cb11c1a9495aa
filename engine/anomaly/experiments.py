"""The StackVAE-G experiment: load a series, train, score, evaluate every protocol, explain.

``run_stackvaeg(config, reporter) -> dict`` is what the app's job runner and ``python -m engine run
stackvaeg`` call. Importing this module is cheap (no torch): the model is imported inside the run.

Result (JSON-serialisable): data summary and repair notes, parameter count, speed (seconds per
epoch, windows per second, scoring seconds, peak memory), the learned adjacency with a cluster
order, comparison graphs (|correlation| top-k, Lasso), every protocol's metrics for StackVAE-G and
the baselines (random, PCA, Isolation Forest), sensor-vs-system verdicts per labelled segment and,
on synthetic data, how well the learned graph recovers the true one. Large arrays (scores, channel
scores, the scaled test series) go to the ``scores.npz`` artifact.
"""
from __future__ import annotations

import dataclasses
import io
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.anomaly.datasets import Segment, TimeSeriesData, load_csv, load_smap, load_smd, prepared
from engine.config import Config, require
from engine import limits
from engine.limits import bounded
from engine.errors import DataError
from engine.paths import shared_data_dir
from engine.runs.reporter import Reporter

DATA_KINDS = ("synthetic", "smd", "smap", "csv")
MAX_SEGMENTS = 200  # fault verdicts kept in the result


@dataclasses.dataclass(frozen=True)
class StackVAEGConfig(Config):
    """Settings of one StackVAE-G run. Model defaults are the authors' released setting except
    ``epochs`` (released: 256) and ``train_stride`` (released: 1), shortened for interactive use."""

    data: str = "synthetic"  # synthetic | smd | smap | csv
    data_dir: str = ""  # SMD or SMAP folder; "" = the shared benchmark data folder
    machine: str = "machine-1-2"  # SMD machine
    channel: str = "P-1"  # SMAP channel
    csv_path: str = ""
    label_column: str = ""  # "" = autodetect label/anomaly/is_anomaly/attack
    train_fraction: float = 0.5  # CSV: leading share of rows used for training
    n_channels: int = 12  # synthetic
    n_groups: int = 3  # synthetic
    length: int = 1500  # synthetic: rows in train and in test
    n_anomalies: int = 8  # synthetic: injected anomalies (alternately sensor and system faults)
    noise: float = 0.15  # synthetic: noise standard deviation per channel
    window: int = 100
    epochs: int = 30  # released setting: 256
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-3
    lr_decay: float = 0.8  # x0.8 every lr_step epochs
    lr_step: int = 10
    clip_norm: float = 12.0
    hidden: int = 200
    latent: int = 20
    node_dim: int = 30
    k: int = 10  # neighbours kept per row of the adjacency
    alpha: float = 3.0
    gamma: float = 0.5  # neighbour mixing of the latents
    graph_weight: float = 1.0
    node_init_std: float = 1.0  # node-embedding start N(0, std^2); 1 = PyTorch's default, as released
    train_stride: int = 1  # train on every s-th window (1 = released setting)
    variant: str = "released"  # released (the authors' model) | graph (this project's graph-faithful variant)
    baselines: bool = True
    seed: int = 0

    def validate(self) -> None:
        require(self.data in DATA_KINDS, f"data must be one of {', '.join(DATA_KINDS)} (got '{self.data}').")
        require(self.data != "csv" or bool(self.csv_path), "Choose a CSV file (csv_path) for data='csv'.")
        require(2 <= self.n_channels <= 200, "Synthetic data needs 2 to 200 channels.")
        require(2 <= self.n_groups <= self.n_channels, "Synthetic data needs 2 <= groups <= channels.")
        require(self.data != "synthetic" or self.n_groups < self.n_channels,
                f"Synthetic data needs fewer groups than channels (got {self.n_groups} groups for "
                f"{self.n_channels} channels): with one channel per group the true graph has no edge to recover.")
        require(120 <= self.length <= 200_000, "Synthetic length must lie in [120, 200000] rows.")
        require(0 <= self.n_anomalies <= 100, "Synthetic anomalies must lie in [0, 100].")
        require(0 <= self.noise <= 5, "Synthetic noise must lie in [0, 5].")
        require(2 <= self.window <= 2000, f"window must lie in [2, 2000] (got {self.window}).")
        require(1 <= self.epochs <= 2000, f"epochs must lie in [1, 2000] (got {self.epochs}).")
        require(1 <= self.batch_size <= 4096, "batch_size must lie in [1, 4096].")
        require(self.lr > 0 and self.weight_decay >= 0 and 0 < self.lr_decay <= 1 and self.lr_step >= 1,
                "Need lr > 0, weight_decay >= 0, 0 < lr_decay <= 1, lr_step >= 1.")
        require(self.clip_norm > 0, "clip_norm must be > 0.")
        require(min(self.hidden, self.latent, self.node_dim, self.k) >= 1, "Layer sizes and k must be >= 1.")
        require(self.alpha > 0 and 0 <= self.gamma <= 1 and self.graph_weight >= 0,
                "Need alpha > 0, 0 <= gamma <= 1, graph_weight >= 0.")
        require(1 <= self.train_stride <= 1000, "train_stride must lie in [1, 1000].")
        require(0 <= self.node_init_std <= 10, "node_init_std must lie in [0, 10].")
        require(self.variant in ("released", "graph"),
                f"variant must be 'released' or 'graph' (got '{self.variant}').")
        require(0.05 <= self.train_fraction <= 0.95, "train_fraction must lie in [0.05, 0.95].")
        # size bounds (engine/limits.py): a GRU of h units keeps 3 gates of h x h weights
        bounded("hidden", self.hidden, 1, limits.MAX_RECURRENT)
        bounded("latent", self.latent, 1, limits.MAX_EMBED)
        bounded("node_dim", self.node_dim, 1, limits.MAX_EMBED)
        bounded("k", self.k, 1, 1000)

    def model_params(self) -> dict[str, Any]:
        names = ("window", "hidden", "latent", "node_dim", "k", "alpha", "gamma", "graph_weight", "node_init_std",
                 "epochs", "batch_size", "lr", "weight_decay", "lr_decay", "lr_step", "clip_norm",
                 "train_stride", "seed", "variant")
        return {n: getattr(self, n) for n in names}


# ------------------------------------------------------------------------- data
def _folder(cfg: StackVAEGConfig, sub: str) -> Path:
    if cfg.data_dir:
        return Path(cfg.data_dir)
    root = shared_data_dir()
    if root is None or not (root / sub).is_dir():
        raise DataError(f"No {sub} folder found: give its path (data_dir / --{sub.lower()} DIR) or set "
                        "SPARSITY_LAB_DATA to the folder that holds it.")
    return root / sub


def load_data(cfg: StackVAEGConfig) -> TimeSeriesData:
    """The raw series the config names (not yet repaired or scaled)."""
    if cfg.data == "synthetic":
        from engine.anomaly.synthetic import make_synthetic, max_anomalies

        return make_synthetic(n_channels=cfg.n_channels, n_groups=cfg.n_groups, train_length=cfg.length,
                              test_length=cfg.length, n_anomalies=min(cfg.n_anomalies, max_anomalies(cfg.length)),
                              noise=cfg.noise, seed=cfg.seed)
    if cfg.data == "smd":
        return load_smd(_folder(cfg, "SMD"), cfg.machine)
    if cfg.data == "smap":
        return load_smap(_folder(cfg, "SMAP"), cfg.channel)
    path = Path(cfg.csv_path)
    if not path.is_file():
        raise DataError(f"CSV file not found: {path}")
    return load_csv(path, label_column=cfg.label_column or None, train_fraction=cfg.train_fraction,
                    name=f"CSV {path.name}")


# ------------------------------------------------------------------------- display helpers
def cluster_order(adjacency: np.ndarray) -> list[int]:
    """Channel order that puts strongly linked channels next to each other (average-linkage
    clustering of ``1 - sym(|A|) / max``), for heatmaps ordered by learned clusters.

    >>> cluster_order(np.array([[1, 0, .9], [0, 1, 0], [.9, 0, 1.]]))
    [1, 0, 2]
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    a = np.abs(np.asarray(adjacency, dtype=float))
    n = len(a)
    if n < 3:
        return list(range(n))
    s = (a + a.T) / 2
    np.fill_diagonal(s, 0.0)
    d = 1.0 - s / (s.max() if s.max() > 0 else 1.0)
    np.fill_diagonal(d, 0.0)
    return [int(i) for i in leaves_list(linkage(squareform(d, checks=False), method="average"))]


def top_edges(adjacency: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    """The ``k`` strongest off-diagonal neighbours of each channel as (i, j, weight) rows.

    >>> top_edges(np.array([[.5, .5, 0], [.2, .6, .2], [0, .4, .6]]), 1)
    [(0, 1, 0.5), (1, 0, 0.2), (2, 1, 0.4)]
    """
    a = np.asarray(adjacency, dtype=float).copy()
    np.fill_diagonal(a, 0.0)
    out = []
    for i, row in enumerate(a):
        for j in np.argsort(-row, kind="stable")[:k]:
            if row[j] > 0:
                out.append((i, int(j), float(row[j])))
    return out


# ------------------------------------------------------------------------- the run
class TrueGraphTracker:
    """Reporter wrapper for data with a known graph: scores every adjacency snapshot against the
    truth and reports ``graph/auroc`` (AUROC of |A~| vs the true graph) per epoch, epoch 0 being
    the graph before training; ``history`` keeps the (epoch, AUROC) pairs. Everything else is
    passed through unchanged."""

    def __init__(self, inner: Reporter, true_graph: np.ndarray) -> None:
        self.inner, self.true_graph = inner, true_graph
        self.history: list[tuple[int, float]] = []
        self._latest: np.ndarray | None = None

    def snapshot(self, name: str, array: np.ndarray, step: int, *, force: bool = False) -> None:
        if name == "adjacency":
            self._latest = array
            if step == 0 and not self.history:
                self._record(0)
        self.inner.snapshot(name, array, step, force=force)

    def metric(self, name: str, value: float, step: int) -> None:
        self.inner.metric(name, value, step)
        if name == "train/loss":  # once per epoch, right after that epoch's snapshot
            self._record(step)

    def _record(self, epoch: int) -> None:
        from engine.anomaly.interpret import adjacency_auroc

        value = adjacency_auroc(self._latest, self.true_graph) if self._latest is not None else float("nan")
        self.history.append((int(epoch), float(value)))
        self.inner.metric("graph/auroc", value, epoch)

    def progress(self, step: int, total: int) -> None:
        self.inner.progress(step, total)

    def log(self, text: str) -> None:
        self.inner.log(text)

    def artifact(self, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
        self.inner.artifact(name, data, mime)

    def should_stop(self) -> bool:
        return self.inner.should_stop()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def _segments_of(data: TimeSeriesData) -> list[Segment]:
    if data.segments:
        return data.segments
    if data.labels is None:
        return []
    from engine.anomaly.metrics import segments

    return [Segment(a, b) for a, b in segments(data.labels)]


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def run_stackvaeg(cfg: StackVAEGConfig, reporter: Reporter) -> dict[str, Any]:
    """Train StackVAE-G on the configured data and evaluate it with every protocol."""
    from engine.anomaly import baselines, interpret
    from engine.anomaly.metrics import evaluate, pot_threshold
    from engine.anomaly.stackvae_g import StackVAEG

    data = prepared(load_data(cfg), cfg.window)
    n = data.n_channels
    for note in data.notes:
        reporter.log(note)
    reporter.log(f"{data.name}: {len(data.train)} training rows, {len(data.test)} test rows, {n} channels.")
    model = StackVAEG(**cfg.model_params(), snapshot_every=max(1, 5 if n <= 40 else 20))
    tracker = TrueGraphTracker(reporter, data.true_graph) if data.true_graph is not None else None
    t0 = time.perf_counter()
    model.fit(data.train, reporter=tracker or reporter)
    adjacency = model.adjacency_
    result: dict[str, Any] = {
        "data": {"name": data.name, "source": data.source, "n_channels": n, "train_rows": len(data.train),
                 "test_rows": len(data.test), "notes": data.notes, "channel_names": data.channel_names,
                 "has_labels": data.labels is not None},
        "n_params": int(model.n_params_), "n_params_per_channel": cfg.node_dim,
        "n_params_shared": int(model.n_params_ - n * cfg.node_dim),
        "epochs_done": int(model.n_epochs_done_), "fit_seconds": time.perf_counter() - t0,
        "seconds_per_epoch": float(model.seconds_per_epoch_),
        "windows_per_second": float(model.windows_per_second_),
        "history": model.history_, "cancelled": bool(model.stopped_early_),
        "adjacency": adjacency.round(5).tolist() if n <= 100 else None,
        "order": cluster_order(adjacency),
    }
    if data.true_graph is not None:
        result["synthetic"] = {"groups": data.groups.tolist(), "true_graph": data.true_graph.astype(int).tolist(),
                               "adjacency_auroc": interpret.adjacency_auroc(adjacency, data.true_graph),
                               "auroc_history": tracker.history if tracker else []}
        result["graph_auroc"] = result["synthetic"]["adjacency_auroc"]
    if model.stopped_early_ or reporter.should_stop():
        result["cancelled"] = True
        result["peak_memory_mb"] = _peak_mb()
        return result

    t1 = time.perf_counter()
    channel_scores = model.channel_scores(data.test)  # (T, n)
    result["score_seconds"] = time.perf_counter() - t1
    test_scores = channel_scores.sum(axis=1)
    train_channel = model.channel_scores(data.train)
    train_scores = train_channel.sum(axis=1)
    reporter.log(f"Scored {len(data.test)} test rows in {result['score_seconds']:.1f} s.")

    methods: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {
        "StackVAE-G": (train_scores, test_scores, channel_scores)}
    if cfg.baselines:
        rng = np.random.default_rng(cfg.seed)
        methods["Random"] = (baselines.random_scores(len(data.train), cfg.seed + 1),
                             baselines.random_scores(len(data.test), cfg.seed),
                             rng.random(channel_scores.shape))
        pca_tr, pca_te, pca_ch = baselines.pca_scores(data.train, data.test)
        methods["PCA"] = (pca_tr, pca_te, pca_ch)
        if_tr, if_te = baselines.iforest_scores(data.train, data.test, seed=cfg.seed)
        methods["IsolationForest"] = (if_tr, if_te, None)

    interp = [s for s in data.segments if s.channels] or None
    if data.labels is not None:
        result["metrics"] = {}
        for name, (tr, te, ch) in methods.items():
            if reporter.should_stop():
                result["cancelled"] = True
                break
            result["metrics"][name] = evaluate(te, data.labels, train_scores=tr, channel_scores=ch,
                                               interpretation=interp if ch is not None else None)
        threshold = result["metrics"]["StackVAE-G"]["pot"]["threshold"]
    else:
        threshold = pot_threshold(train_scores)
        result["notes"] = ["No labels: the detection metrics are not computed; scores and the POT "
                           "threshold are shown."]
    result["threshold"] = float(threshold)

    # Sensor vs system verdicts for labelled segments, against the learned graph.
    base = np.median(train_channel, axis=0)
    faults = []
    for seg in _segments_of(data)[:MAX_SEGMENTS]:
        v = interpret.fault_kind(channel_scores, adjacency, seg.start, min(seg.end, len(data.test)),
                                 baseline=base)
        faults.append({"start": seg.start, "end": seg.end, "channels": list(seg.channels),
                       "true_kind": seg.kind, **{k: v[k] for k in ("kind", "top_channel", "top_ratio",
                                                                  "neighbours", "elevated_fraction")}})
    result["faults"] = faults
    known = [f for f in faults if f["true_kind"]]
    if known:
        result["fault_accuracy"] = float(np.mean([f["kind"] == f["true_kind"] for f in known]))

    # Comparison graphs from the training data (same k as the learned graph).
    if n >= 2:
        k = min(cfg.k, n - 1)
        corr = interpret.correlation_graph(data.train, k)
        lasso = interpret.lasso_graph(data.train, alpha=0.05)
        glasso = interpret.glasso_graph(data.train)
        result["graphs"] = {"correlation": corr.round(5).tolist(), "lasso": lasso.round(5).tolist(),
                            "glasso": glasso.round(5).tolist()} if n <= 100 else {}
        if data.true_graph is not None:
            result["synthetic"]["correlation_auroc"] = interpret.adjacency_auroc(corr, data.true_graph)
            result["synthetic"]["lasso_auroc"] = interpret.adjacency_auroc(lasso, data.true_graph)
            result["synthetic"]["glasso_auroc"] = interpret.adjacency_auroc(glasso, data.true_graph)

    arrays = {"test_scores": test_scores, "train_scores": train_scores,
              "channel_scores": channel_scores.astype(np.float32), "test": data.test.astype(np.float32),
              "labels": data.labels if data.labels is not None else np.zeros(0, np.int8),
              "adjacency": adjacency}
    for name, (_, te, _) in methods.items():
        if name != "StackVAE-G":
            arrays[f"scores_{name}"] = np.asarray(te, dtype=np.float32)
    reporter.artifact("scores.npz", _npz(**arrays), "application/octet-stream")
    result["peak_memory_mb"] = _peak_mb()
    return result


EXPERIMENTS = {"stackvaeg": (StackVAEGConfig, run_stackvaeg)}
