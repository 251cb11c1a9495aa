"""Synthetic multivariate series with a known channel graph and labelled anomalies.

Channels fall into groups; each group follows one latent signal (two sinusoids of the group's own
periods plus slow AR(1) drift), and each channel is ``gain * latent + offset + noise``. The true
graph links channels of the same group. Group membership is shuffled, so channel order tells
nothing. The test half carries injected anomalies of known type:

* ``sensor`` faults hit one channel (spike, level shift, noise burst or stuck value) while its
  group stays normal;
* ``system`` faults disturb a group's latent signal, so every channel of the group moves.

The training half has no anomalies. Score a learned graph against ``true_graph`` with
:func:`engine.anomaly.interpret.adjacency_auroc`.
"""
from __future__ import annotations

import numpy as np

from engine.anomaly.datasets import Segment, TimeSeriesData
from engine.config import require

SENSOR_FAULTS = ("spike", "level shift", "noise burst", "stuck")


def _latent(rng: np.random.Generator, length: int) -> np.ndarray:
    t = np.arange(length)
    p1, p2 = rng.uniform(25, 160), rng.uniform(8, 40)
    s = np.sin(2 * np.pi * t / p1 + rng.uniform(0, 2 * np.pi))
    s += 0.5 * np.sin(2 * np.pi * t / p2 + rng.uniform(0, 2 * np.pi))
    drift = np.zeros(length)
    eps = rng.normal(0, 0.1, length)
    for i in range(1, length):
        drift[i] = 0.98 * drift[i - 1] + eps[i]
    return s + 0.5 * drift


def max_anomalies(test_length: int) -> int:
    """How many anomalies fit: one per 60-step slot, the first slot kept normal as a lead-in.

    >>> max_anomalies(1500), max_anomalies(120)
    (24, 1)
    """
    return max(0, test_length // 60 - 1)


def make_synthetic(*, n_channels: int = 12, n_groups: int = 3, train_length: int = 1500,
                   test_length: int = 1500, n_anomalies: int = 8, noise: float = 0.15,
                   seed: int = 0) -> TimeSeriesData:
    """Generate the series; anomalies alternate sensor / system faults, each 15-50 steps long.

    >>> d = make_synthetic(n_channels=6, n_groups=2, train_length=200, test_length=300, n_anomalies=2)
    >>> d.train.shape, d.test.shape, int(d.true_graph.sum()), [s.kind for s in d.segments]
    ((200, 6), (300, 6), 12, ['sensor', 'system'])
    """
    require(2 <= n_groups <= n_channels, f"Need 2 <= groups <= channels (got {n_groups} groups, {n_channels} channels).")
    require(train_length >= 50 and test_length >= 50, "Train and test lengths must be at least 50 steps.")
    most = max_anomalies(test_length)
    require(0 <= n_anomalies <= most, f"At most {most} anomalies fit in {test_length} test steps.")
    require(noise >= 0, "noise must be >= 0.")
    rng = np.random.default_rng(seed)
    groups = rng.permutation(np.arange(n_channels) % n_groups)
    total = train_length + test_length
    latents = np.stack([_latent(rng, total) for _ in range(n_groups)])  # (g, T)
    gain = rng.uniform(0.6, 1.4, n_channels)
    offset = rng.uniform(-0.5, 0.5, n_channels)

    # Place non-overlapping segments in the test half (after a lead-in), alternate kinds.
    slots = np.sort(rng.choice(np.arange(1, test_length // 60), size=n_anomalies, replace=False))
    segments: list[Segment] = []
    latents_test = latents[:, train_length:].copy()
    extra = np.zeros((test_length, n_channels))
    noise_scale = np.full((test_length, n_channels), noise)
    stuck: list[tuple[int, int, int]] = []
    for j, slot in enumerate(slots):
        length = int(rng.integers(15, 51))
        start = int(slot * 60 + rng.integers(0, 60 - min(length, 59)))
        end = min(start + length, test_length)
        if j % 2 == 0:  # sensor fault: one channel
            c = int(rng.integers(n_channels))
            fault = SENSOR_FAULTS[(j // 2) % len(SENSOR_FAULTS)]
            if fault == "spike":
                extra[start:end, c] += rng.choice([-1, 1]) * 3.0 * gain[c]
            elif fault == "level shift":
                extra[start:end, c] += 1.5 * gain[c]
            elif fault == "noise burst":
                noise_scale[start:end, c] = max(noise, 0.1) * 8
            else:
                stuck.append((start, end, c))
            segments.append(Segment(start, end, (c,), "sensor"))
        else:  # system fault: the group's latent signal is disturbed
            g = int(rng.integers(n_groups))
            bump = 2.0 * np.sin(np.linspace(0, np.pi, end - start)) + rng.normal(0, 0.3, end - start)
            latents_test[g, start:end] += bump
            segments.append(Segment(start, end, tuple(int(i) for i in np.flatnonzero(groups == g)), "system"))

    def channels(lat: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
        x = gain * lat[groups].T + offset  # (T, n)
        return x + rng.normal(0, 1, x.shape) * scale

    train = channels(latents[:, :train_length], noise)
    test = channels(latents_test, noise_scale) + extra
    for start, end, c in stuck:
        test[start:end, c] = test[start, c]
    labels = np.zeros(test_length, dtype=np.int8)
    for s in segments:
        labels[s.start:s.end] = 1
    true_graph = (groups[:, None] == groups[None, :]) & ~np.eye(n_channels, dtype=bool)
    names = [f"ch{i:02d}" for i in range(n_channels)]
    return TimeSeriesData(f"synthetic ({n_channels} channels, {n_groups} groups)",
                          train.astype(np.float32), test.astype(np.float32), labels, names, segments,
                          source="generated (engine.anomaly.synthetic, seed %d)" % seed,
                          true_graph=true_graph, groups=groups)

