"""Random search as a baseline for sparse architecture search (Farahani et al., "Random Search as a
Baseline for Sparse Neural Network Architecture Search").

The search space is the space of sparse masks at a fixed sparsity. Random search draws
``candidates`` random masks (each layer at its distribution's density, as random pruning at
initialisation does), trains each for ``search_epochs`` from the *same* initial weights, keeps the
mask with the best validation accuracy, and trains it for ``epochs`` from that initialisation. The
paper's verdict is that the masks random search finds are no better than one random mask at the
same sparsity after training (random search is a neutral baseline any "clever" search must beat);
here that is checked against ``random-uniform`` / ``random-erk`` in ``bench/sparse_new_methods.py``.

Simplification, said in the form: the paper searches node-space masks of larger networks with its
own budget; here a candidate is a weight mask drawn per layer (uniform or ERK densities) and the
search budget is ``candidates × search_epochs`` epochs of the lab's model, reported in the result
(``random_search``) and counted in ``train_flops``.
"""
from __future__ import annotations

import copy
from typing import Literal

from engine.config import require
from engine.sparse._lazy import torch
from engine.sparse.masks import keep_count
from engine.sparse.methods.pai import RandomSparsifier
from engine.sparse.methods.structured import StructuredSparsifier


class RandomSearchSparsifier(RandomSparsifier):
    """Draw random masks, train each briefly, keep the best by validation accuracy, train it fully."""

    name = "random-search"
    title = "Random search over random masks, best by validation after a short training (Farahani et al.)"
    paper = "Farahani et al., Random Search as a Baseline for Sparse Neural Network Architecture Search"
    defining_property = "best_of_random_candidates"
    distribution = "uniform"

    def __init__(self, *, sparsity: float = 0.9,
                 candidates: int = 10,  # random masks drawn and compared (the search's size)
                 search_epochs: int = 3,  # epochs each candidate trains before it is scored on validation
                 distribution: Literal["uniform", "erk"] = "uniform",  # each candidate's layer densities: uniform or Erdős–Rényi-Kernel
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init; fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.candidates, self.search_epochs = sparsity, candidates, search_epochs
        self.distribution, self.sparse_init = distribution, sparse_init
        self.candidate_masks: list[dict] = []

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["candidates"] >= 1, f"Random search needs at least 1 candidate mask (got {p['candidates']}).")
        require(p["search_epochs"] >= 1, f"Each candidate must train at least 1 epoch (got {p['search_epochs']}).")

    @classmethod
    def total_epochs_for(cls, epochs: int, finetune_epochs: int, params: dict) -> int:
        return epochs + params.get("candidates", 10) * params.get("search_epochs", 3)

    def draw_candidate(self, index: int) -> dict:
        """Candidate ``index``: exact per-layer counts, its own seeded permutation."""
        shapes = {f: tuple(self.weight(f).shape) for f in self.fqns}
        targets = type(self).layer_targets(shapes, self.sparsity_level, {"distribution": self.distribution})
        gen = torch.Generator().manual_seed(self.seed * 1000003 + 7919 + index)
        masks = {}
        for f, shape in shapes.items():
            n = self.weight(f).numel()
            m = torch.zeros(n, dtype=torch.bool)
            m[torch.randperm(n, generator=gen)[: keep_count(n, targets[f])]] = True
            masks[f] = m.reshape(shape)
        return masks

    def _start(self, trainer, init: dict, masks: dict) -> None:
        self.model.load_state_dict(init)
        self.set_masks(masks)
        self.init_for_masks()
        self.apply_masks()
        trainer.reset_optimizer()

    def run(self, trainer) -> None:
        init = copy.deepcopy(self.model.state_dict())
        scores = []
        self.candidate_masks = []
        for i in range(self.candidates):
            masks = self.draw_candidate(i)
            self.candidate_masks.append(masks)
            self._start(trainer, init, masks)
            if not trainer.train(self.search_epochs, phase=f"search: candidate {i + 1} of {self.candidates}"):
                return
            scores.append(trainer.val_accuracy())
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        self.extra_result["random_search"] = {"candidates_val_accuracy": [round(s, 4) for s in scores], "best": best,
                                              "search_epochs": self.search_epochs,
                                              "search_epochs_total": self.search_epochs * self.candidates}
        trainer.reporter.log(f"Random search: candidate {best + 1} has the best validation accuracy "
                             f"({scores[best]:.4f}; all: {', '.join(f'{s:.3f}' for s in scores)}); training it.")
        self._start(trainer, init, self.candidate_masks[best])
        trainer.train(trainer.config.epochs, phase="train the best mask")


class RandomNodeSearchSparsifier(RandomSearchSparsifier):
    """Random search in node space: each candidate is a random set of hidden units (whole neurons /
    channels), the sub-network they span; the best after a short training is trained fully.

    This is the search space of Farahani et al. (the *node space* of an over-parameterised network:
    a candidate sub-network is the set of nodes it keeps, with all connections among them).
    ``sparsity`` is the fraction of hidden units removed in every hidden layer (as in structured
    pruning; the output units, the classes, stay); the weight sparsity that follows is reported.
    The candidates' score is validation accuracy after ``search_epochs`` epochs from the shared
    initialisation (the same stated choice as ``random-search``).

    >>> from engine.sparse.models import MLP
    >>> sp = RandomNodeSearchSparsifier(sparsity=0.5, candidates=2); sp.prepare(MLP(3, (4,), 2))
    >>> m = sp.draw_candidate(0)
    >>> int(m["layers.0.weight"].all(1).sum()), int(m["layers.1.weight"].all(0).sum())  # 2 of 4 units, both ways
    (2, 2)
    """

    name = "random-search-nodes"
    title = "Random search over node masks (which hidden units exist), best by validation (Farahani et al.)"
    counts = "units"
    defining_property = "best_of_random_node_candidates"
    pairs = StructuredSparsifier.pairs
    masks_from_units = StructuredSparsifier.masks_from_units

    def __init__(self, *, sparsity: float = 0.5,
                 candidates: int = 10,  # random node sets drawn and compared (the search's size)
                 search_epochs: int = 3,  # epochs each candidate trains before it is scored on validation
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init; fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022)
                 ) -> None:
        super().__init__(sparsity=sparsity, candidates=candidates, search_epochs=search_epochs,
                         sparse_init=sparse_init)

    @classmethod
    def layer_targets(cls, shapes: dict, sparsity: float, params: dict) -> dict:
        """Fraction of units removed per hidden layer (every hidden layer keeps at least one unit)."""
        return StructuredSparsifier.layer_targets(shapes, sparsity, params)

    def draw_masks(self) -> dict:
        return self.draw_candidate(0)  # the mask in place before the search starts

    def draw_candidate(self, index: int) -> dict:
        """Candidate ``index``: ``max(1, round((1 − s)·units))`` random units per hidden layer, seeded."""
        gen = torch.Generator().manual_seed(self.seed * 1000003 + 104729 + index)
        units = {}
        for producer, _ in self.pairs():
            n = self.weight(producer).shape[0]
            keep = torch.zeros(n, dtype=torch.bool)
            keep[torch.randperm(n, generator=gen)[: max(1, keep_count(n, self.sparsity_level))]] = True
            units[producer] = keep
        return self.masks_from_units(units)
