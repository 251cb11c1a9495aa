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
from typing import Literal

from engine.config import require
from engine.sparse.methods.magnitude import _Scoped


def round_sparsity(final: float, rounds: int, r: int) -> float:
    """Sparsity after round ``r`` of ``rounds`` (geometric: the same fraction of survivors per round).

    >>> round(round_sparsity(0.98, 5, 1), 4), round_sparsity(0.98, 5, 5)
    (0.5427, 0.98)
    """
    return final if r >= rounds else 1.0 - (1.0 - final) ** (r / rounds)


class IMPSparsifier(_Scoped):
    """Iterative magnitude pruning with rewinding to init or to step k."""

    name = "imp"
    title = "Iterative magnitude pruning with weight rewinding (Frankle & Carbin 2019; Frankle et al. 2020)"
    paper = ("Frankle & Carbin 2019, The Lottery Ticket Hypothesis (ICLR); Frankle et al. 2020, Linear Mode "
             "Connectivity and the Lottery Ticket Hypothesis (ICML, rewinding)")
    family = "pruning"
    per_layer_targets = True  # with scope="layer"
    defining_property = "geometric_rounds"
    legacy = {"scope": "scope", "imp_rounds": "rounds", "rewind": "rewind", "rewind_step": "rewind_step"}

    def __init__(self, *, sparsity: float = 0.9,
                 scope: Literal["global", "layer"] = "global",  # one threshold over all layers (ResNet/VGG recipe), or per layer
                 rounds: int = 5,  # prune–retrain rounds; each removes 1 − (1 − s)^(1/rounds) of the survivors
                 rewind: Literal["early", "init"] = "early",  # rewind to θ_k (Frankle et al. 2020) or to θ₀ (2019)
                 rewind_step: int = 20,  # k: the step rewound to with rewind="early"
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.scope, self.rounds = sparsity, scope, rounds
        self.rewind, self.rewind_step = rewind, rewind_step
        self.rewind_state: dict | None = None
        self.rewind_opt: dict | None = None

    @property
    def rewind_at(self) -> int:
        return 0 if self.rewind == "init" else self.rewind_step

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["rounds"] >= 1, "IMP needs at least one round.")
        require(p["rewind_step"] >= 0, "The rewind step cannot be negative.")

    @classmethod
    def total_epochs_for(cls, epochs: int, finetune_epochs: int, params: dict) -> int:
        return (params["rounds"] + 1) * epochs

    def save_rewind_point(self, trainer) -> None:
        self.rewind_state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        self.rewind_opt = copy.deepcopy(trainer.optimizer.state_dict()) if self.rewind_at else None
        trainer.reporter.log(f"IMP: saved the rewind point at step {trainer.step}.")

    def rewind_to_saved(self, trainer) -> None:
        """Restore θ_k (and the optimizer state at k), then re-apply the current masks."""
        trainer.model.load_state_dict(self.rewind_state)
        trainer.reset_optimizer()
        if self.rewind_opt is not None:
            trainer.optimizer.load_state_dict(copy.deepcopy(self.rewind_opt))
            self._reset_moments({f: ~m for f, m in self.masks().items()})  # pruned weights: no momentum
        self.apply_masks()

    def after_step(self, step: int) -> None:
        if self.rewind_state is None and step + 1 == self.rewind_at:
            self.save_rewind_point(self._trainer)  # θ_k during the first round

    def run(self, trainer) -> None:
        self._trainer = trainer
        if self.rewind_at == 0:
            self.save_rewind_point(trainer)
        history = []
        for r in range(1, self.rounds + 1):
            if not trainer.train(trainer.config.epochs, phase=f"IMP round {r}/{self.rounds}: train"):
                return
            if self.rewind_state is None:  # rewind_step beyond the first round: use the end of it
                self.save_rewind_point(trainer)
            self.prune_to(round_sparsity(self.sparsity_level, self.rounds, r))
            history.append(round(self.sparsity(), 4))
            trainer.reporter.log(f"IMP round {r}: pruned to {self.sparsity():.4f}, rewinding to step {self.rewind_at}.")
            self.rewind_to_saved(trainer)
        self.extra_result["imp_round_sparsity"] = history
        trainer.train(trainer.config.epochs, phase="train the ticket")
