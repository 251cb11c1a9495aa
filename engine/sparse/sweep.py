"""Accuracy–sparsity sweeps and layer sensitivity analysis.

* ``sweep``: sparsity levels × methods × seeds, each a full ``sparse`` run; one result row per run.
  The app queues the same runs as separate ``sparse`` jobs sharing a group (``sweep_configs``) so
  they draw as they finish; the CLI runs them here in one process.
* ``sensitivity``: train a dense model once, then prune one layer at a time by magnitude over a
  grid of sparsities and measure validation accuracy (the sensitivity analysis of Distiller
  (Zmora et al. 2019) and NNI; Han et al. 2015, Fig. 6). Optional short fine-tuning per cell.

Both take ``backend`` (``local``: one point after another in this process; ``ray``: each point a
Ray task, see :mod:`engine.runs.ray_backend`) and ``address``. A sweep point is one sparse run
(``engine.sparse.experiments.sweep_point``); a sensitivity point is one layer's row of the grid (:func:`sensitivity_point`,
given the trained dense weights): the same functions run on either backend.
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, fields

import numpy as np

from engine.config import Config, require
from engine.sparse import schema
from engine import limits
from engine.errors import DataError
from engine.runs.ray_backend import check_backend
from engine.sparse.config import SparseConfig, check_size
from engine.sparse.shapes import weight_shapes
from engine.sparse.methods.registry import METHODS, method_class

_SHARED = ("dataset", "data_path", "model", "hidden", "channels", "epochs", "finetune_epochs", "lr", "batch_size",
           "max_train")
# sweep settings handed to every method that has a parameter of that name ("default": the method's own)
_METHOD_SHARED = ("scope", "nm", "sparse_init")


@dataclass(frozen=True)
class SweepConfig(Config):
    """A grid of sparse runs; fields not listed take :class:`SparseConfig`'s defaults."""

    methods: tuple[str, ...] = ("magnitude",)
    sparsities: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
    seeds: tuple[int, ...] = (0,)
    include_dense: bool = True  # one dense run per seed: the baseline line
    dataset: str = "digits"
    data_path: str = ""
    model: str = "mlp"
    hidden: tuple[int, ...] = (256, 256)
    channels: tuple[int, ...] = (16, 32)
    epochs: int = 50
    finetune_epochs: int = 10
    lr: float = 5e-3
    batch_size: int = 64
    scope: str = "default"  # default | global | layer: for the methods with a scope (default: each method's own)
    nm: str = "2:4"  # the N:M methods' pattern
    max_train: int = 10000
    sparse_init: str = "default"  # default | dense | fan-in: for the methods that draw masks at init
    backend: str = "local"  # local: the points one after another here | ray: each point a Ray task
    address: str = "local"  # the Ray cluster: local (started for this sweep) | auto | HOST:PORT | ray://HOST:PORT

    def validate(self) -> None:
        check_backend(self.backend, self.address)
        require(len(self.methods) >= 1, "Pick at least one method.")
        for m in self.methods:
            require(m in METHODS, f"Unknown method '{m}'. Choose from: {', '.join(METHODS)}.")
        require(len(self.sparsities) >= 1, "Pick at least one sparsity level.")
        require(len(self.seeds) >= 1, "Pick at least one seed.")
        require(len(set(self.seeds)) == len(self.seeds), "Seeds must be distinct.")
        require(len(self.methods) <= len(METHODS), f"Pick at most {len(METHODS)} methods.")
        require(len(self.sparsities) <= limits.MAX_LEVELS, f"Pick at most {limits.MAX_LEVELS} sparsity levels "
                f"(got {len(self.sparsities):,}).")
        require(len(self.seeds) <= limits.MAX_SEEDS, f"Pick at most {limits.MAX_SEEDS} seeds (got {len(self.seeds):,}).")
        runs = sweep_configs(self)  # every run's config validates now, before anything runs
        total = sum(check_size(c) for c in runs)
        # the sum bounds what this machine runs; on a cluster (the user's own) each run's bound still holds
        require(self.backend == "ray" or total <= limits.TIME_BUDGET,
                f"This sweep of {len(runs)} runs would take about {limits.duration(total)} on this machine's 2 cores "
                f"(at most {limits.TIME_BUDGET / 3600:.0f} hours, see engine/limits.py). "
                "Use fewer methods, levels, seeds or epochs, or run the points on a Ray cluster (backend ray).")

    @property
    def n_runs(self) -> int:
        return len(sweep_configs(self))


def method_params_for(config: SweepConfig, method: str) -> dict:
    """The sweep's shared method settings that ``method`` has a parameter for (``"default"`` left out).

    >>> method_params_for(SweepConfig(scope="layer"), "imp"), method_params_for(SweepConfig(scope="layer"), "rigl")
    ({'scope': 'layer'}, {})
    """
    names = {p.name for p in schema.params_of(method_class(method))}
    if method_class(method).family != "N:M":  # the sweep's pattern is the N:M methods'; others sweep sparsity
        names.discard("nm")
    return {k: getattr(config, k) for k in _METHOD_SHARED if k in names and getattr(config, k) != "default"}


def sweep_configs(config: SweepConfig) -> list[SparseConfig]:
    """The runs of the sweep (methods whose sparsity is fixed by their settings — dense, N:M — run
    once per seed)."""
    shared = {k: getattr(config, k) for k in _SHARED}
    shared["speed_meter"] = False  # the rows do not use it; it would add ~0.6 s per run
    out = []
    for seed in config.seeds:
        if config.include_dense and "dense" not in config.methods:
            out.append(SparseConfig(**shared, method="dense", sparsity=0.0, seed=seed))
        for method in config.methods:
            fixed = not schema.uses_sparsity(method_class(method))
            levels = (0.0,) if fixed else config.sparsities
            for s in levels:
                out.append(SparseConfig(**shared, method=method, sparsity=float(s), seed=seed,
                                        method_params=method_params_for(config, method)))
    return out


class _Inner:
    """Forwards cancel and overall progress of one run inside a sweep; drops per-run details."""

    def __init__(self, outer, index: int, n_runs: int) -> None:
        self.outer, self.index, self.n = outer, index, n_runs

    def progress(self, step: int, total: int) -> None:
        self.outer.progress(self.index * 1000 + int(1000 * step / max(total, 1)), self.n * 1000)

    def metric(self, name, value, step):
        pass

    def snapshot(self, name, array, step, *, force=False):
        pass

    def log(self, text):
        pass

    def artifact(self, name, data, mime="application/octet-stream"):
        pass

    def should_stop(self) -> bool:
        return self.outer.should_stop()


def result_row(config: SparseConfig, result: dict) -> dict:
    """One sweep row (what the CLI writes and the comparison page draws): the method, the axis it
    controls, the value asked on that axis (``control``), the weight sparsity it reached, accuracy.

    ``requested_sparsity`` (= ``control``) is kept for rows stored before ``control`` existed.
    """
    control = config.requested
    return {
        "method": config.method,
        "axis": config.method_class.axis(),
        "control": control,
        "requested_sparsity": control,
        "seed": config.seed,
        "test_accuracy": result["test_accuracy"],
        "val_accuracy": result["val_accuracy"],
        "sparsity": result["sparsity"],
        "flops_sparse": result["flops_sparse"],
        "flops_dense": result["flops_dense"],
        "seconds": result["seconds"],
        "train_flops": result.get("train_flops"),  # accuracy vs training FLOPs (Sparse-IFT's axis)
    }


class _Detached(_Inner):
    """The reporter of a point run as a Ray task: drops everything (the driver reports the row);
    cancel comes as ``ray.cancel``, so it never asks to stop."""

    def __init__(self) -> None:
        pass

    def progress(self, step: int, total: int) -> None:
        pass

    def should_stop(self) -> bool:
        return False


def check_data_path(path: str) -> None:
    """DataError naming this machine when a point's data file is missing here (e.g. on a Ray worker)."""
    if path and not os.path.exists(path):
        raise DataError(f"The data file {path} does not exist on {socket.gethostname()}: a Ray sweep reads it at "
                        "the same path on every worker (put it on a shared file system).")


def _report_row(reporter, c: SparseConfig, row: dict, i: int) -> None:
    reporter.metric(f"test_accuracy/{c.method}", row["test_accuracy"], i)
    reporter.metric("sweep/sparsity", row["sparsity"], i)  # what partial rows read as reached
    reporter.log(f"{c.method} sparsity {row['sparsity']:.3f} seed {c.seed}: test accuracy {row['test_accuracy']:.4f}")


def _run_sweep_ray(config: SweepConfig, reporter, configs: list[SparseConfig], t0: float) -> dict:
    """The sweep's points as Ray tasks; rows reported in the order they finish, returned in config order."""
    from engine.runs.ray_backend import run_points

    done: dict[int, dict] = {}
    failed: list[dict] = []
    cpus = [0]

    def started(n: int) -> None:
        cpus[0] = n
        reporter.log(f"Ray cluster ({config.address}): {n} CPUs for {len(configs)} points.")

    def on_result(i: int, row: dict) -> None:
        done[i] = row
        _report_row(reporter, configs[i], row, i)
        reporter.progress(len(done) + len(failed), len(configs))

    def on_error(i: int, reason: str) -> None:
        c = configs[i]
        failed.append({"index": i, "method": c.method, "control": c.requested, "seed": c.seed, "error": reason})
        reporter.metric("sweep/failed", 1.0, i)
        reporter.log(f"{c.method} {c.requested:g} seed {c.seed} failed: {reason}")
        reporter.progress(len(done) + len(failed), len(configs))

    out = run_points("engine.sparse.experiments:sweep_point", [c.to_dict() for c in configs], address=config.address,
                     on_result=on_result, on_error=on_error, should_stop=reporter.should_stop,
                     reporter=reporter, on_start=started)
    rows = [done[i] for i in sorted(done)]
    dense = [r["test_accuracy"] for r in rows if r["method"] == "dense"]
    return {"rows": rows, "summary": summarize_rows(rows), "n_runs": len(configs),
            "dense_test_accuracy": float(np.mean(dense)) if dense else None,
            "stopped": out.cancelled > 0, "failed": sorted(failed, key=lambda f: f["index"]),
            "backend": "ray", "cluster_cpus": cpus[0], "seconds": round(time.perf_counter() - t0, 3)}


def run_sweep(config: SweepConfig, reporter, *, run_one) -> dict:
    """Run every config of the sweep (in turn, or as Ray tasks); report ``test_accuracy/<method>`` per finished run."""
    t0 = time.perf_counter()
    configs = sweep_configs(config)
    if config.backend == "ray":
        return _run_sweep_ray(config, reporter, configs, t0)
    rows = []
    for i, c in enumerate(configs):
        if reporter.should_stop():
            break
        result = run_one(c, _Inner(reporter, i, len(configs)))
        if result.get("stopped"):
            break
        row = result_row(c, result)
        rows.append(row)
        _report_row(reporter, c, row, i)
        reporter.progress(i + 1, len(configs))
    dense = [r["test_accuracy"] for r in rows if r["method"] == "dense"]
    return {"rows": rows, "summary": summarize_rows(rows), "n_runs": len(configs),
            "dense_test_accuracy": float(np.mean(dense)) if dense else None,
            "stopped": len(rows) < len(configs), "failed": [], "backend": "local",
            "seconds": round(time.perf_counter() - t0, 3)}


def summarize_rows(rows: list[dict]) -> list[dict]:
    """Mean and spread across seeds per (method, control): the points of the curves.

    ``std`` is the sample standard deviation (0 for a single seed); ``sparsity`` the mean weight
    sparsity reached (None when no row knows it); rows are sorted by method, then control. Rows
    stored before ``control`` existed are read by their ``requested_sparsity``.

    >>> rows = [{"method": "rigl", "control": 0.9, "seed": s, "test_accuracy": a, "sparsity": 0.9}
    ...         for s, a in ((0, 0.90), (1, 0.94))]
    >>> [(r["method"], r["n"], round(r["mean"], 3), round(r["std"], 4)) for r in summarize_rows(rows)]
    [('rigl', 2, 0.92, 0.0283)]
    """
    groups: dict[tuple[str, float], list[dict]] = {}
    for r in rows:
        control = r.get("control", r.get("requested_sparsity"))
        groups.setdefault((r["method"], float(control)), []).append(r)
    out = []
    for (method, level), rs in sorted(groups.items()):
        acc = np.array([r["test_accuracy"] for r in rs], dtype=float)
        reached = [r["sparsity"] for r in rs if r.get("sparsity") is not None]
        axis = next((r["axis"] for r in rs if r.get("axis")), "weight sparsity")
        out.append({"method": method, "axis": axis, "control": level, "requested_sparsity": level,
                    "sparsity": float(np.mean(reached)) if reached else None,
                    "mean": float(acc.mean()), "std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                    "min": float(acc.min()), "max": float(acc.max()), "n": len(rs), "n_seeds": len(rs)})
    return out


def rows_from_results(runs: list[tuple[dict, dict]]) -> list[dict]:
    """Sweep rows of finished ``sparse`` runs, from their stored (config dict, result dict) pairs.

    Works for configs stored before ``method_params`` (old flat configs) and for results without
    ``axis``; a run without ``test_accuracy`` (unfinished) gives no row.
    """
    rows = []
    for cfg, res in runs:
        if not res or "test_accuracy" not in res:
            continue
        method = cfg.get("method")
        try:
            axis = method_class(method).axis()
        except Exception:  # noqa: BLE001 - a method that no longer exists: still draw the point
            axis = "weight sparsity"
        control = res.get("requested_sparsity", cfg.get("sparsity"))
        rows.append({"method": method, "axis": res.get("axis", axis), "control": control, "requested_sparsity": control,
                     "seed": cfg.get("seed"), "test_accuracy": res["test_accuracy"],
                     "val_accuracy": res.get("val_accuracy"), "sparsity": res.get("sparsity"),
                     "flops_sparse": res.get("flops_sparse"), "flops_dense": res.get("flops_dense"),
                     "seconds": res.get("seconds")})
        rows[-1]["train_flops"] = res.get("train_flops")
    return rows


def partial_rows(config: dict, metrics: list[tuple[str, int, float]]) -> list[dict]:
    """Rows of a running (or stopped) ``sweep`` run from its metrics ``(name, step, value)``.

    ``test_accuracy/<method>`` at step i is run i's accuracy; ``sweep/sparsity`` at step i the weight
    sparsity it reached. A row whose reached sparsity was not reported has ``sparsity=None``: the
    requested value is never reported as reached. An old or invalid config gives no rows.

    >>> rows = partial_rows({"methods": ["rigl"], "sparsities": [0.9], "include_dense": False},
    ...                     [("test_accuracy/rigl", 0, 0.93), ("sweep/sparsity", 0, 0.8999)])
    >>> [(r["method"], r["control"], r["sparsity"], r["test_accuracy"]) for r in rows]
    [('rigl', 0.9, 0.8999, 0.93)]
    """
    try:
        configs = sweep_configs(SweepConfig.from_dict(config))
    except Exception:  # noqa: BLE001 - an older config: show nothing rather than fail
        return []
    reached = {int(step): float(v) for name, step, v in metrics if name == "sweep/sparsity"}
    rows = []
    for name, step, value in metrics:
        i = int(step)
        if name.startswith("test_accuracy/") and i < len(configs):
            c = configs[i]
            rows.append({"method": c.method, "axis": c.method_class.axis(), "control": c.requested,
                         "requested_sparsity": c.requested, "seed": c.seed, "test_accuracy": float(value),
                         "sparsity": reached.get(i)})
    return rows


@dataclass(frozen=True)
class SensitivityConfig(Config):
    """Prune one layer at a time over ``sparsities`` after dense training; fine-tune ``finetune_epochs`` per cell."""

    dataset: str = "digits"
    data_path: str = ""
    model: str = "mlp"
    hidden: tuple[int, ...] = (256, 256)
    channels: tuple[int, ...] = (16, 32)
    sparsities: tuple[float, ...] = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
    epochs: int = 50
    finetune_epochs: int = 0
    lr: float = 5e-3
    batch_size: int = 64
    seed: int = 0
    max_train: int = 10000
    backend: str = "local"  # local | ray: each layer's row of the grid a Ray task
    address: str = "local"  # the Ray cluster, as in SweepConfig

    def validate(self) -> None:
        check_backend(self.backend, self.address)
        require(len(self.sparsities) >= 1, "Pick at least one sparsity level.")
        for s in self.sparsities:
            require(0.0 <= s < 1.0, f"Sparsity {s} is impossible: each level must be in [0, 1).")
        require(self.finetune_epochs >= 0, "Fine-tuning epochs cannot be negative.")
        require(len(self.sparsities) <= limits.MAX_LEVELS, f"Pick at most {limits.MAX_LEVELS} sparsity levels "
                f"(got {len(self.sparsities):,}).")
        limits.bounded("Fine-tuning epochs", self.finetune_epochs, 0, limits.MAX_EPOCHS)
        base = self.base()  # validates dataset, model, epochs, ...
        cells = len(self.hidden) + 1 if self.model == "mlp" else len(self.channels) + 1
        n_in, n_train, image = base.data_size()
        weights, macs = limits.network_cost(weight_shapes(base.model, n_in=n_in, n_out=10, hidden=base.hidden,
                                                          channels=base.channels, image_shape=image), image)
        limits.check_budget(macs_per_sample=macs, weights=weights, samples=n_train, what="this sensitivity grid",
                            epochs=base.epochs + cells * len(self.sparsities) * self.finetune_epochs)

    def base(self) -> SparseConfig:
        names = {f.name for f in fields(SparseConfig)} - {"method_params"}
        shared = {f.name: getattr(self, f.name) for f in fields(self) if f.name in names}
        shared["finetune_epochs"] = 0  # the per-cell fine-tuning is run separately
        return SparseConfig(**shared, method="dense", sparsity=0.0)


def _cell(model, weights: dict, fqn: str, s: float, data, base: SparseConfig, finetune_epochs: int, reporter) -> float:
    """One grid cell: prune ``fqn`` to sparsity ``s`` by magnitude (fine-tune if asked), return the
    validation accuracy. The caller restores the dense weights afterwards."""
    import torch

    from engine.sparse.criteria import magnitude_scores, scores_to_masks
    from engine.sparse.train import Trainer, accuracy

    mask = scores_to_masks(magnitude_scores({fqn: weights[fqn]}), float(s), "layer")[fqn]
    with torch.no_grad():
        weights[fqn].mul_(mask)
    if finetune_epochs:
        from engine.sparse.methods.magnitude import MagnitudeSparsifier

        sp = MagnitudeSparsifier(sparsity=float(s), scope="layer")
        sp.prepare(model, [{"tensor_fqn": fqn}])
        sp.set_masks({fqn: mask})
        Trainer(model, sp, data, base, _Silent(reporter)).train(finetune_epochs, phase="fine-tune")
        sp.squash_mask()
    return accuracy(model, data.x_val, data.y_val)


def sensitivity_point(payload: dict, state: dict) -> list[float]:
    """One layer's row of the sensitivity grid, as a Ray task computes it: ``payload`` holds the
    :class:`SensitivityConfig` dict (``config``) and the layer (``fqn``); ``state`` the trained dense
    weights (numpy arrays, sent once with every task)."""
    import torch

    from engine.sparse.build import build
    from engine.sparse.models import prunable

    config = SensitivityConfig.from_dict(payload["config"])
    check_data_path(config.data_path)
    base = config.base()
    data, model, _ = build(base)
    saved = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    model.load_state_dict(saved)
    weights = prunable(model)
    row = []
    for s in config.sparsities:
        row.append(_cell(model, weights, payload["fqn"], s, data, base, config.finetune_epochs, _Detached()))
        model.load_state_dict(saved)
    return row


def run_sensitivity(config: SensitivityConfig, reporter) -> dict:
    """Dense training, then a layer × sparsity grid of validation accuracies (snapshot ``sensitivity``).

    With ``backend="ray"`` the dense training runs here and each layer's row is a Ray task
    (:func:`sensitivity_point`, sent the trained weights).
    """
    from engine.sparse.build import build
    from engine.sparse.models import prunable
    from engine.sparse.train import Trainer, accuracy

    t0 = time.perf_counter()
    base = config.base()
    data, model, sparsifier = build(base)
    cells = len(prunable(model)) * len(config.sparsities)
    trainer = Trainer(model, sparsifier, data, base, _Progress(reporter, cells))
    trainer.train(base.epochs, phase="train (dense)")
    if trainer.stopped:
        return {"stopped": True, "seconds": round(time.perf_counter() - t0, 3)}
    dense_acc = accuracy(model, data.x_val, data.y_val)
    reporter.metric("val/accuracy_dense", dense_acc, 0)
    weights = prunable(model)
    names = list(weights)
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
    grid = np.full((len(names), len(config.sparsities)), np.nan, dtype=np.float32)
    if config.backend == "ray":
        return _run_sensitivity_ray(config, reporter, names, saved, grid, dense_acc, trainer.total_steps, t0)
    for i, fqn in enumerate(names):
        for j, s in enumerate(config.sparsities):
            if reporter.should_stop():
                return _sens_result(config, names, grid, dense_acc, t0, stopped=True)
            grid[i, j] = _cell(model, weights, fqn, s, data, base, config.finetune_epochs, reporter)
            model.load_state_dict(saved)
            reporter.metric(f"sensitivity/{fqn}", float(grid[i, j]), j)
            reporter.snapshot("sensitivity", grid, i * len(config.sparsities) + j)
            done = i * len(config.sparsities) + j + 1
            reporter.progress(trainer.total_steps + done, trainer.total_steps + cells)
    reporter.snapshot("sensitivity", grid, cells, force=True)
    return _sens_result(config, names, grid, dense_acc, t0)


def _run_sensitivity_ray(config, reporter, names, saved, grid, dense_acc, train_steps, t0) -> dict:
    """The grid's layers as Ray tasks; each row reported (metrics, grid snapshot) as it arrives."""
    from engine.runs.ray_backend import run_points

    n_s = len(config.sparsities)
    failed: list[dict] = []
    rows_done = [0]

    def on_result(i: int, row: list[float]) -> None:
        grid[i, :] = row
        for j, v in enumerate(row):
            reporter.metric(f"sensitivity/{names[i]}", float(v), j)
        rows_done[0] += 1
        reporter.snapshot("sensitivity", grid, (rows_done[0] + len(failed)) * n_s, force=True)
        reporter.progress(train_steps + (rows_done[0] + len(failed)) * n_s, train_steps + len(names) * n_s)

    def on_error(i: int, reason: str) -> None:
        failed.append({"index": i, "layer": names[i], "error": reason})
        reporter.log(f"layer {names[i]} failed: {reason}")

    state = {k: v.numpy() for k, v in saved.items()}
    payloads = [{"config": config.to_dict(), "fqn": fqn} for fqn in names]
    out = run_points("engine.sparse.sweep:sensitivity_point", payloads, address=config.address, shared=state,
                     on_result=on_result, on_error=on_error, should_stop=reporter.should_stop, reporter=reporter,
                     on_start=lambda n: reporter.log(f"Ray cluster ({config.address}): {n} CPUs for "
                                                     f"{len(names)} layers."))
    reporter.snapshot("sensitivity", grid, len(names) * n_s, force=True)
    result = _sens_result(config, names, grid, dense_acc, t0, stopped=out.cancelled > 0)
    result.update(failed=failed, backend="ray", cluster_cpus=out.cpus)
    return result


def _sens_result(config, names, grid, dense_acc, t0, stopped=False) -> dict:
    return {
        "layers": names,
        "sparsities": [float(s) for s in config.sparsities],
        "accuracy": [[None if np.isnan(v) else float(v) for v in row] for row in grid],
        "dense_accuracy": dense_acc,
        "stopped": stopped,
        "seconds": round(time.perf_counter() - t0, 3),
    }


class _Progress(_Inner):
    """Passes the dense training's metrics through; progress is over training + grid cells."""

    def __init__(self, outer, extra: int) -> None:
        self.outer, self.extra = outer, extra

    def progress(self, step, total):
        self.outer.progress(step, total + self.extra)

    def metric(self, name, value, step):
        self.outer.metric(name, value, step)

    def log(self, text):
        self.outer.log(text)


class _Silent(_Inner):
    def __init__(self, outer) -> None:
        self.outer = outer

    def progress(self, step, total):
        pass
