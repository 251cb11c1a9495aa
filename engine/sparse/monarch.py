"""Monarch layers and the projection onto the Monarch class (Dao et al., ICML 2022); imports torch.

The method (``engine.sparse.methods.monarch``, torch-free) explains the layout; this module holds
:class:`MonarchLinear` (``y = P L Pᵀ R x + bias``, Def. 3.1), :func:`project` (Algorithm 1) and the
parameter formulas.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from engine.sparse.monarch_shapes import monarch_dims, monarch_params  # noqa: F401  (re-exported)


def block_diag_mask(rows: int, cols: int, nblocks: int):
    """Boolean ``rows×cols`` mask of ``nblocks`` equal diagonal blocks.

    >>> block_diag_mask(4, 6, 2).int().tolist()
    [[1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]]
    """
    r, c = rows // nblocks, cols // nblocks
    return torch.block_diag(*[torch.ones(r, c, dtype=torch.bool)] * nblocks)


def blocks(weight, nblocks: int):
    """The diagonal blocks of a block-diagonal ``(b·r)×(b·c)`` matrix as a ``(b, r, c)`` view."""
    r, c = weight.shape[0] // nblocks, weight.shape[1] // nblocks
    return weight.view(nblocks, r, nblocks, c).diagonal(dim1=0, dim2=2).permute(2, 0, 1)


class MonarchLinear(nn.Module):
    """``y = P L Pᵀ R x + bias`` (Dao et al. 2022, Def. 3.1); ``R``, ``L`` stored as block-diagonal matrices.

    >>> torch.manual_seed(0); layer = MonarchLinear(16, 16, 4)
    <torch._C.Generator object at ...>
    >>> x = torch.randn(3, 16)
    >>> bool(torch.allclose(layer(x), x @ layer.dense_matrix().T + layer.bias, atol=1e-5))
    True
    >>> layer.n_params(), round(project_error(layer.dense_matrix(), 4), 6)
    (128, 0.0)
    """

    def __init__(self, n_in: int, n_out: int, nblocks: int) -> None:
        super().__init__()
        self.in_features, self.out_features, self.nblocks = n_in, n_out, nblocks
        self.p, self.q, self.s = monarch_dims(n_in, n_out, nblocks)
        b, p, q, s = nblocks, self.p, self.q, self.s
        # init: R's blocks as nn.Linear's default for fan-in p; L's blocks U(±√(3/q)) keep the variance,
        # so the layer's output variance at init equals a dense nn.Linear's (an addition; the paper does not fix one)
        rb = (torch.rand(b, q, p) * 2 - 1) / math.sqrt(p)
        lb = (torch.rand(b, s, q) * 2 - 1) * math.sqrt(3.0 / q)
        self.R = nn.Parameter(torch.block_diag(*rb))  # (b·q, n_in)
        self.L = nn.Parameter(torch.block_diag(*lb))  # (b·s, b·q)
        self.bias = nn.Parameter((torch.rand(n_out) * 2 - 1) / math.sqrt(n_in))

    def n_params(self) -> int:
        """Weights of the Monarch layer (the blocks; the bias excluded), as the paper counts them."""
        return self.nblocks * (self.q * self.p + self.s * self.q)

    def factor_macs(self) -> dict[str, int]:
        """Multiply-accumulates per example of each stored factor as a dense matrix (the ledger scales them by density)."""
        return {"R": self.R.numel(), "L": self.L.numel()}

    def forward(self, x):
        b, p, q, s = self.nblocks, self.p, self.q, self.s
        batch = x.shape[0]
        x3 = x.reshape(batch, b, p).transpose(0, 1)  # (b, B, p)
        y = torch.bmm(x3, blocks(self.R, b).transpose(1, 2))  # (b, B, q): R's blocks
        y = y.transpose(0, 1).reshape(batch, q, b).permute(2, 0, 1)  # Pᵀ: (b, B, q) regrouped
        z = torch.bmm(y, blocks(self.L, b).transpose(1, 2))  # (b, B, s): L's blocks
        return z.permute(1, 2, 0).reshape(batch, s * b) + self.bias  # P: output i·b + l

    @torch.no_grad()
    def dense_matrix(self):
        """The layer's ``n_out × n_in`` matrix ``P L Pᵀ R`` (no bias)."""
        return (self(torch.eye(self.in_features)) - self.bias).T

    @torch.no_grad()
    def load_projection(self, weight) -> float:
        """Set ``R``, ``L`` to the Monarch projection of the dense ``weight`` (Algorithm 1); returns the
        relative Frobenius error ``‖W − M‖ / ‖W‖``."""
        rb, lb = project(weight, self.nblocks, self.q)
        self.R.copy_(torch.block_diag(*rb))
        self.L.copy_(torch.block_diag(*lb))
        err = torch.linalg.norm(weight - self.dense_matrix()) / torch.linalg.norm(weight).clamp(min=1e-12)
        return float(err)


def _slices(n_in: int, n_out: int, nblocks: int, q: int):
    """For every slice (l, k): the factor indices it uses, [(r, j)]: column r of L's block l and row j of R's block k."""
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for l_ in range(nblocks):
        for r in range(q):
            k, j = divmod(r * nblocks + l_, q)  # the mid position r·b + l is row j of R's block k
            out.setdefault((l_, k), []).append((r, j))
    return out


@torch.no_grad()
def project(weight, nblocks: int, q: int | None = None):
    """Blocks ``(R (b, q, p), L (b, s, q))`` of the Monarch matrix closest to ``weight`` in Frobenius norm.

    Algorithm 1 of Dao et al. 2022: each of the ``b²`` slices ``W[(·, l), (k, ·)]`` is approximated by
    its truncated SVD (rank 1 for a square layer), the factor vectors taking ``√σ`` each.
    """
    weight = weight.detach().to(torch.float64)
    n_out, n_in = weight.shape
    p, q_default, s = monarch_dims(n_in, n_out, nblocks)
    q = q_default if q is None else q
    b = nblocks
    w4 = weight.reshape(s, b, b, p)  # [i, l, k, j]: output i·b + l, input k·p + j
    rb = torch.zeros(b, q, p, dtype=torch.float64)
    lb = torch.zeros(b, s, q, dtype=torch.float64)
    for (l_, k), pairs in _slices(n_in, n_out, b, q).items():
        u, sv, vh = torch.linalg.svd(w4[:, l_, k, :], full_matrices=False)  # (s, p) slice
        for t, (r, j) in enumerate(pairs[: len(sv)]):
            root = sv[t].sqrt()
            lb[l_, :, r] = u[:, t] * root
            rb[k, j, :] = vh[t] * root
    return rb.to(torch.float32), lb.to(torch.float32)


def project_error(weight, nblocks: int) -> float:
    """Relative Frobenius error of the Monarch projection of ``weight`` (0 for a Monarch matrix)."""
    n_out, n_in = weight.shape
    layer = MonarchLinear(n_in, n_out, nblocks)
    return layer.load_projection(weight.detach().float())




@torch.no_grad()
def split_accuracy(model, data) -> float:
    """Top-1 accuracy of ``model`` on the test split, in eval mode."""
    was = model.training
    model.eval()
    acc = float((model(data.x_test).argmax(1) == data.y_test).float().mean())
    model.train(was)
    return acc
