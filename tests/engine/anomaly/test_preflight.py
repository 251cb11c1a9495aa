"""StackVAE-G pre-flight (issue #10 item 5): what the form checks and estimates before a run."""
from __future__ import annotations

import pytest

from engine.anomaly.experiments import StackVAEGConfig
from engine.anomaly.preflight import estimate_seconds, measured_rate, preflight
from engine.errors import ConfigError, DataError


def test_synthetic_with_one_channel_per_group_is_refused_by_the_config():
    with pytest.raises(ConfigError, match="fewer groups than channels"):
        StackVAEGConfig(n_channels=2, n_groups=2)
    StackVAEGConfig(data="smd", n_channels=2, n_groups=2)  # synthetic-only settings do not bind other sources


def test_window_longer_than_either_part_is_refused_with_the_largest_that_fits():
    with pytest.raises(DataError, match="lower the window to at most 80"):
        preflight(StackVAEGConfig(window=100), shape=(500, 80, 4))


def test_estimate_scales_with_epochs_and_stride_and_channels():
    cfg = StackVAEGConfig(epochs=10, window=100, train_stride=1)
    base = estimate_seconds(cfg, 10_100, 0, 10)
    assert estimate_seconds(StackVAEGConfig(epochs=20, window=100), 10_100, 0, 10) == pytest.approx(2 * base)
    assert estimate_seconds(StackVAEGConfig(epochs=10, window=100, train_stride=10), 10_100, 0, 10) == \
        pytest.approx(base / 10, rel=0.01)
    assert estimate_seconds(cfg, 10_100, 0, 20) == pytest.approx(2 * base)
    smd_stride_1 = estimate_seconds(StackVAEGConfig(epochs=20, train_stride=1), 28_479, 28_479, 38)
    smd_stride_10 = estimate_seconds(StackVAEGConfig(epochs=20, train_stride=10), 28_479, 28_479, 38)
    assert smd_stride_1 > 8 * smd_stride_10  # the 980 s vs 68 s


def test_this_machines_runs_replace_the_default_speed_only_for_the_same_model_size():
    cfg = StackVAEGConfig()
    runs = [{"windows_per_second": w, "data": {"n_channels": 10}, "config": cfg.to_dict()} for w in (100, 300, 200)]
    other = {"windows_per_second": 1e6, "data": {"n_channels": 10}, "config": {**cfg.to_dict(), "hidden": 16}}
    assert measured_rate(runs + [other], cfg) == 2000.0
    assert measured_rate([other], cfg) is None
    assert preflight(cfg, shape=(1000, 1000, 10), rate=2000.0).rate_source.startswith("the median speed")
