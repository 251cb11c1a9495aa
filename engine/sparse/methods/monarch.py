"""Monarch matrices (Dao et al., ICML 2022, "Monarch: Expressive Structured Matrices for Efficient and
Accurate Training"): each hidden Linear layer of the MLP becomes ``M = P L Pᵀ R``, two block-diagonal
factors with a fixed permutation between them (Def. 3.1), trained end to end, or obtained from a
trained dense layer by the paper's closed-form projection (Algorithm 1) and then fine-tuned.

* The layer (:class:`MonarchLinear`), for ``n_in = b·p`` inputs and ``n_out = b·s`` outputs with
  ``b`` blocks: ``R`` is block-diagonal with ``b`` blocks of ``q×p``, then the permutation ``Pᵀ``
  (reshape the ``b·q`` vector to ``q×b``, transpose, flatten), then ``L`` block-diagonal with ``b``
  blocks of ``s×q``, then ``P`` (reshape ``b×s``, transpose, flatten). For a square ``n×n`` layer
  ``q = p = s = n/b`` and the layer has ``2n²/b`` parameters (``2n√n`` at ``b = √n``, Sec. 3.1); for
  a rectangular one ``q = p`` when ``n_in ≤ n_out``, else ``q = s`` (the layout of the authors' code,
  ``MonarchLinear`` in HazyResearch/fly). The forward pass multiplies the blocks with two batched
  matmuls (``torch.bmm``), as the paper's algorithm does.
* Projection (Algorithm 1, Sec. 3.3, generalised to rectangular layers): the entries of a dense
  ``W`` split into ``b²`` disjoint slices ``W[(·, l), (k, ·)]`` (output ``i·b + l``, input ``k·p + j``),
  and each slice is a sum of outer products of columns of ``L``'s block ``l`` and rows of ``R``'s
  block ``k`` that no other slice uses; so the closest Monarch matrix in Frobenius norm is found
  slice by slice with a truncated SVD (rank 1 per slice in the square case, as in the paper). A
  Monarch matrix projects onto itself exactly.

How this fits the mask contract (``engine.sparse.masks``): Monarch changes the layer, not a mask.
The two factors are stored as ordinary weight matrices (``layers.i.R``: ``b·q × n_in``,
``layers.i.L``: ``b·s × b·q``) whose fixed masks are their block diagonals, so the protocol
(state dict, squash, pruned-stay-zero, the live mask pictures) applies as for any masked weight, and
the forward pass reads only the diagonal blocks. ``sparsity`` therefore counts the zeros of the
stored factors, ``1 − 1/b`` in every factor; the classifier head stays a dense Linear and is not a
masked tensor (its class count rarely divides by ``b``). What a Monarch layer costs against the
dense layer it replaces (``2/b`` of its parameters for a square layer) is ``result["monarch"]``.
Storing the factors densely is this lab's simplification (the paper stores only the blocks).
"""
from __future__ import annotations

from typing import Literal

from engine.config import require
from engine.errors import ConfigError
from engine.sparse._lazy import torch
from engine.sparse.masks import MaskSparsifier
from engine.sparse.monarch_shapes import monarch_dims, monarch_params  # noqa: F401  (re-exported)


class MonarchSparsifier(MaskSparsifier):
    """Every hidden Linear of the MLP becomes a Monarch layer (``b`` blocks); the head stays dense.

    Conformance (``tests/engine/sparse/test_conformance.py``): determinism, the state-dict round trip,
    squash, the asked sparsity (``1 − 1/b`` of each factor's entries, per factor) and pruned-stay-zero
    all apply to the factors' block-diagonal masks; the head is not a masked tensor, so it is not in
    the ledger. Its defining property, ``monarch_structure``: each layer is ``P L Pᵀ R`` with
    block-diagonal factors and the paper's parameter count, the masks never change, and projecting
    the trained layer's matrix onto the Monarch class gives it back exactly.
    """

    name = "monarch"
    title = "Monarch matrices: two block-diagonal factors and a permutation per layer (Dao et al. 2022)"
    paper = ("Dao et al. 2022, Monarch: Expressive Structured Matrices for Efficient and Accurate Training (ICML); "
             "Def. 3.1, Algorithm 1")
    family = "structured"
    counts = "weights"
    per_layer_targets = True  # every factor keeps exactly 1/b of its entries (its diagonal blocks)
    defining_property = "monarch_structure"

    def __init__(self, *,
                 nblocks: int = 4,  # b: diagonal blocks per factor; a square n×n layer keeps 2n²/b weights (b = √n: 2n√n, Sec. 3.1)
                 start: Literal["scratch", "project"] = "scratch",  # scratch: train the Monarch MLP end to end; project: train dense, project each layer onto Monarch (Algorithm 1), fine-tune
                 ) -> None:
        super().__init__()
        self.nblocks, self.start = nblocks, start
        self.dense_shapes: dict[str, tuple[int, int]] = {}

    # --- metadata ----------------------------------------------------------------------------------
    @classmethod
    def requested(cls, sparsity: float, params: dict) -> float:
        """Zeros of each stored factor: ``1 − 1/b``.

        >>> MonarchSparsifier.requested(0.9, {"nblocks": 4})
        0.75
        """
        return 1.0 - 1.0 / int(params.get("nblocks", 4))

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["nblocks"] >= 2, f"Monarch: the block count b must be at least 2 (got {p['nblocks']}); "
                                   "b = 1 is a dense product of two matrices.")

    @classmethod
    def check_shapes(cls, shapes: dict, params: dict) -> None:
        """Every hidden layer's input and output width must be a multiple of ``b`` (the head stays dense)."""
        if any(len(s) != 2 for s in shapes.values()):
            raise ConfigError("Monarch replaces the Linear layers of the MLP; choose the MLP model, not the CNN.")
        for fqn, (n_out, n_in) in list(shapes.items())[:-1]:
            monarch_dims(n_in, n_out, int(params["nblocks"]))

    @classmethod
    def total_epochs_for(cls, epochs: int, finetune_epochs: int, params: dict) -> int:
        return epochs + (finetune_epochs if params.get("start") == "project" else 0)

    # --- the protocol ------------------------------------------------------------------------------
    def prepare(self, model, config=None) -> None:
        """Replace every hidden Linear of ``model.layers`` by a :class:`MonarchLinear`; mask its factors."""
        from engine.sparse.models import MLP
        from engine.sparse.monarch import MonarchLinear, block_diag_mask

        if config is not None:
            raise ConfigError("monarch: prepare() chooses its own tensors (each hidden layer's factors R and L).")
        if not isinstance(model, MLP):
            raise ConfigError("Monarch replaces the Linear layers of the MLP; choose the MLP model, not the CNN.")
        shapes = {f"layers.{i}.weight": tuple(layer.weight.shape) for i, layer in enumerate(model.layers)}
        type(self).check_shapes(shapes, self.params())
        self.dense_shapes = dict(list(shapes.items())[:-1])
        entries = []
        for i in range(len(model.layers) - 1):
            dense = model.layers[i]
            model.layers[i] = MonarchLinear(dense.in_features, dense.out_features, self.nblocks)
            entries += [{"tensor_fqn": f"layers.{i}.R"}, {"tensor_fqn": f"layers.{i}.L"}]
        super().prepare(model, entries)
        for g in self.groups:
            w = self.weight(g["tensor_fqn"])
            self.state[g["tensor_fqn"]]["mask"] = block_diag_mask(w.shape[0], w.shape[1], self.nblocks)
        self._refresh()
        self.apply_masks()
        self.extra_result["monarch"] = self.accounting()

    def check_model(self, model) -> None:
        type(self).check_shapes({**self.dense_shapes, "head": (1, 1)}, self.params())

    def layers(self) -> dict:
        """The Monarch layers by module name."""
        from engine.sparse.monarch import MonarchLinear

        return {f"layers.{i}": m for i, m in enumerate(self.model.layers) if isinstance(m, MonarchLinear)}

    def accounting(self) -> dict:
        """Parameters of each Monarch layer against the dense layer it replaces, and of the whole model."""
        rows = []
        for name, m in self.layers().items():
            dense = m.in_features * m.out_features
            rows.append({"name": name, "shape": [m.out_features, m.in_features], "params": m.n_params(),
                         "dense_params": dense, "param_density": round(m.n_params() / dense, 6)})
        head = self.model.layers[-1].weight.numel()
        total = sum(r["params"] for r in rows) + head
        dense_total = sum(r["dense_params"] for r in rows) + head
        return {"nblocks": self.nblocks, "start": self.start, "layers": rows, "head_params": head,
                "weights": total, "dense_weights": dense_total, "weight_density": round(total / dense_total, 6)}

    def run(self, trainer) -> None:
        if self.start == "scratch":
            trainer.train(trainer.config.epochs, phase="train (Monarch, end to end)")
            return
        if not self._train_dense_then_project(trainer):
            return
        trainer.train(trainer.config.finetune_epochs, phase="fine-tune (Monarch)")

    def _train_dense_then_project(self, trainer) -> bool:
        """Train a dense MLP of the same widths (same seed), project its layers (Algorithm 1), copy the head."""
        from engine.sparse.methods.magnitude import DenseBaseline
        from engine.sparse.models import MLP
        from engine.sparse.monarch import MonarchLinear

        c = trainer.config
        torch.manual_seed(c.seed)
        dense = MLP(self.model.layers[0].in_features, tuple(c.hidden), self.model.layers[-1].out_features)
        baseline = DenseBaseline()
        baseline.prepare(dense, [])
        pre = type(trainer)(dense, baseline, trainer.data, c, trainer.reporter)
        pre.total_steps = trainer.total_steps
        ok = pre.train(c.epochs, phase="train (dense, to be projected)")
        trainer.step, trainer.phase = pre.step, pre.phase
        if not ok:
            trainer.stopped = True
            return False
        errors = {}
        with torch.no_grad():
            for i, m in enumerate(self.model.layers):
                src = dense.layers[i]
                if isinstance(m, MonarchLinear):
                    errors[f"layers.{i}"] = round(m.load_projection(src.weight), 6)
                else:
                    m.weight.copy_(src.weight)
                m.bias.copy_(src.bias)
        self.apply_masks()
        self.version += 1  # the factors' values changed wholesale: snapshot them
        trainer.reset_optimizer()
        from engine.sparse.monarch import split_accuracy

        self.extra_result["monarch"]["projection_error"] = errors
        self.extra_result["monarch"]["dense_test_accuracy"] = split_accuracy(dense, trainer.data)
        self.extra_result["monarch"]["projected_test_accuracy"] = split_accuracy(self.model, trainer.data)
        trainer.reporter.log("Projected each hidden layer onto the Monarch class (Algorithm 1): relative error "
                             + ", ".join(f"{k} {v:.3f}" for k, v in errors.items()) + ".")
        return True
