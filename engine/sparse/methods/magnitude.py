"""The dense baseline, one-shot magnitude pruning and gradual magnitude pruning (GMP).

* One-shot: train dense, remove the smallest-|w| weights, fine-tune (Han et al. 2015, "Learning both
  Weights and Connections for Efficient Neural Networks", Sec. 3). Han et al. set each layer's
  threshold from its weights (a quality parameter × the layer's standard deviation); here the asked
  total is reached either with one threshold over all layers (``scope="global"``, default: the
  total is what the user asks for, so per-layer sparsities are whatever the magnitudes give) or
  with each layer pruned to the same fraction (``scope="layer"``).
* Gradual magnitude pruning, GMP (Zhu & Gupta 2017, "To prune, or not to prune", Sec. 3, Eq. 1):
  every Δt steps between t₀ and t₀ + nΔt, prune *each layer* to the cubic schedule's sₜ by
  magnitude (the paper's layer-wise rule, default); ``scope="global"`` ranks all layers together
  instead (not in the paper). Then keep training at the final sparsity (fine-tuning epochs).
"""
from __future__ import annotations

from typing import Literal

from engine.config import require
from engine.sparse.criteria import magnitude_scores, scores_to_masks
from engine.sparse.masks import MaskSparsifier
from engine.sparse.schedules import cubic_sparsity


class DenseBaseline(MaskSparsifier):
    """No pruning: the dense reference every accuracy–sparsity curve is read against."""

    name = "dense"
    title = "No pruning (the dense baseline)"
    paper = ""
    family = "dense"
    finetunes = True  # trains epochs + finetune_epochs, the same length as the pruned runs
    defining_property = "all_kept"

    def __init__(self) -> None:
        super().__init__()

    def run(self, trainer) -> None:
        trainer.train(trainer.config.epochs + trainer.config.finetune_epochs, phase="train (dense)")


class _Scoped(MaskSparsifier):
    """Magnitude pruning with a global or per-layer threshold (shared by magnitude, GMP, IMP, soups)."""

    scope = "global"

    @classmethod
    def has_layer_targets(cls, params: dict) -> bool:
        return params.get("scope", cls.scope) == "layer"

    def prune_to(self, sparsity: float) -> None:
        """Mask the smallest-magnitude surviving weights so ``sparsity`` of them are pruned."""
        weights = {f: self.weight(f) for f in self.fqns}
        self.set_masks(scores_to_masks(magnitude_scores(weights), sparsity, self.scope, self.masks()))


class MagnitudeSparsifier(_Scoped):
    """One-shot magnitude pruning to ``sparsity`` after dense training, then fine-tuning."""

    name = "magnitude"
    title = "One-shot magnitude pruning + fine-tuning (Han et al. 2015)"
    paper = "Han et al. 2015, Learning both Weights and Connections for Efficient Neural Networks (NeurIPS)"
    family = "pruning"
    per_layer_targets = True  # with scope="layer"
    finetunes = True
    defining_property = "keeps_largest_magnitudes"
    legacy = {"scope": "scope"}

    def __init__(self, *, sparsity: float = 0.9,
                 scope: Literal["global", "layer"] = "global",  # one threshold over all layers, or each layer to s
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.scope = sparsity, scope

    def step(self) -> None:
        self.prune_to(self.sparsity_level)

    def run(self, trainer) -> None:
        if not trainer.train(trainer.config.epochs, phase="train (dense)"):
            return
        self.step()
        trainer.reporter.log(f"Pruned to {self.sparsity():.4f} sparsity ({self.scope} magnitude).")
        trainer.train(trainer.config.finetune_epochs, phase="fine-tune")


class GradualMagnitudeSparsifier(_Scoped):
    """Zhu & Gupta's gradual pruning: each layer follows the cubic schedule sₜ from t₀ to t₀ + nΔt.

    ``begin``/``end`` are fractions of the first ``epochs`` of training (set into steps by ``run``);
    fine-tuning epochs follow at the final sparsity.
    """

    name = "gmp"
    title = "Gradual magnitude pruning, each layer on the cubic schedule (Zhu & Gupta 2017)"
    paper = "Zhu & Gupta 2017, To prune, or not to prune: exploring the efficacy of pruning for model compression"
    family = "pruning"
    per_layer_targets = True  # the paper's layer-wise rule
    finetunes = True
    defining_property = "cubic_schedule"
    legacy = {"scope": "scope", "prune_begin": "begin", "prune_end": "end", "prune_every": "every"}

    def __init__(self, *, sparsity: float = 0.9,
                 scope: Literal["layer", "global"] = "layer",  # layer: each layer to sₜ (paper); global: one threshold
                 begin: float = 0.1,  # t₀: pruning starts, as a fraction of the training epochs
                 end: float = 0.7,  # t₀ + nΔt: pruning ends (final sparsity reached), fraction of training
                 every: int = 10,  # Δt: steps between mask updates
                 initial: float = 0.0,  # s_i: sparsity at t₀
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.scope = sparsity, scope
        self.begin, self.end, self.every, self.initial = begin, end, every, initial
        self.begin_step, self.end_step = 0, 0

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(0 <= p["begin"] < p["end"] <= 1, "GMP needs 0 ≤ begin < end ≤ 1 (fractions of training).")
        require(p["every"] >= 1, "GMP: prune every ≥ 1 step.")
        require(0 <= p["initial"] < 1, "GMP: the initial sparsity s_i must be in [0, 1).")

    def target(self, step: int) -> float:
        return cubic_sparsity(step, initial=self.initial, final=self.sparsity_level,
                              begin=self.begin_step, end=self.end_step)

    def after_step(self, step: int) -> None:
        t = step + 1  # steps done
        if self.begin_step <= t <= self.end_step and ((t - self.begin_step) % self.every == 0 or t == self.end_step):
            self.prune_to(self.target(t))

    def run(self, trainer) -> None:
        train_steps = trainer.config.epochs * trainer.steps_per_epoch
        self.begin_step = int(self.begin * train_steps)
        self.end_step = max(self.begin_step + 1, int(self.end * train_steps))
        if trainer.train(trainer.config.epochs, phase="train (gradual pruning)"):
            trainer.train(trainer.config.finetune_epochs, phase="fine-tune")
