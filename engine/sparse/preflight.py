"""The pre-flight check of a sparse run without torch: data sizes and the method against the layers.

The app's Train page runs this in its server before it queues a run, so impossible settings are
refused there without loading torch (``engine.sparse.build.preflight`` runs the same checks on the
real data and model in the worker and the CLI). What it checks:

* the data's input size, class count and image shape: fixed for digits and the 2-D sets; for
  MNIST-style folders read from the IDX headers (16 / 8 bytes each, not the images), with the
  messages of ``engine.sparse.data``;
* the model's layer shapes (``engine.sparse.shapes.weight_shapes``) against the method
  (``check_shapes``: e.g. an N:M pattern that does not divide a layer's input size).

A user's CSV file is read here with the torch-free reader (``engine.sparse.table.read_csv_table``):
too few rows, a missing or one-class label column, non-numeric features are refused before a run
is recorded, and its real width and length go into the size estimate (``engine.limits``).
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

from engine.errors import DataError
from engine.sparse.shapes import weight_shapes

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _idx_dims(path: Path) -> tuple[int, ...]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0:
                raise DataError(f"{path.name} is not an IDX file (bad magic number).")
            if head[2] != 0x08:
                raise DataError(f"{path.name}: IDX type code 0x{head[2]:02x} is not unsigned bytes (0x08).")
            ndim = head[3]
            raw = fh.read(4 * ndim)
            if len(raw) < 4 * ndim:
                raise DataError(f"{path.name} is truncated: its header is incomplete.")
            return struct.unpack(f">{ndim}I", raw)
    except (OSError, EOFError) as err:
        raise DataError(f"{path.name} cannot be read: {err}") from None


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise DataError(f"{folder} has no file {stem} (or {stem}.gz); expected the four MNIST IDX files there.")


def data_dims(config) -> tuple[int, int, tuple[int, int] | None] | None:
    """(input size, classes, image shape) of the config's dataset, or None when only reading it tells.

    >>> from engine.sparse.config import SparseConfig
    >>> data_dims(SparseConfig(dataset="digits")), data_dims(SparseConfig(dataset="moons"))
    ((64, 10, (8, 8)), (2, 2, None))
    """
    from engine.sparse.config import IDX_DATASETS, SYNTHETIC_2D

    if config.dataset == "digits":
        return 64, 10, (8, 8)
    if config.dataset in SYNTHETIC_2D:
        return 2, 2, None
    if config.dataset in IDX_DATASETS:
        folder = Path(config.data_path).expanduser()
        if not str(config.data_path).strip():
            raise DataError("MNIST / Fashion-MNIST need the folder that holds their IDX files (data path is empty).")
        if not folder.is_dir():
            raise DataError(f"Data folder {folder} does not exist.")
        dims = [_idx_dims(_find(folder, stem)) for stem in IDX_FILES]
        for name, images, labels in (("training", dims[0], dims[1]), ("test", dims[2], dims[3])):
            if len(images) != 3 or images[1:] != (28, 28):
                raise DataError(f"The {name} images have shape {images[1:]}; MNIST-style images must be 28×28.")
            if len(labels) != 1 or labels[0] != images[0]:
                raise DataError(f"The {name} set has {images[0]} images but {labels} labels.")
        return 784, 10, (28, 28)
    if config.dataset == "csv":  # read with the torch-free reader: too few rows, bad labels refused here
        from engine.sparse.table import read_csv_table

        path = Path(config.data_path).expanduser()
        if not str(config.data_path).strip() or not path.is_file():
            raise DataError(f"CSV file '{config.data_path}' not found: give the path of a CSV file (data path).")
        table = read_csv_table(path, config.label_column, name=path.name)
        _check_size_with(config, table.x.shape[1], len(table.y))
        return table.x.shape[1], len(table.class_names), None
    return None


def _check_size_with(config, n_in: int, rows: int) -> None:
    """The size estimate of ``engine.limits`` with a CSV's real width and length (the config counted 1)."""
    from engine import limits

    shapes = weight_shapes(config.model, n_in=n_in, n_out=10, hidden=config.hidden, channels=config.channels)
    weights, macs = limits.network_cost(shapes)
    limits.check_budget(macs_per_sample=macs, weights=weights, samples=rows * (1 - config.val_frac - config.test_frac),
                        epochs=config.epochs + config.finetune_epochs, what="this run")


def check(config) -> dict[str, tuple[int, ...]] | None:
    """Run the torch-free checks; returns the model's prunable weight shapes (None if the data must be read).

    >>> from engine.sparse.config import SparseConfig
    >>> check(SparseConfig(method="nm-bdwp", hidden=(6,), method_params={"nm": "2:4"}))
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: Layer layers.1.weight (10×6) cannot use 2:4 sparsity: its input size 6 is not a multiple of 4. Choose an M that divides 6, or leave this layer dense.
    """
    dims = data_dims(config)
    if dims is None:
        return None
    n_in, n_out, image = dims
    shapes = weight_shapes(config.model, n_in=n_in, n_out=n_out, hidden=config.hidden, channels=config.channels,
                           image_shape=image)
    if config.method != "dense":
        config.method_class.check_shapes(shapes, config.method_params)
    return shapes
