"""Sparse model soups (Zimmer, Spiegel & Pokutta, ICLR 2024, "Sparse Model Soups: A Recipe for
Improved Pruning via Model Averaging", Alg. 1).

Train dense; then for each of ``rounds`` prune–retrain cycles: prune the current model by
magnitude to the round's sparsity, retrain ``soup_size`` copies that share this mask but differ in
the random seed (batch order) or the learning rate, and average them into the soup that starts the
next cycle. Because the copies share one mask, the average keeps it exactly (a pruned weight is 0
in every copy). The result lists each ingredient's and the soup's validation accuracy.
"""
from __future__ import annotations

import torch

from engine.sparse.methods.lottery import round_sparsity
from engine.sparse.methods.magnitude import MagnitudeSparsifier
from engine.sparse.train import accuracy

LR_FACTORS = (1.0, 0.5, 2.0, 0.25, 4.0)


def average_state(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Uniform soup: the element-wise mean of several state dicts (a weight that is 0 in all stays 0).

    >>> average_state([{"w": torch.tensor([0.0, 2.0])}, {"w": torch.tensor([0.0, 4.0])}])["w"].tolist()
    [0.0, 3.0]
    """
    return {k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]}


class SoupSparsifier(MagnitudeSparsifier):
    """Sparse model soup over ``rounds`` prune–retrain cycles with ``size`` ingredients each."""

    name = "soup"
    paper = "Zimmer et al. 2024, Sparse Model Soups: A Recipe for Improved Pruning via Model Averaging (ICLR)"

    def __init__(self, sparsity: float, scope: str = "global", *, rounds: int = 3, size: int = 3,
                 vary: str = "seed") -> None:
        super().__init__(sparsity, scope)
        self.rounds, self.size, self.vary = rounds, size, vary
        self.extra_result: dict = {}

    def total_epochs(self, epochs: int, finetune_epochs: int) -> int:
        return epochs + self.rounds * self.size * max(finetune_epochs, 1)

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
                if self.vary == "seed":
                    trainer.generator.manual_seed(c.seed + 1000 * r + i)
                    trainer.reset_optimizer()
                else:
                    trainer.reset_optimizer(lr=c.lr * LR_FACTORS[i % len(LR_FACTORS)])
                if not trainer.train(max(c.finetune_epochs, 1), phase=f"soup round {r}: ingredient {i + 1}/{self.size}"):
                    return
                states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
                accs.append(accuracy(model, trainer.data.x_val, trainer.data.y_val))
            model.load_state_dict(average_state(states))
            self.apply_masks()  # a no-op when the masks agree: kept as a guard
            soup_acc = accuracy(model, trainer.data.x_val, trainer.data.y_val)
            log.append({"round": r, "sparsity": round(self.sparsity(), 4), "ingredients_val_accuracy": accs,
                        "soup_val_accuracy": soup_acc})
            trainer.reporter.log(f"Soup round {r}: ingredients {', '.join(f'{a:.3f}' for a in accs)} -> soup {soup_acc:.3f}")
            trainer.reporter.metric("soup/val_accuracy", soup_acc, trainer.step)
        trainer.reset_optimizer()
        self.extra_result["soup_rounds"] = log


FACTORIES = {
    "soup": lambda c: SoupSparsifier(c.sparsity, c.scope, rounds=c.imp_rounds, size=c.soup_size, vary=c.soup_vary),
}
