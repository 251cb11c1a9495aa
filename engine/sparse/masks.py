"""Masks and the base sparsifier every method here derives from, with the protocol it keeps.

The protocol (this project's own; it does **not** inherit ``torch.ao.pruning.BaseSparsifier``,
whose contract — masks as ``FakeSparsity`` parametrizations, per-layer ``sparsity_level`` in the
config list, ``update_mask`` per layer — these methods do not follow):

* ``prepare(model, config=None)`` attaches the sparsifier to the weights named by tensor path
  (``[{"tensor_fqn": "layers.0.weight"}, ...]``; default: every Linear / Conv2d weight). Entries
  carry only ``tensor_fqn``: the per-layer sparsity comes from the method (its ``layer_targets``),
  and any other key is refused with a ConfigError.
* ``step()`` recomputes the masks by the method's criterion (one-shot methods prune here).
* ``masks()`` / ``mask(fqn)``: boolean masks by fqn; ``sparsity()``, ``densities()``.
* ``state_dict()`` -> ``{"masks": {fqn: bool tensor}, "version": int}``; ``load_state_dict(sd)``
  installs those masks on a prepared sparsifier (and zeroes the weights they prune), so
  ``load_state_dict(state_dict())`` round-trips (tests/engine/sparse/test_conformance.py).
* ``squash_mask()`` bakes the masks into the weights, removes any parametrization and detaches.
* ``run(trainer)`` is the method's recipe (when to train, prune, rewind), using the training-loop
  hooks ``on_train_begin``, ``after_backward(step)``, ``after_step(step)`` and ``regularizer()``.

Class attributes carry each method's metadata (``name``, ``title``, ``paper``, ``family``,
``counts``, ``per_layer_targets``, …) and its keyword-only constructor is its parameter schema
(``engine.sparse.schema``). This module and the method modules import torch lazily
(``engine.sparse._lazy``) so the app can read the classes without loading torch.

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

from engine.errors import ConfigError
from engine.sparse import schema
from engine.sparse._lazy import parametrize, torch

FAMILIES = ("dense", "pruning", "pruning at init", "dynamic sparse training", "N:M", "structured", "soup")
FAMILIES += ("post-training",)  # trained dense, pruned once from calibration data, no retraining
FAMILIES += ("iso-FLOP",)  # Sparse-IFT: a wider sparse network at the dense network's FLOPs


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
    with torch.no_grad():
        w2, m2 = as_2d(weight), as_2d(mask)
        kept = m2.sum(1).clamp(min=1).to(weight.dtype)  # (out,)
        w2.mul_((m2.shape[1] / kept).sqrt().unsqueeze(1))


def as_2d(mask: torch.Tensor) -> torch.Tensor:
    """A weight-shaped tensor as (out, in·k·k): the layout masks are drawn and N:M groups are formed in."""
    return mask.reshape(mask.shape[0], -1)


class MaskSparsifier:
    """Base sparsifier: boolean masks in ``state[fqn]["mask"]``, enforced in place (see module doc).

    Subclasses set the metadata below, take their settings as keyword-only constructor arguments
    (``engine.sparse.schema``), override ``step`` (their criterion) and ``run`` (their recipe), and
    may use the hooks ``on_train_begin(trainer)``, ``after_backward(step)``, ``after_step(step)``.
    """

    name = "base"  # CLI / UI name
    title = ""  # one line for menus: what it does, with the paper
    paper = ""  # full reference
    family = ""  # one of FAMILIES
    counts = "weights"  # what `sparsity` counts: "weights" or "units" (structured pruning)
    per_layer_targets = False  # True: the method sets each layer's sparsity (else only the total is defined)
    finetunes = False  # True: `finetune_epochs` are trained after the last pruning
    masks_at_init = False  # True: masks are drawn before training (sparse_init applies)
    enforces_masks = True  # False while training for N:M methods (dense weights, mask in the forward)
    defining_property = ""  # name of the check in tests/engine/sparse/test_conformance.py
    legacy = {}  # old flat SparseConfig field -> this method's parameter (reading old stored runs)
    legacy_fixed = {}  # settings that reproduce what an old stored run of this method did

    def __init__(self) -> None:
        self.version = 0  # bumped whenever a mask changes (the loop snapshots masks then)
        self.optimizer = None  # set by the trainer: moments of flipped weights are reset through it
        self.seed = 0  # the run's seed (set by make_sparsifier)
        self.groups: list[dict] = []
        self.state: dict[str, dict] = {}
        self.enable_mask_update = True
        self.extra_result: dict = {}
        self._weights: list = []
        self._masks_f: list = []

    # --- metadata derived from the class (torch-free) --------------------------------------------
    @classmethod
    def axis(cls) -> str:
        """The axis a sweep plots this method on: "weight sparsity" or "units removed"."""
        return "units removed" if cls.counts == "units" else "weight sparsity"

    @classmethod
    def requested(cls, sparsity: float, params: dict) -> float:
        """The value the method aims at on its axis (N:M: 1 − N/M; dense: 0)."""
        return float(sparsity) if schema.uses_sparsity(cls) else 0.0

    @classmethod
    def has_layer_targets(cls, params: dict) -> bool:
        """Whether each layer has its own target under ``params`` (scoped methods: only layer-wise)."""
        return cls.per_layer_targets

    @classmethod
    def layer_targets(cls, shapes: dict[str, tuple[int, ...]], sparsity: float, params: dict) -> dict | None:
        """Per-layer target on the method's axis (fraction pruned), or None where only the total is defined."""
        if not cls.has_layer_targets(params):
            return None
        return {k: cls.requested(sparsity, params) for k in shapes}

    @classmethod
    def upgrade(cls, params: dict) -> dict:
        """Translate old stored values of this method's parameters (read from old flat configs)."""
        return params

    @classmethod
    def check_params(cls, params: dict) -> None:
        """Raise ConfigError for impossible settings (called with the complete, typed params)."""

    @classmethod
    def check_shapes(cls, shapes: dict[str, tuple[int, ...]], params: dict) -> None:
        """Raise ConfigError when the model's layers cannot take this method (e.g. N:M sizes). Torch-free."""

    @classmethod
    def total_epochs_for(cls, epochs: int, finetune_epochs: int, params: dict) -> int:
        """Epochs the recipe trains in all (the progress bar's length)."""
        return epochs + (finetune_epochs if cls.finetunes else 0)

    def total_epochs(self, epochs: int, finetune_epochs: int) -> int:
        return type(self).total_epochs_for(epochs, finetune_epochs, self.params())

    def params(self) -> dict:
        """This instance's settings, by the schema's names."""
        return {p.name: getattr(self, p.name) for p in schema.params_of(type(self))}

    # --- the protocol ----------------------------------------------------------------------------
    def prepare(self, model, config: list[dict[str, Any]] | None = None) -> None:
        """Attach to ``model``'s weights named in ``config`` (default: every prunable weight), all kept."""
        if config is None:
            from engine.sparse.models import prunable

            config = [{"tensor_fqn": fqn} for fqn in prunable(model)]
        self.model = model
        self.groups, self.state = [], {}
        for entry in config:
            extra = set(entry) - {"tensor_fqn"}
            if extra:
                raise ConfigError(f"{self.name}: prepare() takes only 'tensor_fqn' per layer, not {', '.join(sorted(extra))}; "
                                  "per-layer sparsity comes from the method's own layer targets.")
            fqn = entry["tensor_fqn"]
            module_name, _, tensor_name = fqn.rpartition(".")
            module = model.get_submodule(module_name) if module_name else model
            self.groups.append({"tensor_fqn": fqn, "module": module, "tensor_name": tensor_name})
            self.state[fqn] = {"mask": torch.ones_like(getattr(module, tensor_name), dtype=torch.bool)}
        self._refresh()

    def _refresh(self) -> None:
        self._weights = [self.weight(g["tensor_fqn"]) for g in self.groups]
        self._masks_f = [self.state[g["tensor_fqn"]]["mask"].to(w.dtype) for g, w in zip(self.groups, self._weights)]

    def weight(self, fqn: str):
        """The raw weight tensor at ``fqn`` (the original one under a parametrization)."""
        g = next(g for g in self.groups if g["tensor_fqn"] == fqn)
        module, name = g["module"], g["tensor_name"]
        if parametrize.is_parametrized(module, name):
            return module.parametrizations[name].original
        return getattr(module, name)

    @property
    def fqns(self) -> list[str]:
        return [g["tensor_fqn"] for g in self.groups]

    def mask(self, fqn: str):
        return self.state[fqn]["mask"]

    def masks(self) -> dict:
        return {f: self.state[f]["mask"] for f in self.fqns}

    def set_masks(self, masks: dict) -> None:
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

    def _reset_moments(self, changed: dict) -> None:
        if self.optimizer is None:
            return
        for fqn, flip in changed.items():
            state = self.optimizer.state.get(self.weight(fqn), {})
            for key in ("momentum_buffer", "exp_avg", "exp_avg_sq"):
                buf = state.get(key)
                if isinstance(buf, torch.Tensor) and buf.shape == flip.shape:
                    buf.masked_fill_(flip, 0.0)

    def step(self) -> None:
        """Recompute the masks by the method's criterion (no-op for methods without one)."""

    def state_dict(self) -> dict:
        """``{"masks": {fqn: bool tensor (a copy)}, "version": int}``."""
        return {"masks": {f: m.clone() for f, m in self.masks().items()}, "version": self.version}

    def load_state_dict(self, state: dict) -> None:
        """Install the masks of :meth:`state_dict` on this prepared sparsifier (same fqns and shapes)."""
        masks = state.get("masks", {})
        if set(masks) != set(self.fqns):
            raise ConfigError(f"The saved masks are for {', '.join(sorted(masks))}, not this model's "
                              f"{', '.join(self.fqns)}.")
        self.set_masks(masks)
        self.version = max(self.version, int(state.get("version", 0)))

    def squash_mask(self) -> None:
        """Bake the masks into the weights and detach from the model (weights stay zero where pruned)."""
        self.apply_masks()
        for g in self.groups:
            module, name = g["module"], g["tensor_name"]
            if parametrize.is_parametrized(module, name):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
        self.state.clear()
        self.groups = []
        self._weights, self._masks_f = [], []

    # --- in-place enforcement (called by the training loop) -------------------------------------
    def apply_masks(self) -> None:
        if self._weights:
            with torch.no_grad():
                torch._foreach_mul_(self._weights, self._masks_f)

    def mask_grads(self) -> None:
        grads = [w.grad for w in self._weights]
        if grads and all(g is not None for g in grads):
            with torch.no_grad():
                torch._foreach_mul_(grads, self._masks_f)

    def init_for_masks(self) -> None:
        """After masks are drawn at initialisation: ``sparse_init="fan-in"`` rescales the kept
        weights to each unit's sparse fan-in (:func:`sparse_fan_in_init_`); "dense" keeps the init."""
        if getattr(self, "sparse_init", "dense") == "fan-in":
            for fqn in self.fqns:
                sparse_fan_in_init_(self.weight(fqn), self.mask(fqn))

    # --- hooks and recipe (no-ops by default) ---------------------------------------------------
    def check_model(self, model) -> None:
        """ConfigError before training when the built model cannot take the method."""
        type(self).check_shapes({f: tuple(self.weight(f).shape) for f in self.fqns}, self.params())

    def on_train_begin(self, trainer) -> None:
        """Called once before training (pruning at initialisation draws its masks here)."""

    def after_backward(self, step: int) -> None:
        """Called with dense gradients in ``.grad``, before they are masked (RigL grows here)."""

    def after_step(self, step: int) -> None:
        """Called after the optimizer step (schedules prune here, through ``set_masks``)."""

    def regularizer(self):
        """An extra loss term (group lasso), or None."""
        return None

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
