"""A two-layer GCN in plain torch, and the graph-lottery procedures that sparsify it.

GCN (Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR
2017, Eq. 9): ``Z = softmax(Â · ReLU(Â X W⁽⁰⁾) W⁽¹⁾)`` with ``Â = D̃^{-1/2}(A + I)D̃^{-1/2}``,
row-normalised bag-of-words features X, and the paper's settings (§5.3): 16 hidden units, dropout
0.5 on the input of both layers (sparse dropout on X), Adam with lr 0.01, L2 weight decay 5·10⁻⁴
on the first layer only, Glorot initialisation, no bias, at most 200 epochs and early stopping
with a window of 10 (stop when the validation loss exceeds the mean of the previous 10). The test
accuracy is that of the model when training stops, as in the authors' code. Â is applied with
``index_add_`` over the edge list (a sparse product that also differentiates w.r.t. edge
weights, which UGS needs); no PyTorch Geometric.

Procedures (each returns a :class:`Ticket`):

- :func:`train_dense` — the GCN on the full graph;
- :func:`train_teddy` — TEDDY (Seo et al., ICLR 2024): train the dense GCN once (the teacher),
  keep the edges with the highest degree score (:func:`engine.graphs.sparsify.teddy_edges`), then
  one training of a fresh GCN on the kept graph with projected gradient descent on the ℓ0 ball
  (after every Adam step keep exactly k weights, :func:`engine.graphs.sparsify.l0_project`) and
  the distillation loss ``λ · KL(p_teacher ‖ p_student)`` over all nodes (§4.2–4.3);
- :func:`train_ugs` — UGS (Chen, Sui, Chen, Zhang & Wang, "A Unified Lottery Ticket Hypothesis
  for Graph Neural Networks", ICML 2021, Algorithm 1): differentiable masks on the normalised
  adjacency entries (one per undirected edge) and on the weights, trained with the loss plus
  ``γ₁‖m_g‖₁ + γ₂‖m_θ‖₁`` (γ₁ = 1e-6, γ₂ = 1e-5, the values of the TEDDY authors' UGS baseline command; the 1e-2 of the UGS commands drove every mask of this 16-unit GCN to zero); after each 200-epoch round the ``p_g`` (5 %) of remaining edges and
  ``p_θ`` (20 %) of remaining weights with the smallest mask magnitude are pruned and the weights
  rewound to their initial values; the last round stops exactly at the target sparsities, and the
  ticket is retrained with its binary masks;
- :func:`train_oneshot` — ``random`` (random edges, random fixed weight mask) and ``freedom``
  (FREEDOM's degree-sensitive sample, ℓ0 PGD for the weights).

>>> from engine.graphs.gnn_data import load_node_data
>>> d = load_node_data("generator:csbm?blocks=2&size=40&p_in=0.1&p_out=0.01&features=30&signal=0.2")
>>> t = train_dense(d, seed=0, settings=GCNSettings(epochs=60))
>>> t.test_accuracy > 0.8, t.graph_sparsity, t.weight_sparsity
(True, 0.0, 0.0)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp

from engine.graphs import sparsify as spf
from engine.graphs.gnn_data import NodeData


@dataclass(frozen=True)
class GCNSettings:
    hidden: int = 16  # Kipf & Welling §5.3
    dropout: float = 0.5
    lr: float = 0.01
    weight_decay: float = 5e-4  # on the first layer only, as in the authors' code
    epochs: int = 200
    patience: int = 10  # early-stopping window on the validation loss; 0 = train all epochs


@dataclass
class Ticket:
    """What a procedure found and how well it does."""

    method: str
    kept: np.ndarray  # indices of the kept undirected edges
    n_edges: int
    weight_nonzero: int
    weight_total: int
    test_accuracy: float  # model when training stops (Kipf's protocol)
    test_accuracy_best_val: float  # epoch with the best validation accuracy (TEDDY/UGS protocol)
    val_accuracy: float
    epochs: int
    seconds: float
    edge_scores: np.ndarray | None = None  # the score each edge was ranked by (None: random)
    history: list[dict] = field(default_factory=list)
    rounds: list[dict] = field(default_factory=list)  # UGS: one row per pruning round
    stopped: bool = False

    @property
    def graph_sparsity(self) -> float:
        return 1.0 - len(self.kept) / self.n_edges if self.n_edges else 0.0

    @property
    def weight_sparsity(self) -> float:
        return 1.0 - self.weight_nonzero / self.weight_total


# ---------------------------------------------------------------- tensors and the model


class _CSRProduct:
    """``M @ h`` for a fixed sparse M (CSR), with the backward ``Mᵀ @ g`` also in CSR (fast on CPU)."""

    _fn = None

    @classmethod
    def apply(cls, M, Mt, h):
        import torch

        if cls._fn is None:
            class _F(torch.autograd.Function):
                @staticmethod
                def forward(ctx, M, Mt, h):
                    ctx.Mt = Mt
                    return M @ h

                @staticmethod
                def backward(ctx, g):
                    return None, None, ctx.Mt @ g

            cls._fn = _F
        return cls._fn.apply(M, Mt, h)


def _csr_parts(M: sp.csr_matrix):
    """(crow, col, values) tensors of M and the permutation that gives Mᵀ's values from M's."""
    import torch

    M = sp.csr_matrix(M)
    M.sort_indices()
    idx = sp.csr_matrix((np.arange(1, M.nnz + 1, dtype=np.float64), M.indices, M.indptr), shape=M.shape)
    T = idx.T.tocsr()
    T.sort_indices()
    perm = torch.as_tensor(T.data.astype(np.int64) - 1)
    t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64))
    return (t(M.indptr), t(M.indices), torch.as_tensor(M.data.astype(np.float32)), M.shape,
            t(T.indptr), t(T.indices), perm)


class _Graph:
    """Torch tensors of one labelled graph: sparse row-normalised features, labels, split."""

    def __init__(self, data: NodeData) -> None:
        import torch

        if data.features is None:
            raise ValueError("a GCN needs node features")
        X = sp.csr_matrix(data.features.astype(np.float32))
        s = np.asarray(X.sum(axis=1)).ravel()
        X = sp.diags(np.divide(1.0, s, out=np.zeros_like(s), where=s > 0)) @ X  # row-normalised (authors' code)
        (self.x_crow, self.x_col, self.x_value, self.x_shape,
         self.xt_crow, self.xt_col, self.xt_perm) = _csr_parts(X)
        self.n = data.n_nodes
        self.y = torch.as_tensor(np.maximum(data.labels, 0), dtype=torch.long)
        self.train, self.val, self.test = (torch.as_tensor(a, dtype=torch.long) for a in (data.train, data.val, data.test))
        self.n_classes = data.n_classes

    def features_times(self, W, p: float, training: bool):
        """``X W`` with dropout on the non-zeros of X when training (the authors' sparse dropout)."""
        import torch

        v = self.x_value
        if training and p > 0:
            v = v * (torch.rand(v.shape[0]) >= p) / (1.0 - p)
        X = torch.sparse_csr_tensor(self.x_crow, self.x_col, v, self.x_shape)
        Xt = torch.sparse_csr_tensor(self.xt_crow, self.xt_col, v[self.xt_perm], self.x_shape[::-1])
        return _CSRProduct.apply(X, Xt, W)


class FixedAdjacency:
    """Â of a fixed graph as a symmetric CSR matrix (so its own transpose in the backward)."""

    def __init__(self, row, col, values, n: int) -> None:
        import torch

        A = sp.csr_matrix((values.numpy().astype(np.float64), (row.numpy(), col.numpy())), shape=(n, n))
        A.sort_indices()
        self.A = torch.sparse_csr_tensor(torch.as_tensor(A.indptr.astype(np.int64)),
                                         torch.as_tensor(A.indices.astype(np.int64)),
                                         torch.as_tensor(A.data.astype(np.float32)), (n, n))
        self.nnz = A.nnz

    def __call__(self, h):
        return _CSRProduct.apply(self.A, self.A, h)


def adjacency_entries(edges: np.ndarray, n: int):
    """Directed entries of A + I: (row, col, edge id) tensors; self loops carry edge id -1."""
    import torch

    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    ids = np.arange(len(e))
    loops = np.arange(n)
    row = np.concatenate([e[:, 0], e[:, 1], loops])
    col = np.concatenate([e[:, 1], e[:, 0], loops])
    eid = np.concatenate([ids, ids, -np.ones(n, dtype=np.int64)])
    return torch.as_tensor(row), torch.as_tensor(col), torch.as_tensor(eid)


def normalised_values(row, col, n: int, weight=None):
    """Values of ``D̃^{-1/2}(A + I)D̃^{-1/2}`` at the entries (``weight``: per-entry A values)."""
    import torch

    w = torch.ones(row.shape[0]) if weight is None else weight
    deg = torch.zeros(n).index_add_(0, row, w)
    inv_sqrt = deg.clamp_min(1e-12).pow(-0.5)
    return inv_sqrt[row] * w * inv_sqrt[col]


def propagate(h, row, col, values):
    """``Â h`` for Â given by its entries: ``out[i] = Σ_j Â_ij h[j]``."""
    import torch

    return torch.zeros_like(h).index_add_(0, row, values.unsqueeze(1) * h[col])


def _glorot(fan_in: int, fan_out: int, gen):
    import torch

    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * bound


class GCN:
    """Two-layer GCN, weights ``W0`` (f × h) and ``W1`` (h × c); optional fixed masks."""

    def __init__(self, n_features: int, n_classes: int, hidden: int, dropout: float, seed: int) -> None:
        import torch

        gen = torch.Generator().manual_seed(seed)
        self.W0 = torch.nn.Parameter(_glorot(n_features, hidden, gen))
        self.W1 = torch.nn.Parameter(_glorot(hidden, n_classes, gen))
        self.dropout = dropout
        self.masks: list | None = None  # fixed 0/1 masks (random pruning, UGS tickets)
        self.train_masks: list | None = None  # differentiable masks (UGS)

    @property
    def weights(self):
        return [self.W0, self.W1]

    def effective(self):
        ws = self.weights
        if self.train_masks is not None:
            ws = [w * m for w, m in zip(ws, self.train_masks)]
        if self.masks is not None:
            ws = [w * m for w, m in zip(ws, self.masks)]
        return ws

    def forward(self, g: _Graph, adj: tuple, training: bool):
        import torch
        import torch.nn.functional as F

        W0, W1 = self.effective()
        prop = adj if callable(adj) else (lambda h: propagate(h, *adj))
        h = g.features_times(W0, self.dropout, training)  # (n, hidden)
        h = F.relu(prop(h))
        h = F.dropout(h, self.dropout, training)
        return prop(h @ W1)  # (n, classes) logits

    def state(self):
        return [w.detach().clone() for w in self.weights]

    def load(self, state) -> None:
        import torch

        with torch.no_grad():
            for w, s in zip(self.weights, state):
                w.copy_(s)


# ---------------------------------------------------------------- one training


@dataclass
class _Outcome:
    test_accuracy: float
    test_accuracy_best_val: float
    val_accuracy: float
    epochs: int
    teacher_logits: object
    history: list[dict]
    stopped: bool


def _train(g: _Graph, model: GCN, adj_fn: Callable, settings: GCNSettings, *, seed: int,
           l0_k: int | None = None, teacher=None, distill: float = 0.0, l1_masks: tuple | None = None,
           early_stopping: bool = True, on_epoch: Callable | None = None,
           should_stop: Callable | None = None, base_step: int = 0) -> _Outcome:
    """One training run. ``adj_fn()`` gives Â each step: a callable ``h -> Â h`` or (row, col, values)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    groups = [{"params": [model.W0], "weight_decay": settings.weight_decay}, {"params": [model.W1], "weight_decay": 0.0}]
    extra = []
    if l1_masks is not None:
        extra = [p for p in l1_masks[0] if p.requires_grad]
        groups.append({"params": extra, "weight_decay": 0.0})
    opt = torch.optim.Adam(groups, lr=settings.lr)
    val_losses: list[float] = []
    best_val, best_test, best_logits = -1.0, 0.0, None
    history = []
    stopped = False
    epoch = 0
    for epoch in range(1, settings.epochs + 1):
        if should_stop is not None and should_stop():
            stopped = True
            break
        opt.zero_grad()
        logits = model.forward(g, adj_fn(), training=True)
        loss = F.cross_entropy(logits[g.train], g.y[g.train])
        if teacher is not None and distill > 0:
            loss = loss + distill * F.kl_div(F.log_softmax(logits, 1), F.softmax(teacher, 1), reduction="batchmean")
        if l1_masks is not None:
            params, gammas = l1_masks
            loss = loss + sum(gm * p.abs().sum() for p, gm in zip(params, gammas))
        loss.backward()
        opt.step()
        if l0_k is not None:
            spf.l0_project(model.weights, l0_k)
        with torch.no_grad():
            out = model.forward(g, adj_fn(), training=False)
            val_loss = float(F.cross_entropy(out[g.val], g.y[g.val])) if len(g.val) else float(loss)
            pred = out.argmax(1)
            val_acc = float((pred[g.val] == g.y[g.val]).float().mean()) if len(g.val) else float("nan")
            test_acc = float((pred[g.test] == g.y[g.test]).float().mean()) if len(g.test) else float("nan")
        if val_acc >= best_val:  # ties: the later (sparser-trained) epoch, as in TEDDY's code
            best_val, best_test, best_logits = val_acc, test_acc, out.detach()
        row = {"epoch": epoch, "train_loss": float(loss.detach()), "val_loss": val_loss, "val_accuracy": val_acc,
               "test_accuracy": test_acc}
        history.append(row)
        if on_epoch is not None:
            on_epoch(base_step + epoch, row)
        val_losses.append(val_loss)
        w = settings.patience
        if early_stopping and w and epoch > w and val_losses[-1] > float(np.mean(val_losses[-(w + 1):-1])):
            break
    last = history[-1] if history else {"test_accuracy": float("nan"), "val_accuracy": float("nan")}
    return _Outcome(last["test_accuracy"], best_test, last["val_accuracy"], len(history), best_logits, history, stopped)


def _nonzero(model: GCN) -> tuple[int, int]:
    ws = model.effective()
    return int(sum(int((w != 0).sum()) for w in ws)), int(sum(w.numel() for w in ws))


def _fixed_adj(data: NodeData, kept: np.ndarray):
    row, col, _ = adjacency_entries(data.edges[kept], data.n_nodes)
    A = FixedAdjacency(row, col, normalised_values(row, col, data.n_nodes), data.n_nodes)
    return lambda: A


def _ticket(method, kept, data, model, out: _Outcome, t0, scores=None, rounds=None) -> Ticket:
    nz, total = _nonzero(model)
    return Ticket(method, np.asarray(kept), data.n_edges, nz, total, out.test_accuracy, out.test_accuracy_best_val,
                  out.val_accuracy, out.epochs, time.perf_counter() - t0, scores, out.history, rounds or [],
                  out.stopped)


def weight_keep(total: int, weight_sparsity: float) -> int:
    """Weights kept at ``weight_sparsity``: ``round(total (1 - s))``."""
    return int(round(total * (1.0 - weight_sparsity)))


def train_dense(data: NodeData, *, seed: int = 0, settings: GCNSettings = GCNSettings(), on_epoch=None,
                should_stop=None) -> Ticket:
    """The GCN on the full graph (Kipf & Welling's setting)."""
    t0 = time.perf_counter()
    g = _Graph(data)
    model = GCN(g.x_shape[1], g.n_classes, settings.hidden, settings.dropout, seed)
    kept = np.arange(data.n_edges)
    out = _train(g, model, _fixed_adj(data, kept), settings, seed=seed, on_epoch=on_epoch, should_stop=should_stop)
    t = _ticket("dense", kept, data, model, out, t0)
    t._teacher = out.teacher_logits  # type: ignore[attr-defined]
    return t


def train_teddy(data: NodeData, graph_sparsity: float, weight_sparsity: float, *, seed: int = 0,
                settings: GCNSettings = GCNSettings(), distill: float = 10.0, on_epoch=None,
                should_stop=None, teacher: Ticket | None = None) -> Ticket:
    """TEDDY: degree-based one-shot edge pruning, then one training with ℓ0 PGD and distillation.

    ``distill`` is λ of the distillation term (the authors' README example uses 10). The dense
    teacher's training counts in the wall time (pass ``teacher`` to reuse one: then it does not).
    """
    t0 = time.perf_counter()
    offset = 0
    if teacher is None:
        teacher = train_dense(data, seed=seed, settings=settings, should_stop=should_stop,
                              on_epoch=None if on_epoch is None else (lambda s, r: on_epoch(s, {"teacher_" + k: v for k, v in r.items()})))
        offset = teacher.epochs
    g = _Graph(data)
    scores = spf.teddy_scores(data.edges, data.n_nodes)
    kept = spf.teddy_edges(data.edges, data.n_nodes, graph_sparsity)
    model = GCN(g.x_shape[1], g.n_classes, settings.hidden, settings.dropout, seed)
    total = sum(w.numel() for w in model.weights)
    k = weight_keep(total, weight_sparsity)  # projected after every Adam step, as in the authors' code
    out = _train(g, model, _fixed_adj(data, kept), settings, seed=seed, l0_k=k, teacher=teacher._teacher,  # type: ignore[attr-defined]
                 distill=distill, on_epoch=on_epoch, should_stop=should_stop, base_step=offset)
    return _ticket("teddy", kept, data, model, out, t0, scores)


def train_oneshot(data: NodeData, method: str, graph_sparsity: float, weight_sparsity: float, *, seed: int = 0,
                  settings: GCNSettings = GCNSettings(), on_epoch=None, should_stop=None) -> Ticket:
    """``random``: random edges and a random fixed weight mask; ``freedom``: FREEDOM's sample + ℓ0 PGD."""
    import torch

    t0 = time.perf_counter()
    g = _Graph(data)
    kept = spf.sparsify_edges(method, data.edges, data.n_nodes, graph_sparsity, seed=seed)
    scores = spf.freedom_probabilities(data.edges, data.n_nodes) if method == "freedom" else None
    model = GCN(g.x_shape[1], g.n_classes, settings.hidden, settings.dropout, seed)
    total = sum(w.numel() for w in model.weights)
    k = weight_keep(total, weight_sparsity)
    l0_k = None
    if method == "random":
        keep = np.zeros(total, dtype=bool)
        keep[np.random.default_rng(seed + 7).permutation(total)[:k]] = True
        sizes = [w.numel() for w in model.weights]
        parts = np.split(keep, np.cumsum(sizes)[:-1])
        model.masks = [torch.as_tensor(p.reshape(w.shape), dtype=torch.float32) for p, w in zip(parts, model.weights)]
    else:
        l0_k = k
    out = _train(g, model, _fixed_adj(data, kept), settings, seed=seed, l0_k=l0_k, on_epoch=on_epoch,
                 should_stop=should_stop)
    return _ticket(method, kept, data, model, out, t0, scores)


def ugs_schedule(target_graph: float, target_weight: float, p_g: float = 0.05, p_w: float = 0.2) -> list[tuple[float, float]]:
    """Cumulative (graph, weight) sparsity after each UGS round, capped at the targets; the last hits both.

    >>> [(round(a, 4), round(b, 4)) for a, b in ugs_schedule(0.1, 0.36)]
    [(0.05, 0.2), (0.0975, 0.36), (0.1, 0.36)]
    """
    out, r = [], 0
    while True:
        r += 1
        a = min(target_graph, 1 - (1 - p_g) ** r)
        b = min(target_weight, 1 - (1 - p_w) ** r)
        out.append((a, b))
        if (a >= target_graph - 1e-12 and b >= target_weight - 1e-12) or r > 200:
            return out


def train_ugs(data: NodeData, graph_sparsity: float, weight_sparsity: float, *, seed: int = 0,
              settings: GCNSettings = GCNSettings(), p_g: float = 0.05, p_w: float = 0.2,
              gamma_g: float = 1e-6, gamma_w: float = 1e-5, on_epoch=None, on_round=None,
              should_stop=None) -> Ticket:
    """UGS: rounds of joint mask training (200 epochs, ℓ1 on the masks), magnitude pruning, rewinding.

    ``gamma_g``/``gamma_w`` are γ₁/γ₂ (see the module docstring). Weight pruning is global over both
    layers, as in the UGS and TEDDY code. The
    edge mask multiplies the normalised adjacency entries of both directions of an edge (one value
    per undirected edge: a simplification of UGS's entry-wise mask); self loops are not masked.
    """
    import torch

    t0 = time.perf_counter()
    g = _Graph(data)
    model = GCN(g.x_shape[1], g.n_classes, settings.hidden, settings.dropout, seed)
    theta0 = model.state()
    row, col, eid = adjacency_entries(data.edges, data.n_nodes)
    base = normalised_values(row, col, data.n_nodes)  # UGS masks the normalised Â (no renormalisation)
    is_edge = eid >= 0
    eid_c = eid.clamp_min(0)
    E = data.n_edges
    alive_e = np.ones(E, dtype=bool)
    alive_w = [np.ones(tuple(w.shape), dtype=bool) for w in model.weights]
    total_w = sum(w.numel() for w in model.weights)
    rounds: list[dict] = []
    schedule = ugs_schedule(graph_sparsity, weight_sparsity, p_g, p_w)
    step = 0
    stopped = False
    for r, (sg, sw) in enumerate(schedule, start=1):
        m_e = torch.nn.Parameter(torch.as_tensor(alive_e, dtype=torch.float32))
        fixed_e = torch.as_tensor(alive_e, dtype=torch.float32)
        model.load(theta0)  # rewind
        model.masks = [torch.as_tensor(a, dtype=torch.float32) for a in alive_w]
        model.train_masks = [torch.nn.Parameter(torch.as_tensor(a, dtype=torch.float32)) for a in alive_w]

        def adj(m_e=m_e, fixed_e=fixed_e):
            mask = torch.where(is_edge, (m_e * fixed_e)[eid_c], torch.ones(()))
            return row, col, base * mask

        out = _train(g, model, adj, settings, seed=seed, l1_masks=([m_e, *model.train_masks], [gamma_g, gamma_w, gamma_w]),
                     early_stopping=False, on_epoch=on_epoch, should_stop=should_stop, base_step=step)
        step += out.epochs
        if out.stopped:
            stopped = True
            break
        alive_e = spf.prune_lowest(m_e.detach().numpy(), alive_e, spf.kept_count(E, sg))
        flat_scores = np.concatenate([m.detach().numpy().ravel() for m in model.train_masks])
        flat_alive = np.concatenate([a.ravel() for a in alive_w])
        keep = spf.prune_lowest(flat_scores, flat_alive, weight_keep(total_w, sw))
        alive_w = [p.reshape(a.shape) for p, a in zip(np.split(keep, np.cumsum([a.size for a in alive_w])[:-1]), alive_w)]
        info = {"round": r, "graph_sparsity": 1 - alive_e.sum() / E, "weight_sparsity": 1 - keep.sum() / total_w,
                "mask_test_accuracy": out.test_accuracy_best_val, "seconds": time.perf_counter() - t0}
        info["layer_density"] = [float(a.mean()) for a in alive_w]
        rounds.append(info)
        if on_round is not None:
            on_round(r, info, alive_e.copy())
    # the ticket: rewound weights, binary masks, trained once more
    model.load(theta0)
    model.train_masks = None
    model.masks = [torch.as_tensor(a, dtype=torch.float32) for a in alive_w]
    fixed = torch.as_tensor(alive_e, dtype=torch.float32)
    vals = base * torch.where(is_edge, fixed[eid_c], torch.ones(()))
    keep_entries = vals != 0
    r2, c2, v2 = row[keep_entries], col[keep_entries], vals[keep_entries]
    A = FixedAdjacency(r2, c2, v2, data.n_nodes)
    out = _train(g, model, lambda: A, settings, seed=seed, on_epoch=on_epoch,
                 should_stop=should_stop, base_step=step)
    out.stopped = out.stopped or stopped
    scores = m_e.detach().numpy().copy() if rounds else None
    return _ticket("ugs", np.flatnonzero(alive_e), data, model, out, t0, scores, rounds)


def train_method(data: NodeData, method: str, graph_sparsity: float, weight_sparsity: float, **kw) -> Ticket:
    """Dispatch by sparsifier name: dense (both sparsities 0), ``teddy``, ``ugs``, ``random``, ``freedom``."""
    if method == "dense":
        kw.pop("distill", None)
        return train_dense(data, **kw)
    if method == "teddy":
        return train_teddy(data, graph_sparsity, weight_sparsity, **kw)
    kw.pop("distill", None)
    if method == "ugs":
        return train_ugs(data, graph_sparsity, weight_sparsity, **kw)
    return train_oneshot(data, method, graph_sparsity, weight_sparsity, **kw)
