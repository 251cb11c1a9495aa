"""A tiny numpy MLP on 2-D data, trained full-batch with Adam, with a mask on every weight matrix.

It is the lessons' model (TensorFlow Playground size: 2 inputs, a few tanh layers of 4–16 units,
one sigmoid output), small enough that a whole training run takes well under a second on one
core. Masks are enforced as the lab's trainer does (``engine.sparse.train``): the forward pass sees
``W ⊙ M``, pruned weights are kept at exactly 0 and their gradients and Adam moments are zeroed.
:meth:`MLP.grads` also returns the *dense* gradient ``∇_W L(W ⊙ M)`` that RigL grows by.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DATASETS = ("moons", "circles", "spirals")


def make_data(name: str, n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points ``x`` (n, 2) scaled to about [-1, 1] and labels ``y`` (n,) in {0, 1}.

    moons and circles as ``sklearn.datasets``; spirals as TensorFlow Playground's two arms
    (the same recipe as ``engine.sparse.data.spirals``).

    >>> x, y = make_data("spirals", 100, seed=1)
    >>> x.shape, int(y.sum())
    ((100, 2), 50)
    """
    rng = np.random.default_rng(seed)
    if name == "moons":
        from sklearn.datasets import make_moons

        x, y = make_moons(n, noise=noise, random_state=seed)
        x = (x - [0.5, 0.25]) / 1.2
    elif name == "circles":
        from sklearn.datasets import make_circles

        x, y = make_circles(n, noise=noise * 0.5, factor=0.5, random_state=seed)
    elif name == "spirals":
        t = np.sqrt(rng.random(n // 2)) * 3 * np.pi  # (n/2,) angle, denser towards the centre
        arms = []
        for label, phase in ((0, 0.0), (1, np.pi)):
            r = t / (3 * np.pi)
            xy = np.stack([r * np.cos(t + phase), r * np.sin(t + phase)], axis=1)
            arms.append((xy + noise * 0.15 * rng.standard_normal(xy.shape), np.full(n // 2, label)))
        x = np.concatenate([a[0] for a in arms])
        y = np.concatenate([a[1] for a in arms])
    else:
        raise ValueError(f"Unknown data set '{name}'; choose from {', '.join(DATASETS)}.")
    return x.astype(np.float64), y.astype(np.int64)


@dataclass
class Adam:
    """Adam (Kingma & Ba 2015) over a list of arrays; moments can be reset where masks flip."""

    lr: float = 0.03
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def init(self, params: list[np.ndarray]) -> None:
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            mh = m / (1 - self.beta1 ** self.t)
            vh = v / (1 - self.beta2 ** self.t)
            p -= self.lr * mh / (np.sqrt(vh) + self.eps)


class MLP:
    """``2 → hidden… → 1`` with tanh hidden units and a sigmoid output; ``masks[l]`` gates ``weights[l]``.

    >>> net = MLP((8, 8), seed=0)
    >>> [w.shape for w in net.weights], net.n_weights
    ([(2, 8), (8, 8), (8, 1)], 88)
    """

    def __init__(self, hidden: tuple[int, ...] = (8, 8), seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        sizes = (2, *hidden, 1)
        # Glorot-uniform (tanh) initialisation, zero biases
        self.weights = [rng.uniform(-1, 1, (a, b)) * np.sqrt(6 / (a + b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(b) for b in sizes[1:]]
        self.masks = [np.ones(w.shape, dtype=bool) for w in self.weights]
        self.sizes = sizes

    @property
    def n_weights(self) -> int:
        return sum(w.size for w in self.weights)

    def density(self) -> float:
        return sum(int(m.sum()) for m in self.masks) / self.n_weights

    def copy(self) -> MLP:
        new = MLP.__new__(MLP)
        new.weights = [w.copy() for w in self.weights]
        new.biases = [b.copy() for b in self.biases]
        new.masks = [m.copy() for m in self.masks]
        new.sizes = self.sizes
        return new

    def apply_masks(self) -> None:
        for w, m in zip(self.weights, self.masks):
            w *= m

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations of every layer, input first; the last is p(y=1|x), shape (n,)."""
        acts = [x]
        for l, (w, b, m) in enumerate(zip(self.weights, self.biases, self.masks)):
            z = acts[-1] @ (w * m) + b  # (n, out)
            acts.append(np.tanh(z) if l < len(self.weights) - 1 else 1 / (1 + np.exp(-z)))
        acts[-1] = acts[-1][:, 0]
        return acts

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[-1]

    def loss_acc(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        p = np.clip(self.predict_proba(x), 1e-7, 1 - 1e-7)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), float(np.mean((p > 0.5) == y))

    def grads(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Dense weight gradients ``∇_W L(W ⊙ M)`` (not masked) and bias gradients, mean log-loss."""
        acts = self.forward(x)
        delta = ((acts[-1] - y) / len(y))[:, None]  # (n, 1) dL/dz of the sigmoid output
        gw, gb = [], []
        for l in range(len(self.weights) - 1, -1, -1):
            gw.append(acts[l].T @ delta)
            gb.append(delta.sum(0))
            if l:
                delta = (delta @ (self.weights[l] * self.masks[l]).T) * (1 - acts[l] ** 2)
        return gw[::-1], gb[::-1]


def train(net: MLP, x: np.ndarray, y: np.ndarray, steps: int, *, lr: float = 0.03,
          opt: Adam | None = None, callback=None) -> Adam:
    """Full-batch Adam for ``steps`` steps keeping masked weights at 0; ``callback(step, net, opt, grads)``
    runs after each step's backward pass and before its update (RigL's hook).

    >>> x, y = make_data("moons", 200)
    >>> net = MLP((8, 8)); _ = train(net, x, y, 300)
    >>> net.loss_acc(x, y)[1] > 0.95
    True
    """
    if opt is None:
        opt = Adam(lr=lr)
        opt.init(net.weights + net.biases)
    for step in range(steps):
        gw, gb = net.grads(x, y)
        if callback is not None:
            callback(step, net, opt, gw)
        gw = [g * m for g, m in zip(gw, net.masks)]
        opt.step(net.weights + net.biases, gw + gb)
        net.apply_masks()
    return opt


def reset_moments(opt: Adam, layer: int, where: np.ndarray) -> None:
    """Zero Adam's moments of weight ``layer`` where ``where`` is True (a flipped mask)."""
    opt.m[layer][where] = 0.0
    opt.v[layer][where] = 0.0


def random_masks(shapes: list[tuple[int, int]], densities: list[float], rng: np.random.Generator) -> list[np.ndarray]:
    """For each layer, exactly ``round(d · size)`` (at least 1) active positions chosen at random."""
    out = []
    for shape, d in zip(shapes, densities):
        size = int(np.prod(shape))
        k = max(1, min(size, int(round(d * size))))
        flat = np.zeros(size, dtype=bool)
        flat[rng.choice(size, k, replace=False)] = True
        out.append(flat.reshape(shape))
    return out


def magnitude_masks(weights: list[np.ndarray], densities: list[float]) -> list[np.ndarray]:
    """Layer-wise magnitude: keep the ``round(d · size)`` largest ``|w|`` of each layer."""
    out = []
    for w, d in zip(weights, densities):
        k = max(0, min(w.size, int(round(d * w.size))))
        flat = np.zeros(w.size, dtype=bool)
        if k:
            flat[np.argsort(-np.abs(w), axis=None, kind="stable")[:k]] = True
        out.append(flat.reshape(w.shape))
    return out
