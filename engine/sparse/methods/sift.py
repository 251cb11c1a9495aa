"""Sparse Iso-FLOP Transformations: Sparse Wide (Thangarasa et al., ICML 2023, "Sparse-IFT: Sparse
Iso-FLOP Transformations for Maximizing Training Efficiency", Sec. 2.2 and Table 1).

A sparse-IFT replaces a dense layer by a *larger* sparse one with the same FLOPs, so at equal
training compute the network has more parameters to search. Sparse Wide widens every hidden layer
by ``k`` and trains it at sparsity ``s``. The paper's factor is ``k = 1/√(1 − s)`` (Table 1): a
hidden-to-hidden layer then costs ``(k·h)²(1 − s) = h²``, the dense layer's FLOPs. The first layer
(its input, the pixels, is not widened) and the last (the classes) grow only by ``k``, so with every
layer at ``s`` they cost *less* than dense; on a small MLP those layers matter (64-256-256-10:
18,944 of 84,480 MACs). ``width="iso-flop"`` (default) therefore solves ``k`` so that the *whole*
network at uniform sparsity ``s`` has the dense model's FLOPs, ``(1 − s)·F(k) = F(1)`` (bisection;
``k → 1/√(1 − s)`` as the hidden-to-hidden layers dominate, e.g. 3.45 against 3.16 at 90 % for
64-256-256-10); ``width="paper"`` uses ``1/√(1 − s)`` and reports the FLOP ratio it gives.

It is trained sparse from scratch with RigL (Evci et al. 2020), as the paper does for its main
results (Sec. 3), every layer at the same sparsity (uniform, so the FLOPs are the dense model's;
``sparse_training="static"`` keeps the random initial mask fixed instead, the paper's static sparse
baseline). The result carries ``sift`` (the factor, the widths, the dense and sparse-wide FLOPs and
their ratio) and, like every run, ``train_flops``.

Sparse Factorized (the family's second member here, ``sift-factorized``): every Linear of the MLP
(head included) becomes the product ``U·V`` (``V``: d × n_in, ``U``: n_out × d, no non-linearity
between them, ``engine.sparse.factorized.FactorizedLinear``), both factors at sparsity ``s``, with the
inner width solved per layer so ``(1 − s)·d·(n_in + n_out) = n_in·n_out`` (:func:`factorized_inner`):
each layer, and so the network, has the dense model's FLOPs. Trained with the same RigL (or static)
recipe as Sparse Wide. The paper's text could not be read offline: which layers it factorizes and
whether an activation sits between the factors are not checked (here: every layer, none); the CNN
is refused with a message.
"""
from __future__ import annotations

import math
from typing import Literal

from engine.config import require
from engine.sparse.methods.dst import RigLSparsifier
from engine.sparse.shapes import weight_shapes


def _spatial(model: str, shapes: dict, image_shape) -> dict[str, int]:
    """Output positions per example of each layer (1 for a Linear; H·W for a padded 3×3 conv)."""
    out = {}
    if model != "cnn":
        return {k: 1 for k in shapes}
    h, w = image_shape
    for fqn in shapes:
        if fqn.startswith("convs."):
            out[fqn] = h * w
            if h >= 2 and w >= 2:
                h, w = h // 2, w // 2
        else:
            out[fqn] = 1
    return out


def model_macs(model: str, *, n_in: int, n_out: int, hidden, channels, image_shape) -> int:
    """Dense multiply-accumulates per example of the lab's MLP / CNN with these widths.

    >>> model_macs("mlp", n_in=64, n_out=10, hidden=(256, 256), channels=(), image_shape=None)
    84480
    """
    shapes = weight_shapes(model, n_in=n_in, n_out=n_out, hidden=tuple(hidden), channels=tuple(channels),
                           image_shape=image_shape)
    spatial = _spatial(model, shapes, image_shape)
    return sum(math.prod(s) * spatial[k] for k, s in shapes.items())


def wide_widths(model: str, *, n_in: int, n_out: int, hidden, channels, image_shape, sparsity: float,
                width: str = "iso-flop") -> tuple[float, tuple[int, ...], tuple[int, ...]]:
    """(k, widened hidden widths, widened channels) of Sparse Wide at ``sparsity``.

    >>> k, h, _ = wide_widths("mlp", n_in=64, n_out=10, hidden=(256, 256), channels=(16,), image_shape=None,
    ...                       sparsity=0.9, width="paper")
    >>> round(k, 4), h
    (3.1623, (810, 810))
    >>> k, h, _ = wide_widths("mlp", n_in=64, n_out=10, hidden=(256, 256), channels=(16,), image_shape=None,
    ...                       sparsity=0.9)
    >>> round(k, 2), h
    (3.45, (883, 883))
    """
    def widen(c: float):
        return (tuple(max(1, round(h * c)) for h in hidden), tuple(max(1, round(ch * c)) for ch in channels))

    def cost(c: float) -> int:
        h, ch = widen(c)
        return model_macs(model, n_in=n_in, n_out=n_out, hidden=h, channels=ch, image_shape=image_shape)

    if width == "paper" or sparsity == 0:
        k = 1.0 / math.sqrt(1.0 - sparsity)
    else:
        target = cost(1.0) / (1.0 - sparsity)
        lo, hi = 1.0, 1.0 / (1.0 - sparsity)  # cost grows at least linearly in k: the root lies below 1/(1−s)
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if cost(mid) < target else (lo, mid)
        k = hi if abs(cost(hi) - target) <= abs(cost(lo) - target) else lo
        # every width rounded down or up (whichever combination lands closest to the dense FLOPs):
        # with few channels one rounding step is more than 1 % of the FLOPs
        import itertools

        cnn = model == "cnn"
        sizes = tuple(channels) if cnn else tuple(hidden)  # the widths that shape this model
        best = None
        for ups in itertools.product((0, 1), repeat=len(sizes)):
            ws = tuple(max(1, math.floor(v * k) + u) for v, u in zip(sizes, ups))
            h, ch = (widen(k)[0], ws) if cnn else (ws, widen(k)[1])
            err = abs(model_macs(model, n_in=n_in, n_out=n_out, hidden=h, channels=ch, image_shape=image_shape) - target)
            if best is None or err < best[0]:
                best = (err, h, ch)
        return k, best[1], best[2]
    h, ch = widen(k)
    return k, h, ch


class SparseWideSparsifier(RigLSparsifier):
    """Sparse-IFT Sparse Wide: hidden widths × k, every layer at sparsity s, trained with RigL."""

    name = "sift-wide"
    title = "Sparse-IFT Sparse Wide: widen the hidden layers, train sparse at the dense FLOPs (Thangarasa et al. 2023)"
    paper = ("Thangarasa et al. 2023, Sparse-IFT: Sparse Iso-FLOP Transformations for Maximizing Training "
             "Efficiency (ICML); trained with RigL, Evci et al. 2020")
    family = "iso-FLOP"
    defining_property = "iso_flop_wide"
    distribution = "uniform"
    legacy = {}

    def __init__(self, *, sparsity: float = 0.75,
                 width: Literal["iso-flop", "paper"] = "iso-flop",  # k: solved so the whole net has the dense FLOPs, or the paper's 1/√(1−s)
                 sparse_training: Literal["rigl", "static"] = "rigl",  # RigL (the paper's main results) or a static random mask
                 update_every: int = 25,  # ΔT: steps between RigL updates
                 drop_fraction: float = 0.3,  # α: RigL's fraction of active weights dropped at the first update
                 end: float = 0.75,  # T_end: stop RigL updates after this fraction of training
                 decay: Literal["cosine", "constant"] = "cosine",  # f(t): cosine decay of α (RigL Eq. 1) or constant
                 ) -> None:
        super().__init__(sparsity=sparsity, distribution="uniform", update_every=update_every,
                         drop_fraction=drop_fraction, end=end, decay=decay, sparse_init="dense")
        self.width, self.sparse_training = width, sparse_training

    @classmethod
    def widths(cls, config, *, n_in: int, n_out: int, image_shape) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The widened (hidden, channels) the model is built with (``engine.sparse.build``)."""
        _, h, ch = wide_widths(config.model, n_in=n_in, n_out=n_out, hidden=config.hidden, channels=config.channels,
                               image_shape=image_shape, sparsity=config.sparsity,
                               width=config.method_params.get("width", "iso-flop"))
        return h, ch

    def is_update_step(self, step: int) -> bool:
        return self.sparse_training == "rigl" and super().is_update_step(step)

    def on_train_begin(self, trainer) -> None:
        super().on_train_begin(trainer)
        c, d = trainer.config, trainer.data
        k, h, ch = wide_widths(c.model, n_in=d.n_features, n_out=d.n_classes, hidden=c.hidden, channels=c.channels,
                               image_shape=d.image_shape, sparsity=self.sparsity_level, width=self.width)
        dense = 2 * model_macs(c.model, n_in=d.n_features, n_out=d.n_classes, hidden=c.hidden, channels=c.channels,
                               image_shape=d.image_shape)
        wide = trainer.forward_flops()
        self.extra_result["sift"] = {"width_factor": k, "paper_factor": round(1 / math.sqrt(1 - self.sparsity_level), 4),
                                     "hidden": list(h) if c.model == "mlp" else None,
                                     "channels": list(ch) if c.model == "cnn" else None,
                                     "dense_hidden": list(c.hidden) if c.model == "mlp" else None,
                                     "dense_channels": list(c.channels) if c.model == "cnn" else None,
                                     "flops_dense_model": int(dense), "flops_sparse_wide": int(round(wide)),
                                     "flop_ratio": round(wide / dense, 4)}
        trainer.reporter.log(f"Sparse Wide: widths × {k:.3f} ({', '.join(map(str, h if c.model == 'mlp' else ch))}), "
                             f"forward FLOPs {wide / dense:.3f} × the dense model's.")


# ------------------------------------------------------------------------------------ Sparse Factorized
def factorized_inner(n_in: int, n_out: int, sparsity: float) -> int:
    """Inner width ``d`` of Sparse Factorized: ``(1 − s)·d·(n_in + n_out) = n_in·n_out`` (iso-FLOP), rounded.

    >>> factorized_inner(256, 256, 0.75), factorized_inner(64, 256, 0.9), factorized_inner(256, 256, 0.0)
    (512, 512, 128)
    """
    return max(1, round(n_in * n_out / ((1.0 - sparsity) * (n_in + n_out))))


class SparseFactorizedSparsifier(SparseWideSparsifier):
    """Sparse-IFT Sparse Factorized: every Linear becomes ``U·V`` with an iso-FLOP inner width, trained sparse with RigL."""

    name = "sift-factorized"
    title = ("Sparse-IFT Sparse Factorized: each layer as sparse U·V, inner width at the dense FLOPs "
             "(Thangarasa et al. 2023)")
    defining_property = "iso_flop_factorized"
    widths = None  # the model keeps its widths; prepare() factorizes its layers

    def __init__(self, *, sparsity: float = 0.75,
                 sparse_training: Literal["rigl", "static"] = "rigl",  # RigL (the paper's main results) or a static random mask
                 update_every: int = 25,  # ΔT: steps between RigL updates
                 drop_fraction: float = 0.3,  # α: RigL's fraction of active weights dropped at the first update
                 end: float = 0.75,  # T_end: stop RigL updates after this fraction of training
                 decay: Literal["cosine", "constant"] = "cosine",  # f(t): cosine decay of α (RigL Eq. 1) or constant
                 ) -> None:
        RigLSparsifier.__init__(self, sparsity=sparsity, distribution="uniform", update_every=update_every,
                                drop_fraction=drop_fraction, end=end, decay=decay, sparse_init="dense")
        self.sparse_training = sparse_training
        self.dense_shapes: dict[str, tuple[int, int]] = {}

    @classmethod
    def check_shapes(cls, shapes: dict, params: dict) -> None:
        from engine.errors import ConfigError

        if any(len(s) != 2 for s in shapes.values()):
            raise ConfigError("Sparse Factorized replaces the Linear layers of the MLP; choose the MLP model, not the CNN.")

    def check_model(self, model) -> None:
        type(self).check_shapes(self.dense_shapes or {f: tuple(self.weight(f).shape) for f in self.fqns}, {})

    def prepare(self, model, config=None) -> None:
        """Replace every Linear of the MLP (head included) by ``U·V``; the factors are the masked weights."""
        from engine.errors import ConfigError
        from engine.sparse.factorized import FactorizedLinear
        from engine.sparse.models import MLP

        if config is not None:
            raise ConfigError("sift-factorized: prepare() chooses its own tensors (each layer's factors V and U).")
        if not isinstance(model, MLP):
            raise ConfigError("Sparse Factorized replaces the Linear layers of the MLP; choose the MLP model, not the CNN.")
        self.dense_shapes = {f"layers.{i}.weight": tuple(layer.weight.shape) for i, layer in enumerate(model.layers)}
        for i, dense in enumerate(model.layers):
            if not isinstance(dense, FactorizedLinear):
                d = factorized_inner(dense.in_features, dense.out_features, self.sparsity_level)
                model.layers[i] = FactorizedLinear(dense.in_features, dense.out_features, d)
        super().prepare(model, None)

    def on_train_begin(self, trainer) -> None:
        RigLSparsifier.on_train_begin(self, trainer)
        dense = 2 * sum(o * i for o, i in self.dense_shapes.values())
        wide = trainer.forward_flops()
        inner = [layer.inner for layer in self.model.layers]
        self.extra_result["sift"] = {"transformation": "factorized", "inner": inner,
                                     "dense_shapes": [list(s) for s in self.dense_shapes.values()],
                                     "flops_dense_model": int(dense), "flops_sparse_factorized": int(round(wide)),
                                     "flop_ratio": round(wide / dense, 4)}
        trainer.reporter.log(f"Sparse Factorized: inner widths {', '.join(map(str, inner))}, "
                             f"forward FLOPs {wide / dense:.3f} × the dense model's.")
