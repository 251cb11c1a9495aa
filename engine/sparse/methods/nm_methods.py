"""N:M sparsifiers: SR-STE, BDWP and progressive decaying masks, wrapping ``engine.sparse.nm``.

All three train the *dense* weights and recompute the N:M mask (the N largest |w| of every M
consecutive weights along a layer's input dimension) from them at each forward pass, so unlike the
other methods here the forward is not ``W ⊙ M`` with a fixed ``M``: they register a real
``torch.nn.utils.parametrize`` parametrization (SR-STE, decaying masks) or swap in BDWP layers.
``state[fqn]["mask"]`` is refreshed from the dense weights every ``refresh_every`` steps (for the
live view); at the end ``finalize`` bakes the exact N:M masks into the weights and removes the
parametrizations, so the exported model is a plain N:M sparse model.

* ``nm-srste``: Zhou et al., ICLR 2021, "Learning N:M Fine-grained Structured Sparse Neural
  Networks From Scratch", Sec. 4, SR-STE with λ_W = ``srste_decay``.
* ``nm-bdwp``: Fang et al., IEEE TCAD 2023 (arXiv 2309.13015), bidirectional weight pruning:
  forward weights N:M along the input dim, activation gradients computed with ``W`` N:M along the
  output dim. Simplification: a layer whose *output* size is not a multiple of M (the 10-class
  output layer under 2:4) keeps a dense backward (forward N:M with a straight-through gradient);
  the result lists those layers under ``bdwp_dense_backward``.
* ``nm-decay``: Bambhaniya et al. 2024 (arXiv 2402.04744), progressive gradient flow: MDGF (mask
  values of pruned weights decay exponentially 1 → 0) or SDGF (patterns tighten stepwise,
  (M−1):M → … → N:M); the last 10 % of training uses the exact N:M mask.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from engine.sparse import nm as nmlib
from engine.sparse.masks import MaskSparsifier


class NMSparsifier(MaskSparsifier):
    """Base of the N:M methods: every prunable layer must hold the pattern along its input dim."""

    name = "nm"
    refresh_every = 10

    def __init__(self, n: int, m: int) -> None:
        super().__init__({"n": n, "m": m})
        self.n, self.m = n, m
        self.enforce = False  # the dense weights are trained; masks are recomputed in the forward
        self.extra_result: dict = {}

    def check_model(self, model: nn.Module) -> None:
        """ConfigError now (before training) when a layer is too small for N:M."""
        for fqn in self.fqns:
            nmlib.validate_nm(tuple(self.weight(fqn).shape), self.n, self.m, name=fqn)

    def current_masks(self) -> dict[str, torch.Tensor]:
        """The exact N:M masks of the current dense weights."""
        return {f: nmlib.nm_mask(self.weight(f), self.n, self.m) for f in self.fqns}

    def apply_masks(self) -> None:
        if self.enforce:
            super().apply_masks()

    def mask_grads(self) -> None:
        if self.enforce:
            super().mask_grads()

    def _refresh_state(self) -> None:
        changed = False
        for fqn, m in self.current_masks().items():
            if not torch.equal(m, self.state[fqn]["mask"]):
                self.state[fqn]["mask"] = m
                changed = True
        if changed:
            self.version += 1

    def after_step(self, step: int) -> None:
        if (step + 1) % self.refresh_every == 0:
            self._refresh_state()

    def attach(self, model: nn.Module, trainer) -> None:  # subclasses register their parametrization
        raise NotImplementedError

    def detach(self) -> None:
        for g in self.groups:
            module, name = g["module"], g["tensor_name"]
            if parametrize.is_parametrized(module, name):
                parametrize.remove_parametrizations(module, name, leave_parametrized=False)

    def finalize(self) -> None:
        """Bake the exact N:M masks into the weights; from here on masks are enforced in place."""
        final = self.current_masks()  # from the dense weights, before the parametrizations go
        self.detach()
        for fqn, m in final.items():
            self.state[fqn]["mask"] = m
        self.enforce = True
        self._refresh()
        self.version += 1
        self.apply_masks()
        self.extra_result["nm"] = f"{self.n}:{self.m}"
        self.extra_result["nm_violations"] = sum(nmlib.nm_violations(self.weight(f), self.n, self.m) for f in self.fqns)

    def run(self, trainer) -> None:
        self.attach(trainer.model, trainer)
        self._refresh_state()
        try:
            trainer.train(trainer.config.epochs, phase=f"train ({self.name} {self.n}:{self.m})")
        finally:
            self.finalize()


class SRSTESparsifier(NMSparsifier):
    """SR-STE (Zhou et al. 2021): forward ``W ⊙ M(W)``, gradient ``g + λ_W (¬M) ⊙ W`` to the dense ``W``."""

    name = "nm-srste"
    paper = "Zhou et al. 2021, Learning N:M Fine-grained Structured Sparse Neural Networks From Scratch"

    def __init__(self, n: int, m: int, decay: float = 2e-4) -> None:
        super().__init__(n, m)
        self.decay = decay

    def attach(self, model, trainer) -> None:
        for g in self.groups:
            parametrize.register_parametrization(g["module"], g["tensor_name"], nmlib.SRSTE(self.n, self.m, self.decay))


class BDWPSparsifier(NMSparsifier):
    """BDWP (Fang et al. 2023): N:M weights forward, N:M (along the output dim) weights for the backward."""

    name = "nm-bdwp"
    paper = "Fang et al. 2023, Efficient N:M Sparse DNN Training Using Algorithm, Architecture, and Dataflow Co-Design"

    def __init__(self, n: int, m: int, decay: float = 0.0) -> None:
        super().__init__(n, m)
        self.decay = decay
        self._originals: dict[str, nn.Module] = {}

    def attach(self, model, trainer) -> None:
        both, forward_only = [], []
        for fqn in self.fqns:
            shape = tuple(self.weight(fqn).shape)
            (both if nmlib.nm_compatible(shape, self.n, self.m, dim=0) else forward_only).append(fqn)
        self._model = model
        self._originals = {f.rsplit(".", 1)[0]: model.get_submodule(f.rsplit(".", 1)[0]) for f in both}
        nmlib.to_bdwp(model, self.n, self.m, decay=self.decay, fqns=both)
        for g in self.groups:
            if g["tensor_fqn"] in forward_only:  # dense backward: straight-through N:M forward
                parametrize.register_parametrization(g["module"], g["tensor_name"], nmlib.SRSTE(self.n, self.m, 0.0))
        self.extra_result["bdwp_dense_backward"] = forward_only
        if forward_only:
            trainer.reporter.log(f"BDWP: {', '.join(forward_only)} keep a dense backward (output size not a multiple of {self.m}).")

    def detach(self) -> None:
        super().detach()
        for name, original in self._originals.items():  # swap the plain layers back (same Parameters)
            parent, _, child = name.rpartition(".")
            setattr(self._model.get_submodule(parent) if parent else self._model, child, original)
        self._originals = {}


class DecayingNMSparsifier(NMSparsifier):
    """Progressive gradient flow (Bambhaniya et al. 2024): MDGF or SDGF decaying masks, exact N:M at the end."""

    name = "nm-decay"
    paper = "Bambhaniya et al. 2024, Progressive Gradient Flow for Robust N:M Sparsity Training in Transformers"

    def __init__(self, n: int, m: int, schedule: str = "mdgf") -> None:
        super().__init__(n, m)
        self.schedule = schedule
        self._params: list[nmlib.DecayingNM] = []
        self._total = 1

    def attach(self, model, trainer) -> None:
        self._total = trainer.total_steps
        for g in self.groups:
            p = nmlib.DecayingNM(self.n, self.m, self.schedule)
            p.set_progress(0, self._total)
            parametrize.register_parametrization(g["module"], g["tensor_name"], p)
            self._params.append(p)

    def after_step(self, step: int) -> None:
        for p in self._params:
            p.set_progress(step + 1, self._total)
        super().after_step(step)

    def current_masks(self) -> dict[str, torch.Tensor]:
        if self._params and self.enforce is False:  # the mask of the current pattern (dense phase: all ones)
            return {f: p.mask(self.weight(f)) for f, p in zip(self.fqns, self._params)}
        return super().current_masks()

    def finalize(self) -> None:
        self._params = []
        super().finalize()


FACTORIES = {
    "nm-srste": lambda c: SRSTESparsifier(*c.nm_pair, decay=c.srste_decay),
    "nm-bdwp": lambda c: BDWPSparsifier(*c.nm_pair),
    "nm-decay": lambda c: DecayingNMSparsifier(*c.nm_pair, schedule=c.nm_schedule),
}
