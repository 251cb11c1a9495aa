"""Dynamic sparse training at constant density: SET and RigL.

Both start from a random sparse mask (ERK or uniform layer densities) and, every ``ΔT`` steps
until ``T_end``, drop the ``k = f(t) · n_active`` smallest-magnitude active weights of each layer
and grow ``k`` inactive ones, so every layer's density stays exactly constant.

* SET (Mocanu et al., Nature Communications 2018, Alg. 1): grow at random. (The original SET
  drops a fixed fraction ζ; ``drop_decay="cosine"`` uses RigL's cosine decay for both, as Evci et
  al. 2020 compare them; ``"constant"`` is the original.)
* RigL (Evci et al., ICML 2020, Alg. 1, Eq. 1): grow the inactive weights with the largest
  |dense gradient| ``|∇_θ L(θ ⊙ M)|`` of the current mini-batch; drop fraction
  ``f(t) = α/2 (1 + cos(tπ / T_end))``. The dense gradient is what autograd leaves in ``.grad``
  before the loop masks it (the forward already multiplies by zeros). Grown weights start at zero
  and their optimizer moments are reset (``MaskSparsifier.set_masks``).
"""
from __future__ import annotations

import torch

from engine.sparse.masks import topk_mask
from engine.sparse.methods.pai import RandomSparsifier
from engine.sparse.schedules import cosine_drop_fraction


class _DynamicSparsifier(RandomSparsifier):
    """Random initial mask (``distribution``), then drop/grow every ``update_every`` steps until ``end``."""

    def __init__(self, sparsity: float, distribution: str = "erk", seed: int = 0, *, update_every: int = 25,
                 drop_fraction: float = 0.3, end_frac: float = 0.75, decay: str = "cosine") -> None:
        super().__init__(sparsity, distribution, seed)
        self.update_every, self.alpha, self.end_frac, self.decay = update_every, drop_fraction, end_frac, decay
        self.end = 1
        self.gen = torch.Generator().manual_seed(seed + 15485863)
        self.updates = 0

    def on_train_begin(self, trainer) -> None:
        super().on_train_begin(trainer)
        self.end = max(1, int(self.end_frac * trainer.total_steps))

    def drop_fraction(self, step: int) -> float:
        """f(t): cosine-decayed (RigL, Eq. 1) or constant α (SET), 0 from ``end`` on.

        >>> sp = SETSparsifier(0.9, drop_fraction=0.3, decay="constant"); sp.end = 100
        >>> sp.drop_fraction(10), sp.drop_fraction(100), sp.is_update_step(50), sp.is_update_step(60)
        (0.3, 0.0, True, False)
        """
        if step >= self.end:
            return 0.0
        return cosine_drop_fraction(step, alpha=self.alpha, end=self.end) if self.decay == "cosine" else self.alpha

    def is_update_step(self, step: int) -> bool:
        return step > 0 and step % self.update_every == 0 and step < self.end

    def grow_scores(self, fqn: str, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Drop the k smallest |w| active weights and grow k inactive ones per layer (Alg. 1 of both papers)."""
        frac = self.drop_fraction(step)
        new = {}
        for fqn in self.fqns:
            w, mask = self.weight(fqn), self.mask(fqn)
            n_active = int(mask.sum())
            k = int(frac * n_active)
            if k == 0 or n_active == mask.numel():
                continue
            keep = topk_mask(w.abs().masked_fill(~mask, float("-inf")), n_active - k)  # drop k smallest
            scores = self.grow_scores(fqn, w).masked_fill(keep, float("-inf"))  # candidates: not kept
            grow = topk_mask(scores, k)
            new[fqn] = keep | grow
        self.updates += 1
        self.set_masks(new)  # zeroes dropped weights; grown ones are zero already (init 0)


class SETSparsifier(_DynamicSparsifier):
    """SET: regrow at random among the inactive connections."""

    name = "set"
    paper = "Mocanu et al. 2018, Scalable training of artificial neural networks with adaptive sparse connectivity"

    def grow_scores(self, fqn, weight):
        return torch.rand(weight.shape, generator=self.gen)

    def after_step(self, step: int) -> None:
        if self.is_update_step(step + 1):
            self.update(step + 1)


class RigLSparsifier(_DynamicSparsifier):
    """RigL: regrow the inactive connections with the largest dense gradient magnitude."""

    name = "rigl"
    paper = "Evci et al. 2020, Rigging the Lottery: Making All Tickets Winners (ICML)"

    def grow_scores(self, fqn, weight):
        return weight.grad.abs() if weight.grad is not None else torch.zeros_like(weight)

    def after_backward(self, step: int) -> None:
        # Update at this step using its dense gradient, then the step trains the new mask.
        if self.is_update_step(step):
            self.update(step)


FACTORIES = {
    "set": lambda c: SETSparsifier(c.sparsity, c.distribution, c.seed, update_every=c.update_every,
                                   drop_fraction=c.drop_fraction, end_frac=c.dst_end, decay=c.drop_decay),
    "rigl": lambda c: RigLSparsifier(c.sparsity, c.distribution, c.seed, update_every=c.update_every,
                                     drop_fraction=c.drop_fraction, end_frac=c.dst_end, decay=c.drop_decay),
}
