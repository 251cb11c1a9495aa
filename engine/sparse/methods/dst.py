"""Dynamic sparse training at constant density: SET and RigL.

Both start from a random sparse mask (Erdős–Rényi(-Kernel) or uniform layer densities) and
periodically drop some active weights of each layer and grow as many inactive ones, so every
layer's density stays exactly constant while the mask changes.

* SET (Mocanu et al., Nature Communications 2018, "Scalable training of artificial neural networks
  with adaptive sparse connectivity inspired by network science", Alg. 1), the defaults: after
  every training epoch but the last, remove from each layer the fraction ζ of the *smallest
  positive* and ζ of the *largest negative* weights (those closest to zero on each side), and add
  as many connections at random positions with fresh random values, ζ constant. The fresh values
  are drawn from the layer's initial distribution U(−1/√fan_in, 1/√fan_in) (PyTorch's default
  init; the paper draws them from its own initial distribution too). Options, each named for what it
  changes: ``update="steps"`` (every ΔT steps), ``drop="magnitude"`` (the smallest |w| overall),
  ``decay="cosine"``, ``regrow_init="zero"``, ``end`` < 1. The SET baseline of the RigL paper
  (Evci et al. 2020) is ``update="steps", drop="magnitude", decay="cosine", regrow_init="zero",
  end=0.75`` (:data:`SET_RIGL_BASELINE`).
* RigL (Evci et al., ICML 2020, "Rigging the Lottery", Alg. 1, Eq. 1): every ΔT steps until T_end,
  drop the ``k = f(t) · n_active`` smallest-|w| active weights of each layer and grow the ``k``
  inactive ones with the largest |dense gradient| ``|∇_θ L(θ ⊙ M)|`` of the current mini-batch;
  ``f(t) = α/2 (1 + cos(tπ / T_end))``. The dense gradient is what autograd leaves in ``.grad``
  before the loop masks it. Grown weights start at zero and their optimizer moments are reset.
"""
from __future__ import annotations

import math
from typing import Literal

from engine.config import require
from engine.sparse._lazy import torch
from engine.sparse.masks import topk_mask
from engine.sparse.methods.pai import RandomSparsifier
from engine.sparse.schedules import cosine_drop_fraction

SET_RIGL_BASELINE = {"update": "steps", "drop": "magnitude", "decay": "cosine", "regrow_init": "zero", "end": 0.75}
"""SET as the RigL paper runs it as a baseline (Evci et al. 2020, Sec. 4)."""


class _DynamicSparsifier(RandomSparsifier):
    """Random initial mask (``distribution``), then drop/grow until ``end`` of training."""

    family = "dynamic sparse training"
    masks_at_init = True
    per_layer_targets = True
    defining_property = "constant_density_mask_changes"

    def on_train_begin(self, trainer) -> None:
        super().on_train_begin(trainer)
        self.total_steps = trainer.total_steps
        self.end_step = max(1, int(self.end * trainer.total_steps))
        self.steps_per_epoch = trainer.steps_per_epoch
        self.gen = torch.Generator().manual_seed(self.seed + 15485863)
        self.updates = 0

    def drop_fraction_at(self, step: int, alpha: float) -> float:
        """f(t): cosine-decayed (RigL, Eq. 1) or constant α, 0 from ``end`` on.

        >>> sp = SETSparsifier(decay="constant"); sp.end_step = 100
        >>> sp.drop_fraction_at(10, 0.3), sp.drop_fraction_at(100, 0.3)
        (0.3, 0.0)
        """
        if step >= self.end_step:
            return 0.0
        return cosine_drop_fraction(step, alpha=alpha, end=self.end_step) if self.decay == "cosine" else alpha

    def is_update_step(self, step: int) -> bool:
        return step > 0 and step % self.update_every == 0 and step < self.end_step

    def grow(self, fqn: str, weight, candidates, k: int):
        raise NotImplementedError

    def drop_magnitude(self, w, mask, frac: float):
        """Keep mask without the ``int(frac · n_active)`` smallest-|w| active weights; returns (keep, k)."""
        n_active = int(mask.sum())
        k = int(frac * n_active)
        return topk_mask(w.abs().masked_fill(~mask, float("-inf")), n_active - k), k

    def update(self, step: int) -> None:
        """Drop and grow in every layer (Alg. 1 of both papers); densities stay exactly constant."""
        with torch.no_grad():
            new, fresh = {}, {}
            for fqn in self.fqns:
                w, mask = self.weight(fqn), self.mask(fqn)
                if int(mask.sum()) in (0, mask.numel()):
                    continue
                keep, k = self.drop(fqn, w, mask, step)
                if k == 0:
                    continue
                grow = self.grow(fqn, w, ~keep, k)
                new[fqn] = keep | grow
                fresh[fqn] = grow & ~mask  # newly active positions
            self.updates += 1
            self.set_masks(new)  # zeroes dropped weights and the moments of flipped ones
            if getattr(self, "regrow_init", "zero") == "random":
                for fqn, g in fresh.items():
                    w = self.weight(fqn)
                    bound = 1.0 / math.sqrt(max(1, w[0].numel()))  # PyTorch's default init: U(−1/√fan_in, 1/√fan_in)
                    vals = (torch.rand(int(g.sum()), generator=self.gen) * 2 - 1) * bound
                    w[g] = vals.to(w.dtype)


class SETSparsifier(_DynamicSparsifier):
    """SET (Mocanu et al. 2018): signed magnitude drop, random regrowth with fresh values, every epoch."""

    name = "set"
    title = "SET: drop weights nearest zero, regrow at random, every epoch (Mocanu et al. 2018)"
    paper = ("Mocanu et al. 2018, Scalable training of artificial neural networks with adaptive sparse connectivity "
             "inspired by network science (Nature Communications)")
    legacy = {"distribution": "distribution", "sparse_init": "sparse_init", "update_every": "update_every",
              "drop_fraction": "zeta", "dst_end": "end", "drop_decay": "decay"}
    legacy_fixed = {"update": "steps", "drop": "magnitude", "regrow_init": "zero"}  # runs stored before Mocanu's defaults

    def __init__(self, *, sparsity: float = 0.9,
                 distribution: Literal["erk", "uniform"] = "erk",  # ε-scaled Erdős–Rényi layer densities (the paper's ER), or uniform
                 zeta: float = 0.3,  # ζ: fraction removed at each update (of positives and of negatives)
                 update: Literal["epoch", "steps"] = "epoch",  # when to evolve: after every epoch but the last (paper), or every ΔT steps
                 update_every: int = 25,  # ΔT: steps between updates with update="steps"
                 drop: Literal["signed", "magnitude"] = "signed",  # signed: ζ of the smallest positive and largest negative (paper); magnitude: smallest |w|
                 decay: Literal["constant", "cosine"] = "constant",  # ζ constant (paper) or cosine-decayed as RigL's f(t)
                 regrow_init: Literal["random", "zero"] = "random",  # grown weights: fresh random values (paper) or zero (RigL's baseline)
                 end: float = 1.0,  # stop evolving after this fraction of training (paper: never stops)
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022, an addition)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.distribution, self.zeta, self.update_when = sparsity, distribution, zeta, update
        self.update_every, self.drop_rule, self.decay, self.regrow_init = update_every, drop, decay, regrow_init
        self.end, self.sparse_init = end, sparse_init
        self.end_step = 1

    def params(self) -> dict:
        """The schema's names (``update`` and ``drop`` are methods here, so stored as ``update_when``, ``drop_rule``)."""
        return {"distribution": self.distribution, "zeta": self.zeta, "update": self.update_when,
                "update_every": self.update_every, "drop": self.drop_rule, "decay": self.decay,
                "regrow_init": self.regrow_init, "end": self.end, "sparse_init": self.sparse_init}

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(0 < p["zeta"] < 1, "SET: ζ must be in (0, 1).")
        require(p["update_every"] >= 1, "SET: ΔT must be at least 1 step.")
        require(0 < p["end"] <= 1, "SET: the end of updates must be a fraction of training in (0, 1].")

    def drop(self, fqn, w, mask, step):
        frac = self.drop_fraction_at(step, self.zeta)
        if self.drop_rule == "magnitude":
            return self.drop_magnitude(w, mask, frac)
        pos, neg = mask & (w > 0), mask & (w <= 0)
        k_pos, k_neg = int(frac * int(pos.sum())), int(frac * int(neg.sum()))
        # the k_pos smallest positives and the k_neg negatives closest to zero leave
        out_pos = topk_mask((-w).masked_fill(~pos, float("-inf")), k_pos)
        out_neg = topk_mask(w.masked_fill(~neg, float("-inf")), k_neg)
        return mask & ~out_pos & ~out_neg, k_pos + k_neg

    def grow(self, fqn, weight, candidates, k):
        scores = torch.rand(weight.shape, generator=self.gen).masked_fill(~candidates, float("-inf"))
        return topk_mask(scores, k)

    def end_of_epoch(self, step: int) -> None:
        if self.update_when == "epoch" and 0 < step < min(self.end_step, self.total_steps):
            self.update(step)  # not after the last epoch: the new weights would never train

    def after_step(self, step: int) -> None:
        if self.update_when == "steps" and self.is_update_step(step + 1):
            self.update(step + 1)


class RigLSparsifier(_DynamicSparsifier):
    """RigL: regrow the inactive connections with the largest dense gradient magnitude."""

    name = "rigl"
    title = "RigL: drop smallest, regrow largest gradients, constant density (Evci et al. 2020)"
    paper = "Evci et al. 2020, Rigging the Lottery: Making All Tickets Winners (ICML)"
    legacy = {"distribution": "distribution", "sparse_init": "sparse_init", "update_every": "update_every",
              "drop_fraction": "drop_fraction", "dst_end": "end", "drop_decay": "decay"}
    regrow_init = "zero"

    def __init__(self, *, sparsity: float = 0.9,
                 distribution: Literal["erk", "uniform"] = "erk",  # initial layer densities: ERK (paper) or uniform
                 update_every: int = 25,  # ΔT: steps between updates (paper: 100 on ImageNet; digits runs ~750 steps)
                 drop_fraction: float = 0.3,  # α: fraction of active weights dropped at the first update
                 end: float = 0.75,  # T_end: stop updating after this fraction of training
                 decay: Literal["cosine", "constant"] = "cosine",  # f(t): cosine decay of α (Eq. 1) or constant
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022, an addition)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.distribution, self.update_every = sparsity, distribution, update_every
        self.drop_fraction, self.end, self.decay, self.sparse_init = drop_fraction, end, decay, sparse_init
        self.end_step = 1

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["update_every"] >= 1, "RigL: ΔT must be at least 1 step.")
        require(0 < p["drop_fraction"] < 1, "RigL: the drop fraction α must be in (0, 1).")
        require(0 < p["end"] <= 1, "RigL: T_end must be a fraction of training in (0, 1].")

    def drop(self, fqn, w, mask, step):
        return self.drop_magnitude(w, mask, self.drop_fraction_at(step, self.drop_fraction))

    def grow(self, fqn, weight, candidates, k):
        g = weight.grad.abs() if weight.grad is not None else torch.zeros_like(weight)
        return topk_mask(g.masked_fill(~candidates, float("-inf")), k)

    def after_backward(self, step: int) -> None:
        # Update at this step using its dense gradient, then the step trains the new mask.
        if self.is_update_step(step):
            self.update(step)
