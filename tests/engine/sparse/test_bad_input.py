"""Impossible settings and unusable data fail before training with a sentence a user can act on;
a diverging run stops with a clear status and keeps the history it reported."""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
import torch

from engine.errors import ConfigError, DataError, RunDiverged
from engine.runs.reporter import MemoryReporter
from engine.runs.store import RunStore
from engine.runs.worker import execute_run
from engine.sparse.config import SparseConfig
from engine.sparse.data import load_idx_folder, read_idx
from engine.sparse.experiments import preflight, run_sparse

from .conftest import tiny

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: magic 0x00000803 for 3-D, dims big-endian, then the bytes."""
    return bytes([0, 0, 8, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.astype(np.uint8).tobytes()


def write_mnist(folder, n_train=40, n_test=20, side=28, *, gz=False, seed=0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = (rng.integers(0, 256, (n_train, side, side)), rng.integers(0, 10, n_train),
              rng.integers(0, 256, (n_test, side, side)), rng.integers(0, 10, n_test))
    for stem, a in zip(STEMS, arrays):
        data = idx_bytes(np.asarray(a))
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


# --- settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(method="nm-srste", nm="4:4"), "N must be smaller than M"),
        (dict(method="nm-bdwp", nm="6:4"), "N must be smaller than M"),
        (dict(method="nm-decay", nm="0:4"), "at least 1"),
        (dict(sparsity=1.0), "1.0 would remove every weight"),
        (dict(sparsity=1.5), "Sparsity must be in \\[0, 1\\)"),
        (dict(sparsity=-0.01), "Sparsity must be in \\[0, 1\\)"),
        (dict(epochs=0), "Epochs must be at least 1"),
        (dict(method="obd"), "Unknown method 'obd'. Choose one of: dense, magnitude"),
        (dict(lr=0.0), "learning rate must be positive"),
    ],
)
def test_impossible_settings_are_refused_when_the_config_is_made(bad, words):
    with pytest.raises(ConfigError, match=words):
        SparseConfig.from_dict(bad)


def test_a_layer_too_small_for_the_nm_pattern_is_refused_by_preflight_naming_the_layer():
    with pytest.raises(ConfigError, match=r"Layer layers\.1\.weight \(10×12\) cannot use 2:8.*not a multiple of 8"):
        preflight(tiny(method="nm-srste", nm="2:8", hidden=(12,)))
    with pytest.raises(ConfigError, match=r"too small for 1:32 sparsity: its input size 16 is smaller than M=32"):
        preflight(tiny(method="nm-decay", nm="1:32", hidden=(16,)))
    preflight(tiny(method="nm-srste", nm="2:8", hidden=(16,)))  # 64 and 16 inputs: fits


def test_a_layer_too_small_stops_the_run_before_any_step():
    rep = MemoryReporter()
    with pytest.raises(ConfigError, match="not a multiple of 8"):
        run_sparse(tiny(method="nm-bdwp", nm="2:8", hidden=(12,)), rep)
    assert rep.progress_calls == [] and not rep.metrics


# --- IDX files (MNIST / Fashion-MNIST at a user path) --------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_layout_folder_is_read_and_split_with_the_test_set_kept(tmp_path, gz):
    write_mnist(tmp_path / "mnist", gz=gz)
    tx, ty, vx, vy = load_idx_folder(tmp_path / "mnist")
    assert tx.shape == (40, 28, 28) and ty.shape == (40,) and vx.shape == (20, 28, 28)
    r = run_sparse(SparseConfig(dataset="fashion-mnist", data_path=str(tmp_path / "mnist"), model="cnn",
                                channels=(4,), epochs=1, finetune_epochs=0, sparsity=0.5, speed_meter=False),
                   MemoryReporter())
    assert r["layers"][0]["shape"] == [4, 1, 3, 3] and 0 <= r["test_accuracy"] <= 1


@pytest.mark.parametrize(
    "corrupt, words",
    [
        (lambda b: b"\x08\x03" + b[2:], "is not an IDX file"),
        (lambda b: b[:2] + b"\x0d" + b[3:], "only unsigned-byte IDX files"),
        (lambda b: b[:-7], "the header promises 31,360 bytes of shape \\(40, 28, 28\\) but the file holds 31,353"),
        (lambda b: b[:9], "header is truncated"),
    ],
)
def test_malformed_idx_file_is_refused_with_what_is_wrong(tmp_path, corrupt, words):
    write_mnist(tmp_path)
    path = tmp_path / STEMS[0]
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(DataError, match=words):
        read_idx(path)
    with pytest.raises(DataError, match=words):  # and the run refuses before it starts
        preflight(SparseConfig(dataset="mnist", data_path=str(tmp_path)))


def test_a_gzip_file_that_is_not_gzip_is_a_data_error(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="Cannot read IDX file x.gz"):
        read_idx(tmp_path / "x.gz")


def test_wrong_image_size_is_refused(tmp_path):
    write_mnist(tmp_path, side=16)
    with pytest.raises(DataError, match=r"shape \(16, 16\); MNIST-style images must be 28×28"):
        preflight(SparseConfig(dataset="mnist", data_path=str(tmp_path)))


def test_missing_folder_or_file_is_named(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        preflight(SparseConfig(dataset="mnist", data_path=str(tmp_path / "nowhere")))
    write_mnist(tmp_path)
    os.remove(tmp_path / STEMS[3])
    with pytest.raises(DataError, match="has no file t10k-labels-idx1-ubyte"):
        preflight(SparseConfig(dataset="mnist", data_path=str(tmp_path)))


def test_labels_that_do_not_match_the_images_are_refused(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / STEMS[1]).write_bytes(idx_bytes(np.zeros(39, dtype=np.uint8)))
    with pytest.raises(DataError, match="40 images but \\(39,\\) labels"):
        preflight(SparseConfig(dataset="mnist", data_path=str(tmp_path)))


# --- divergence -----------------------------------------------------------------------------------

class NaNFromCall(torch.nn.CrossEntropyLoss):
    """Cross-entropy that turns NaN from its ``at``-th call on (a deterministic divergence)."""

    at = 25

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, logits, y):
        self.calls += 1
        loss = super().forward(logits, y)
        return loss * float("nan") if self.calls >= self.at else loss


def test_nan_loss_raises_run_diverged_after_reporting_the_history(monkeypatch):
    monkeypatch.setattr("engine.sparse.train.nn.CrossEntropyLoss", NaNFromCall)
    rep = MemoryReporter()
    cfg = SparseConfig(hidden=(16,), epochs=3, batch_size=64, method="rigl", sparsity=0.9)  # 19 steps / epoch
    with pytest.raises(RunDiverged, match=r"loss became nan at step 24 \(train\).*smaller learning rate"):
        run_sparse(cfg, rep)
    assert [s for s, _ in rep.metrics["train/loss"]] == [19, 24]  # epoch 1, then the finite part of epoch 2
    assert len(rep.values("val/accuracy")) == 1 and rep.progress_calls[-1][0] == 24
    assert "mask/layers.0.weight" in rep.snapshots  # the final masks are still reported


def test_a_diverged_run_ends_failed_in_the_store_and_keeps_its_curves(monkeypatch, tmp_path):
    monkeypatch.setattr("engine.sparse.train.nn.CrossEntropyLoss", NaNFromCall)
    store = RunStore(tmp_path / "runs.db")
    cfg = SparseConfig(hidden=(16,), epochs=3, method="magnitude", sparsity=0.9)
    run_id = store.create_run("sparse", cfg.to_dict(), seed=0)
    store.mark_running(run_id, os.getpid())
    assert execute_run(store, run_id) == "failed"
    run = store.get_run(run_id)
    assert run.status == "failed" and run.error.startswith("Training diverged: the loss became nan at step 24")
    assert list(store.metrics(run_id, ["train/loss"])["step"]) == [19, 24]
