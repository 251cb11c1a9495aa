"""Torch-free facts about a sparse run's model: model names, N:M patterns, and the shapes of the
weights the sparsifiers prune, computed from the settings alone (the app's pre-flight check uses
them without loading torch; ``tests/engine/sparse/test_preflight.py`` checks they equal the built
model's ``engine.sparse.models.prunable`` shapes)."""
from __future__ import annotations

import re

from engine.errors import ConfigError

# Datasets and models by name: here (torch-free, importing nothing of the lab) so that the config,
# the data loader and the UI share them without an import cycle.
DATASETS = ("digits", "moons", "circles", "spirals", "mnist", "fashion-mnist", "csv")
SYNTHETIC_2D = ("moons", "circles", "spirals")
IDX_DATASETS = ("mnist", "fashion-mnist")
MODELS = ("mlp", "cnn")


def parse_nm(text: str) -> tuple[int, int]:
    """``"2:4"`` -> ``(2, 4)``; ConfigError unless it reads N:M with 0 < N < M.

    >>> parse_nm("1:16"), parse_nm(" 2 : 4 ")
    ((1, 16), (2, 4))
    """
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", str(text))
    if not match:
        raise ConfigError(f"N:M pattern '{text}' must look like 2:4 (two whole numbers separated by a colon).")
    n, m = int(match.group(1)), int(match.group(2))
    if n < 1:
        raise ConfigError(f"N:M pattern {text}: N must be at least 1 (N = 0 would prune everything).")
    if n >= m:
        raise ConfigError(f"N:M pattern {text}: N must be smaller than M (N ≥ M keeps every weight, or more than exist).")
    return n, m


def weight_shapes(model: str, *, n_in: int, n_out: int, hidden=(256, 256), channels=(16, 32),
                  image_shape: tuple[int, int] | None = None) -> dict[str, tuple[int, ...]]:
    """Shapes of the prunable weights of ``engine.sparse.models.build_model(...)``, by fqn, without torch.

    >>> weight_shapes("mlp", n_in=64, n_out=10, hidden=(256, 256))
    {'layers.0.weight': (256, 64), 'layers.1.weight': (256, 256), 'layers.2.weight': (10, 256)}
    >>> weight_shapes("cnn", n_in=64, n_out=10, channels=(16, 32), image_shape=(8, 8))["fc.weight"]
    (10, 128)
    """
    if model == "mlp":
        widths = [n_in, *hidden, n_out]
        return {f"layers.{i}.weight": (b, a) for i, (a, b) in enumerate(zip(widths[:-1], widths[1:]))}
    if model == "cnn":
        if image_shape is None:
            raise ConfigError("The CNN needs image data (digits, MNIST, Fashion-MNIST); use the MLP for 2-D points.")
        h, w = image_shape
        out, c_in = {}, 1
        for i, c in enumerate(channels):
            out[f"convs.{i}.weight"] = (c, c_in, 3, 3)
            if h >= 2 and w >= 2:  # SmallCNN pools while the image is at least 2 px
                h, w = h // 2, w // 2
            c_in = c
        out["fc.weight"] = (n_out, c_in * h * w)
        return out
    raise ConfigError(f"Unknown model '{model}'. Choose one of: {', '.join(MODELS)}.")


def layer_names(config: dict) -> list[str]:
    """The prunable weights' fqns of a stored run's config (a dict), in forward order.

    >>> layer_names({"model": "cnn", "channels": [8]})
    ['convs.0.weight', 'fc.weight']
    """
    if config.get("model") == "cnn":
        return [f"convs.{i}.weight" for i in range(len(config.get("channels", (16, 32))))] + ["fc.weight"]
    return [f"layers.{i}.weight" for i in range(len(config.get("hidden", (256, 256))) + 1)]


def validate_nm_shape(shape: tuple[int, ...], n: int, m: int, *, dim: int = 1, name: str = "") -> None:
    """ConfigError unless a weight of ``shape`` holds an ``n:m`` pattern along ``dim`` of its ``(out, -1)`` view.

    >>> validate_nm_shape((256, 64), 2, 4)
    >>> validate_nm_shape((10, 6), 2, 4, name="layers.2.weight")
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: Layer layers.2.weight (10×6) cannot use 2:4 sparsity: its input size 6 is not a multiple of 4. Choose an M that divides 6, or leave this layer dense.
    """
    if not (isinstance(n, int) and isinstance(m, int)) or not 0 < n < m:
        raise ConfigError(f"N:M pattern {n}:{m} is invalid: it needs 0 < N < M (e.g. 2:4, 1:4, 2:8).")
    if dim not in (0, 1):
        raise ConfigError(f"N:M groups run along dim 0 or 1 of the weight matrix, not dim {dim}.")
    if len(shape) < 2:
        raise ConfigError(f"N:M sparsity needs a weight matrix or conv kernel, not a tensor of shape {tuple(shape)}.")
    size = shape[0] if dim == 0 else int(_prod(shape[1:]))
    side = "input" if dim == 1 else "output"
    label = f"Layer {name} ({'×'.join(map(str, shape))})" if name else f"A layer of shape {'×'.join(map(str, shape))}"
    if size < m:
        raise ConfigError(f"{label} is too small for {n}:{m} sparsity: its {side} size {size} is smaller than M={m}. "
                          "Choose a smaller M or leave this layer dense.")
    if size % m:
        raise ConfigError(f"{label} cannot use {n}:{m} sparsity: its {side} size {size} is not a multiple of {m}. "
                          f"Choose an M that divides {size}, or leave this layer dense.")


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out
