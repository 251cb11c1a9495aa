"""Pruning at initialisation: the mask is fixed before training, then the sparse network trains.

* Random pruning (Liu et al., ICLR 2022, "The Unreasonable Effectiveness of Random Pruning"):
  each layer keeps a uniformly random subset of its weights; the layer densities are uniform or
  Erdős–Rényi (ERK, ``engine.sparse.masks.erk_densities``).
* SNIP (Lee et al., ICLR 2019, Eq. 6): connection sensitivity ``|g ⊙ w|`` at initialisation,
  kept globally top-k. Gradients are summed over ``batches`` mini-batches (the paper scores one).
* GraSP (Wang et al., ICLR 2020, Eq. 8): ``S(−θ) = −θ ⊙ H g``; the weights with the *highest*
  scores are removed (their removal reduces gradient flow least). ``H g`` by double back-prop on
  ``batches`` mini-batches. (The paper's temperature on the logits, 200, is used as in its code.)
* SynFlow (Tanaka et al., NeurIPS 2020, Alg. 1): data-free; ``R = 1ᵀ (Π |W_l|) 1`` on an all-ones
  input with |weights| and no biases, score ``|∂R/∂θ ⊙ θ|``; pruned over ``iterations`` rounds
  with the exponential schedule ``density^(k/n)``. Computed in float64 to avoid overflow.

All of them (and SET / RigL, whose initial mask is random) keep PyTorch's dense initialisation of
the surviving weights by default; ``sparse_init="fan-in"`` rescales each unit to its sparse fan-in
(Evci et al., AAAI 2022), an addition to the papers above that matters at extreme sparsity
(random uniform at 98 %: 48.7 → 68.4 % on digits, ``bench/sparse_accuracy.py``).
"""
from __future__ import annotations

import copy
from typing import Literal

from engine.config import require
from engine.sparse._lazy import nn, torch
from engine.sparse.criteria import scores_to_masks
from engine.sparse.masks import MaskSparsifier, keep_count, layer_densities

SPARSE_INIT_HELP = "dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022)"


class _AtInit(MaskSparsifier):
    """Masks drawn at initialisation; ``sparse_init`` chooses the kept weights' initial scale."""

    family = "pruning at init"
    masks_at_init = True
    legacy = {"sparse_init": "sparse_init"}


class RandomSparsifier(_AtInit):
    """Random masks at initialisation (exact count per layer) with ``uniform`` or ``erk`` layer densities."""

    name = "random"
    paper = "Liu et al. 2022, The Unreasonable Effectiveness of Random Pruning (ICLR)"
    per_layer_targets = True
    defining_property = "layer_targets_exact"
    distribution = "erk"

    @classmethod
    def layer_targets(cls, shapes: dict, sparsity: float, params: dict) -> dict:
        """Each layer's sparsity from the layer distribution (uniform, or Erdős–Rényi-Kernel)."""
        dens = layer_densities(shapes, sparsity, params.get("distribution", cls.distribution))
        return {k: 1.0 - d for k, d in dens.items()}

    def draw_masks(self) -> dict:
        shapes = {f: tuple(self.weight(f).shape) for f in self.fqns}
        targets = type(self).layer_targets(shapes, self.sparsity_level, {"distribution": self.distribution})
        gen = torch.Generator().manual_seed(self.seed + 7919)
        masks = {}
        for f, shape in shapes.items():
            n = self.weight(f).numel()
            keep = torch.randperm(n, generator=gen)[: keep_count(n, targets[f])]
            m = torch.zeros(n, dtype=torch.bool)
            m[keep] = True
            masks[f] = m.reshape(shape)
        return masks

    def on_train_begin(self, trainer) -> None:
        self.set_masks(self.draw_masks())
        self.init_for_masks()


class RandomUniform(RandomSparsifier):
    """Random pruning at initialisation, every layer at the same sparsity."""

    name = "random-uniform"
    title = "Random pruning at initialisation, same density per layer (Liu et al. 2022)"
    distribution = "uniform"

    def __init__(self, *, sparsity: float = 0.9,
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022, an addition)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.sparse_init = sparsity, sparse_init


class RandomERK(RandomSparsifier):
    """Random pruning at initialisation with Erdős–Rényi-Kernel layer densities."""

    name = "random-erk"
    title = "Random pruning at initialisation, Erdős–Rényi layer densities (Liu et al. 2022)"
    distribution = "erk"

    def __init__(self, *, sparsity: float = 0.9,
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022, an addition)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.sparse_init = sparsity, sparse_init


class _DataScored(_AtInit):
    """Shared parts of SNIP and GraSP: score on a few mini-batches at init, keep the global top-k."""

    scope = "global"
    defining_property = "keeps_top_scores"
    legacy = {"sparse_init": "sparse_init", "pai_batches": "batches"}

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["batches"] >= 1, f"{cls.name}: score at least one mini-batch.")

    def _batches(self, trainer):
        n = len(trainer.data.x_train)
        gen = torch.Generator().manual_seed(trainer.config.seed + 104729)
        perm = torch.randperm(n, generator=gen)
        bs = trainer.batch_size
        for b in range(self.batches):
            idx = perm[(b * bs) % n : (b * bs) % n + bs]
            yield trainer.data.x_train[idx], trainer.data.y_train[idx]

    def scores(self, trainer) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def on_train_begin(self, trainer) -> None:
        self.last_scores = self.scores(trainer)
        self.set_masks(scores_to_masks(self.last_scores, self.sparsity_level, self.scope))
        self.init_for_masks()


class SNIPSparsifier(_DataScored):
    """SNIP: keep the weights with the largest connection sensitivity ``|∂L/∂w · w|`` at initialisation."""

    name = "snip"
    title = "SNIP: connection sensitivity at initialisation (Lee et al. 2019)"
    paper = "Lee et al. 2019, SNIP: Single-shot Network Pruning based on Connection Sensitivity (ICLR)"

    def __init__(self, *, sparsity: float = 0.9,
                 batches: int = 4,  # mini-batches whose gradients are summed (the paper scores one batch of 100)
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022, an addition)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.batches, self.sparse_init = sparsity, batches, sparse_init

    def scores(self, trainer) -> dict[str, torch.Tensor]:
        weights = [self.weight(f) for f in self.fqns]
        grads = [torch.zeros_like(w) for w in weights]
        for x, y in self._batches(trainer):
            loss = nn.functional.cross_entropy(trainer.model(x), y)
            for acc, g in zip(grads, torch.autograd.grad(loss, weights)):
                acc += g
        return {f: (g * w).abs().detach() for f, g, w in zip(self.fqns, grads, weights)}


class GraSPSparsifier(_DataScored):
    """GraSP: remove the weights whose ``−θ ⊙ Hg`` is largest (keep the smallest)."""

    name = "grasp"
    title = "GraSP: gradient-signal preservation at initialisation (Wang et al. 2020)"
    paper = "Wang et al. 2020, Picking Winning Tickets Before Training by Preserving Gradient Flow (ICLR)"

    def __init__(self, *, sparsity: float = 0.9,
                 batches: int = 4,  # mini-batches for g and Hg
                 temperature: float = 200.0,  # T: logits divided by T (the authors' code)
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022, an addition)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.batches, self.temperature, self.sparse_init = sparsity, batches, temperature, sparse_init

    def scores(self, trainer) -> dict[str, torch.Tensor]:
        model, weights = trainer.model, [self.weight(f) for f in self.fqns]
        batches = list(self._batches(trainer))
        g = [torch.zeros_like(w) for w in weights]
        for x, y in batches:  # g: gradient at init (no graph kept)
            loss = nn.functional.cross_entropy(model(x) / self.temperature, y)
            for acc, gi in zip(g, torch.autograd.grad(loss, weights)):
                acc += gi
        hg = [torch.zeros_like(w) for w in weights]
        for x, y in batches:  # Hg = ∇(gᵀ ∇L) by double back-prop
            loss = nn.functional.cross_entropy(model(x) / self.temperature, y)
            grads = torch.autograd.grad(loss, weights, create_graph=True)
            z = sum((gi.detach() * gr).sum() for gi, gr in zip(g, grads))
            for acc, h in zip(hg, torch.autograd.grad(z, weights)):
                acc += h
        # score S = −θ ⊙ Hg; removing the largest S ⇔ keeping the largest θ ⊙ Hg
        return {f: (w * h).detach() for f, w, h in zip(self.fqns, weights, hg)}


class SynFlowSparsifier(_AtInit):
    """SynFlow: iterative, data-free pruning by synaptic saliency ``|∂R/∂θ ⊙ θ|``."""

    name = "synflow"
    title = "SynFlow: iterative synaptic-flow pruning, data-free (Tanaka et al. 2020)"
    paper = "Tanaka et al. 2020, Pruning neural networks without any data by iteratively conserving synaptic flow (NeurIPS)"
    defining_property = "data_free"
    legacy = {"sparse_init": "sparse_init", "synflow_iters": "iterations"}
    scope = "global"

    def __init__(self, *, sparsity: float = 0.9,
                 iterations: int = 100,  # n: pruning rounds, density^(k/n) after round k (Alg. 1)
                 sparse_init: Literal["dense", "fan-in"] = "dense",  # dense: keep the dense init (as the paper); fan-in: rescale to each unit's sparse fan-in (Evci et al. 2022, an addition)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.iterations, self.sparse_init = sparsity, iterations, sparse_init

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["iterations"] >= 1, "SynFlow needs at least one iteration.")

    def on_train_begin(self, trainer) -> None:
        model = copy.deepcopy(trainer.model).double()
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith("bias"):
                    p.zero_()
                else:
                    p.abs_()  # linearise: |θ| (Alg. 1, line 2)
        shadow = dict(model.named_parameters())
        weights = {f: shadow[f] for f in self.fqns}
        original = {f: w.detach().clone() for f, w in weights.items()}
        ones = torch.ones((1, *trainer.data.x_train.shape[1:]), dtype=torch.float64)
        masks = {f: torch.ones_like(w, dtype=torch.bool) for f, w in weights.items()}
        density = 1.0 - self.sparsity_level
        for k in range(1, self.iterations + 1):
            with torch.no_grad():
                for f, w in weights.items():
                    w.copy_(original[f] * masks[f])
            model.zero_grad()
            model(ones).sum().backward()  # R = 1ᵀ (Π |W|) 1
            scores = {f: (w.grad * w).detach().abs() for f, w in weights.items()}
            masks = scores_to_masks(scores, 1.0 - density ** (k / self.iterations), self.scope, masks)
        self.set_masks(masks)
        self.init_for_masks()


