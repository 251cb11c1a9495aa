"""The Learn page's toy: one small weight matrix pruned three ways (numpy only, instant)."""
from __future__ import annotations

import numpy as np


def toy_weights(rows: int = 16, cols: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, cols))


def unstructured_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep the largest |w| anywhere in the matrix (magnitude pruning)."""
    k = int(round((1 - sparsity) * w.size))
    mask = np.zeros(w.size, dtype=bool)
    if k:
        mask[np.argsort(-np.abs(w), axis=None, kind="stable")[:k]] = True
    return mask.reshape(w.shape)


def nm_mask(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep the n largest |w| in every group of m consecutive weights of a row (N:M)."""
    groups = np.abs(w).reshape(w.shape[0], -1, m)
    order = np.argsort(-groups, axis=-1, kind="stable")[..., :n]
    mask = np.zeros_like(groups, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask.reshape(w.shape)


def structured_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Remove whole rows (output neurons) with the smallest L2 norm."""
    keep = int(round((1 - sparsity) * w.shape[0]))
    rows = np.argsort(-np.linalg.norm(w, axis=1), kind="stable")[:keep]
    mask = np.zeros_like(w, dtype=bool)
    mask[rows] = True
    return mask


def storage_bytes(mask: np.ndarray, value_bytes: int = 4, index_bytes: int = 4) -> dict[str, int]:
    """Bytes to store the matrix densely vs in CSR (values + column indices + row pointers)."""
    nnz = int(mask.sum())
    return {"dense": mask.size * value_bytes, "csr": nnz * (value_bytes + index_bytes) + (mask.shape[0] + 1) * index_bytes}
