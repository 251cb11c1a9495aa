"""Compile SSumM's numba kernels into numba's on-disk cache, so that no user run pays for it.

The kernels (:mod:`engine.graphs._ssumm_numba`) are ``@njit(cache=True)``: the first call in a fresh
environment compiles them (about 6 CPU s), later processes load the cache (well under a second).
``make run`` / ``make test`` call this once after installing, and the app's warm workers import the
kernels, so a user's first summary is as fast as the next one (``bench/ssumm_cold_start.py``).

    python -m engine.graphs.warmup
"""
from __future__ import annotations

import time

import numpy as np


def warm() -> float:
    """Run SSumM once per error mode on a tiny graph (every kernel, every signature); seconds taken.

    >>> warm() >= 0.0
    True
    """
    from engine.graphs.ssumm import ssumm_edges

    t0 = time.perf_counter()
    edges = np.array([[0, 1], [0, 2], [1, 2], [2, 3], [3, 4], [3, 5], [4, 5], [5, 6]])
    for error, skip in (("l1", False), ("l1", True), ("l2", False)):
        ssumm_edges(edges, ratio=0.5, error=error, seed=0, skip_half_density=skip)
    return time.perf_counter() - t0


if __name__ == "__main__":
    print(f"SSumM kernels ready ({warm():.1f} s)")
