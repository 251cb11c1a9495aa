"""The factorized linear layer of Sparse-IFT's Sparse Factorized member (``engine.sparse.methods.sift``):
``y = U (V x) + b`` with ``V`` (d × n_in, no bias) and ``U`` (n_out × d), both ordinary ``nn.Linear``
weights, so the masks, RigL, the FLOP count and the speed meter treat them as two layers in a chain.
No non-linearity sits between the two factors: the layer is still the linear map ``W = U V``.
"""
from __future__ import annotations

import torch
from torch import nn


class FactorizedLinear(nn.Module):
    """``n_in → d → n_out`` as two Linear factors (``V`` then ``U``), the product replacing one dense layer.

    >>> m = FactorizedLinear(4, 3, 5); tuple(m.V.weight.shape), tuple(m.U.weight.shape), m(torch.ones(2, 4)).shape
    ((5, 4), (3, 5), torch.Size([2, 3]))
    """

    def __init__(self, in_features: int, out_features: int, inner: int) -> None:
        super().__init__()
        self.in_features, self.out_features, self.inner = in_features, out_features, inner
        self.V = nn.Linear(in_features, inner, bias=False)  # registered first: forward and fqn order V, U
        self.U = nn.Linear(inner, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.U(self.V(x))  # (B, n_out)

    def dense_matrix(self) -> torch.Tensor:
        """``W = U V`` (n_out × n_in)."""
        return self.U.weight @ self.V.weight
