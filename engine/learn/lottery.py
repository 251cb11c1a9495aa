"""Lottery tickets on the tiny MLP (lesson 5): the winning ticket vs its controls.

Frankle & Carbin, ICLR 2019, "The Lottery Ticket Hypothesis": train a dense network from θ₀,
prune by magnitude (layer-wise; the output layer at half the rate, as the paper's fully
connected networks), **rewind** the surviving weights to θ₀ and train again — iteratively (IMP):
each of R rounds prunes ``1 − (1 − s)^(1/R)`` of the survivors, so after round r the sparsity of
the hidden layers is ``1 − (1 − s)^(r/R)`` (``engine.sparse.methods.lottery.round_sparsity``).
The paper's two controls, at the same sparsity: the same mask with **re-initialised** weights
(θ₀′ from another seed), and a **random mask** with the same number of weights per layer, from θ₀.
A winning ticket trains faster and/or ends better than both.
"""
from __future__ import annotations

import numpy as np

from engine.learn.mlp import MLP, magnitude_masks, make_data, train

VARIANTS = ("dense", "winning ticket", "same mask, re-initialised", "random mask")


def round_sparsity(final: float, rounds: int, r: int) -> float:
    """Sparsity after IMP round ``r`` of ``rounds`` (same formula as the lab's IMP).

    >>> round(round_sparsity(0.98, 5, 1), 4), round_sparsity(0.98, 5, 5)
    (0.5427, 0.98)
    """
    return final if r >= rounds else 1.0 - (1.0 - final) ** (r / rounds)


def _imp_masks(theta0: MLP, x, y, sparsity: float, rounds: int, steps: int) -> list[np.ndarray]:
    masks = [np.ones(w.shape, dtype=bool) for w in theta0.weights]
    for r in range(1, rounds + 1):
        net = theta0.copy()
        net.masks = [m.copy() for m in masks]
        net.apply_masks()
        train(net, x, y, steps)
        target = round_sparsity(sparsity, rounds, r)
        # layer-wise, the output layer at half the rate, as the paper's fully connected nets (Sec. 2);
        # pruned weights stay pruned (score 0)
        rates = [target] * (len(masks) - 1) + [target / 2]
        masks = magnitude_masks([np.where(m, np.abs(w) + 1e-12, 0.0) for w, m in zip(net.weights, masks)],
                                [1 - q for q in rates])
    return masks


def _curve(net: MLP, x, y, steps: int, every: int, grid_pts: np.ndarray) -> dict:
    acc, loss, at = [], [], []

    def hook(step, net, opt, grads):
        if step % every == 0:
            l, a = net.loss_acc(x, y)
            at.append(step), acc.append(a), loss.append(l)

    train(net, x, y, steps, callback=hook)
    l, a = net.loss_acc(x, y)
    at.append(steps), acc.append(a), loss.append(l)
    n = int(np.sqrt(len(grid_pts)))
    return {"steps": at, "accuracy": acc, "loss": loss, "boundary": net.predict_proba(grid_pts).reshape(n, n),
            "kept": [int(m.sum()) for m in net.masks]}


def lottery_study(*, dataset: str = "moons", hidden: tuple[int, ...] = (16, 16), sparsity: float = 0.9,
                  rounds: int = 3, steps: int = 400, every: int = 10, grid: int = 40, seed: int = 0) -> dict:
    """Find a ticket by IMP and train it beside the dense net and the two controls; curves and boundaries.

    >>> r = lottery_study(sparsity=0.8, rounds=2, steps=100)
    >>> r["winning ticket"]["kept"] == r["random mask"]["kept"] == r["same mask, re-initialised"]["kept"]
    True
    >>> r["winning ticket"]["kept"], sum(r["dense"]["kept"])  # 80 % of each hidden layer, 40 % of the output
    ([6, 51, 10], 304)
    """
    x, y = make_data(dataset, 200, 0.1, seed)
    axis = np.linspace(-1.6, 1.6, grid)
    gx, gy = np.meshgrid(axis, axis)
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    theta0 = MLP(hidden, seed=seed)
    masks = _imp_masks(theta0, x, y, sparsity, rounds, steps)
    rng = np.random.default_rng(seed + 7)
    random_masks = []
    for m in masks:
        flat = np.zeros(m.size, dtype=bool)
        flat[rng.choice(m.size, int(m.sum()), replace=False)] = True
        random_masks.append(flat.reshape(m.shape))
    variants = {
        "dense": (theta0.copy(), [np.ones(m.shape, dtype=bool) for m in masks]),
        "winning ticket": (theta0.copy(), masks),
        "same mask, re-initialised": (MLP(hidden, seed=seed + 1000), masks),
        "random mask": (theta0.copy(), random_masks),
    }
    out: dict = {"grid": axis, "x": x, "y": y, "sparsity": sparsity, "rounds": rounds,
                 "imp": [round_sparsity(sparsity, rounds, r) for r in range(1, rounds + 1)]}
    for name, (net, m) in variants.items():
        net.masks = [mm.copy() for mm in m]
        net.apply_masks()
        out[name] = _curve(net, x, y, steps, every, pts)
    return out
