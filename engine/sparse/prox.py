"""The sparse envelope function and its proximal operator (for WGSEF, ``engine.sparse.methods.wgsef``).

Definitions (Beck & Refael 2022, "Sparse regularization via bidualization", J. Global Optim.;
Argyriou, Foygel & Srebro 2012, "Sparse prediction with the k-support norm", NeurIPS):

* ``h_k(x)``: the convex envelope (biconjugate) of ``½‖x‖² + δ(‖x‖₀ ≤ k)``; it is half the squared
  k-support norm, ``h_k(x) = ½‖x‖²_(k)`` (Argyriou et al., Prop. 2.1 gives the closed form used in
  :func:`half_ksupport_sq`). Its conjugate is ``h_k*(y) = ½‖H_k(y)‖²``, ``H_k`` keeping the ``k``
  largest ``|y_i|``.
* The sparse envelope ``S_k(x) = h_k(x) − ½‖x‖²``: ``S_k ≥ 0`` and ``S_k(x) = 0`` exactly when ``x``
  is ``k``-sparse, so unlike an ℓ1 / group-lasso penalty it costs nothing on a ``k``-sparse vector
  and does not shrink the entries it keeps.

Proximal operators (derived here; the WGSEF paper's own equations could not be checked offline):

* ``prox_{(β/2)‖·‖²_(k)}(z)`` (:func:`prox_half_ksupport_sq`): writing ``h_k(x) = ½ min_{u∈D_k}
  Σ x_i²/u_i`` with ``D_k = {0 ≤ u ≤ 1, Σu ≤ k}``, the prox is ``x_i = z_i u_i/(u_i + β)`` with
  ``u_i = clip(β(|z_i|/θ − 1), 0, 1)`` and ``θ > 0`` the root of ``Σ_i u_i(θ) = k``: the entries with
  ``|z_i| ≥ (1+β)θ/β`` are scaled by ``1/(1+β)``, those with ``θ < |z_i| < (1+β)θ/β`` shifted towards
  0 by ``θ``, the rest set to 0; on the piece of the root ``θ = βT/(k − r + β(l − r))`` (``r`` scaled
  entries, ``l − r`` shifted ones summing to ``T``). If ``‖z‖₀ ≤ k`` it is ``z/(1+β)``.
  The root is found by a median search over the breakpoints ``|z_i|`` and ``β|z_i|/(1+β)``
  (:func:`_root`): **worst-case O(d)**, the linear time the WGSEF paper states; the sorted search
  (O(d log d), :func:`_root_sorted`) is kept as the reference it is tested against,
  and ``bench/wgsef_compare.py --prox-only`` times both against d.
* ``prox_{λS_k}(y)`` (:func:`prox_sparse_envelope`): for ``λ < 1`` it equals
  ``prox_{(λ/(1−λ)) h_k}(y/(1−λ))`` (complete the square), and the scaled entries come back
  *unchanged* (``y_i/(1−λ) · (1−λ) = y_i``); for ``λ ≥ 1`` it is the hard threshold ``H_k(y)``
  (``λS_k(x) + ½‖x−y‖² ≥ h_k(x) − ⟨x, y⟩ + ½‖y‖² ≥ ½‖y‖² − ½‖H_k(y)‖²``, with equality at ``H_k(y)``).
* Groups (:func:`prox_groups`): for ``S_k(c·v)`` on the group norms ``v_g = ‖x_g‖₂`` with one weight
  ``c`` per layer, ``v' = prox_{λc²S_k}(c v)/c`` and each group is rescaled, ``x_g ← x_g · v'_g / v_g``
  (the prox of a function of the group norms only; Beck & Hallak 2018's reduction).

Plain torch, 1-D tensors of group norms or values (float64 advised for tests).
"""
from __future__ import annotations

import numpy as np
import torch


def top_k_hard_threshold(y: torch.Tensor, k: int) -> torch.Tensor:
    """``H_k(y)``: keep the ``k`` largest ``|y_i|``, zero the rest.

    >>> top_k_hard_threshold(torch.tensor([3.0, -1.0, 2.0, 0.5]), 2).tolist()
    [3.0, 0.0, 2.0, 0.0]
    """
    out = torch.zeros_like(y)
    if k <= 0:
        return out
    idx = y.abs().topk(min(k, y.numel())).indices
    out[idx] = y[idx]
    return out


def half_ksupport_sq(x: torch.Tensor, k: int) -> float:
    """``h_k(x) = ½‖x‖²_(k)``, half the squared k-support norm (Argyriou et al. 2012, Prop. 2.1).

    With ``z = |x|`` sorted decreasingly and ``r ∈ {0, …, k−1}`` the unique index with
    ``z_{k−r−1} > (1/(r+1)) Σ_{i≥k−r} z_i ≥ z_{k−r}`` (1-based, ``z_0 = ∞``):
    ``‖x‖²_(k) = Σ_{i<k−r} z_i² + (Σ_{i≥k−r} z_i)² / (r+1)``. ``k = 1`` gives ``½‖x‖₁²``, ``k ≥ d`` ``½‖x‖²``.

    >>> half_ksupport_sq(torch.tensor([3.0, 1.0, 1.0]), 1), half_ksupport_sq(torch.tensor([3.0, 1.0, 1.0]), 3)
    (12.5, 5.5)
    >>> half_ksupport_sq(torch.tensor([3.0, 1.0, 1.0]), 2)  # 2-sparse part 9, the tail (1+1)²/2
    6.5
    """
    z = x.abs().double().sort(descending=True).values
    d = z.numel()
    k = min(k, d)
    tail = z.flip(0).cumsum(0).flip(0)  # tail[j] = Σ_{i≥j} z_i (0-based)
    for r in range(k):
        j = k - r - 1  # 0-based start of the averaged tail
        avg = float(tail[j]) / (r + 1)
        above = float(z[j - 1]) if j >= 1 else float("inf")
        if above > avg >= float(z[j]) - 1e-12 * max(1.0, avg):
            return 0.5 * (float((z[:j] ** 2).sum()) + float(tail[j]) ** 2 / (r + 1))
    return 0.5 * float(z.sum()) ** 2 / k  # not reached for exact arithmetic (r = k − 1 holds then)


def sparse_envelope(x: torch.Tensor, k: int) -> float:
    """``S_k(x) = h_k(x) − ½‖x‖²``: ≥ 0, and 0 exactly on ``k``-sparse ``x``.

    >>> sparse_envelope(torch.tensor([3.0, 0.0, 1.0]), 2), sparse_envelope(torch.tensor([3.0, 1.0, 1.0]), 2)
    (0.0, 1.0)
    """
    return half_ksupport_sq(x, k) - 0.5 * float((x.double() ** 2).sum())


def _root(a: np.ndarray, k: int, beta: float) -> float:
    """The ``θ > 0`` with ``Σ_i clip(β(a_i/θ − 1), 0, 1) = k`` (``a ≥ 0`` with more than ``k`` non-zeros).

    Worst-case O(d): each step takes the median (``np.partition``, introselect) of the breakpoints
    ``a_i`` and ``a_i/c`` still inside the bracket ``(lo, hi)`` of the root, halving them; an entry
    whose breakpoints have all left the bracket has a fixed term there (0, 1, or ``β(a_i/θ − 1)``) and
    is folded into three running totals, so the work per step is proportional to what is left.
    """
    c = (1.0 + beta) / beta
    lo, hi = 0.0, np.inf
    n_one, m_mid, s_mid = 0, 0, 0.0  # entries fixed at term 1; entries fixed in the shifted piece (count, Σ a)
    u = a[a > 0]
    while u.size:
        b = np.concatenate([u, u / c])
        b = b[(b > lo) & (b < hi)]
        if not b.size:
            break
        p = float(np.partition(b, b.size // 2)[b.size // 2])
        g = n_one + beta * (s_mid / p - m_mid) + float(np.clip(beta * (u / p - 1.0), 0.0, 1.0).sum())
        if g == k:
            return p
        if g > k:
            lo = p
        else:
            hi = p
        zero, one = u <= lo, u / c >= hi
        mid = (u / c <= lo) & (u >= hi)
        n_one += int(one.sum())
        m_mid += int(mid.sum())
        s_mid += float(u[mid].sum())
        u = u[~(zero | one | mid)]
    if m_mid:
        return beta * s_mid / (k - n_one + beta * m_mid)
    return lo if not np.isfinite(hi) else (lo + hi) / 2  # g ≡ k on the bracket: any θ in it


def _root_sorted(a: torch.Tensor, k: int, beta: float) -> float:
    """The same root as :func:`_root`, found on the sorted breakpoints: O(d log d).

    Kept as the reference the linear-time search is tested against.
    """
    c = (1.0 + beta) / beta  # |z_i| ≥ cθ: scaled; θ < |z_i| < cθ: shifted by θ; |z_i| ≤ θ: 0
    s = a.sort(descending=True).values  # (d,)
    prefix = torch.cat([s.new_zeros(1), s.cumsum(0)])  # prefix[j] = Σ of the j largest
    bps = torch.cat([a, a / c, a.new_zeros(1)]).unique().sort(descending=True).values  # breakpoints of g(θ)
    mids = (bps[:-1] + bps[1:]) / 2  # one interior point per piece
    neg = -s
    n_top = torch.searchsorted(neg, -c * mids, right=True)  # #{|z| ≥ cθ} (the same on the whole piece)
    n_pos = torch.searchsorted(neg, -mids, right=False)  # #{|z| > θ}
    n_mid = n_pos - n_top
    t_mid = prefix[n_pos] - prefix[n_top]
    denom = (k - n_top).to(a.dtype) + beta * n_mid.to(a.dtype)
    theta = torch.where(n_mid > 0, beta * t_mid / denom.clamp(min=1e-300), mids)
    ok = (theta <= bps[:-1] * (1 + 1e-12)) & (theta >= bps[1:] * (1 - 1e-12)) & (denom > 0)
    ok &= (n_mid > 0) | (n_top == k)
    return float(theta[ok.nonzero()[0, 0]])


def prox_half_ksupport_sq(z: torch.Tensor, k: int, beta: float, *, sorted_search: bool = False) -> torch.Tensor:
    """``argmin_x (β/2)‖x‖²_(k) + ½‖x − z‖²`` in closed form (module doc), worst-case O(d).

    ``sorted_search=True`` finds the threshold on the sorted breakpoints instead (O(d log d), the
    reference of the tests and the bench).

    >>> prox_half_ksupport_sq(torch.tensor([4.0, 2.0, 0.0]), 2, 1.0).tolist()  # ‖z‖₀ ≤ k: z/(1+β)
    [2.0, 1.0, 0.0]
    >>> [round(v, 4) for v in prox_half_ksupport_sq(torch.tensor([4.0, -2.0, 1.0]), 1, 1.0).tolist()]
    [2.0, -0.0, 0.0]
    """
    if beta <= 0:
        return z.clone()
    a = z.abs()
    if int((a > 0).sum()) <= k:
        return z / (1.0 + beta)
    c = (1.0 + beta) / beta
    th = _root_sorted(a, k, beta) if sorted_search else _root(a.detach().cpu().double().numpy(), k, beta)
    out = torch.where(a >= c * th, a / (1.0 + beta), (a - th).clamp(min=0.0))
    return out * z.sign()


def prox_half_ksupport_sq_sorted(z: torch.Tensor, k: int, beta: float) -> torch.Tensor:
    """:func:`prox_half_ksupport_sq` with the sorted O(d log d) threshold search (tests, bench)."""
    return prox_half_ksupport_sq(z, k, beta, sorted_search=True)


def prox_sparse_envelope(y: torch.Tensor, k: int, lam: float) -> torch.Tensor:
    """``argmin_x λS_k(x) + ½‖x − y‖²``: for λ < 1 the scaled prox of ``h_k``, for λ ≥ 1 ``H_k(y)``.

    The largest entries come back unchanged, the smallest are zeroed, a middle block is shrunk;
    at least ``k`` entries stay (fewer only if ``y`` has fewer non-zeros).

    >>> y = torch.tensor([4.0, 3.0, 1.0, 0.1], dtype=torch.float64)
    >>> [round(v, 4) for v in prox_sparse_envelope(y, 2, 0.2).tolist()]  # 4 kept as is; 3 and 1 shrunk by θ
    [4.0, 2.9167, 0.4167, 0.0]
    >>> [round(v, 4) for v in prox_sparse_envelope(y, 2, 0.6).tolist()]  # stronger: exactly k = 2 left
    [4.0, 3.0, 0.0, 0.0]
    >>> prox_sparse_envelope(y, 2, 1.0).tolist()  # λ ≥ 1: the hard threshold H_k
    [4.0, 3.0, 0.0, 0.0]
    """
    if lam <= 0:
        return y.clone()
    if lam >= 1:
        return top_k_hard_threshold(y, k)
    return prox_half_ksupport_sq(y / (1.0 - lam), k, lam / (1.0 - lam))


def prox_groups(norms: torch.Tensor, k: int, lam: float, weight: float = 1.0) -> torch.Tensor:
    """The factor each group is multiplied by under ``prox_{λ S_k(weight · v)}``, ``v`` the group norms.

    ``v' = prox_{λ·weight² S_k}(weight · v) / weight``; returns ``v'_g / v_g`` (0 for a zero group).

    >>> prox_groups(torch.tensor([2.0, 1.0, 0.5]), 1, 1.0).tolist()
    [1.0, 0.0, 0.0]
    """
    new = prox_sparse_envelope(weight * norms, k, lam * weight ** 2) / weight
    return torch.where(norms > 0, new / norms.clamp(min=torch.finfo(norms.dtype).tiny), torch.zeros_like(norms))
