"""Sparsity and update schedules.

* Cubic schedule of gradual magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune",
  Eq. 1): ``s_t = s_f + (s_i - s_f) (1 - (t - t_0) / (n Δt))^3`` for ``t_0 ≤ t ≤ t_0 + n Δt``.
* Cosine-decayed drop fraction of RigL (Evci et al. 2020, "Rigging the Lottery", Eq. 1):
  ``f(t) = α/2 (1 + cos(t π / T_end))``.
"""
from __future__ import annotations

import math


def cubic_sparsity(step: int, *, initial: float, final: float, begin: int, end: int) -> float:
    """Target sparsity at ``step`` of the cubic schedule; ``initial`` before ``begin``, ``final`` from ``end``.

    >>> cubic_sparsity(0, initial=0.0, final=0.9, begin=10, end=110)
    0.0
    >>> round(cubic_sparsity(60, initial=0.0, final=0.9, begin=10, end=110), 4)
    0.7875
    >>> cubic_sparsity(110, initial=0.0, final=0.9, begin=10, end=110)
    0.9
    """
    if step <= begin:
        return initial
    if step >= end or end <= begin:
        return final
    frac = (step - begin) / (end - begin)
    return final + (initial - final) * (1.0 - frac) ** 3


def cosine_drop_fraction(step: int, *, alpha: float, end: int) -> float:
    """RigL's cosine-decayed drop fraction; 0 from ``end`` on (no more mask updates).

    >>> cosine_drop_fraction(0, alpha=0.3, end=100), cosine_drop_fraction(50, alpha=0.3, end=100)
    (0.3, 0.15)
    >>> cosine_drop_fraction(100, alpha=0.3, end=100)
    0.0
    """
    if step >= end:
        return 0.0
    return round(alpha / 2.0 * (1.0 + math.cos(step * math.pi / end)), 12)
