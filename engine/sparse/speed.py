"""The speed meter: measured inference latency of a (masked) model, dense vs sparse kernels.

Sparsity saves work only if a kernel skips the zeros. This module runs the *same* trained
weights four ways and times them:

* ``dense``: torch dense kernels (``addmm`` / ``conv2d``) on the effective weights, zeros included;
* ``compacted``: the same dense kernels on a physically smaller model. A hidden unit (neuron or
  conv channel) whose every outgoing weight is zero cannot change the output, so it is removed:
  its row (filter) in its own layer and its column (input channel) in the next layer. This is what
  structured pruning buys (Li et al. 2017, Sec. 3.1: the pruned network is rebuilt smaller);
  unstructured masks rarely empty a whole unit, so there it is about as fast as ``dense``;
* ``torch-csr``: ``weight.to_sparse_csr()`` and ``torch.addmm(bias, W_csr, x^T)`` for Linear layers;
* ``scipy-csr``: ``scipy.sparse.csr_matrix(W) @ x^T`` in numpy (single-threaded).

N:M patterns (e.g. 2:4) need a kernel that exploits them: NVIDIA's sparse tensor cores (Ampere and
later, 2:4 only, through cuSPARSELt / ``torch.sparse.to_sparse_semi_structured``). No CPU kernel
exists, so when the weights follow an N:M pattern the meter adds an *untimed* ``n:m`` row that says
so, instead of passing a CSR timing off as the N:M speed-up (CSR ignores the pattern).

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

BACKENDS = ("dense", "compacted", "torch-csr", "scipy-csr")
NM_NOTE = ("needs sparse tensor cores (NVIDIA Ampere+, 2:4 via cuSPARSELt); no CPU kernel: not timed here")

__all__ = ["BACKENDS", "NM_NOTE", "effective_weight", "count_flops", "infer", "compact", "detect_nm", "measure_speed"]


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



def _trace(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, torch.Size]:
    """One forward pass on a zero input: each Linear/Conv2d layer's output shape, in call order."""
    shapes: dict[str, torch.Size] = {}

    def record(name: str):
        def hook(mod, inp, out) -> None:   # returns None: the output is left as it is
            shapes.setdefault(name, out.shape)
        return hook

    hooks = [mod.register_forward_hook(record(name)) for name, mod in _targets(model)]
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
    return shapes


def _forward_order(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[str, nn.Module]]:
    """Linear/Conv2d layers in the order the forward pass calls them (each once)."""
    targets = dict(_targets(model))
    return [(n, targets[n]) for n in _trace(model, input_shape)]


def _consumer_slices(producer: nn.Module, consumer: nn.Module) -> int | None:
    """Columns of ``consumer`` fed by one unit of ``producer`` (1, or H·W after a flatten); None if not a chain."""
    units = producer.out_channels if isinstance(producer, nn.Conv2d) else producer.out_features
    if isinstance(consumer, nn.Conv2d):
        ok = consumer.in_channels == units and consumer.groups == 1 and isinstance(producer, nn.Conv2d)
        return 1 if ok else None
    if consumer.in_features % units:
        return None
    per = consumer.in_features // units
    return per if per == 1 or isinstance(producer, nn.Conv2d) else None


def live_units(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """Hidden units that can reach the output, per layer name (True = keep).

    A unit of layer ``l`` is removable when all its outgoing weights in layer ``l + 1`` are zero
    (its column, or its input channel): whatever it computes is multiplied by zero, so removing it
    leaves the function unchanged for any activation. The last layer's units (the outputs) stay.
    Layers are taken as a chain in forward order (the lab's MLP and CNN); a pair whose shapes do
    not chain (e.g. a residual model) keeps all its units.

    >>> m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> with torch.no_grad(): _ = m[2].weight.mul_(torch.tensor([1.0, 0.0, 1.0, 0.0]))
    >>> live_units(m, (3,))["0"].tolist()
    [True, False, True, False]
    """
    layers = _forward_order(model, input_shape)
    keep: dict[str, torch.Tensor] = {}
    for (pname, prod), (_, cons) in zip(layers[:-1], layers[1:]):
        per = _consumer_slices(prod, cons)
        if per is None:
            continue
        w = effective_weight(cons)
        units = prod.out_channels if isinstance(prod, nn.Conv2d) else prod.out_features
        if w.dim() == 4:
            used = (w != 0).any(dim=(0, 2, 3))  # (in_channels,)
        else:
            used = (w != 0).any(dim=0).reshape(units, per).any(dim=1)  # (units,)
        if not used.any():
            used[0] = True  # an all-zero layer: keep one unit so every layer still has a shape
        keep[pname] = used
    return keep


def compact(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, nn.Module]:
    """Smaller dense replacements of ``model``'s layers that compute the same function.

    Each layer loses the rows (filters) of its removable units (``live_units``) and the columns
    (input channels) of the previous layer's removed units; biases follow their rows. Returns
    ``{layer name: replacement}`` for the layers that shrink (weights are copied: ``model`` is
    not changed). Kept-but-zero weights inside a kept unit stay (dense kernels).

    >>> m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> with torch.no_grad(): _ = m[2].weight.mul_(torch.tensor([1.0, 0.0, 1.0, 0.0]))
    >>> {k: tuple(v.weight.shape) for k, v in compact(m, (3,)).items()}
    {'0': (2, 3), '2': (2, 2)}
    """
    layers = _forward_order(model, input_shape)
    keep = live_units(model, input_shape)
    out: dict[str, nn.Module] = {}
    prev_keep: torch.Tensor | None = None
    prev_per = 1
    for i, (name, mod) in enumerate(layers):
        w = effective_weight(mod).float()
        b = mod.bias.detach().float() if mod.bias is not None else None
        rows = keep.get(name)
        if prev_keep is not None:  # columns / input channels fed by the previous layer's kept units
            cols = prev_keep.repeat_interleave(prev_per) if w.dim() == 2 else prev_keep
            w = w[:, cols]
        if rows is not None:
            w, b = w[rows], (b[rows] if b is not None else None)
        if isinstance(mod, nn.Conv2d):
            new: nn.Module = _DenseConv(mod, w)
            new.bias = b
        else:
            new = _DenseLinear(w, b)
        out[name] = new  # same size if nothing shrank: the dense kernel on the effective weight
        if rows is not None and i + 1 < len(layers):
            prev_keep, prev_per = rows, _consumer_slices(mod, layers[i + 1][1]) or 1
        else:
            prev_keep, prev_per = None, 1
    return out


def compacted_params(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(parameters of the Linear/Conv2d layers before, after compaction), biases included."""
    def count(mods):
        return sum(m.weight.numel() + (m.bias.numel() if m.bias is not None else 0) for m in mods)
    return count(m for _, m in _targets(model)), count(compact(model, input_shape).values())


def detect_nm(model: nn.Module, candidates: tuple[int, ...] = (4, 8, 16)) -> tuple[int, int] | None:
    """The N:M pattern every Linear/Conv2d weight follows along its inputs, or None.

    A layer follows N:M when no group of ``m`` consecutive inputs holds more than ``n`` non-zeros
    and the weights are nearly as dense as the pattern allows (≥ 0.9·n/m: a 98 %-sparse random
    mask also has ≤ 1 non-zero per 4, but it is not a 1:4 model). The smallest ``m`` that fits wins.

    >>> from engine.sparse.nm import nm_mask
    >>> m = nn.Sequential(nn.Linear(8, 4)); w = m[0].weight
    >>> with torch.no_grad(): _ = w.mul_(nm_mask(w, 2, 4))
    >>> detect_nm(m)
    (2, 4)
    """
    weights = [effective_weight(mod).reshape(mod.weight.shape[0], -1) for _, mod in _targets(model)]
    for m in candidates:
        if any(w.shape[1] % m for w in weights):
            continue
        counts = [(w != 0).reshape(w.shape[0], -1, m).sum(-1) for w in weights]
        n = max(int(c.max()) for c in counts)
        if 0 < n < m and all(float(c.float().mean()) >= 0.9 * n for c in counts):
            return n, m
    return None


@contextlib.contextmanager
def _swapped(model: nn.Module, backend: str, input_shape: tuple[int, ...] | None = None) -> Iterator[nn.Module]:
    """``model`` with its Linear/Conv2d layers replaced by ``backend`` kernels; restored on exit."""
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown speed backend '{backend}'; choose from {', '.join(BACKENDS)}.")
    originals = _targets(model)
    if backend == "compacted":
        if input_shape is None:
            raise ConfigError("The compacted backend needs the input shape.")
        replacements = list(compact(model, input_shape).items())
    else:
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
    with torch.no_grad(), _swapped(model, backend, tuple(x.shape[1:])) as swapped:
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
    shapes = _trace(model, input_shape)
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
    output from the dense one: sparse kernels must compute the same function), ``threads``, ``params`` (Linear/Conv2d parameters this backend multiplies by: fewer for
    ``compacted``), ``note``. If the weights follow an N:M pattern (``detect_nm``) one more row,
    backend ``n:m``, has ``median_ms`` None and ``note`` = ``NM_NOTE``: it is not timed.
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
    params_dense, params_compact = compacted_params(model, input_shape)
    nm = detect_nm(model)
    gen = torch.Generator().manual_seed(seed)
    inputs = {b: torch.randn(int(b), *input_shape, generator=gen) for b in batch_sizes}
    cell_budget = budget_s / (len(backends) * len(batch_sizes))
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    rows, reference, dense_ms = [], {}, {}
    try:
        for backend in backends:
            with torch.no_grad(), _swapped(model, backend, tuple(input_shape)) as swapped:
                for b, x in inputs.items():
                    y = swapped(x)
                    times = _time(lambda: swapped(x), repeats, warmup, cell_budget)
                    ms = np.asarray(times) * 1e3
                    med = float(np.median(ms))
                    if backend == "dense":
                        reference[b], dense_ms[b] = y, med
                    note = "conv layers via im2col (unfold)" if has_conv and backend.endswith("csr") else ""
                    if backend == "compacted":
                        note = (f"{params_compact:,} of {params_dense:,} parameters after removing units "
                                "with no outgoing weight" if params_compact < params_dense
                                else "no unit could be removed: same size as dense")
                    elif nm and backend.endswith("csr"):
                        note = "; ".join(filter(None, [note, f"CSR ignores the {nm[0]}:{nm[1]} pattern"]))
                    rows.append({
                        "backend": backend, "batch": int(b), "median_ms": med,
                        "p90_ms": float(np.percentile(ms, 90)), "repeats": len(times),
                        "speedup_vs_dense": dense_ms[b] / med if med > 0 else math.inf,
                        "theoretical_flop_ratio": 1.0 if backend == "dense" else flops["ratio"],
                        "density": nnz_w / total_w,
                        "max_abs_diff": float((y - reference[b]).abs().max()),
                        "threads": torch.get_num_threads(),
                        "params": params_compact if backend == "compacted" else params_dense, "note": note,
                    })
    finally:
        torch.set_num_threads(old_threads)
    if nm:
        for b in inputs:
            rows.append({"backend": "n:m", "batch": int(b), "median_ms": None, "p90_ms": None, "repeats": 0,
                         "speedup_vs_dense": None, "theoretical_flop_ratio": flops["ratio"],
                         "density": nnz_w / total_w, "max_abs_diff": None, "threads": None,
                         "params": params_dense, "note": f"{nm[0]}:{nm[1]} " + NM_NOTE})
    return rows
