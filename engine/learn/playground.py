"""Static vs dynamic sparse training of the tiny MLP, recorded as frames (lesson 4).

Every ``ΔT`` steps until ``T_end`` a dynamic method drops, in each layer, the ``k = ⌊f(t) · n_active⌋``
active weights of smallest magnitude and grows ``k`` inactive ones, so each layer's density stays
exactly constant (the same update as ``engine.sparse.methods.dst``):

* SET (Mocanu et al. 2018, Alg. 1): grow at random;
* RigL (Evci et al. 2020, Alg. 1): grow the inactive weights with the largest dense gradient
  ``|∇_W L(W ⊙ M)|`` of the current (here: full) batch;
* static: the initial random mask is never changed.

``f(t)`` is RigL's cosine decay (``engine.sparse.schedules.cosine_drop_fraction``, the function the
lab's runs call) or a constant α (the original SET). Grown weights start at 0 with fresh Adam
moments. The initial mask is uniform random per layer (the lab's runs default to ERK; on a
2-8-8-1 net ERK would leave the small layers dense). Training is full-batch, so "the current
mini-batch" of RigL is the whole data set.

:func:`trajectory` returns the frames an animation plays: masks, weights and the decision boundary
on a grid, every ``frame_every`` steps and right after every mask update.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.learn.mlp import MLP, make_data, random_masks, reset_moments, train
from engine.sparse.schedules import cosine_drop_fraction

METHODS = ("static", "set", "rigl")


@dataclass
class Frame:
    step: int
    masks: list[np.ndarray]
    weights: list[np.ndarray]
    boundary: np.ndarray  # (grid, grid) p(y=1) on the grid
    loss: float
    accuracy: float
    grown: list[np.ndarray] = field(default_factory=list)  # per layer: True where a weight was just grown
    dropped: list[np.ndarray] = field(default_factory=list)  # per layer: True where a weight was just dropped


@dataclass
class Trajectory:
    method: str
    frames: list[Frame]
    x: np.ndarray
    y: np.ndarray
    grid: np.ndarray  # (grid,) coordinates of the boundary's axes
    updates: int
    sizes: tuple[int, ...]


def drop_fraction(step: int, *, alpha: float, end: int, decay: str) -> float:
    """f(t): cosine (RigL Eq. 1, from ``engine.sparse.schedules``) or constant α; 0 from ``end`` on.

    >>> drop_fraction(0, alpha=0.3, end=100, decay="cosine"), drop_fraction(50, alpha=0.3, end=100, decay="constant")
    (0.3, 0.3)
    >>> drop_fraction(100, alpha=0.3, end=100, decay="constant")
    0.0
    """
    if step >= end:
        return 0.0
    return cosine_drop_fraction(step, alpha=alpha, end=end) if decay == "cosine" else alpha


def drop_and_grow(weight: np.ndarray, mask: np.ndarray, grow_scores: np.ndarray, fraction: float) -> np.ndarray:
    """The new mask: drop the ``k = ⌊fraction · n_active⌋`` smallest active ``|w|``, grow the ``k``
    highest-scoring positions not kept (ties by position). The number of active weights is unchanged.

    >>> w = np.array([[0.1, -2.0, 0.0], [0.5, 0.0, 0.0]]); m = w != 0
    >>> drop_and_grow(w, m, np.array([[0, 0, 9.0], [0, 1.0, 0]]), 0.34).astype(int).tolist()
    [[0, 1, 1], [1, 0, 0]]
    """
    n_active = int(mask.sum())
    k = int(fraction * n_active)
    if k == 0 or n_active == mask.size:
        return mask.copy()
    mag = np.where(mask, np.abs(weight), -np.inf).ravel()
    keep = np.zeros(mask.size, dtype=bool)
    keep[np.argsort(-mag, kind="stable")[: n_active - k]] = True
    scores = np.where(keep, -np.inf, grow_scores.ravel())
    grow = np.zeros(mask.size, dtype=bool)
    grow[np.argsort(-scores, kind="stable")[:k]] = True
    return (keep | grow).reshape(mask.shape)


def trajectory(method: str = "rigl", *, dataset: str = "moons", sparsity: float = 0.5, hidden: tuple[int, ...] = (8, 8),
               steps: int = 600, update_every: int = 25, alpha: float = 0.3, end_frac: float = 0.75,
               decay: str = "cosine", lr: float = 0.03, noise: float = 0.1, n_points: int = 200,
               frame_every: int = 10, grid: int = 40, seed: int = 0) -> Trajectory:
    """Train the tiny MLP at constant ``sparsity`` with ``method`` and record the frames of its training.

    >>> t = trajectory("rigl", sparsity=0.5, steps=200, seed=0)
    >>> t.updates, len({int(sum(m.sum() for m in f.masks)) for f in t.frames})  # 5 updates, density constant
    (5, 1)
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method '{method}'; choose from {', '.join(METHODS)}.")
    if not 0.0 <= sparsity < 1.0:
        raise ValueError("Sparsity must be in [0, 1).")
    x, y = make_data(dataset, n_points, noise, seed)
    rng = np.random.default_rng(seed + 15485863)
    net = MLP(hidden, seed=seed)
    net.masks = random_masks([w.shape for w in net.weights], [1.0 - sparsity] * len(net.weights), rng)
    net.apply_masks()
    axis = np.linspace(-1.6, 1.6, grid)
    gx, gy = np.meshgrid(axis, axis)
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (grid², 2)
    end = max(1, int(end_frac * steps))
    frames: list[Frame] = []
    updates = 0

    def record(step: int, grown=None, dropped=None) -> None:
        loss, acc = net.loss_acc(x, y)
        frames.append(Frame(step, [m.copy() for m in net.masks], [w.copy() for w in net.weights],
                            net.predict_proba(pts).reshape(grid, grid), loss, acc, grown or [], dropped or []))

    def hook(step: int, net: MLP, opt, dense_grads) -> None:
        nonlocal updates
        if step % frame_every == 0:
            record(step)
        if method == "static" or not (step > 0 and step % update_every == 0 and step < end):
            return
        frac = drop_fraction(step, alpha=alpha, end=end, decay=decay)
        grown, dropped = [], []
        for l, (w, m) in enumerate(zip(net.weights, net.masks)):
            scores = np.abs(dense_grads[l]) if method == "rigl" else rng.random(w.shape)
            new = drop_and_grow(w, m, scores, frac)
            grown.append(new & ~m)
            dropped.append(m & ~new)
            reset_moments(opt, l, new != m)
            net.masks[l] = new
        net.apply_masks()  # dropped weights to 0; grown ones are 0 already (they were pruned)
        updates += 1
        record(step, grown, dropped)

    train(net, x, y, steps, lr=lr, callback=hook)
    record(steps)
    return Trajectory(method, frames, x, y, axis, updates, net.sizes)
