"""The speed meter: measured inference latency of a (masked) model, dense vs sparse kernels.

Sparsity saves work only if a kernel skips the zeros. This module runs the *same* trained
weights three ways and times them:

* ``dense``: torch dense kernels (``addmm`` / ``conv2d``) on the effective weights, zeros included;
* ``torch-csr``: ``weight.to_sparse_csr()`` and ``torch.addmm(bias, W_csr, x^T)`` for Linear layers;
* ``scipy-csr``: ``scipy.sparse.csr_matrix(W) @ x^T`` in numpy (single-threaded).

Conv layers run sparse too, through im2col: ``F.unfold`` turns the input into a matrix and the
kernel's 2-D view ``(out, in·kh·kw)`` multiplies it (the unfold copy is part of the timed cost).
Effective weights are what the forward pass uses: a ``parametrize`` parametrization's output,
a BDWP layer's ``forward_weight()``, or the plain weight. Other layers run unchanged.

Timings are medians over repeats on one thread by default (``threads=1``): on a shared machine
multi-threaded timings are dominated by contention. Speedups are ratios to the dense backend
measured in the same call; ``theoretical_flop_ratio`` is dense MACs / non-zero MACs, the speedup
an ideal sparse kernel would reach. Read the two together: at moderate sparsity CSR kernels are
usually *slower* than dense ones, because of index overhead and irregular memory access.
"""
from __future__ import annotations

import contextlib
import math
import time
import warnings
from typing import Iterator

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import ConfigError

BACKENDS = ("dense", "torch-csr", "scipy-csr")

__all__ = ["BACKENDS", "effective_weight", "count_flops", "infer", "measure_speed"]


def effective_weight(module: nn.Module) -> torch.Tensor:
    """The weight ``module``'s forward pass multiplies by (detached): parametrized, BDWP or plain."""
    with torch.no_grad():
        if hasattr(module, "forward_weight"):
            return module.forward_weight().detach()
        return module.weight.detach()


def _targets(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Linear and Conv2d layers by module name (parametrized and BDWP subclasses included)."""
    return [(name, mod) for name, mod in model.named_modules()
            if name and isinstance(mod, (nn.Linear, nn.Conv2d))]


def _conv_args(conv: nn.Conv2d) -> dict:
    if conv.groups != 1 or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise ConfigError("The speed meter runs sparse convolutions via im2col only for plain convolutions "
                          "(groups=1, numeric zero padding).")
    return dict(kernel_size=conv.kernel_size, stride=conv.stride, padding=conv.padding, dilation=conv.dilation)


class _DenseLinear(nn.Module):
    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        self.weight, self.bias = weight.contiguous(), bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class _DenseConv(nn.Module):
    def __init__(self, conv: nn.Conv2d, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight, self.bias = weight.contiguous(), conv.bias.detach() if conv.bias is not None else None
        self.args = (conv.stride, conv.padding, conv.dilation, conv.groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, *self.args)


class _SparseMatmul(nn.Module):
    """``y = W x + b`` with ``W`` in CSR (torch or scipy); Linear directly, Conv2d through im2col."""

    def __init__(self, weight2d: torch.Tensor, bias: torch.Tensor | None, backend: str, conv: dict | None,
                 out_channels: int) -> None:
        super().__init__()
        self.backend, self.conv, self.out_channels = backend, conv, out_channels
        self.bias = bias
        if backend == "torch-csr":
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore")
                self.w = weight2d.to_sparse_csr()
            self.bias_col = (bias if bias is not None else torch.zeros(weight2d.shape[0])).unsqueeze(1)  # (out, 1)
        else:
            self.w = sp.csr_matrix(weight2d.numpy())
            self.bias_np = bias.numpy()[:, None] if bias is not None else None

    def _mm(self, xt: torch.Tensor) -> torch.Tensor:
        """``W @ xt + b`` for ``xt`` of shape (features, columns)."""
        if self.backend == "torch-csr":
            return torch.addmm(self.bias_col, self.w, xt)  # (out, columns)
        out = self.w @ xt.numpy()
        if self.bias_np is not None:
            out += self.bias_np
        return torch.from_numpy(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv is None:
            x2 = x.reshape(-1, x.shape[-1])  # (B, in)
            return self._mm(x2.t().contiguous()).t().reshape(*x.shape[:-1], -1)  # (..., out)
        b, _, h, w = x.shape
        cols = F.unfold(x, **self.conv)  # (B, in·kh·kw, L)
        xt = cols.transpose(0, 1).reshape(cols.shape[1], -1)  # (in·kh·kw, B·L)
        out = self._mm(xt)  # (out, B·L)
        oh, ow = _conv_out_hw(h, w, self.conv)
        return out.reshape(self.out_channels, b, oh, ow).transpose(0, 1)  # (B, out, oh, ow)


def _conv_out_hw(h: int, w: int, conv: dict) -> tuple[int, int]:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = conv["kernel_size"], conv["stride"], conv["padding"], conv["dilation"]
    return (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1


def _replacement(module: nn.Module, backend: str) -> nn.Module:
    weight = effective_weight(module).float()
    bias = module.bias.detach().float() if module.bias is not None else None
    if isinstance(module, nn.Conv2d):
        if backend == "dense":
            return _DenseConv(module, weight)
        return _SparseMatmul(weight.reshape(weight.shape[0], -1), bias, backend, _conv_args(module), weight.shape[0])
    if backend == "dense":
        return _DenseLinear(weight, bias)
    return _SparseMatmul(weight, bias, backend, None, weight.shape[0])


@contextlib.contextmanager
def _swapped(model: nn.Module, backend: str) -> Iterator[nn.Module]:
    """``model`` with its Linear/Conv2d layers replaced by ``backend`` kernels; restored on exit."""
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown speed backend '{backend}'; choose from {', '.join(BACKENDS)}.")
    originals = _targets(model)
    replacements = [(name, _replacement(mod, backend)) for name, mod in originals]
    was_training = model.training
    try:
        for name, new in replacements:
            _set(model, name, new)
        model.eval()
        yield model
    finally:
        for name, mod in originals:
            _set(model, name, mod)
        model.train(was_training)


def _set(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def infer(model: nn.Module, x: torch.Tensor, backend: str = "dense") -> torch.Tensor:
    """``model(x)`` computed with ``backend``'s kernels (no gradients; the model is left as it was)."""
    with torch.no_grad(), _swapped(model, backend) as swapped:
        return swapped(x)


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> dict:
    """Multiply-accumulates per sample of each Linear/Conv2d layer: dense vs non-zero weights only.

    Returns ``{"layers": [{"name", "kind", "dense_macs", "sparse_macs", "density"}], "dense_macs",
    "sparse_macs", "ratio"}`` with ``ratio = dense / sparse`` (∞ if every weight is zero). Biases,
    activations and pooling are not counted.

    >>> m = nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 1))
    >>> with torch.no_grad(): _ = m[0].weight.zero_().index_fill_(1, torch.tensor([0]), 1.0)
    >>> f = count_flops(m, (4,))
    >>> f["dense_macs"], f["sparse_macs"], f["ratio"]
    (10, 4, 2.5)
    """
    shapes: dict[str, torch.Size] = {}
    hooks = [mod.register_forward_hook(lambda mod, inp, out, name=name: shapes.__setitem__(name, out.shape))
             for name, mod in _targets(model)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    except RuntimeError as err:
        raise ConfigError(f"The model cannot run on one input of shape {tuple(input_shape)}: {err}") from None
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    layers = []
    for name, mod in _targets(model):
        if name not in shapes:
            continue  # not used by forward
        w = effective_weight(mod)
        out = shapes[name]
        # Each weight is used once per output position: a Linear's leading (token) dims, a conv's H·W.
        uses = math.prod(out[1:-1]) if isinstance(mod, nn.Linear) else math.prod(out[2:])
        nnz = int((w != 0).sum())
        layers.append({"name": name, "kind": "Conv2d" if isinstance(mod, nn.Conv2d) else "Linear",
                       "dense_macs": w.numel() * uses, "sparse_macs": nnz * uses, "density": nnz / w.numel()})
    dense = sum(l["dense_macs"] for l in layers)
    sparse = sum(l["sparse_macs"] for l in layers)
    return {"layers": layers, "dense_macs": dense, "sparse_macs": sparse,
            "ratio": dense / sparse if sparse else math.inf}


def _time(fn, repeats: int | None, warmup: int, budget_s: float) -> list[float]:
    for _ in range(warmup):
        fn()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if repeats is not None:
            if len(times) >= repeats:
                break
        elif len(times) >= 5 and (time.perf_counter() > deadline or len(times) >= 500):
            break
    return times


def measure_speed(model: nn.Module, input_shape: tuple[int, ...], *, batch_sizes: tuple[int, ...] = (1, 64),
                  backends: tuple[str, ...] = BACKENDS, repeats: int | None = None, warmup: int = 3,
                  budget_s: float = 1.5, threads: int | None = 1, seed: int = 0) -> list[dict]:
    """Time ``model``'s inference per backend and batch size; one row each.

    ``input_shape`` is one sample's shape (``(64,)`` for 8×8 digits). ``repeats=None`` repeats
    each cell until its share of ``budget_s`` seconds is spent (at least 5 runs), so a call
    takes about ``budget_s`` plus warm-up. ``threads`` pins torch's thread count while timing
    (restored afterwards; ``None`` leaves it). Each row: ``backend``, ``batch``, ``median_ms``,
    ``p90_ms``, ``repeats``, ``speedup_vs_dense`` (dense median / this median),
    ``theoretical_flop_ratio`` (dense MACs / non-zero MACs; 1 for dense), ``density`` (non-zero
    fraction of the Linear/Conv2d weights), ``max_abs_diff`` (largest deviation of this backend's
    output from the dense one: sparse kernels must compute the same function), ``threads``, ``note``.
    """
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ConfigError(f"Unknown speed backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}.")
    if "dense" not in backends:
        backends = ("dense", *backends)  # speedups need the dense baseline
    if not batch_sizes or any(int(b) < 1 for b in batch_sizes):
        raise ConfigError("Batch sizes must be positive integers.")
    if not _targets(model):
        raise ConfigError("The model has no Linear or Conv2d layer to time.")
    flops = count_flops(model, input_shape)
    has_conv = any(l["kind"] == "Conv2d" for l in flops["layers"])
    total_w = sum(effective_weight(m).numel() for _, m in _targets(model))
    nnz_w = sum(int((effective_weight(m) != 0).sum()) for _, m in _targets(model))
    gen = torch.Generator().manual_seed(seed)
    inputs = {b: torch.randn(int(b), *input_shape, generator=gen) for b in batch_sizes}
    cell_budget = budget_s / (len(backends) * len(batch_sizes))
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    rows, reference, dense_ms = [], {}, {}
    try:
        for backend in backends:
            with torch.no_grad(), _swapped(model, backend) as swapped:
                for b, x in inputs.items():
                    y = swapped(x)
                    times = _time(lambda: swapped(x), repeats, warmup, cell_budget)
                    ms = np.asarray(times) * 1e3
                    med = float(np.median(ms))
                    if backend == "dense":
                        reference[b], dense_ms[b] = y, med
                    note = "conv layers via im2col (unfold)" if has_conv and backend != "dense" else ""
                    rows.append({
                        "backend": backend, "batch": int(b), "median_ms": med,
                        "p90_ms": float(np.percentile(ms, 90)), "repeats": len(times),
                        "speedup_vs_dense": dense_ms[b] / med if med > 0 else math.inf,
                        "theoretical_flop_ratio": 1.0 if backend == "dense" else flops["ratio"],
                        "density": nnz_w / total_w,
                        "max_abs_diff": float((y - reference[b]).abs().max()),
                        "threads": torch.get_num_threads(), "note": note,
                    })
    finally:
        torch.set_num_threads(old_threads)
    return rows
