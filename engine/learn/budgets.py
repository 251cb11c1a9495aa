"""Layer-wise sparsity budgets and layer collapse (lesson 6).

At the same overall sparsity, three ways to split the kept weights among layers:

* uniform: every layer keeps the same fraction ``1 − s``;
* ERK (Erdős–Rényi-Kernel; Mocanu et al. 2018, Evci et al. 2020 Sec. 3): layer ``l`` keeps
  ``ε (Σ dims) / (Π dims)``, so small layers stay denser (a copy of
  ``engine.sparse.masks.erk_densities``, which lives in a torch module the app must not import;
  a test checks the two agree);
* global magnitude: one threshold on ``|w|`` over all layers together — layers with small
  weights lose most, and at high sparsity a whole layer can be removed: *layer collapse*
  (Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving
  synaptic flow", Sec. 3), after which the network's output no longer depends on its input.
"""
from __future__ import annotations


import numpy as np

from engine.learn.mlp import MLP, magnitude_masks, make_data, train

DISTRIBUTIONS = ("uniform", "erk", "global")


def erk_densities(shapes: list[tuple[int, ...]], density: float) -> list[float]:
    """ERK densities with the capping loop (the lab's :func:`engine.sparse.masks.erk_densities`, by position).

    >>> [round(d, 4) for d in erk_densities([(10, 10), (100, 100)], 0.1)]
    [0.9182, 0.0918]
    >>> erk_densities([(2, 2), (100, 100)], 0.5)[0]
    1.0
    """
    from engine.sparse.masks import erk_densities as lab_erk   # the lab's own (torch-free to import)

    by_name = lab_erk({i: tuple(shape) for i, shape in enumerate(shapes)}, density)
    return [by_name[i] for i in range(len(shapes))]


def global_magnitude_masks(weights: list[np.ndarray], sparsity: float) -> list[np.ndarray]:
    """Keep the ``round((1 − s) N)`` largest ``|w|`` over all layers together.

    >>> [m.astype(int).tolist() for m in global_magnitude_masks([np.array([[3.0, 0.1]]), np.array([[0.2, 2.0]])], 0.5)]
    [[[1, 0]], [[0, 1]]]
    """
    flat = np.concatenate([np.abs(w).ravel() for w in weights])
    k = max(0, min(flat.size, int(round((1 - sparsity) * flat.size))))
    keep = np.zeros(flat.size, dtype=bool)
    if k:
        keep[np.argsort(-flat, kind="stable")[:k]] = True
    out, i = [], 0
    for w in weights:
        out.append(keep[i : i + w.size].reshape(w.shape))
        i += w.size
    return out


def masks_for(distribution: str, weights: list[np.ndarray], sparsity: float) -> list[np.ndarray]:
    """Magnitude masks at overall ``sparsity`` split among layers by ``distribution``."""
    if distribution == "global":
        return global_magnitude_masks(weights, sparsity)
    if distribution == "uniform":
        return magnitude_masks(weights, [1 - sparsity] * len(weights))
    if distribution == "erk":
        return magnitude_masks(weights, erk_densities([w.shape for w in weights], 1 - sparsity))
    raise ValueError(f"Unknown distribution '{distribution}'; choose from {', '.join(DISTRIBUTIONS)}.")


def collapsed(masks: list[np.ndarray]) -> bool:
    """Whether no path of kept weights joins any input to the output (the network is cut).

    >>> collapsed([np.ones((2, 3), bool), np.zeros((3, 1), bool)]), collapsed([np.eye(2, dtype=bool), np.ones((2, 1), bool)])
    (True, False)
    """
    reach = np.ones(masks[0].shape[0], dtype=bool)
    for m in masks:
        reach = (reach[:, None] & m).any(axis=0)
    return not bool(reach.any())


def budget_study(*, dataset: str = "moons", hidden: tuple[int, ...] = (32, 32, 32), sparsities: tuple[float, ...] = (
        0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995), steps: int = 300, finetune: int = 50,
        seed: int = 0) -> dict:
    """Train the MLP dense, then prune it by each distribution at each sparsity and fine-tune ``finetune`` steps.

    Returns ``shapes``, ``sparsities`` and, per distribution, ``densities[s][l]`` (kept fraction of layer
    l), ``kept[s][l]`` (kept count), ``collapsed[s]`` and ``accuracy[s]`` (training accuracy after
    fine-tuning with the mask fixed).

    >>> r = budget_study(sparsities=(0.5, 0.99))
    >>> r["global"]["kept"][1], r["global"]["collapsed"], r["erk"]["collapsed"]
    ([2, 14, 0, 5], [False, True], [False, True])
    """
    x, y = make_data(dataset, 300, 0.1, seed)
    dense = MLP(hidden, seed=seed)
    train(dense, x, y, steps)
    out: dict = {"shapes": [w.shape for w in dense.weights], "sparsities": list(sparsities),
                 "dense_accuracy": dense.loss_acc(x, y)[1]}
    for dist in DISTRIBUTIONS:
        rows = {"densities": [], "kept": [], "collapsed": [], "accuracy": []}
        for s in sparsities:
            net = dense.copy()
            net.masks = masks_for(dist, net.weights, s)
            net.apply_masks()
            if finetune:
                train(net, x, y, finetune, lr=0.01)
            rows["densities"].append([float(m.mean()) for m in net.masks])
            rows["kept"].append([int(m.sum()) for m in net.masks])
            rows["collapsed"].append(collapsed(net.masks))
            rows["accuracy"].append(net.loss_acc(x, y)[1])
        out[dist] = rows
    return out
