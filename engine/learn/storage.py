"""Storage formats of a sparse matrix and what each costs (lesson 1).

Byte counts, for an ``r × c`` matrix with ``nnz`` stored values of ``v`` bytes and indices of
``i`` bytes:

* dense: ``r c v``
* COO (coordinate list): ``nnz (v + 2 i)`` — a row and a column index per value
* CSR (compressed sparse row, as ``scipy.sparse.csr_matrix``): ``nnz (v + i) + (r + 1) i`` —
  a column index per value and one row pointer per row (plus one)
* bitmask: ``nnz v + ⌈r c / 8⌉`` — the values in order and one bit per position
* N:M (e.g. 2:4, NVIDIA Ampere sparse tensor cores, Mishra et al. 2021 "Accelerating Sparse Deep
  Neural Networks"): ``nnz v + ⌈nnz ⌈log2 M⌉ / 8⌉`` — every kept value carries the position of
  its slot within its group of M (2 bits for 2:4), valid only when every group keeps ≤ N values.

The toy masks (magnitude, N:M, whole neurons) prune one small matrix three ways.
"""
from __future__ import annotations

import math

import numpy as np

FORMATS = ("dense", "COO", "CSR", "bitmask", "N:M")


def toy_weights(rows: int = 16, cols: int = 16, seed: int = 0) -> np.ndarray:
    """A seeded ``rows × cols`` matrix of standard normal weights."""
    return np.random.default_rng(seed).normal(size=(rows, cols))


def unstructured_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep the ``round((1 - sparsity) · size)`` largest ``|w|`` anywhere in the matrix (magnitude pruning).

    >>> int(unstructured_mask(toy_weights(), 0.75).sum())
    64
    """
    k = int(round((1 - sparsity) * w.size))
    mask = np.zeros(w.size, dtype=bool)
    if k:
        mask[np.argsort(-np.abs(w), axis=None, kind="stable")[:k]] = True
    return mask.reshape(w.shape)


def nm_mask(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep the ``n`` largest ``|w|`` in every group of ``m`` consecutive weights of a row (N:M).

    >>> mask = nm_mask(toy_weights(), 2, 4)
    >>> int(mask.sum()), bool((mask.reshape(16, -1, 4).sum(-1) == 2).all())
    (128, True)
    """
    if w.shape[1] % m:
        raise ValueError(f"N:M needs the row length ({w.shape[1]}) to be a multiple of M={m}.")
    groups = np.abs(w).reshape(w.shape[0], -1, m)
    order = np.argsort(-groups, axis=-1, kind="stable")[..., :n]
    mask = np.zeros_like(groups, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask.reshape(w.shape)


def structured_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Remove whole rows (output neurons) with the smallest L2 norm.

    >>> mask = structured_mask(toy_weights(), 0.5)
    >>> int(mask.all(axis=1).sum()), int((~mask).all(axis=1).sum())
    (8, 8)
    """
    keep = int(round((1 - sparsity) * w.shape[0]))
    rows = np.argsort(-np.linalg.norm(w, axis=1), kind="stable")[:keep]
    mask = np.zeros_like(w, dtype=bool)
    mask[rows] = True
    return mask


def is_nm(mask: np.ndarray, n: int, m: int) -> bool:
    """Whether every group of ``m`` consecutive entries of a row keeps at most ``n``."""
    if mask.shape[1] % m:
        return False
    return bool((mask.reshape(mask.shape[0], -1, m).sum(-1) <= n).all())


def storage_bytes(mask: np.ndarray, *, value_bytes: int = 4, index_bytes: int = 4,
                  nm: tuple[int, int] | None = None) -> dict[str, int | None]:
    """Bytes to store ``W ⊙ mask`` in each format of :data:`FORMATS` (``None``: format not applicable).

    ``"N:M"`` applies only when ``nm=(n, m)`` is given and the mask satisfies it.

    >>> mask = np.zeros((4, 8), dtype=bool); mask[:, ::4] = mask[:, 1::4] = True  # 2:4, 16 of 32 kept
    >>> storage_bytes(mask, nm=(2, 4))
    {'dense': 128, 'COO': 192, 'CSR': 148, 'bitmask': 68, 'N:M': 68}
    >>> storage_bytes(np.eye(4, dtype=bool), value_bytes=2, index_bytes=2)["CSR"], storage_bytes(np.eye(4, dtype=bool))["N:M"]
    (26, None)
    """
    r, c = mask.shape
    nnz = int(mask.sum())
    v, i = value_bytes, index_bytes
    out: dict[str, int | None] = {
        "dense": r * c * v,
        "COO": nnz * (v + 2 * i),
        "CSR": nnz * (v + i) + (r + 1) * i,
        "bitmask": nnz * v + math.ceil(r * c / 8),
        "N:M": None,
    }
    if nm is not None and is_nm(mask, *nm):
        out["N:M"] = nnz * v + math.ceil(nnz * math.ceil(math.log2(nm[1])) / 8)
    return out


def csr_break_even_density(rows: int, cols: int, *, value_bytes: int = 4, index_bytes: int = 4) -> float:
    """Density below which CSR takes fewer bytes than dense: ``nnz (v+i) + (r+1) i < r c v``.

    >>> round(csr_break_even_density(16, 16), 4), round(csr_break_even_density(1024, 1024), 4)
    (0.4668, 0.4995)
    """
    v, i = value_bytes, index_bytes
    return (rows * cols * v - (rows + 1) * i) / ((v + i) * rows * cols)
