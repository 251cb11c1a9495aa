"""Fast float32 training kernels for StackVAE-G: the same arithmetic, fewer and faster passes.

Profiled on this project's 2-core AMD EPYC (Zen 5) machine (issue #14 item 6), a StackVAE-G
training step spent about 72 % of its time in ``aten::mm``/``aten::addmm``: PyTorch sends float32
matrix products to MKL, whose code path on this AMD CPU ran at about 105 GFLOP/s per core, while
oneDNN (also shipped inside PyTorch) ran the same float32 products at about 230 GFLOP/s.
The rest was autograd's many small element-wise passes. This module gives

* :func:`linear` - ``y = x W^T + b`` (optionally followed by ReLU) as one oneDNN float32 product,
  with a hand-written backward whose products also run on oneDNN. Float32 in, float32 out, float32
  accumulation: the numbers differ from MKL's only by the order of the sums (about 1e-6 relative).
* :func:`gaussian_recon_loss` - the released reconstruction term ``sum (x_mu + exp(lv/2) eps - x)^2``
  with its gradient computed in the forward pass (7 passes over the window instead of about 20).
* :func:`graph_loss_gram` - the graph loss ``sum_b ||x_b - A x_b||^2`` written with the channel
  Gram matrix ``S = sum_b x_b x_b^T``: ``tr((I - A) S (I - A)^T)``, the same quantity.

Where oneDNN is not available (a PyTorch built without it) :func:`linear` falls back to
``torch.nn.functional.linear``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def onednn_available() -> bool:
    """True when PyTorch carries oneDNN's float32 linear kernel (``torch.ops.mkldnn._linear_pointwise``)."""
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


_ONEDNN = onednn_available()


def _lp(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, act: str = "none") -> torch.Tensor:
    """x @ w^T (+ b) (+ ReLU) on oneDNN, float32."""
    return torch.ops.mkldnn._linear_pointwise(x, w, b, act, [], "")


class _Linear(torch.autograd.Function):
    """y = act(x W^T + b) on 2-D float32 x; backward: dx = g W, dW = g^T x, db = sum g."""

    @staticmethod
    def forward(ctx, x, w, b, relu: bool):  # type: ignore[override]
        y = _lp(x, w, b, "relu" if relu else "none")
        ctx.relu = relu
        ctx.save_for_backward(x, w, y if relu else None)
        return y

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        x, w, y = ctx.saved_tensors
        if ctx.relu:
            g = torch.ops.aten.threshold_backward(g, y, 0.0)  # ReLU: pass g where y > 0
        gx = _lp(g, w.t(), None) if ctx.needs_input_grad[0] else None  # (M, in)
        # dW = g^T x: oneDNN is faster on this reduction for wide outputs, MKL for narrow ones
        # (measured: 200x200 0.71 vs 0.92 ms, 20x200 0.10 vs 0.15 ms; 200->20 0.28 vs 0.14 ms).
        gw = _lp(x.t(), g.t(), None).t() if w.shape[0] >= 64 else g.t() @ x
        return gx, gw, g.sum(0), None


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, *, relu: bool = False) -> torch.Tensor:
    """``act(x W^T + b)`` for 2-D float32 ``x`` (rows are samples), on oneDNN where available.

    >>> _ = torch.manual_seed(0); x, w, b = torch.randn(5, 3), torch.randn(4, 3), torch.randn(4)
    >>> bool(torch.allclose(linear(x, w, b, relu=True), F.relu(F.linear(x, w, b)), atol=1e-6))
    True
    """
    if not _ONEDNN or x.dtype != torch.float32 or x.dim() != 2:
        y = F.linear(x, w, b)
        return F.relu(y) if relu else y
    return _Linear.apply(x.contiguous(), w.contiguous(), b.contiguous(), relu)


class _ReconLoss(torch.autograd.Function):
    """sum((mu + exp(lv / 2) * eps - x)^2) / B with its gradient w.r.t. [mu | lv] made in forward."""

    @staticmethod
    def forward(ctx, out, x, eps, batch: int):  # type: ignore[override]
        w = x.shape[1]
        mu, lv = out[:, :w], out[:, w:]
        e = torch.exp(lv * 0.5).mul_(eps)  # sigma * eps
        r = torch.sub(mu, x).add_(e)  # x_hat - x
        loss = torch.dot(r.view(-1), r.view(-1)) / batch
        grad = torch.empty_like(out)
        torch.mul(r, 2.0 / batch, out=grad[:, :w])  # d/d mu = 2 r / B
        torch.mul(r, e, out=grad[:, w:]).mul_(1.0 / batch)  # d/d lv = 2 r * sigma eps / 2 / B
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        (grad,) = ctx.saved_tensors
        return grad * g, None, None, None


def gaussian_recon_loss(out: torch.Tensor, x: torch.Tensor, eps: torch.Tensor, batch: int) -> torch.Tensor:
    """Batch mean of ``sum (x_hat - x)^2`` with ``x_hat = mu + exp(lv / 2) * eps`` (the released
    reconstruction term, a squared error of a reparameterised sample); ``out = [mu | lv]`` has
    shape (M, 2w), ``x`` and ``eps`` (M, w), M = batch x channels.

    >>> out, x, eps = torch.zeros(2, 4), torch.ones(2, 2), torch.ones(2, 2)
    >>> float(gaussian_recon_loss(out, x, eps, 1))  # x_hat = 0 + 1 * 1 = x
    0.0
    """
    return _ReconLoss.apply(out, x.contiguous(), eps.contiguous(), batch)


def graph_loss_gram(a: torch.Tensor, xc: torch.Tensor, batch: int) -> torch.Tensor:
    """``(1/B) sum_b ||x_b - A x_b||_F^2`` from the channel-major batch ``xc`` of shape (n, B*w):
    with ``D = I - A`` and ``S = xc xc^T`` (n x n) it is ``tr(D S D^T) / B``, one (n x B*w) product
    instead of B (n x n)(n x w) products and their backward.

    >>> a, xb = torch.tensor([[0.5, 0.5], [0.0, 1.0]]), torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    >>> ref = (xb - a @ xb).pow(2).sum()
    >>> float(graph_loss_gram(a, xb.permute(1, 0, 2).reshape(2, -1), 1)), float(ref)
    (2.0, 2.0)
    """
    s = xc @ xc.t()  # (n, n), no gradient (x is data)
    d = torch.eye(len(a), dtype=a.dtype) - a
    return ((d @ s) * d).sum() / batch
