"""N:M sparsifiers: SR-STE, BDWP and progressive decaying masks, wrapping ``engine.sparse.nm``.

All three train the *dense* weights and recompute the N:M mask (the N largest |w| of every M
consecutive weights along a layer's input dimension) from them at each forward pass, so unlike the
other methods here the forward is not ``W ⊙ M`` with a fixed ``M``: they register a real
``torch.nn.utils.parametrize`` parametrization (SR-STE, decaying masks) or swap in BDWP layers.
``state[fqn]["mask"]`` is refreshed from the dense weights every ``refresh_every`` steps (for the
live view); at the end ``finalize`` bakes the exact N:M masks into the weights and removes the
parametrizations, so the exported model is a plain N:M sparse model.

* ``nm-srste``: Zhou et al., ICLR 2021, "Learning N:M Fine-grained Structured Sparse Neural
  Networks From Scratch", Sec. 4, SR-STE with λ_W = ``decay``.
* ``nm-bdwp``: Fang et al., IEEE TCAD 2023 (arXiv 2309.13015), bidirectional weight pruning: the
  weights used in the forward pass are N:M along the input dim, and the weights used in the
  backward pass (the activation gradient ``∂L/∂x = ∂L/∂y · W``) are pruned N:M along the output
  dim; the weight update stays dense, plus ``decay`` · (¬M_fwd) ⊙ W (SR-STE's refined term, 0 = plain
  straight-through). Simplification: a layer whose *output* size is not a multiple of M (the
  10-class output layer under 2:4) keeps a dense backward (forward N:M with a straight-through
  gradient); the result lists those layers under ``bdwp_dense_backward``.
* ``nm-decay``: Bambhaniya et al. 2024 (arXiv 2402.04744), progressive gradient flow in three
  phases: dense warm-up (``dense_frac``), decay, fine-tune with the exact N:M mask
  (``finetune_frac``); MDGF (mask values of pruned weights decay 1 → 0, ``curve`` exp or linear at
  ``rate``) or SDGF (patterns tighten stepwise, (M−1):M → … → N:M).
"""
from __future__ import annotations

from typing import Literal

from engine.config import require
from engine.sparse._lazy import parametrize, torch
from engine.sparse.masks import MaskSparsifier
from engine.sparse.shapes import parse_nm, validate_nm_shape

NM_HELP = "N:M: keep at most N of every M consecutive weights along a layer's input (sparsity 1 − N/M)"


def _nmlib():
    from engine.sparse import nm

    return nm


class NMSparsifier(MaskSparsifier):
    """Base of the N:M methods: every prunable layer must hold the pattern along its input dim."""

    name = "nm"
    family = "N:M"
    per_layer_targets = True  # every layer at exactly 1 − N/M
    enforces_masks = False  # the dense weights are trained; masks are recomputed in the forward
    defining_property = "nm_groups"
    refresh_every = 10
    legacy = {"nm": "nm"}

    def __init__(self, nm: str) -> None:
        super().__init__()
        self.nm = nm
        self.n, self.m = parse_nm(nm)
        self.enforce = False

    @classmethod
    def requested(cls, sparsity: float, params: dict) -> float:
        n, m = parse_nm(params.get("nm", "2:4"))
        return 1.0 - n / m

    @classmethod
    def check_params(cls, p: dict) -> None:
        n, m = parse_nm(p["nm"])
        require(m <= 64, f"N:M with M = {m} is too coarse; use M ≤ 64.")

    @classmethod
    def check_shapes(cls, shapes: dict, params: dict) -> None:
        n, m = parse_nm(params["nm"])
        for fqn, shape in shapes.items():
            validate_nm_shape(tuple(shape), n, m, name=fqn)

    def current_masks(self) -> dict:
        """The exact N:M masks of the current dense weights."""
        nm = _nmlib()
        return {f: nm.nm_mask(self.weight(f), self.n, self.m) for f in self.fqns}

    def load_state_dict(self, state: dict) -> None:
        """Install saved (final, exact N:M) masks: from here on they are enforced in place, as after ``finalize``."""
        self.enforce = True
        super().load_state_dict(state)
        self.apply_masks()

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

    def attach(self, model, trainer) -> None:  # subclasses register their parametrization
        raise NotImplementedError

    def detach(self) -> None:
        for g in self.groups:
            module, name = g["module"], g["tensor_name"]
            if parametrize.is_parametrized(module, name):
                parametrize.remove_parametrizations(module, name, leave_parametrized=False)

    def finalize(self) -> None:
        """Bake the exact N:M masks into the weights; from here on masks are enforced in place."""
        nm = _nmlib()
        final = self.current_masks()  # from the dense weights, before the parametrizations go
        self.detach()
        for fqn, m in final.items():
            self.state[fqn]["mask"] = m
        self.enforce = True
        self._refresh()
        self.version += 1
        self.apply_masks()
        self.extra_result["nm"] = f"{self.n}:{self.m}"
        self.extra_result["nm_violations"] = sum(nm.nm_violations(self.weight(f), self.n, self.m) for f in self.fqns)

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
    title = "N:M with SR-STE, sparse-refined straight-through (Zhou et al. 2021)"
    paper = "Zhou et al. 2021, Learning N:M Fine-grained Structured Sparse Neural Networks From Scratch (ICLR)"
    legacy = {"nm": "nm", "srste_decay": "decay"}

    def __init__(self, *,
                 nm: str = "2:4",  # N:M: keep at most N of every M consecutive weights along a layer's input
                 decay: float = 2e-4,  # λ_W: decay of the pruned weights in the refined gradient (Eq. 5)
                 ) -> None:
        super().__init__(nm)
        self.decay = decay

    @classmethod
    def check_params(cls, p: dict) -> None:
        super().check_params(p)
        require(p["decay"] >= 0, "SR-STE: λ_W cannot be negative.")

    def attach(self, model, trainer) -> None:
        nm = _nmlib()
        for g in self.groups:
            parametrize.register_parametrization(g["module"], g["tensor_name"], nm.SRSTE(self.n, self.m, self.decay))


class BDWPSparsifier(NMSparsifier):
    """BDWP (Fang et al. 2023): the forward's weights N:M along the input dim, the backward's along the output dim."""

    name = "nm-bdwp"
    title = "BDWP: N:M weights in the forward and in the backward pass (Fang et al. 2023)"
    paper = "Fang et al. 2023, Efficient N:M Sparse DNN Training Using Algorithm, Architecture, and Dataflow Co-Design (IEEE TCAD)"
    legacy = {"nm": "nm"}

    def __init__(self, *,
                 nm: str = "2:4",  # N:M: keep at most N of every M consecutive weights along a layer's input
                 decay: float = 0.0,  # λ_W: SR-STE's refined decay of the forward-pruned weights (0 = plain straight-through)
                 ) -> None:
        super().__init__(nm)
        self.decay = decay
        self._originals: dict = {}

    @classmethod
    def check_params(cls, p: dict) -> None:
        super().check_params(p)
        require(p["decay"] >= 0, "BDWP: λ_W cannot be negative.")

    def attach(self, model, trainer) -> None:
        nm = _nmlib()
        both, forward_only = [], []
        for fqn in self.fqns:
            shape = tuple(self.weight(fqn).shape)
            (both if nm.nm_compatible(shape, self.n, self.m, dim=0) else forward_only).append(fqn)
        self._model = model
        self._originals = {f.rsplit(".", 1)[0]: model.get_submodule(f.rsplit(".", 1)[0]) for f in both}
        nm.to_bdwp(model, self.n, self.m, decay=self.decay, fqns=both)
        for g in self.groups:
            if g["tensor_fqn"] in forward_only:  # dense backward: straight-through N:M forward
                parametrize.register_parametrization(g["module"], g["tensor_name"], nm.SRSTE(self.n, self.m, self.decay))
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
    """Progressive gradient flow (Bambhaniya et al. 2024): dense warm-up, decaying masks, exact N:M fine-tune."""

    name = "nm-decay"
    title = "N:M with progressive decaying masks, MDGF / SDGF (Bambhaniya et al. 2024)"
    paper = "Bambhaniya et al. 2024, Progressive Gradient Flow for Robust N:M Sparsity Training in Transformers (arXiv 2402.04744)"
    legacy = {"nm": "nm", "nm_schedule": "schedule"}

    def __init__(self, *,
                 nm: str = "2:4",  # N:M: keep at most N of every M consecutive weights along a layer's input
                 schedule: Literal["mdgf", "sdgf"] = "mdgf",  # MDGF: mask values decay; SDGF: patterns tighten stepwise
                 curve: Literal["exp", "linear"] = "exp",  # MDGF decay curve of β: exp(−rate·p) or 1 − p
                 rate: float = 10.0,  # MDGF rate α of the exponential decay, per decay phase
                 dense_frac: float = 0.0,  # phase 1: dense warm-up, fraction of training
                 finetune_frac: float = 0.1,  # phase 3: fine-tune with the exact N:M mask, fraction of training
                 straight_through: bool = False,  # pass the gradient to every weight (the authors' code) instead of β·g
                 ) -> None:
        super().__init__(nm)
        self.schedule, self.curve, self.rate = schedule, curve, rate
        self.dense_frac, self.finetune_frac, self.straight_through = dense_frac, finetune_frac, straight_through
        self._params: list = []
        self._total = 1

    @classmethod
    def check_params(cls, p: dict) -> None:
        super().check_params(p)
        require(p["rate"] > 0, "The MDGF decay rate must be positive.")
        require(p["dense_frac"] >= 0 and p["finetune_frac"] >= 0 and p["dense_frac"] + p["finetune_frac"] < 1,
                "Dense warm-up and fine-tune fractions must be ≥ 0 and leave some of training for the decay phase.")

    def attach(self, model, trainer) -> None:
        nm = _nmlib()
        self._total = trainer.total_steps
        for g in self.groups:
            p = nm.DecayingNM(self.n, self.m, self.schedule, kind=self.curve, rate=self.rate, dense_frac=self.dense_frac,
                              finetune_frac=self.finetune_frac, straight_through=self.straight_through)
            p.set_progress(0, self._total)
            parametrize.register_parametrization(g["module"], g["tensor_name"], p)
            self._params.append(p)

    def after_step(self, step: int) -> None:
        for p in self._params:
            p.set_progress(step + 1, self._total)
        super().after_step(step)

    def current_masks(self) -> dict:
        if self._params and self.enforce is False:  # the mask of the current pattern (dense phase: all ones)
            return {f: p.mask(self.weight(f)) for f, p in zip(self.fqns, self._params)}
        return super().current_masks()

    def finalize(self) -> None:
        self._params = []
        super().finalize()
