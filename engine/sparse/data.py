"""Datasets for the sparse training lab, as seeded train / validation / test tensors.

Nothing is downloaded: scikit-learn's bundled *digits* (1,797 8×8 images, the default), three
2-D synthetic sets generated here (*moons*, *circles*, *spirals*: small enough to draw the decision
boundary, as TensorFlow Playground does), MNIST / Fashion-MNIST read from IDX files in a folder
the user gives (LeCun et al. 1998; Xiao et al. 2017), and the user's own table: a CSV of numeric
features with a label column (:func:`read_csv_table`), for an MLP.
"""
from __future__ import annotations

import gzip
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.errors import DataError
from engine.sparse.shapes import DATASETS, IDX_DATASETS, SYNTHETIC_2D

from engine.sparse.table import read_csv_table  # noqa: F401  (torch-free: the app's upload check uses it)


@dataclass
class Splits:
    """Seeded splits; ``x_*`` are float32 (N, features) or (N, 1, H, W), ``y_*`` int64 (N,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    image_shape: tuple[int, int] | None  # (H, W) for image sets, None for 2-D points

    @property
    def n_features(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))


def spirals(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved Archimedean spirals (the TensorFlow Playground set), labels 0/1."""
    n = n_samples // 2
    t = np.sqrt(rng.random(n)) * 3 * np.pi  # (n,) angle, denser towards the centre
    arms = []
    for label, phase in ((0, 0.0), (1, np.pi)):
        r = t / (3 * np.pi) * 2.0
        xy = np.stack([r * np.cos(t + phase), r * np.sin(t + phase)], axis=1)  # (n, 2)
        arms.append((xy + noise * 0.3 * rng.standard_normal(xy.shape), np.full(n, label)))
    x = np.concatenate([a[0] for a in arms])
    y = np.concatenate([a[1] for a in arms])
    return x.astype(np.float32), y.astype(np.int64)


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (the MNIST format: magic 0x0000, dtype code 0x08 = uint8, ndim, big-endian dims).

    Raises DataError with what is wrong when the header or the size does not match.
    """
    path = Path(path)
    try:
        with _open(path) as fh:
            data = fh.read()
    except (OSError, EOFError) as err:
        raise DataError(f"Cannot read IDX file {path.name}: {err}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path.name} is not an IDX file (its first two bytes must be zero).")
    if data[2] != 0x08:
        raise DataError(f"{path.name}: only unsigned-byte IDX files (type 0x08) are supported, got 0x{data[2]:02x}.")
    ndim = data[3]
    if ndim < 1 or len(data) < 4 + 4 * ndim:
        raise DataError(f"{path.name}: the IDX header is truncated.")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    if 0 in dims:
        raise DataError(f"{path.name}: the IDX header gives shape {dims}, with no items.")
    expected = math.prod(dims)   # Python ints: a product of 32-bit dims must not wrap (np.prod does)
    body = data[4 + 4 * ndim :]
    if len(body) != expected:
        raise DataError(
            f"{path.name}: the header promises {expected:,} bytes of shape {dims} but the file holds {len(body):,}."
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise DataError(f"{folder} has no file {stem} (or {stem}.gz); expected the four MNIST IDX files there.")


def load_idx_folder(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Images and labels of an MNIST-layout folder: (train_x, train_y, test_x, test_y), images 28×28."""
    if not str(folder).strip():
        raise DataError("MNIST / Fashion-MNIST need the folder that holds their IDX files (data path is empty).")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"Data folder {folder} does not exist.")
    arrays = [read_idx(_find(folder, stem)) for stem in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
    tx, ty, vx, vy = arrays
    for name, images, labels in (("training", tx, ty), ("test", vx, vy)):
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DataError(f"The {name} images have shape {images.shape[1:]}; MNIST-style images must be 28×28.")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(f"The {name} set has {len(images)} images but {labels.shape} labels.")
        if labels.max(initial=0) > 9:
            raise DataError(f"The {name} labels must be 0–9; found {int(labels.max())}.")
    return tx, ty, vx, vy


def _standardize(parts):
    """Scale every feature by the training part's mean and standard deviation (constant ones: by 1)."""
    (xtr, ytr), (xva, yva), (xte, yte) = parts
    mean, std = xtr.mean(axis=0), xtr.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    f = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return (f(xtr), ytr), (f(xva), yva), (f(xte), yte)


def _split(x: np.ndarray, y: np.ndarray, val_frac: float, test_frac: float, rng: np.random.Generator):
    """Seeded, stratified-enough random split (a single permutation)."""
    idx = rng.permutation(len(x))
    n_test, n_val = int(round(test_frac * len(x))), int(round(val_frac * len(x)))
    test, val, train = idx[:n_test], idx[n_test : n_test + n_val], idx[n_test + n_val :]
    return (x[train], y[train]), (x[val], y[val]), (x[test], y[test])


def load(
    dataset: str = "digits",
    *,
    seed: int = 0,
    val_frac: float = 0.1,
    test_frac: float = 0.2,
    n_samples: int = 600,
    noise: float = 0.2,
    data_path: str = "",
    max_train: int = 0,
    label_column: str = "",
) -> Splits:
    """Load ``dataset`` and split it with ``seed``.

    >>> s = load("digits", seed=0)
    >>> (len(s.x_train), len(s.x_val), len(s.x_test), s.n_features, s.n_classes)
    (1258, 180, 359, 64, 10)
    """
    rng = np.random.default_rng(seed)
    image_shape: tuple[int, int] | None = None
    if dataset == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y, image_shape = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64), (8, 8)
        parts = _split(x, y, val_frac, test_frac, rng)
    elif dataset in SYNTHETIC_2D:
        from sklearn.datasets import make_circles, make_moons

        seed_ = int(rng.integers(2**31 - 1))
        if dataset == "moons":
            x, y = make_moons(n_samples, noise=noise, random_state=seed_)
        elif dataset == "circles":
            x, y = make_circles(n_samples, noise=noise * 0.5, factor=0.5, random_state=seed_)
        else:
            x, y = spirals(n_samples, noise, rng)
        parts = _split(x.astype(np.float32), y.astype(np.int64), val_frac, test_frac, rng)
    elif dataset in IDX_DATASETS:
        tx, ty, vx, vy = load_idx_folder(data_path)
        image_shape = (28, 28)
        tx, vx = (tx / 255.0).astype(np.float32).reshape(len(tx), -1), (vx / 255.0).astype(np.float32).reshape(len(vx), -1)
        idx = rng.permutation(len(tx))
        if max_train:  # a seeded subset keeps CPU runs short
            idx = idx[:max_train]
        n_val = int(round(val_frac * len(idx)))
        val, train = idx[:n_val], idx[n_val:]
        parts = (tx[train], ty[train].astype(np.int64)), (tx[val], ty[val].astype(np.int64)), (vx, vy.astype(np.int64))
    elif dataset == "csv":
        if not str(data_path).strip() or not Path(data_path).expanduser().is_file():
            raise DataError(f"CSV file '{data_path}' not found: give the path of a CSV file (data path).")
        path = Path(data_path).expanduser()
        table = read_csv_table(path, label_column, name=path.name)
        parts = _standardize(_split(table.x, table.y, val_frac, test_frac, rng))
        if len(parts[0][0]) < 2 or np.unique(parts[0][1]).size < 2:
            raise DataError(f"{path.name}: the training part holds fewer than two classes; add rows.")
    else:
        raise DataError(f"Unknown dataset '{dataset}'. Choose one of: {', '.join(DATASETS)}.")
    (xtr, ytr), (xva, yva), (xte, yte) = parts
    t = torch.from_numpy
    n_classes = int(max(ytr.max(), yva.max(initial=0), yte.max(initial=0)) + 1)
    if dataset == "csv":
        n_classes = len(table.class_names)
    return Splits(t(np.ascontiguousarray(xtr)), t(ytr), t(np.ascontiguousarray(xva)), t(yva),
                  t(np.ascontiguousarray(xte)), t(yte), n_classes, image_shape)
