"""N:M structured sparsity: masks, checks, and three ways to train an N:M sparse network.

In an N:M sparse weight at most ``N`` of every ``M`` consecutive weights along the layer's input
dimension are non-zero (2:4 is what NVIDIA's sparse tensor cores run twice as fast). Groups are
formed in the 2-D view ``weight.reshape(out, -1)``: a Linear weight ``(out, in)`` groups along
``in``; a conv weight ``(out, in, kh, kw)`` along ``in·kh·kw``, as NVIDIA's ASP does.

Training recipes (each is a building block the sparsifier objects wrap):

* :class:`SRSTE` — sparse-refined straight-through estimator (Zhou et al., ICLR 2021).
* :func:`bdwp_linear`, :class:`BDWPLinear`, :class:`BDWPConv2d`, :func:`to_bdwp` — bidirectional
  weight pruning (Fang et al., IEEE TCAD 2023, arXiv 2309.13015).
* :class:`DecayingNM`, :func:`decay_factor`, :func:`sdgf_pattern` — progressive gradient flow,
  MDGF and SDGF (Bambhaniya et al. 2024, arXiv 2402.04744).

All of them keep the *dense* weights as the trained parameters and recompute the mask from the
current dense weights at every forward pass, so the pattern can change during training.
On a CPU none of them is faster than dense training: they compute the same numbers an N:M
accelerator would, which is what a small lab can show (``bench/nm_overhead.py`` measures the cost).
"""
from __future__ import annotations

import math
import re
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import ConfigError

__all__ = [
    "parse_nm", "validate_nm", "nm_compatible", "nm_mask", "nm_violations",
    "SRSTE", "srste",
    "bdwp_masks", "bdwp_linear", "bdwp_conv2d", "BDWPLinear", "BDWPConv2d", "to_bdwp",
    "decay_factor", "sdgf_patterns", "sdgf_pattern", "DecayingNM",
]

# ----------------------------------------------------------------------------------------------
# Patterns and masks
# ----------------------------------------------------------------------------------------------


def parse_nm(text: str) -> tuple[int, int]:
    """``"2:4"`` -> ``(2, 4)``; :class:`ConfigError` for anything that is not ``N:M`` with 0 < N < M.

    >>> parse_nm("2:4"), parse_nm(" 1 : 16 ")
    ((2, 4), (1, 16))
    """
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", str(text))
    if not match:
        raise ConfigError(f"'{text}' is not an N:M pattern; write it like 2:4 (keep 2 of every 4 weights).")
    n, m = int(match.group(1)), int(match.group(2))
    _check_nm(n, m)
    return n, m


def _check_nm(n: int, m: int) -> None:
    if not (isinstance(n, int) and isinstance(m, int)) or not 0 < n < m:
        raise ConfigError(f"N:M pattern {n}:{m} is invalid: it needs 0 < N < M (e.g. 2:4, 1:4, 2:8).")


def _group_size(shape: tuple[int, ...], dim: int) -> int:
    """Length of the 2-D view ``(out, -1)`` along ``dim`` (1: input side, 0: output side)."""
    if len(shape) < 2:
        raise ConfigError(f"N:M sparsity needs a weight matrix or conv kernel, not a tensor of shape {tuple(shape)}.")
    return shape[0] if dim == 0 else math.prod(shape[1:])


def validate_nm(shape: tuple[int, ...], n: int, m: int, *, dim: int = 1, name: str = "") -> None:
    """Raise :class:`ConfigError` unless a weight of ``shape`` can hold an ``n:m`` pattern along ``dim``.

    ``dim=1`` (default) groups along the input dimension of ``weight.reshape(out, -1)``; ``dim=0``
    along the output dimension (BDWP's backward pass). The length there must be a multiple of ``m``.

    >>> validate_nm((256, 64), 2, 4)
    >>> validate_nm((10, 6), 2, 4, name="layers.2.weight")
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: Layer layers.2.weight (10×6) cannot use 2:4 sparsity: its input size 6 is not a multiple of 4. Choose an M that divides 6, or leave this layer dense.
    """
    from engine.sparse.shapes import validate_nm_shape

    _check_nm(n, m)
    validate_nm_shape(tuple(shape), n, m, dim=dim, name=name)


def nm_compatible(shape: tuple[int, ...], n: int, m: int, *, dim: int = 1) -> bool:
    """True when :func:`validate_nm` accepts ``shape`` (to skip layers instead of failing).

    >>> nm_compatible((16, 1, 3, 3), 2, 4), nm_compatible((32, 16, 3, 3), 2, 4)
    (False, True)
    """
    try:
        validate_nm(shape, n, m, dim=dim)
    except ConfigError:
        return False
    return True


def nm_mask(weight: torch.Tensor, n: int, m: int, *, dim: int = 1) -> torch.Tensor:
    """Boolean mask (same shape as ``weight``) keeping the ``n`` largest-|w| of every ``m`` consecutive weights.

    Groups run along ``dim`` of ``weight.reshape(out, -1)`` (1: input side, the usual N:M layout;
    0: output side). Ties are broken by position (the earlier weight wins), so the mask is
    deterministic. The weight is read, never changed.

    >>> nm_mask(torch.tensor([[0.1, -3.0, 2.0, 0.5, 1.0, 1.0, 1.0, 1.0]]), 2, 4).int().tolist()
    [[0, 1, 1, 0, 1, 1, 0, 0]]
    """
    validate_nm(tuple(weight.shape), n, m, dim=dim)
    w2 = weight.detach().reshape(weight.shape[0], -1)  # (out, in·k·k)
    if dim == 0:
        w2 = w2.t()
    rows, cols = w2.shape
    mask = _top_n_per_group(w2.abs().reshape(-1, m), n).reshape(rows, cols)
    if dim == 0:
        mask = mask.t()
    return mask.reshape(weight.shape)


def _top_n_per_group(groups: torch.Tensor, n: int) -> torch.Tensor:
    """Boolean ``(G, M)``: the ``n`` largest of each row, ties to the earlier position.

    Same result as a stable descending argsort per row (tested), but faster for the small
    groups N:M uses: reductions over a last dimension of 4–16 are slow in torch, so for M ≤ 8 each
    weight's rank is counted with M−1 vectorised comparisons on the ``(M, G)`` transpose, and for
    larger M the winners are picked by ``n`` argmax passes (``argmax`` returns the first maximum).
    """
    g, m = groups.shape[0], groups.shape[1]
    if m <= 8:
        cols = groups.t().contiguous()  # (M, G)
        keep = torch.empty((m, g), dtype=torch.bool, device=groups.device)
        for i in range(m):
            rank = torch.zeros(g, dtype=torch.uint8, device=groups.device)
            for j in range(m):
                if j != i:  # an earlier equal weight outranks a later one
                    rank += (cols[j] >= cols[i]) if j < i else (cols[j] > cols[i])
            keep[i] = rank < n
        return keep.t()
    scores = groups.clone()
    keep = torch.zeros_like(groups, dtype=torch.bool)
    for _ in range(n):
        idx = scores.argmax(-1, keepdim=True)
        keep.scatter_(-1, idx, True)
        scores.scatter_(-1, idx, -1.0)  # magnitudes are ≥ 0
    return keep


def nm_violations(tensor: torch.Tensor, n: int, m: int, dim: int = 1) -> int:
    """Number of groups of ``m`` consecutive entries (along ``dim`` of ``reshape(out, -1)``) with more than ``n`` non-zeros.

    Works on weights and on boolean masks; 0 means the tensor obeys the N:M pattern.

    >>> nm_violations(torch.tensor([[1., 1., 0., 0.], [1., 1., 1., 0.]]), 2, 4)
    1
    >>> nm_violations(torch.tensor([[1., 1.], [0., 1.], [0., 0.], [1., 0.]]), 2, 4, dim=0)
    0
    """
    validate_nm(tuple(tensor.shape), n, m, dim=dim)
    t2 = tensor.detach().reshape(tensor.shape[0], -1)
    if dim == 0:
        t2 = t2.t()
    nonzero = (t2 != 0).reshape(t2.shape[0], -1, m).sum(-1)  # (rows, groups)
    return int((nonzero > n).sum())


# ----------------------------------------------------------------------------------------------
# SR-STE (Zhou et al., ICLR 2021)
# ----------------------------------------------------------------------------------------------


class _SRSTEFunction(torch.autograd.Function):
    """Forward ``W ⊙ M(W)``; backward ``g + λ (¬M) ⊙ W`` to the dense ``W`` (SR-STE, Sec. 4)."""

    @staticmethod
    def forward(ctx, weight: torch.Tensor, n: int, m: int, decay: float) -> torch.Tensor:
        mask = nm_mask(weight, n, m)
        ctx.save_for_backward(weight, mask)
        ctx.decay = decay
        return weight * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        weight, mask = ctx.saved_tensors
        # Straight-through: the gradient w.r.t. the sparse weight W̃ goes to every dense weight,
        # plus the sparse-refined term that decays the pruned ones: λ_W (Ē ⊙ W).
        return grad + ctx.decay * (~mask) * weight, None, None, None


def srste(weight: torch.Tensor, n: int, m: int, decay: float = 2e-4) -> torch.Tensor:
    """The SR-STE sparse weight ``W̃ = W ⊙ M`` (``M`` = :func:`nm_mask`) with its custom gradient.

    Zhou et al., "Learning N:M Fine-grained Structured Sparse Neural Networks From Scratch",
    ICLR 2021, Sec. 4 (SR-STE): the dense weights are updated as
    ``W ← W − γ (∂L/∂W̃ + λ_W (Ē ⊙ W))`` where ``Ē = ¬M`` marks the pruned weights; ``decay`` is
    ``λ_W`` (paper default 2e-4). Plain STE is ``decay=0``. Here the refined term is added to the
    gradient (as the authors' code does), so an optimizer with momentum/Adam also transforms it.

    >>> w = torch.tensor([[4.0, -1.0, 3.0, 2.0]], requires_grad=True)
    >>> srste(w, 2, 4, decay=0.5).sum().backward()
    >>> w.grad.tolist()
    [[1.0, 0.5, 1.0, 2.0]]
    """
    _check_nm(n, m)
    return _SRSTEFunction.apply(weight, n, m, float(decay))


class SRSTE(nn.Module):
    """``torch.nn.utils.parametrize`` parametrization: the module's weight becomes :func:`srste` of the dense one.

    >>> layer = nn.Linear(8, 2)
    >>> _ = nn.utils.parametrize.register_parametrization(layer, "weight", SRSTE(2, 4))
    >>> nm_violations(layer.weight, 2, 4)
    0
    """

    def __init__(self, n: int, m: int, decay: float = 2e-4) -> None:
        super().__init__()
        _check_nm(n, m)
        self.n, self.m, self.decay = n, m, float(decay)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return _SRSTEFunction.apply(weight, self.n, self.m, self.decay)

    def mask(self, weight: torch.Tensor) -> torch.Tensor:
        """The boolean mask the forward pass applies to ``weight`` (the dense original)."""
        return nm_mask(weight, self.n, self.m)

    def extra_repr(self) -> str:
        return f"{self.n}:{self.m}, decay={self.decay:g}"


# ----------------------------------------------------------------------------------------------
# BDWP (Fang et al., IEEE TCAD 2023, arXiv 2309.13015)
# ----------------------------------------------------------------------------------------------


def bdwp_masks(weight: torch.Tensor, n: int, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """BDWP's two masks of the dense ``weight``: forward (N:M along the input dim) and backward (along the output dim).

    The backward mask makes ``W^T`` N:M in *its* input dimension, so the activation-gradient
    product ``∂L/∂x = ∂L/∂y · (W ⊙ M_bwd)`` runs on the same N:M sparse hardware.
    """
    return nm_mask(weight, n, m, dim=1), nm_mask(weight, n, m, dim=0)


def _bdwp_weight_grad(grad_w: torch.Tensor, weight: torch.Tensor, mask_fwd: torch.Tensor, decay: float) -> torch.Tensor:
    return grad_w + decay * (~mask_fwd) * weight if decay else grad_w


class _BDWPLinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, n, m, decay):
        mask_fwd, mask_bwd = bdwp_masks(weight, n, m)
        ctx.save_for_backward(x, weight, mask_fwd, mask_bwd)
        ctx.decay, ctx.has_bias = decay, bias is not None
        return F.linear(x, weight * mask_fwd, bias)  # (..., out)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, mask_fwd, mask_bwd = ctx.saved_tensors
        g2 = grad_out.reshape(-1, grad_out.shape[-1])  # (B, out)
        x2 = x.reshape(-1, x.shape[-1])  # (B, in)
        grad_x = (g2 @ (weight * mask_bwd)).reshape(x.shape)  # BP with W pruned N:M along out
        grad_w = _bdwp_weight_grad(g2.t() @ x2, weight, mask_fwd, ctx.decay)  # WU: dense
        grad_b = g2.sum(0) if ctx.has_bias else None
        return grad_x, grad_w, grad_b, None, None, None


def bdwp_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, n: int, m: int,
                decay: float = 0.0) -> torch.Tensor:
    """Linear layer trained with bidirectional weight pruning (BDWP).

    Fang, Sun, Zhou, Wang, "Efficient N:M Sparse DNN Training Using Algorithm, Architecture, and
    Dataflow Co-Design", IEEE TCAD 2023 (arXiv 2309.13015), Sec. III (BDWP). What is computed:

    * forward (FF): ``y = x (W ⊙ M_fwd)^T + b``, ``M_fwd`` N:M along the input dim of ``W``;
    * backward, activation gradient (BP): ``∂L/∂x = ∂L/∂y · (W ⊙ M_bwd)``, ``M_bwd`` N:M along the
      output dim of ``W`` (i.e. ``W^T`` pruned N:M in its own input dim) — both masks are drawn
      from the dense ``W``'s magnitudes, independently;
    * weight gradient (WU): dense, ``∂L/∂W = (∂L/∂y)^T x``, applied to the dense weights
      (straight-through, so pruned weights can come back), plus the optional SR-STE term
      ``decay · (¬M_fwd) ⊙ W`` (``decay=0`` by default).

    Simplified: the paper's speed comes from its FPGA accelerator (SAT); here the same numbers are
    computed with dense torch kernels, so BDWP is not faster on a CPU.
    """
    _check_nm(n, m)
    return _BDWPLinearFunction.apply(x, weight, bias, n, m, float(decay))


class _BDWPConv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, n, m, decay, stride, padding, dilation):
        mask_fwd, mask_bwd = bdwp_masks(weight, n, m)
        ctx.save_for_backward(x, weight, mask_fwd, mask_bwd)
        ctx.conf = (stride, padding, dilation)
        ctx.decay, ctx.has_bias = decay, bias is not None
        return F.conv2d(x, weight * mask_fwd, bias, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, mask_fwd, mask_bwd = ctx.saved_tensors
        stride, padding, dilation = ctx.conf
        grad_x = torch.nn.grad.conv2d_input(x.shape, weight * mask_bwd, grad_out, stride, padding, dilation)
        grad_w = torch.nn.grad.conv2d_weight(x, weight.shape, grad_out, stride, padding, dilation)
        grad_w = _bdwp_weight_grad(grad_w, weight, mask_fwd, ctx.decay)
        grad_b = grad_out.sum((0, 2, 3)) if ctx.has_bias else None
        return grad_x, grad_w, grad_b, None, None, None, None, None, None


def bdwp_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, n: int, m: int, *,
                decay: float = 0.0, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """BDWP for a 2-D convolution (``groups=1``, numeric zero padding); same rules as :func:`bdwp_linear`.

    In the 2-D view ``(out, in·kh·kw)`` the forward mask groups along ``in·kh·kw`` and the backward
    mask along ``out`` (for each input channel and kernel position), which is how the transposed
    convolution of the backward pass reads the kernel.
    """
    _check_nm(n, m)
    return _BDWPConv2dFunction.apply(x, weight, bias, n, m, float(decay), stride, padding, dilation)


class BDWPLinear(nn.Linear):
    """``nn.Linear`` whose forward/backward follow :func:`bdwp_linear`; the dense weight stays the parameter."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, n: int = 2, m: int = 4,
                 decay: float = 0.0, device=None, dtype=None) -> None:
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self.n, self.m, self.decay = n, m, float(decay)
        validate_nm(tuple(self.weight.shape), n, m, dim=1)
        validate_nm(tuple(self.weight.shape), n, m, dim=0)

    @classmethod
    def from_linear(cls, layer: nn.Linear, n: int, m: int, decay: float = 0.0, *, name: str = "") -> BDWPLinear:
        """A BDWP layer sharing ``layer``'s weight and bias Parameters (optimizers keep working)."""
        shape = tuple(layer.weight.shape)
        validate_nm(shape, n, m, dim=1, name=name)
        validate_nm(shape, n, m, dim=0, name=name)
        new = cls(layer.in_features, layer.out_features, layer.bias is not None, n=n, m=m, decay=decay, device="meta")
        new.weight, new.bias = layer.weight, layer.bias
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _BDWPLinearFunction.apply(x, self.weight, self.bias, self.n, self.m, self.decay)

    def forward_weight(self) -> torch.Tensor:
        """The weight the forward pass uses, ``W ⊙ M_fwd`` (what inference runs)."""
        return self.weight * nm_mask(self.weight, self.n, self.m)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, bdwp={self.n}:{self.m}"


class BDWPConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose forward/backward follow :func:`bdwp_conv2d` (``groups=1``, zero padding only)."""

    def __init__(self, *args, n: int = 2, m: int = 4, decay: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.n, self.m, self.decay = n, m, float(decay)

    @classmethod
    def from_conv(cls, layer: nn.Conv2d, n: int, m: int, decay: float = 0.0, *, name: str = "") -> BDWPConv2d:
        """A BDWP conv sharing ``layer``'s Parameters; :class:`ConfigError` for grouped/strided-string/non-zero padding."""
        label = name or "a conv layer"
        if layer.groups != 1 or isinstance(layer.padding, str) or layer.padding_mode != "zeros":
            raise ConfigError(f"BDWP supports plain convolutions only (groups=1, numeric zero padding); {label} is not one.")
        shape = tuple(layer.weight.shape)
        validate_nm(shape, n, m, dim=1, name=name)
        validate_nm(shape, n, m, dim=0, name=name)
        new = cls(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                  layer.dilation, 1, layer.bias is not None, n=n, m=m, decay=decay, device="meta")
        new.weight, new.bias = layer.weight, layer.bias
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _BDWPConv2dFunction.apply(x, self.weight, self.bias, self.n, self.m, self.decay,
                                         self.stride, self.padding, self.dilation)

    def forward_weight(self) -> torch.Tensor:
        """The weight the forward pass uses, ``W ⊙ M_fwd``."""
        return self.weight * nm_mask(self.weight, self.n, self.m)


def to_bdwp(model: nn.Module, n: int, m: int, *, decay: float = 0.0,
            fqns: Iterable[str] | None = None) -> list[str]:
    """Swap ``model``'s Linear/Conv2d layers for BDWP ones, in place; return the weight fqns swapped.

    ``fqns`` names the weights to train with BDWP (``["layers.0.weight", ...]``; default: every
    Linear and Conv2d). Parameters are shared, not copied, so tensor paths and optimizers stay valid.
    A named layer whose input *or output* size is not a multiple of ``m`` raises :class:`ConfigError`
    before anything is changed (check with :func:`nm_compatible` on dims 0 and 1 to skip it instead).
    """
    _check_nm(n, m)
    wanted = None if fqns is None else set(fqns)
    plan = []
    for name, module in model.named_modules():
        fqn = f"{name}.weight"
        if not name or type(module) not in (nn.Linear, nn.Conv2d) or (wanted is not None and fqn not in wanted):
            continue
        maker = BDWPLinear.from_linear if isinstance(module, nn.Linear) else BDWPConv2d.from_conv
        plan.append((name, maker(module, n, m, decay, name=fqn)))  # validates before any swap
    if wanted is not None:
        missing = wanted - {f"{name}.weight" for name, _ in plan}
        if missing:
            raise ConfigError(f"BDWP cannot be applied to {', '.join(sorted(missing))}: not a plain Linear/Conv2d weight.")
    for name, new in plan:
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child, new)
    return [f"{name}.weight" for name, _ in plan]


# ----------------------------------------------------------------------------------------------
# Progressive gradient flow: MDGF and SDGF (Bambhaniya et al. 2024, arXiv 2402.04744)
# ----------------------------------------------------------------------------------------------


def _phase(step: int, total: int, dense_frac: float, finetune_frac: float) -> tuple[str, float]:
    """('dense'|'decay'|'finetune', progress p ∈ [0, 1) through the decay phase)."""
    if total <= 0:
        raise ConfigError("The training length must be at least one step.")
    if not (0.0 <= dense_frac and 0.0 <= finetune_frac and dense_frac + finetune_frac < 1.0):
        raise ConfigError("Dense and fine-tune fractions must be ≥ 0 and leave some of training for the decay phase.")
    begin, end = dense_frac * total, (1.0 - finetune_frac) * total
    if step < begin:
        return "dense", 0.0
    if step >= end:
        return "finetune", 1.0
    return "decay", (step - begin) / (end - begin)


def decay_factor(step: int, total: int, *, kind: str = "exp", rate: float = 10.0,
                 dense_frac: float = 0.0, finetune_frac: float = 0.1) -> float:
    """MDGF's mask value ``β`` for the pruned weights at ``step`` of ``total`` (1 → 0).

    Bambhaniya et al. 2024, Sec. 4 (MDGF): pruned weights enter the forward pass as ``β W`` with
    ``β`` decaying over training; ``kind="linear"``: ``β = 1 − p``; ``kind="exp"``:
    ``β = exp(−rate · p)``, with ``p`` the fraction of the decay phase done. The paper writes the
    same curves per step (``max(0, 1 − α t)``, ``exp(−α t)``); a fraction makes them independent
    of the run length (``α = rate / decay steps``). ``β = 1`` during the optional dense phase and
    ``0`` during the final fine-tune phase (binary mask, exact N:M), as in the authors' recipe.

    >>> decay_factor(0, 100), decay_factor(95, 100)
    (1.0, 0.0)
    >>> round(decay_factor(45, 100, kind="linear"), 3), round(decay_factor(45, 100), 4)
    (0.5, 0.0067)
    """
    if kind not in ("exp", "linear"):
        raise ConfigError(f"Unknown MDGF decay '{kind}'; use 'exp' or 'linear'.")
    if rate <= 0:
        raise ConfigError("The MDGF decay rate must be positive.")
    phase, p = _phase(step, total, dense_frac, finetune_frac)
    if phase == "dense":
        return 1.0
    if phase == "finetune":
        return 0.0
    return max(0.0, 1.0 - p) if kind == "linear" else math.exp(-rate * p)


def sdgf_patterns(n: int, m: int) -> list[tuple[int, int]]:
    """SDGF's sequence of patterns, sparser at each step: ``(M−1):M, (M/2):M, (M/4):M, … , N:M``.

    Bambhaniya et al. 2024, Sec. 4 (SDGF, stepwise): e.g. for 1:16 the sparse phase is cut into
    frames of 15:16, 8:16, 4:16, 2:16, 1:16 (the authors' example).

    >>> sdgf_patterns(1, 16)
    [(15, 16), (8, 16), (4, 16), (2, 16), (1, 16)]
    >>> sdgf_patterns(2, 4), sdgf_patterns(3, 8)
    ([(3, 4), (2, 4)], [(7, 8), (4, 8), (3, 8)])
    """
    _check_nm(n, m)
    ns = [m - 1]
    k = m // 2
    while k > n:
        if k < ns[-1]:
            ns.append(k)
        k //= 2
    if ns[-1] != n:
        ns.append(n)
    return [(k, m) for k in ns]


def sdgf_pattern(step: int, total: int, n: int, m: int, *, dense_frac: float = 0.0,
                 finetune_frac: float = 0.1) -> tuple[int, int] | None:
    """The N:M pattern SDGF enforces at ``step`` (``None`` = dense); the target ``n:m`` from fine-tuning on.

    The decay phase is split into equal frames, one per pattern of :func:`sdgf_patterns`.

    >>> [sdgf_pattern(s, 100, 1, 4) for s in (0, 30, 60, 90)]
    [(3, 4), (2, 4), (1, 4), (1, 4)]
    >>> sdgf_pattern(5, 100, 2, 4, dense_frac=0.1)
    """
    phase, p = _phase(step, total, dense_frac, finetune_frac)
    if phase == "dense":
        return None
    patterns = sdgf_patterns(n, m)
    if phase == "finetune":
        return patterns[-1]
    return patterns[min(int(p * len(patterns)), len(patterns) - 1)]


class _ScaledSTE(torch.autograd.Function):
    """Forward ``W ⊙ scale``; backward the gradient unchanged (straight-through)."""

    @staticmethod
    def forward(ctx, weight, scale):
        return weight * scale

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class DecayingNM(nn.Module):
    """Parametrization for progressive gradient flow (Bambhaniya et al. 2024, arXiv 2402.04744, Sec. 4).

    * ``schedule="mdgf"`` (mask decay gradient flow): forward ``W ⊙ (M + β (1 − M))`` with ``M`` the
      target N:M mask of the current dense weights and ``β = decay_factor(...)`` decaying 1 → 0,
      so pruned weights keep contributing (and receiving ``β``-scaled gradients) while ``β`` fades.
    * ``schedule="sdgf"`` (structure decay gradient flow): forward ``W ⊙ M_t`` with a binary mask of
      a pattern that tightens in steps, ``(M−1):M → … → N:M`` (:func:`sdgf_pattern`).

    Call :meth:`set_progress` every step. From ``1 − finetune_frac`` of training on both enforce
    exactly ``n:m`` with a binary mask. Gradients follow ordinary autograd (a pruned weight gets
    ``β·g``, or 0 under a binary mask), which is how the paper describes restricting gradient flow;
    the authors' public code passes the gradient straight through to every weight instead —
    ``straight_through=True`` selects that.
    """

    def __init__(self, n: int, m: int, schedule: str = "mdgf", *, kind: str = "exp", rate: float = 10.0,
                 dense_frac: float = 0.0, finetune_frac: float = 0.1, straight_through: bool = False) -> None:
        super().__init__()
        _check_nm(n, m)
        if schedule not in ("mdgf", "sdgf"):
            raise ConfigError(f"Unknown decay schedule '{schedule}'; use 'mdgf' (mask decay) or 'sdgf' (structure decay).")
        self.n, self.m, self.schedule, self.kind, self.rate = n, m, schedule, kind, float(rate)
        self.dense_frac, self.finetune_frac = float(dense_frac), float(finetune_frac)
        self.straight_through = straight_through
        decay_factor(0, 1, kind=kind, rate=rate, dense_frac=dense_frac, finetune_frac=finetune_frac)  # validate
        self.step, self.total = 0, 1

    def set_progress(self, step: int, total: int) -> None:
        """Tell the parametrization where training is (``0 ≤ step ≤ total``)."""
        self.step, self.total = int(step), max(int(total), 1)

    def beta(self) -> float:
        """Current mask value of the pruned weights (0 for SDGF: its masks are binary)."""
        if self.schedule == "sdgf":
            return 1.0 if self.pattern() is None else 0.0
        return decay_factor(self.step, self.total, kind=self.kind, rate=self.rate,
                            dense_frac=self.dense_frac, finetune_frac=self.finetune_frac)

    def pattern(self) -> tuple[int, int] | None:
        """The N:M pattern of the current mask ``M`` (``None``: dense phase)."""
        if self.schedule == "mdgf":
            phase, _ = _phase(self.step, self.total, self.dense_frac, self.finetune_frac)
            return None if phase == "dense" else (self.n, self.m)
        return sdgf_pattern(self.step, self.total, self.n, self.m,
                            dense_frac=self.dense_frac, finetune_frac=self.finetune_frac)

    def mask(self, weight: torch.Tensor) -> torch.Tensor:
        """The binary mask ``M`` of the weights kept at full value now (all True in the dense phase)."""
        pattern = self.pattern()
        if pattern is None:
            return torch.ones_like(weight, dtype=torch.bool)
        return nm_mask(weight, *pattern)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        beta = self.beta()
        if beta >= 1.0:
            return weight
        mask = self.mask(weight).to(weight.dtype)
        scale = mask + beta * (1.0 - mask) if beta > 0.0 else mask
        return _ScaledSTE.apply(weight, scale) if self.straight_through else weight * scale

    def extra_repr(self) -> str:
        return f"{self.n}:{self.m}, schedule={self.schedule}, step={self.step}/{self.total}"
