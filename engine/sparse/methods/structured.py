"""Structured pruning of whole units (neurons of an MLP, channels of a CNN) by weight norm, and a
group-lasso regulariser that pushes whole units towards zero during training.

* Norm-based unit pruning (Li et al., ICLR 2017, "Pruning Filters for Efficient ConvNets", Sec. 3.1):
  in every hidden layer remove the ``round(s · units)`` units whose incoming weights have the
  smallest L1 norm (the paper's criterion, default; ``norm="l2"`` ranks by the L2 norm). Removing a unit zeroes its
  incoming row *and* its outgoing column in the next layer, so the dense model can be shrunk.
  The output layer's units (the classes) are never removed, and every hidden layer keeps at least
  one unit (an empty layer would disconnect the network). ``sparsity`` here is the fraction of
  hidden *units* removed; the weight sparsity that follows is reported.
* Group lasso (Wen et al., NeurIPS 2016, "Learning Structured Sparsity in Deep Neural Networks",
  Eq. 2; Scardapane et al. 2017): ``λ Σ_units ‖W_unit‖₂`` added to the loss while training dense.
"""
from __future__ import annotations

from typing import Literal

from engine.config import require
from engine.sparse._lazy import torch
from engine.sparse.masks import MaskSparsifier, keep_count, topk_mask


class StructuredSparsifier(MaskSparsifier):
    """Remove ``sparsity`` of the units of every hidden layer by incoming-weight norm, then fine-tune."""

    name = "structured"
    title = "Neuron / channel pruning by norm, + group-lasso option (Li et al. 2017; Wen et al. 2016)"
    paper = ("Li et al. 2017, Pruning Filters for Efficient ConvNets (ICLR); Wen et al. 2016, Learning Structured "
             "Sparsity in Deep Neural Networks (NeurIPS, group lasso)")
    family = "structured"
    counts = "units"
    per_layer_targets = True  # every hidden layer loses round(s · units) units; the output layer none
    finetunes = True
    defining_property = "whole_units"
    legacy = {"group_lasso": "group_lasso"}

    def __init__(self, *, sparsity: float = 0.5,
                 norm: Literal["l1", "l2"] = "l1",  # ‖W_unit‖ that ranks units: L1 (Li et al.) or L2
                 group_lasso: float = 0.0,  # λ: group-lasso strength over units while training dense (Wen et al. Eq. 2; 0 = off)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.norm, self.group_lasso = sparsity, norm, group_lasso

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["group_lasso"] >= 0, "The group-lasso strength λ cannot be negative.")

    @classmethod
    def layer_targets(cls, shapes: dict, sparsity: float, params: dict) -> dict:
        """Fraction of units removed per hidden layer (the output layer's classes are never removed)."""
        names = list(shapes)[:-1]
        return {k: 1.0 - max(1, keep_count(shapes[k][0], sparsity)) / shapes[k][0] for k in names}

    def pairs(self) -> list[tuple[str, str]]:
        """(producer, consumer) weight fqns: the units of the producer feed the consumer."""
        return list(zip(self.fqns[:-1], self.fqns[1:]))

    def unit_norms(self, fqn: str) -> torch.Tensor:
        w = self.weight(fqn)
        return w.detach().reshape(w.shape[0], -1).norm(p=1 if self.norm == "l1" else 2, dim=1)  # (units,)

    def regularizer(self) -> torch.Tensor | None:
        if not self.group_lasso:
            return None
        total = sum(self.weight(p).reshape(self.weight(p).shape[0], -1).pow(2).sum(1).add(1e-12).sqrt().sum()
                    for p, _ in self.pairs())
        return self.group_lasso * total

    def unit_masks(self) -> dict[str, torch.Tensor]:
        """Kept units of every hidden layer (True = kept)."""
        return {p: topk_mask(self.unit_norms(p), max(1, keep_count(self.weight(p).shape[0], self.sparsity_level)))
                for p, _ in self.pairs()}

    def masks_from_units(self, units: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Weight masks that remove whole units: the unit's row in its layer and its column in the next.

        >>> from engine.sparse.models import MLP
        >>> sp = StructuredSparsifier(sparsity=0.5); sp.prepare(MLP(3, (4,), 2))
        >>> m = sp.masks_from_units({"layers.0.weight": torch.tensor([True, False, True, False])})
        >>> m["layers.0.weight"].all(1).tolist(), m["layers.1.weight"].all(0).tolist()
        ([True, False, True, False], [True, False, True, False])
        """
        masks = {f: torch.ones_like(self.weight(f), dtype=torch.bool) for f in self.fqns}
        for producer, consumer in self.pairs():
            keep = units[producer]
            shape = (-1,) + (1,) * (self.weight(producer).dim() - 1)
            masks[producer] &= keep.reshape(shape)
            wc = self.weight(consumer)
            if wc.dim() == 4:  # conv -> conv: input channels
                masks[consumer] &= keep.reshape(1, -1, 1, 1)
            else:  # -> Linear: a unit is one column, or h·w columns after a conv (flattened C, H, W)
                per = wc.shape[1] // keep.numel()
                masks[consumer] &= keep.repeat_interleave(per).reshape(1, -1)
        return masks

    def step(self) -> None:
        units = self.unit_masks()
        self.set_masks(self.masks_from_units(units))
        self.extra_result["units_kept"] = {k: int(v.sum()) for k, v in units.items()}

    def run(self, trainer) -> None:
        if not trainer.train(trainer.config.epochs, phase="train (dense" + (", group lasso)" if self.group_lasso else ")")):
            return
        self.step()
        trainer.reporter.log(f"Removed {self.sparsity_level:.0%} of the hidden units: weight sparsity {self.sparsity():.4f}.")
        trainer.train(trainer.config.finetune_epochs, phase="fine-tune")


