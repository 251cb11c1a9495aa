"""Lottery tickets: iterative magnitude pruning (IMP) with weight rewinding.

Frankle & Carbin, ICLR 2019, "The Lottery Ticket Hypothesis", Alg. "Identifying winning tickets"
(rewind to the initialisation θ₀), and Frankle et al., ICML 2020, "Linear Mode Connectivity and the
Lottery Ticket Hypothesis" (rewind to an early step θ_k, which works better at high sparsity).
Each of ``rounds`` rounds trains ``epochs``, prunes ``p = 1 − (1 − s)^(1/rounds)`` of the surviving
weights by magnitude (global or layer-wise), and rewinds the surviving weights to θ₀ / θ_k; a final
training of the ticket follows. Rewinding also restores the optimizer state saved at step k (a
fresh optimizer for rewinding to init); biases are rewound too, as in the authors' code.
"""
from __future__ import annotations

import copy

import torch

from engine.sparse.methods.magnitude import MagnitudeSparsifier


def round_sparsity(final: float, rounds: int, r: int) -> float:
    """Sparsity after round ``r`` of ``rounds`` (geometric: the same fraction of survivors per round).

    >>> round(round_sparsity(0.98, 5, 1), 4), round_sparsity(0.98, 5, 5)
    (0.5427, 0.98)
    """
    return final if r >= rounds else 1.0 - (1.0 - final) ** (r / rounds)


class IMPSparsifier(MagnitudeSparsifier):
    """Iterative magnitude pruning with rewinding to init (``rewind_step=0``) or to step k."""

    name = "imp"
    paper = "Frankle & Carbin 2019; Frankle et al. 2020 (rewinding)"

    def __init__(self, sparsity: float, scope: str = "global", *, rounds: int = 5, rewind_step: int = 0) -> None:
        super().__init__(sparsity, scope)
        self.rounds, self.rewind_step = rounds, rewind_step
        self.rewind_state: dict[str, torch.Tensor] | None = None
        self.rewind_opt: dict | None = None
        self.extra_result: dict = {}

    def save_rewind_point(self, trainer) -> None:
        self.rewind_state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        self.rewind_opt = copy.deepcopy(trainer.optimizer.state_dict()) if self.rewind_step else None
        trainer.reporter.log(f"IMP: saved the rewind point at step {trainer.step}.")

    def rewind(self, trainer) -> None:
        """Restore θ_k (and the optimizer state at k), then re-apply the current masks."""
        trainer.model.load_state_dict(self.rewind_state)
        trainer.reset_optimizer()
        if self.rewind_opt is not None:
            trainer.optimizer.load_state_dict(copy.deepcopy(self.rewind_opt))
            self._reset_moments({f: ~m for f, m in self.masks().items()})  # pruned weights: no momentum
        self.apply_masks()

    def total_epochs(self, epochs: int, finetune_epochs: int) -> int:
        return (self.rounds + 1) * epochs

    def after_step(self, step: int) -> None:
        if self.rewind_state is None and step + 1 == self.rewind_step:
            self.save_rewind_point(self._trainer)  # θ_k during the first round

    def run(self, trainer) -> None:
        self._trainer = trainer
        if self.rewind_step == 0:
            self.save_rewind_point(trainer)
        history = []
        for r in range(1, self.rounds + 1):
            if not trainer.train(trainer.config.epochs, phase=f"IMP round {r}/{self.rounds}: train"):
                return
            if self.rewind_state is None:  # rewind_step beyond the first round: use the end of it
                self.save_rewind_point(trainer)
            self.prune_to(round_sparsity(self.sparsity_level, self.rounds, r))
            history.append(round(self.sparsity(), 4))
            trainer.reporter.log(f"IMP round {r}: pruned to {self.sparsity():.4f}, rewinding to step {self.rewind_step}.")
            self.rewind(trainer)
        self.extra_result["imp_round_sparsity"] = history
        trainer.train(trainer.config.epochs, phase="train the ticket")


FACTORIES = {
    "imp": lambda c: IMPSparsifier(c.sparsity, c.scope, rounds=c.imp_rounds,
                                   rewind_step=0 if c.rewind == "init" else c.rewind_step),
}
