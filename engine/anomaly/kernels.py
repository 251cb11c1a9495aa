"""Fast float32 training kernels for StackVAE-G: the same arithmetic, fewer and faster passes.

Profiled on this project's 2-core AMD EPYC (Zen 5) machine (issue #14 item 6), a StackVAE-G
training step spent about 72 % of its time in ``aten::mm``/``aten::addmm``: PyTorch sends float32
matrix products to MKL, whose code path on this AMD CPU ran at about 105 GFLOP/s per core, while
oneDNN (also shipped inside PyTorch) ran the same float32 products at about 230 GFLOP/s.
The rest was autograd's many small element-wise passes. This module gives

* :func:`linear` - a layer ``W a + b`` (optionally followed by ReLU) on *feature-major*
  activations (features x samples) as one oneDNN float32 product, with a hand-written backward
  whose two products also run on oneDNN; in this layout no product needs a transposed copy.
  Float32 in, float32 out, float32 accumulation: the numbers differ from MKL's only by the order of
  the sums (about 1e-6 relative).
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
    """Feature-major Y = act(W A + b 1^T) for A of shape (in, M): every product reads contiguous
    memory, so none needs a transposed copy (the row-major dW = g^T x made oneDNN copy x first)."""

    @staticmethod
    def forward(ctx, a, w, b, relu: bool):  # type: ignore[override]
        y = _lp(w, a.t(), None).add_(b[:, None])  # (out, M) = W A, plus the bias of each output row
        if relu:
            y.relu_()
        ctx.relu = relu
        ctx.save_for_backward(a, w, y if relu else None)
        return y

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        a, w, y = ctx.saved_tensors
        if ctx.relu:
            g = torch.ops.aten.threshold_backward(g, y, 0.0)  # ReLU: pass g where y > 0
        g = g.contiguous()
        ga = _lp(w.t().contiguous(), g.t(), None) if ctx.needs_input_grad[0] else None  # W^T g: (in, M)
        gw = _lp(g, a, None)  # g A^T: (out, in)
        return ga, gw, g.sum(1), None


def linear(a: torch.Tensor, w: torch.Tensor, b: torch.Tensor, *, relu: bool = False) -> torch.Tensor:
    """``act(W a + b)`` applied to every column of the feature-major float32 ``a`` (in, M): the
    transpose of ``act(a^T W^T + b)``, i.e. of ``torch.nn.functional.linear`` on the rows a^T.
    On oneDNN where available.

    >>> _ = torch.manual_seed(0); x, w, b = torch.randn(5, 3), torch.randn(4, 3), torch.randn(4)
    >>> bool(torch.allclose(linear(x.T.contiguous(), w, b, relu=True).T, F.relu(F.linear(x, w, b)), atol=1e-6))
    True
    """
    if not _ONEDNN or a.dtype != torch.float32 or a.dim() != 2:
        y = (w @ a) + b[:, None]
        return F.relu(y) if relu else y
    return _Linear.apply(a.contiguous(), w.contiguous(), b.contiguous(), relu)


class _ReconLoss(torch.autograd.Function):
    """sum((mu + exp(lv / 2) * eps - x)^2) / B with its gradient w.r.t. [mu ; lv] made in forward."""

    @staticmethod
    def forward(ctx, out, x, eps, batch: int):  # type: ignore[override]
        w = x.shape[0]
        mu, lv = out[:w], out[w:]
        e = torch.exp(lv * 0.5).mul_(eps)  # sigma * eps
        r = torch.sub(mu, x).add_(e)  # x_hat - x
        loss = torch.dot(r.view(-1), r.view(-1)) / batch
        grad = torch.empty_like(out)
        torch.mul(r, 2.0 / batch, out=grad[:w])  # d/d mu = 2 r / B
        torch.mul(r, e, out=grad[w:]).mul_(1.0 / batch)  # d/d lv = 2 r * sigma eps / 2 / B
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        (grad,) = ctx.saved_tensors
        return grad * g, None, None, None


def gaussian_recon_loss(out: torch.Tensor, x: torch.Tensor, eps: torch.Tensor, batch: int) -> torch.Tensor:
    """Batch mean of ``sum (x_hat - x)^2`` with ``x_hat = mu + exp(lv / 2) * eps`` (the released
    reconstruction term, a squared error of a reparameterised sample), feature-major:
    ``out = [mu ; lv]`` has shape (2w, M), ``x`` and ``eps`` (w, M), M = batch x channels.

    >>> out, x, eps = torch.zeros(4, 2), torch.ones(2, 2), torch.ones(2, 2)
    >>> float(gaussian_recon_loss(out, x, eps, 1))  # x_hat = 0 + 1 * 1 = x
    0.0
    """
    return _ReconLoss.apply(out.contiguous(), x.contiguous(), eps.contiguous(), batch)


def graph_loss_gram(a: torch.Tensor, xt: torch.Tensor, batch: int) -> torch.Tensor:
    """``(1/B) sum_b ||x_b - A x_b||_F^2`` from the batch ``xt`` of shape (B*w, n) (each window's
    rows are time steps): with ``D = I - A`` and the channel Gram matrix ``S = xt^T xt`` (n x n) it
    is ``tr(D S D^T) / B``, one (n x B*w) product instead of B (n x n)(n x w) products and their
    backward.

    >>> a, xb = torch.tensor([[0.5, 0.5], [0.0, 1.0]]), torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    >>> ref = (xb - a @ xb).pow(2).sum()
    >>> float(graph_loss_gram(a, xb.transpose(1, 2).reshape(-1, 2), 1)), float(ref)
    (2.0, 2.0)
    """
    s = xt.t() @ xt  # (n, n), no gradient (x is data)
    d = torch.eye(len(a), dtype=a.dtype) - a
    return ((d @ s) * d).sum() / batch
