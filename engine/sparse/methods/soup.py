"""Sparse model soups (Zimmer, Spiegel & Pokutta, ICLR 2024, "Sparse Model Soups: A Recipe for
Improved Pruning via Model Averaging", Alg. 1).

Train dense; then for each of ``rounds`` prune–retrain cycles: prune the current model by
magnitude to the cycle's sparsity (the same fraction of survivors each cycle, as IMP), retrain
``size`` copies that share this mask but differ in one retraining hyper-parameter — the batch order
(the seed: the only randomness of retraining here), the learning rate or the weight decay — and
average them into the soup that starts the next cycle. ``soup="uniform"`` averages all ingredients;
``soup="greedy"`` (Wortsman et al. 2022, as Zimmer et al. also report) adds ingredients in order of
validation accuracy and keeps each only if the soup's validation accuracy does not drop. Because
the copies share one mask, any average keeps it exactly (a pruned weight is 0 in every copy).
"""
from __future__ import annotations

from typing import Literal

from engine.config import require
from engine.sparse._lazy import torch
from engine.sparse.methods.lottery import round_sparsity
from engine.sparse.methods.magnitude import _Scoped

LR_FACTORS = (1.0, 0.5, 2.0, 0.25, 4.0)  # ingredient i retrains with lr × LR_FACTORS[i]
WEIGHT_DECAYS = (0.0, 1e-4, 5e-4, 1e-3, 2e-3)  # ingredient i retrains with this weight decay


def average_state(states: list[dict]) -> dict:
    """Uniform soup: the element-wise mean of several state dicts (a weight that is 0 in all stays 0).

    >>> average_state([{"w": torch.tensor([0.0, 2.0])}, {"w": torch.tensor([0.0, 4.0])}])["w"].tolist()
    [0.0, 3.0]
    """
    return {k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]}


class SoupSparsifier(_Scoped):
    """Sparse model soup over ``rounds`` prune–retrain cycles with ``size`` ingredients each."""

    name = "soup"
    title = "Sparse model soups: average retrainings that share one mask (Zimmer et al. 2024)"
    paper = "Zimmer et al. 2024, Sparse Model Soups: A Recipe for Improved Pruning via Model Averaging (ICLR)"
    family = "soup"
    per_layer_targets = True  # with scope="layer"
    finetunes = True  # each ingredient retrains finetune_epochs (at least 1)
    defining_property = "soup_keeps_mask"
    legacy = {"scope": "scope", "imp_rounds": "rounds", "soup_size": "size", "soup_vary": "vary"}

    def __init__(self, *, sparsity: float = 0.9,
                 scope: Literal["global", "layer"] = "global",  # magnitude threshold over all layers (paper), or per layer
                 rounds: int = 3,  # prune–retrain cycles, each followed by a soup
                 size: int = 3,  # m: ingredients (retrained copies) per soup
                 vary: Literal["batch-order", "lr", "weight-decay"] = "batch-order",  # what differs between ingredients
                 soup: Literal["uniform", "greedy"] = "uniform",  # average all, or greedily by validation accuracy
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.scope, self.rounds, self.size = sparsity, scope, rounds, size
        self.vary, self.soup = vary, soup

    @classmethod
    def upgrade(cls, params: dict) -> dict:
        """Old stored runs said ``vary="seed"``: the seed only changes the batch order here."""
        return {**params, "vary": "batch-order"} if params.get("vary") == "seed" else params

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["rounds"] >= 1, "A soup needs at least one prune–retrain cycle.")
        require(p["size"] >= 2, "A soup needs at least 2 ingredients.")

    @classmethod
    def total_epochs_for(cls, epochs: int, finetune_epochs: int, params: dict) -> int:
        return epochs + params["rounds"] * params["size"] * max(finetune_epochs, 1)

    def _mix(self, trainer, states: list[dict], accs: list[float]) -> tuple[dict, list[int]]:
        """The soup's state and the ingredients it uses (indices)."""
        if self.soup == "uniform":
            return average_state(states), list(range(len(states)))
        order = sorted(range(len(states)), key=lambda i: -accs[i])
        chosen, best = [order[0]], accs[order[0]]
        for i in order[1:]:
            trainer.model.load_state_dict(average_state([states[j] for j in chosen + [i]]))
            acc = trainer.val_accuracy()
            if acc >= best:
                chosen, best = chosen + [i], acc
        return average_state([states[j] for j in chosen]), sorted(chosen)

    def run(self, trainer) -> None:
        c, model = trainer.config, trainer.model
        if not trainer.train(c.epochs, phase="train (dense)"):
            return
        log = []
        for r in range(1, self.rounds + 1):
            self.prune_to(round_sparsity(self.sparsity_level, self.rounds, r))
            start = {k: v.detach().clone() for k, v in model.state_dict().items()}
            states, accs = [], []
            for i in range(self.size):
                model.load_state_dict(start)
                trainer.generator.manual_seed(c.seed + 1000 * r + (i if self.vary == "batch-order" else 0))
                if self.vary == "lr":
                    trainer.reset_optimizer(lr=c.lr * LR_FACTORS[i % len(LR_FACTORS)])
                elif self.vary == "weight-decay":
                    trainer.reset_optimizer(weight_decay=WEIGHT_DECAYS[i % len(WEIGHT_DECAYS)])
                else:
                    trainer.reset_optimizer()
                if not trainer.train(max(c.finetune_epochs, 1), phase=f"soup round {r}: ingredient {i + 1}/{self.size}"):
                    return
                states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
                accs.append(trainer.val_accuracy())
            soup_state, used = self._mix(trainer, states, accs)
            model.load_state_dict(soup_state)
            self.apply_masks()  # a no-op when the masks agree: kept as a guard
            soup_acc = trainer.val_accuracy()
            log.append({"round": r, "sparsity": round(self.sparsity(), 4), "ingredients_val_accuracy": accs,
                        "ingredients_used": used, "soup_val_accuracy": soup_acc})
            trainer.reporter.log(f"Soup round {r}: ingredients {', '.join(f'{a:.3f}' for a in accs)} -> soup {soup_acc:.3f}")
            trainer.reporter.metric("soup/val_accuracy", soup_acc, trainer.step)
        trainer.reset_optimizer()
        self.extra_result["soup_rounds"] = log
