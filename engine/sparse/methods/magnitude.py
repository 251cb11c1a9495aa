"""Magnitude pruning: one-shot (global or layer-wise) with fine-tuning, and gradual (cubic schedule).

* One-shot: train dense, remove the smallest-|w| weights, fine-tune (Han et al. 2015, "Learning both
  Weights and Connections for Efficient Neural Networks", Sec. 3). Global scope ranks all layers
  together (one threshold), layer scope prunes each layer to the same sparsity.
* Gradual magnitude pruning, GMP (Zhu & Gupta 2017, "To prune, or not to prune", Eq. 1): every
  ``every`` steps between ``begin`` and ``end`` raise the sparsity along the cubic schedule and
  mask the smallest-|w| surviving weights; then keep training at the final sparsity.
"""
from __future__ import annotations

from engine.sparse.criteria import magnitude_scores, scores_to_masks
from engine.sparse.masks import MaskSparsifier
from engine.sparse.schedules import cubic_sparsity


class DenseBaseline(MaskSparsifier):
    """No pruning: the dense reference every accuracy–sparsity curve is read against."""

    name = "dense"

    def run(self, trainer) -> None:
        trainer.train(trainer.config.epochs + trainer.config.finetune_epochs, phase="train (dense)")

    def total_epochs(self, epochs: int, finetune_epochs: int) -> int:
        return epochs + finetune_epochs


class MagnitudeSparsifier(MaskSparsifier):
    """One-shot magnitude pruning to ``sparsity`` (``scope`` 'global' or 'layer'), then fine-tuning."""

    name = "magnitude"
    paper = "Han et al. 2015, Learning both Weights and Connections for Efficient Neural Networks"

    def __init__(self, sparsity: float, scope: str = "global") -> None:
        super().__init__({"sparsity_level": sparsity})
        self.sparsity_level, self.scope = sparsity, scope

    def prune_to(self, sparsity: float) -> None:
        """Mask the smallest-magnitude surviving weights so ``sparsity`` of them are pruned."""
        weights = {f: self.weight(f) for f in self.fqns}
        self.set_masks(scores_to_masks(magnitude_scores(weights), sparsity, self.scope, self.masks()))

    def step(self, use_path: bool = True) -> None:
        self.prune_to(self.sparsity_level)

    def total_epochs(self, epochs: int, finetune_epochs: int) -> int:
        return epochs + finetune_epochs

    def run(self, trainer) -> None:
        if not trainer.train(trainer.config.epochs, phase="train (dense)"):
            return
        self.step()
        trainer.reporter.log(f"Pruned to {self.sparsity():.4f} sparsity ({self.scope} magnitude).")
        trainer.train(trainer.config.finetune_epochs, phase="fine-tune")


class GradualMagnitudeSparsifier(MagnitudeSparsifier):
    """Zhu & Gupta's gradual pruning: cubic schedule from ``begin`` to ``end`` step, every ``every`` steps.

    ``begin``/``end`` are set by ``run`` from the fractions of the first ``epochs`` of training;
    fine-tuning epochs follow at the final sparsity.
    """

    name = "gmp"
    paper = "Zhu & Gupta 2017, To prune, or not to prune: exploring the efficacy of pruning for model compression"

    def __init__(self, sparsity: float, scope: str = "layer", *, begin_frac: float = 0.1, end_frac: float = 0.7,
                 every: int = 10, initial: float = 0.0) -> None:
        super().__init__(sparsity, scope)
        self.begin_frac, self.end_frac, self.every, self.initial = begin_frac, end_frac, every, initial
        self.begin, self.end = 0, 0

    def target(self, step: int) -> float:
        return cubic_sparsity(step, initial=self.initial, final=self.sparsity_level, begin=self.begin, end=self.end)

    def after_step(self, step: int) -> None:
        t = step + 1  # steps done
        if self.begin <= t <= self.end and ((t - self.begin) % self.every == 0 or t == self.end):
            self.prune_to(self.target(t))

    def run(self, trainer) -> None:
        train_steps = trainer.config.epochs * trainer.steps_per_epoch
        self.begin = int(self.begin_frac * train_steps)
        self.end = max(self.begin + 1, int(self.end_frac * train_steps))
        if trainer.train(trainer.config.epochs, phase="train (gradual pruning)"):
            trainer.train(trainer.config.finetune_epochs, phase="fine-tune")


FACTORIES = {
    "dense": lambda c: DenseBaseline(),
    "magnitude": lambda c: MagnitudeSparsifier(c.sparsity, c.scope),
    "gmp": lambda c: GradualMagnitudeSparsifier(
        c.sparsity, c.scope, begin_frac=c.prune_begin, end_frac=c.prune_end, every=c.prune_every),
}
