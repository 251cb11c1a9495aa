"""WGSEF: k-level structured sparsity by proximal gradient on the weighted group sparse envelope
function (Refael, Arbel & Huleihel, "Learning k-Level Structured Sparse Neural Networks Using Group
Envelope Regularization", arXiv 2212.12921).

The regulariser of each hidden layer is ``λ · S_k(c · v)`` with ``v_g = ‖(W_g, b_g)‖₂`` the norm of
group ``g`` (an output neuron's incoming weights and bias for an MLP layer, a filter and its bias
for a conv layer), ``c`` the layer's group weight and ``S_k = h_k − ½‖·‖²`` the sparse envelope of
Beck & Refael 2022 (``engine.sparse.prox``): zero exactly when at most ``k`` groups are non-zero, so
it leaves a layer with ``k`` groups alone instead of shrinking them as group lasso does. ``k`` per
hidden layer is ``max(1, round((1 − s) · units))`` (``s`` the asked unit sparsity, as for
``structured``) or ``groups_kept``. The classes (output layer) are never a group.

Training is proximal stochastic gradient: each optimiser step on the loss, then every hidden
layer's groups go through ``prox_{η S_k(c·)}`` with ``η = lr · λ_t`` (``engine.sparse.prox.prox_groups``:
the norms go through the envelope's prox, each group is rescaled). Under Adam (the lab's default)
the gradient step is Adam's, the usual proximal-Adam practice.

The schedule of ``λ_t`` is this lab's choice, said here and in the UI: the paper's text could not
be read offline, so its equation numbers and schedule are **not checked**. ``prox_{ηS_k}`` is the
exact top-k group hard threshold once ``η c² ≥ 1`` (``engine.sparse.prox``), so
``schedule="geometric-ramp"`` (default) raises ``η c²`` geometrically from ``lr·λ·c²`` to 1 at
``ramp_end`` of training and holds it there: the groups outside the top k are shrunk ever harder and
the last part of training runs with exactly ``k`` non-zero groups per layer, *without a separate
pruning step* (the masks recorded at the end are the zero groups the prox left; recording them
changes no weight). ``"linear-ramp"`` raises it linearly; ``"constant"`` keeps ``λ`` fixed, as a
fixed penalty would, and ends with however many groups are non-zero (at least ``k``), reported.
The default start ``λ = 0.01`` was picked on digits' *validation* accuracy among 1, 0.1, 0.01, 0.001
(3 seeds, 90 % of the units removed): a weak start lets the network train nearly dense before the
ramp removes groups (λ = 1: 95.7 % validation accuracy, 0.01: 97.8 %).

After the run a removed unit has zero incoming weights and bias, so its output is ``relu(0) = 0``
and its outgoing column can be masked too without changing the function: the network compacts
physically (the speed meter's ``compacted`` backend, ``engine.sparse.speed``).
"""
from __future__ import annotations

import math
from typing import Literal

from engine.config import require
from engine.errors import ConfigError
from engine.sparse._lazy import torch
from engine.sparse.masks import keep_count
from engine.sparse.methods.structured import StructuredSparsifier


class WGSEFSparsifier(StructuredSparsifier):
    """Proximal SGD with the group sparse envelope; exactly ``k`` non-zero groups per hidden layer at the end."""

    name = "wgsef"
    title = "WGSEF: k non-zero neurons / filters per layer by the group sparse envelope's prox (Refael et al. 2022)"
    paper = ("Refael, Arbel & Huleihel 2022, Learning k-Level Structured Sparse Neural Networks Using Group "
             "Envelope Regularization (arXiv 2212.12921); sparse envelope: Beck & Refael 2022, J. Global Optim.")
    family = "structured"
    counts = "units"
    per_layer_targets = True
    finetunes = False  # the recipe is the proximal training alone: no prune-then-fine-tune
    defining_property = "k_groups_at_convergence"
    legacy = {}

    def __init__(self, *, sparsity: float = 0.5,
                 lam: float = 0.01,  # λ: envelope strength at the start (prox step lr·λ); "constant" keeps it. Lab default, picked on digits validation accuracy
                 schedule: Literal["geometric-ramp", "linear-ramp", "constant"] = "geometric-ramp",  # λ_t: ramp lr·λ_t·c² up to 1 (then the prox is the exact top-k threshold), or keep λ (lab's choice, not the paper's)
                 ramp_end: float = 0.75,  # fraction of training at which the ramp reaches the hard-threshold strength
                 group_weight: Literal["one", "sqrt-size"] = "one",  # c: weight of a layer's group norms, 1 or √(group size) (group-lasso convention)
                 groups_kept: int = 0,  # k: non-zero groups to keep per hidden layer; 0 = from the unit sparsity
                 ) -> None:
        super().__init__(sparsity=sparsity, norm="l2", group_lasso=0.0)
        self.lam, self.schedule, self.ramp_end = lam, schedule, ramp_end
        self.group_weight, self.groups_kept = group_weight, groups_kept
        self.active = False  # the prox runs only inside the method's training
        self.history: list[dict] = []

    # --- metadata and checks (torch-free) ---------------------------------------------------------
    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["lam"] > 0, f"WGSEF: the envelope strength λ must be positive (got {p['lam']}).")
        require(0 < p["ramp_end"] <= 1, f"WGSEF: ramp_end is a fraction of training in (0, 1] (got {p['ramp_end']}).")
        require(p["groups_kept"] >= 0, f"WGSEF: k (groups_kept) cannot be negative (got {p['groups_kept']}).")

    @classmethod
    def check_shapes(cls, shapes: dict, params: dict) -> None:
        """k larger than a hidden layer's number of groups (units) is refused before the run."""
        k = int(params.get("groups_kept", 0))
        for fqn, shape in list(shapes.items())[:-1]:
            if k > shape[0]:
                raise ConfigError(f"WGSEF: k = {k} groups to keep per layer, but layer {fqn} has only {shape[0]} "
                                  f"groups (output neurons / filters). Choose k ≤ {min(s[0] for s in list(shapes.values())[:-1])}, "
                                  "or 0 to derive k from the sparsity.")

    @classmethod
    def layer_targets(cls, shapes: dict, sparsity: float, params: dict) -> dict:
        k = int(params.get("groups_kept", 0))
        if not k:
            return super().layer_targets(shapes, sparsity, params)
        return {f: 1.0 - k / shapes[f][0] for f in list(shapes)[:-1]}

    def k_of(self, fqn: str) -> int:
        """Groups kept in the layer at ``fqn``."""
        units = self.weight(fqn).shape[0]
        return self.groups_kept or max(1, keep_count(units, self.sparsity_level))

    # --- the prox ---------------------------------------------------------------------------------
    def _bias(self, fqn: str):
        module = next(g["module"] for g in self.groups if g["tensor_fqn"] == fqn)
        return module.bias

    def group_norms(self, fqn: str):
        """``v_g = ‖(W_g, b_g)‖₂`` of every group (unit) of the layer: (units,)."""
        w = self.weight(fqn).detach()
        v = w.reshape(w.shape[0], -1).pow(2).sum(1)
        b = self._bias(fqn)
        if b is not None:
            v = v + b.detach().pow(2)
        return v.sqrt()

    def c_of(self, fqn: str) -> float:
        w = self.weight(fqn)
        return math.sqrt(w[0].numel() + (self._bias(fqn) is not None)) if self.group_weight == "sqrt-size" else 1.0

    def eta(self, step: int, fqn: str) -> float:
        """``lr · λ_t`` at ``step``; with ``c²`` it reaches 1 at ``ramp_end`` under a ramp."""
        start = self.lr * self.lam
        if self.schedule == "constant":
            return start
        c2 = self.c_of(fqn) ** 2
        t = min(1.0, (step + 1) / max(1, self.ramp_steps))
        lo, hi = min(start * c2, 1.0), 1.0
        value = lo * (hi / lo) ** t if self.schedule == "geometric-ramp" else lo + (hi - lo) * t
        return (1.0 if t >= 1 else value) / c2

    def apply_prox(self, step: int) -> None:
        from engine.sparse.prox import prox_groups

        with torch.no_grad():
            for fqn, _ in self.pairs():
                scale = prox_groups(self.group_norms(fqn).double(), self.k_of(fqn), self.eta(step, fqn),
                                    self.c_of(fqn)).to(self.weight(fqn).dtype)
                w = self.weight(fqn)
                w.mul_(scale.reshape((-1,) + (1,) * (w.dim() - 1)))
                b = self._bias(fqn)
                if b is not None:
                    b.mul_(scale)

    # --- recipe -----------------------------------------------------------------------------------
    def on_train_begin(self, trainer) -> None:
        self.lr = trainer.lr
        self.ramp_steps = max(1, int(self.ramp_end * trainer.config.epochs * trainer.steps_per_epoch))
        self.active = True

    def after_step(self, step: int) -> None:
        if not self.active:
            return
        self.apply_prox(step)
        if (step + 1) % max(1, self.ramp_steps // 20) == 0:
            self.history.append({"step": step + 1, "eta": {f: self.eta(step, f) for f, _ in self.pairs()},
                                 "nonzero_groups": self.nonzero_groups()})

    def nonzero_groups(self) -> dict[str, int]:
        return {f: int((self.group_norms(f) > 0).sum()) for f, _ in self.pairs()}

    def step(self) -> None:
        """Record the masks of the groups the prox left at zero (no weight changes: it prunes nothing)."""
        units = {f: self.group_norms(f) > 0 for f, _ in self.pairs()}
        self.set_masks(self.masks_from_units(units))
        self.extra_result["units_kept"] = {k: int(v.sum()) for k, v in units.items()}

    def run(self, trainer) -> None:
        self.on_train_begin(trainer)
        ok = trainer.train(trainer.config.epochs, phase=f"train (proximal SGD, group sparse envelope, {self.schedule})")
        self.active = False
        if not ok:
            return
        nonzero = self.nonzero_groups()
        self.step()
        k = {f: self.k_of(f) for f, _ in self.pairs()}
        self.extra_result["wgsef"] = {
            "k": k, "nonzero_groups": nonzero, "exactly_k": all(nonzero[f] == k[f] for f in k),
            "eta_final": {f: self.eta(trainer.step - 1, f) for f in k}, "schedule": self.schedule,
            "history": self.history,
        }
        trainer.reporter.log("WGSEF: non-zero groups per hidden layer " + ", ".join(
            f"{f} {nonzero[f]} (k = {k[f]})" for f in k) + f"; weight sparsity {self.sparsity():.4f}.")
