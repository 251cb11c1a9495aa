"""Small models whose weights the sparsifiers prune, addressed by tensor path (fqn).

``MLP``: ``layers.0.weight``, ``layers.1.weight``, … (Linear layers, ReLU between).
``SmallCNN``: ``convs.0.weight``, ``convs.1.weight`` (3×3 convolutions, ReLU, 2×2 max-pool) and
``fc.weight``. Biases are never pruned, as in most of the pruning literature.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.errors import ConfigError
from engine.sparse.shapes import MODELS


class MLP(nn.Module):
    """Multi-layer perceptron: ``n_in -> hidden[0] -> ... -> n_out``."""

    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int) -> None:
        super().__init__()
        widths = [n_in, *hidden, n_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)  # (B, n_in)
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)  # (B, n_out) logits


class SmallCNN(nn.Module):
    """``len(channels)`` blocks of conv3×3 → ReLU → max-pool 2×2 (while the image is ≥ 2 px), then a Linear."""

    def __init__(self, image_shape: tuple[int, int], channels: tuple[int, ...], n_out: int) -> None:
        super().__init__()
        self.image_shape = image_shape
        h, w = image_shape
        convs, pools, c_in = [], [], 1
        for c in channels:
            convs.append(nn.Conv2d(c_in, c, 3, padding=1))
            pool = h >= 2 and w >= 2
            pools.append(pool)
            if pool:
                h, w = h // 2, w // 2
            c_in = c
        self.convs = nn.ModuleList(convs)
        self.pools = pools
        self.fc = nn.Linear(c_in * h * w, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], 1, *self.image_shape)  # (B, 1, H, W)
        for conv, pool in zip(self.convs, self.pools):
            x = torch.relu(conv(x))
            if pool:
                x = nn.functional.max_pool2d(x, 2)
        return self.fc(x.flatten(1))


def build_model(name: str, *, n_in: int, n_out: int, hidden=(256, 256), channels=(16, 32),
                image_shape: tuple[int, int] | None = None) -> nn.Module:
    """Build ``name`` ('mlp' or 'cnn') for the data's input size and class count."""
    if name == "mlp":
        return MLP(n_in, tuple(hidden), n_out)
    if name == "cnn":
        if image_shape is None:
            raise ConfigError("The CNN needs image data (digits, MNIST, Fashion-MNIST); use the MLP for 2-D points.")
        return SmallCNN(image_shape, tuple(channels), n_out)
    raise ConfigError(f"Unknown model '{name}'. Choose one of: {', '.join(MODELS)}.")


def prunable(model: nn.Module) -> dict[str, nn.Parameter]:
    """The weights the sparsifiers prune, by fqn, in forward order (Linear and Conv2d weights).

    >>> list(prunable(MLP(4, (3,), 2)))
    ['layers.0.weight', 'layers.1.weight']
    """
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            out[f"{name}.weight" if name else "weight"] = module.weight
    return out


def layer_flops(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """Multiply-accumulates per example of each prunable weight (for a dense weight), by fqn.

    A Linear costs ``in*out``; a Conv2d costs ``weight.numel() * H_out * W_out``. Sparse FLOPs are
    these times the layer's density (the usual convention, e.g. Evci et al. 2020, App. H).
    """
    macs: dict[str, int] = {}
    hooks = []
    fqn_of = {id(m): n for n, m in model.named_modules()}

    def hook(module, inp, out):
        spatial = out.shape[2] * out.shape[3] if out.dim() == 4 else 1
        macs[f"{fqn_of[id(module)]}.weight"] = int(module.weight.numel() * spatial)

    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    for name, m in model.named_modules():
        if hasattr(m, "factor_macs"):  # structured layers (Monarch): each stored factor as a dense matrix
            macs.update({f"{name}.{k}": v for k, v in m.factor_macs().items()})
    return macs
