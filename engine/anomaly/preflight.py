"""What a StackVAE-G run can be told before it starts: the data's shape, whether its windows fit,
and how long it will take at the speed this machine has shown.

The app's form calls :func:`preflight` on every change, so a window longer than the series, a
synthetic graph with nothing to recover, or an hour-long run is said before anything is queued
(the run itself checks the same again, see :func:`engine.anomaly.datasets.check_ready`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from engine.anomaly.experiments import StackVAEGConfig, load_data
from engine.errors import DataError

# Channel-windows per second of training at the released model size (hidden 200, latent 20,
# node_dim 30, batch 64) on this project's 2-core machine with one torch thread, while other jobs
# share it: 41,600 (12 synthetic channels) and 47,300 (38 channels) measured for this estimate;
# bench/stackvaeg_smd.py's 2,241 windows/s on 38 SMD channels (85,000) is the unloaded figure.
# The app prefers the median of this machine's own finished runs (:func:`measured_rate`).
DEFAULT_CHANNEL_WINDOWS_PER_S = 45_000.0
SCORING_SPEEDUP = 5.0


@dataclass
class Preflight:
    """Shape of the configured data, and the run's estimated duration."""

    train_rows: int
    test_rows: int
    n_channels: int
    seconds: float  # estimated: training + scoring (baselines not counted)
    rate: float  # channel-windows per second the estimate used
    rate_source: str  # where that speed figure comes from
    notes: list[str] = field(default_factory=list)


def check_config(cfg: StackVAEGConfig, train_rows: int, test_rows: int, n_channels: int) -> list[str]:
    """Raise DataError for a run that cannot work on data of this shape; notes for ones that can.

    >>> check_config(StackVAEGConfig(window=100), 80, 500, 4)
    Traceback (most recent call last):
    ...
    engine.errors.DataError: The training part has 80 rows, fewer than the window of 100; lower the window to at most 80.
    >>> check_config(StackVAEGConfig(k=10), 500, 500, 6)
    ['k = 10 is at least the 5 other channels: every pair is kept, the graph is not sparse.']
    """
    for part, rows in (("training", train_rows), ("test", test_rows)):
        if rows < cfg.window:
            raise DataError(f"The {part} part has {rows} rows, fewer than the window of {cfg.window}; "
                            f"lower the window to at most {rows}.")
    notes = []
    if n_channels > 1 and cfg.k >= n_channels - 1:
        notes.append(f"k = {cfg.k} is at least the {n_channels - 1} other channels: every pair is kept, "
                     "the graph is not sparse.")
    return notes


def estimate_seconds(cfg: StackVAEGConfig, train_rows: int, test_rows: int, n_channels: int,
                     rate: float = DEFAULT_CHANNEL_WINDOWS_PER_S) -> float:
    """Seconds to train ``cfg.epochs`` epochs on every ``train_stride``-th window and score the test
    set, at ``rate`` channel-windows per second (the model encodes each channel's window).

    >>> round(estimate_seconds(StackVAEGConfig(epochs=20, window=100, train_stride=10), 28479, 28479, 38))
    53
    """
    windows = math.ceil(max(train_rows - cfg.window + 1, 0) / cfg.train_stride)
    train = cfg.epochs * windows * n_channels / rate
    score = max(test_rows - cfg.window + 1, 0) * n_channels / (rate * SCORING_SPEEDUP)
    return train + score


def measured_rate(results: Iterable[dict], cfg: StackVAEGConfig) -> float | None:
    """Median channel-windows per second of finished runs of the same model size on this machine.

    >>> cfg = StackVAEGConfig()
    >>> measured_rate([{"windows_per_second": 1000.0, "data": {"n_channels": 38}, "config": cfg.to_dict()}], cfg)
    38000.0
    """
    size = ("hidden", "latent", "node_dim", "batch_size")
    rates = sorted(r["windows_per_second"] * r["data"]["n_channels"] for r in results
                   if all(r.get("config", {}).get(k) == getattr(cfg, k) for k in size)
                   and math.isfinite(r.get("windows_per_second", math.nan)) and r["windows_per_second"] > 0)
    return rates[len(rates) // 2] if rates else None


def data_shape(cfg: StackVAEGConfig) -> tuple[int, int, int]:
    """(training rows, test rows, channels) of the data ``cfg`` names, read as the run reads it.

    >>> data_shape(StackVAEGConfig(n_channels=6, n_groups=2, length=300))
    (300, 300, 6)
    """
    if cfg.data == "synthetic":  # known from the settings: the app server never generates the series
        return cfg.length, cfg.length, cfg.n_channels
    data = load_data(cfg)
    return len(data.train), len(data.test), data.n_channels


def preflight(cfg: StackVAEGConfig, shape: tuple[int, int, int] | None = None,
              rate: float | None = None) -> Preflight:
    """Check ``cfg`` against its data's ``shape`` (read when not given) and estimate the duration.

    ``rate``: channel-windows per second measured on this machine (see :func:`measured_rate`);
    None uses :data:`DEFAULT_CHANNEL_WINDOWS_PER_S`. Raises DataError with the reason a run would fail.

    >>> p = preflight(StackVAEGConfig(n_channels=6, n_groups=2, length=300, window=50, epochs=10))
    >>> (p.train_rows, p.test_rows, p.n_channels), p.seconds < 1
    ((300, 300, 6), True)
    """
    train_rows, test_rows, n = shape if shape is not None else data_shape(cfg)
    notes = check_config(cfg, train_rows, test_rows, n)
    used = rate if rate else DEFAULT_CHANNEL_WINDOWS_PER_S
    source = ("the median speed of earlier runs of this model size on this machine" if rate else
              "the speed measured for this model size on a shared 2-core CPU")
    return Preflight(train_rows, test_rows, n, estimate_seconds(cfg, train_rows, test_rows, n, used), used,
                     source, notes)


def duration_text(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1.5 h'.

    >>> duration_text(38.2), duration_text(200), duration_text(5400)
    ('about 40 s', 'about 3 min', 'about 1.5 h')
    """
    if seconds < 60:
        return f"about {max(1, round(seconds, -1 if seconds >= 15 else 0)):.0f} s"
    if seconds < 3600:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"
