"""Masks and the base sparsifier every method here derives from.

A sparsifier is shaped like an optimizer, as in ``torch.ao.pruning``: ``prepare(model, config)``
attaches it to the weights named by tensor path (``[{"tensor_fqn": "layers.0.weight"}, ...]``),
``step()`` recomputes the masks (``update_mask``), ``squash_mask()`` bakes them into the weights and
detaches, and ``state_dict()`` returns the masks by fqn.

How masks are enforced (measured in ``bench/sparse_step.py``): not by a forward parametrization
``W * M`` (``FakeSparsity``), which costs an extra multiply forward and backward per layer on every
step, but in place: ``set_masks`` zeroes newly pruned weights (``apply_masks()``) and the optimizer
moments of every weight whose mask flipped, and after ``loss.backward()`` the training loop calls
``mask_grads()`` (one ``torch._foreach_mul_`` over all layers), so a pruned weight has a zero
gradient and zero moments and the optimizer leaves it at exactly 0 (see ``engine.sparse.train``).
The forward pass therefore always sees exactly ``W ⊙ M``, the same function a parametrization
computes, for one extra multiply of the gradients per step. Methods whose forward or backward is
*not* ``W ⊙ M`` (SR-STE, BDWP: a straight-through or a pruned backward) register a real
``torch.nn.utils.parametrize`` parametrization instead (see ``methods/nm_methods.py``).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import torch
from torch import nn
from torch.ao.pruning import BaseSparsifier

from engine.errors import ConfigError


def keep_count(n: int, sparsity: float) -> int:
    """Weights kept of ``n`` at ``sparsity`` (rounded; at least 0, at most n).

    >>> keep_count(65536, 0.98), keep_count(10, 0.7)
    (1311, 3)
    """
    return max(0, min(n, int(round((1.0 - sparsity) * n))))


def topk_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask keeping exactly the ``k`` largest ``scores`` (ties broken by position).

    >>> topk_mask(torch.tensor([0.1, 3.0, -2.0, 0.5]), 2).tolist()
    [False, True, False, True]
    """
    flat = scores.reshape(-1)
    mask = torch.zeros(flat.numel(), dtype=torch.bool, device=scores.device)
    if k > 0:
        mask[torch.topk(flat, k, sorted=False).indices] = True
    return mask.reshape(scores.shape)


def global_topk_masks(scores: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """Keep the ``k`` largest scores across all layers together (one global threshold)."""
    names = list(scores)
    flat = torch.cat([scores[n].reshape(-1) for n in names])
    keep = topk_mask(flat, k)
    out, i = {}, 0
    for n in names:
        size = scores[n].numel()
        out[n] = keep[i : i + size].reshape(scores[n].shape)
        i += size
    return out


def erk_densities(shapes: dict[str, tuple[int, ...]], density: float, *, power: float = 1.0) -> dict[str, float]:
    """Erdős–Rényi(-Kernel) layer densities (Mocanu et al. 2018; Evci et al. 2020, Sec. 3).

    Layer l gets density ``ε · (Σ dims) / (Π dims)`` (for a conv: ``(c_in + c_out + k_h + k_w) /
    (c_in c_out k_h k_w)``, the ERK variant), ``ε`` chosen so the total number of kept weights equals
    ``density · Σ n_l``. A layer whose density would exceed 1 is made dense and removed from the
    set, and ε is solved again for the rest (the capping loop of the RigL code). ``power`` scales the
    raw ratio (``power=0`` gives uniform densities), as in Liu et al. 2022.

    >>> d = erk_densities({"a": (10, 10), "b": (100, 100)}, 0.1)
    >>> round(d["a"], 4), round(d["b"], 4)
    (0.9182, 0.0918)
    >>> erk_densities({"a": (2, 2), "b": (100, 100)}, 0.5)["a"]
    1.0
    """
    n = {k: math.prod(s) for k, s in shapes.items()}
    raw = {k: (sum(s) / math.prod(s)) ** power for k, s in shapes.items()}
    target = density * sum(n.values())
    dense: set[str] = set()
    while True:
        budget = target - sum(n[k] for k in dense)
        free = [k for k in shapes if k not in dense]
        denom = sum(raw[k] * n[k] for k in free)
        eps = budget / denom if denom > 0 else 0.0
        over = [k for k in free if eps * raw[k] > 1.0]
        if not over:
            break
        dense.update(over)
    return {k: 1.0 if k in dense else eps * raw[k] for k in shapes}


def layer_densities(shapes: dict[str, tuple[int, ...]], sparsity: float, distribution: str) -> dict[str, float]:
    """Per-layer densities of an initial sparse distribution: ``uniform`` or ``erk``."""
    if distribution == "uniform":
        return {k: 1.0 - sparsity for k in shapes}
    if distribution == "erk":
        return erk_densities(shapes, 1.0 - sparsity)
    raise ConfigError(f"Unknown layer distribution '{distribution}'; use 'uniform' or 'erk'.")


@torch.no_grad()
def sparse_fan_in_init_(weight: torch.Tensor, mask: torch.Tensor) -> None:
    """Rescale each unit's incoming weights from the dense to its *sparse* fan-in, in place.

    Sparsity-aware initialisation (Evci et al., AAAI 2022, "Gradient Flow in Sparse Neural
    Networks and How Lottery Tickets Win", Sec. 4): a dense init draws unit i's weights with
    variance ∝ 1/fan_in; with only k_i of them kept the unit's input variance shrinks by k_i/fan_in
    and the signal fades layer by layer. Multiplying row i by sqrt(fan_in / k_i) restores it
    (rows with no kept weight are left alone).

    >>> w = torch.ones(2, 4); m = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    >>> sparse_fan_in_init_(w, m); w[:, 0].tolist()
    [2.0, 1.0]
    """
    w2, m2 = as_2d(weight), as_2d(mask)
    kept = m2.sum(1).clamp(min=1).to(weight.dtype)  # (out,)
    w2.mul_((m2.shape[1] / kept).sqrt().unsqueeze(1))


def as_2d(mask: torch.Tensor) -> torch.Tensor:
    """A weight-shaped tensor as (out, in·k·k): the layout masks are drawn and N:M groups are formed in."""
    return mask.reshape(mask.shape[0], -1)


class MaskSparsifier(BaseSparsifier):
    """Base sparsifier: boolean masks in ``state[fqn]["mask"]``, enforced in place (see module doc).

    Subclasses implement ``update_mask`` (per layer) or override ``step`` (global criteria), and may
    use the training-loop hooks ``on_train_begin(trainer)``, ``after_backward(step)`` and
    ``after_step(step)``; ``run(trainer)`` is the method's whole recipe (when to train, prune, rewind).
    """

    name = "base"
    paper = ""
    sparse_init = "dense"  # dense | fan-in: rescale weights to the sparse fan-in when masks are drawn at init

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        super().__init__(defaults=dict(defaults or {}))
        self.version = 0  # bumped whenever a mask changes (the loop snapshots masks then)
        self.optimizer: torch.optim.Optimizer | None = None

    # --- torch.ao.pruning interface -------------------------------------------------------------
    def prepare(self, model: nn.Module, config: list[dict[str, Any]] | None = None) -> None:
        if config is None:
            from engine.sparse.models import prunable

            config = [{"tensor_fqn": fqn} for fqn in prunable(model)]
        super().prepare(model, config)

    def _prepare(self, *args, **kwargs) -> None:
        # No FakeSparsity parametrization: masks are applied in place (module docstring).
        for g in self.groups:
            w = getattr(g["module"], g["tensor_name"])
            self.state[g["tensor_fqn"]]["mask"] = torch.ones_like(w, dtype=torch.bool)
        self._refresh()

    def _refresh(self) -> None:
        self._weights = [self.weight(g["tensor_fqn"]) for g in self.groups]
        self._masks_f = [self.state[g["tensor_fqn"]]["mask"].to(w.dtype) for g, w in zip(self.groups, self._weights)]

    def weight(self, fqn: str) -> torch.Tensor:
        """The raw weight tensor at ``fqn`` (the original one under a parametrization)."""
        g = next(g for g in self.groups if g["tensor_fqn"] == fqn)
        module, name = g["module"], g["tensor_name"]
        if nn.utils.parametrize.is_parametrized(module, name):
            return module.parametrizations[name].original
        return getattr(module, name)

    @property
    def fqns(self) -> list[str]:
        return [g["tensor_fqn"] for g in self.groups]

    def mask(self, fqn: str) -> torch.Tensor:
        return self.state[fqn]["mask"]

    def masks(self) -> dict[str, torch.Tensor]:
        return {f: self.state[f]["mask"] for f in self.fqns}

    def set_masks(self, masks: dict[str, torch.Tensor]) -> None:
        """Install new masks; reset optimizer moments where a mask changed (Evci et al. 2020, App. A)."""
        changed = {}
        for fqn, m in masks.items():
            old = self.state[fqn]["mask"]
            m = m.to(torch.bool).reshape(old.shape)
            if not torch.equal(m, old):
                changed[fqn] = m ^ old
                self.state[fqn]["mask"] = m
        if changed:
            self.version += 1
            self._refresh()
            self._reset_moments(changed)
            self.apply_masks()

    def _reset_moments(self, changed: dict[str, torch.Tensor]) -> None:
        if self.optimizer is None:
            return
        for fqn, flip in changed.items():
            state = self.optimizer.state.get(self.weight(fqn), {})
            for key in ("momentum_buffer", "exp_avg", "exp_avg_sq"):
                buf = state.get(key)
                if isinstance(buf, torch.Tensor) and buf.shape == flip.shape:
                    buf.masked_fill_(flip, 0.0)

    def update_mask(self, module: nn.Module, tensor_name: str, **kwargs) -> None:  # per-layer criteria
        raise NotImplementedError

    def step(self, use_path: bool = True) -> None:
        """Recompute every mask (``update_mask`` per group), then zero the pruned weights and the
        optimizer moments of every weight whose mask flipped (as ``set_masks`` does)."""
        if not self.enable_mask_update:
            return
        before = {f: m.clone() for f, m in self.masks().items()}
        with torch.no_grad():
            for g in self.groups:
                self.update_mask(**g)
        self._refresh()
        self.version += 1
        self._reset_moments({f: self.mask(f) ^ m for f, m in before.items()})
        self.apply_masks()

    def squash_mask(self, *args, **kwargs) -> None:
        """Bake the masks into the weights and detach from the model (weights stay zero where pruned)."""
        self.apply_masks()
        for g in self.groups:
            module, name = g["module"], g["tensor_name"]
            if nn.utils.parametrize.is_parametrized(module, name):
                nn.utils.parametrize.remove_parametrizations(module, name, leave_parametrized=True)
        self.state.clear()
        self.groups = []
        self._weights, self._masks_f = [], []

    # --- in-place enforcement (called by the training loop) -------------------------------------
    @torch.no_grad()
    def apply_masks(self) -> None:
        if self._weights:
            torch._foreach_mul_(self._weights, self._masks_f)

    @torch.no_grad()
    def mask_grads(self) -> None:
        grads = [w.grad for w in self._weights]
        if grads and all(g is not None for g in grads):
            torch._foreach_mul_(grads, self._masks_f)

    def init_for_masks(self) -> None:
        """After masks are drawn at initialisation: ``sparse_init="fan-in"`` rescales the kept
        weights to each unit's sparse fan-in (:func:`sparse_fan_in_init_`); "dense" keeps the init."""
        if self.sparse_init == "fan-in":
            for fqn in self.fqns:
                sparse_fan_in_init_(self.weight(fqn), self.mask(fqn))

    # --- hooks and recipe (no-ops by default) ---------------------------------------------------
    def on_train_begin(self, trainer) -> None:
        """Called once before training (pruning at initialisation draws its masks here)."""

    def after_backward(self, step: int) -> None:
        """Called with dense gradients in ``.grad``, before they are masked (RigL grows here)."""

    def after_step(self, step: int) -> None:
        """Called after the optimizer step (schedules prune here, through ``set_masks``)."""

    def regularizer(self) -> torch.Tensor | None:
        """An extra loss term (group lasso), or None."""
        return None

    def total_epochs(self, epochs: int, finetune_epochs: int) -> int:
        """Epochs this method's recipe trains in all (for the progress bar)."""
        return epochs

    def run(self, trainer) -> None:
        """The method's recipe; default: masks at initialisation, then train ``epochs``."""
        self.on_train_begin(trainer)
        trainer.train(trainer.config.epochs, phase="train")

    # --- summaries -------------------------------------------------------------------------------
    def densities(self) -> dict[str, float]:
        return {f: float(m.float().mean()) for f, m in self.masks().items()}

    def sparsity(self) -> float:
        """Fraction of pruned weights over all masked tensors."""
        total = sum(m.numel() for m in self.masks().values())
        kept = sum(int(m.sum()) for m in self.masks().values())
        return 1.0 - kept / max(total, 1)


def mask_counts(masks: Iterable[torch.Tensor]) -> tuple[int, int]:
    """(kept, total) over ``masks``."""
    kept = total = 0
    for m in masks:
        kept += int(m.sum())
        total += m.numel()
    return kept, total
