"""Post-training pruning with calibration data and no retraining: magnitude, Wanda and SparseGPT.

The model is trained dense for ``epochs``, then pruned once, layer by layer, from a calibration set
of ``calibration`` training images, and evaluated **without any retraining** (no fine-tuning epochs).
Layers are pruned in forward order and each layer's calibration inputs are computed through the
layers already pruned, as both papers' code does. For a layer with weight ``W`` (out × in; a conv's
kernel as out × in·k·k) and calibration inputs ``X`` (one row per sample; a conv's unfolded 3×3
patches, one per output position), the result reports each layer's relative output error
``‖W Xᵀ − Ŵ Xᵀ‖_F / ‖W Xᵀ‖_F`` (``layer_output_error``) beside the accuracy.

* ``post-magnitude``: the baseline of both papers, each layer pruned to ``s`` by |W| (layer-wise).
* ``wanda`` (Sun et al., ICLR 2024, "A Simple and Effective Pruning Approach for Large Language
  Models", Eq. 1): score ``S_ij = |W_ij| · ‖X_j‖₂`` (the input feature's norm over the calibration
  samples), compared *per output* (each row of ``W`` loses ``s`` of its weights, Sec. 3); kept
  weights are not changed. When ``(1 − s)·in`` is not whole, rows keep ⌊·⌋ or ⌈·⌉ weights so the
  layer keeps exactly ``round((1 − s)·out·in)`` (the rows whose next score is largest get one more).
* ``sparsegpt`` (Frantar & Alistarh, ICML 2023, "SparseGPT: Massive Language Models Can Be
  Accurately Pruned in One-Shot", Algorithm 1): row-wise optimal brain surgeon with the calibration
  Hessian ``H = X Xᵀ + λI`` (``λ = damp · mean diag``, Sec. 3.5's dampening), the upper Cholesky
  factor of ``H⁻¹``, adaptive mask selection per block of ``B_s`` columns (``w²/[H⁻¹]²_cc``, Eq. 3)
  and lazy batched updates in blocks of ``B`` columns (here ``B = B_s = blocksize``, as in the
  paper's code). The remaining weights are updated to compensate each pruned one (Eq. 2). The mask
  of each block keeps exactly its share of the layer's count, so the layer keeps exactly
  ``round((1 − s)·out·in)``.

Each takes ``nm`` (e.g. ``2:4``): N:M semi-structured pruning along the input dimension instead
(magnitude: the N largest |w| of every M; Wanda: the N largest scores; SparseGPT: the paper's
N:M variant, the mask of every M columns chosen when the sweep reaches them). Then ``sparsity`` is
1 − N/M whatever the slider says.
"""
from __future__ import annotations


from engine.config import require
from engine.errors import ConfigError
from engine.sparse._lazy import nn, torch
from engine.sparse.masks import MaskSparsifier, as_2d, keep_count
from engine.sparse.shapes import parse_nm, validate_nm_shape

NM_OFF = "none"


def _pattern(nm: str) -> tuple[int, int] | None:
    return None if str(nm).strip().lower() in (NM_OFF, "") else parse_nm(nm)


# ------------------------------------------------------------------------------------ layer criteria
def output_error(w: torch.Tensor, w_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Relative output error ``‖(W − Ŵ) Xᵀ‖_F / ‖W Xᵀ‖_F`` of a pruned layer on inputs ``x`` (n × in).

    >>> w = torch.tensor([[1.0, 2.0]]); x = torch.tensor([[1.0, 1.0]])
    >>> round(output_error(w, torch.tensor([[0.0, 2.0]]), x), 4)
    0.3333
    """
    w, w_hat, x = w.double(), w_hat.double(), x.double()
    ref = float((x @ w.t()).norm())
    return float((x @ (w - w_hat).t()).norm()) / max(ref, 1e-30)


def _group_top(scores: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Keep the ``n`` highest scores of every ``m`` consecutive entries of each row (out × in)."""
    rows, cols = scores.shape
    idx = scores.reshape(rows, cols // m, m).topk(n, dim=-1).indices
    keep = torch.zeros(rows, cols // m, m, dtype=torch.bool)
    keep.scatter_(-1, idx, True)
    return keep.reshape(rows, cols)


def magnitude_prune(w: torch.Tensor, x: torch.Tensor, sparsity: float, nm: tuple[int, int] | None = None):
    """Layer-wise magnitude pruning of ``w`` (out × in): (keep mask, pruned weight). ``x`` is unused.

    >>> m, _ = magnitude_prune(torch.tensor([[3.0, -1.0], [0.5, 2.0]]), None, 0.5)
    >>> m.tolist()
    [[True, False], [False, True]]
    """
    w = w.detach()
    if nm is not None:
        keep = _group_top(w.abs(), *nm)
    else:
        flat = w.abs().reshape(-1)
        keep = torch.zeros(flat.numel(), dtype=torch.bool)
        k = keep_count(flat.numel(), sparsity)
        if k:
            keep[flat.topk(k).indices] = True
        keep = keep.reshape(w.shape)
    return keep, w * keep


def wanda_scores(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``|W_ij| · ‖X_j‖₂`` (Sun et al. 2024, Eq. 1): the weight's magnitude times its input's norm.

    >>> wanda_scores(torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 0.0], [4.0, 1.0]])).tolist()
    [[5.0, 2.0]]
    """
    return w.detach().abs() * x.detach().double().norm(dim=0).to(w.dtype).reshape(1, -1)


def per_output_keep(scores: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Keep mask comparing scores within each row (per output), the layer's total exact.

    Rows keep ``k = ⌊K / rows⌋`` weights, and the ``K − rows·k`` rows whose (k+1)-th score is
    largest keep one more, ``K = round((1 − s)·rows·cols)``.

    >>> per_output_keep(torch.tensor([[4.0, 3.0, 1.0], [1.0, 2.0, 9.0]]), 0.5).int().tolist()
    [[1, 1, 0], [0, 0, 1]]
    """
    rows, cols = scores.shape
    total = keep_count(rows * cols, sparsity)
    k, extra = divmod(total, rows)
    order = scores.argsort(dim=1, descending=True, stable=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(cols).expand(rows, cols).contiguous())
    limit = torch.full((rows, 1), k, dtype=torch.long)
    if extra:
        nxt = scores.gather(1, order[:, k : k + 1]).reshape(-1)
        limit[nxt.topk(extra).indices] += 1
    return ranks < limit


def wanda_prune(w: torch.Tensor, x: torch.Tensor, sparsity: float, nm: tuple[int, int] | None = None):
    """Wanda (Sun et al. 2024): (keep mask, pruned weight); kept weights unchanged.

    >>> w = torch.tensor([[1.0, 2.0], [2.0, 1.0]]); x = torch.tensor([[10.0, 1.0]])
    >>> wanda_prune(w, x, 0.5)[0].tolist()        # the large input feature 0 wins in both rows
    [[True, False], [True, False]]
    """
    scores = wanda_scores(w, x)
    keep = _group_top(scores, *nm) if nm is not None else per_output_keep(scores, sparsity)
    return keep, w.detach() * keep


def sparsegpt_prune(w: torch.Tensor, x: torch.Tensor, sparsity: float, nm: tuple[int, int] | None = None, *,
                    blocksize: int = 128, damp: float = 0.01):
    """SparseGPT (Frantar & Alistarh 2023, Algorithm 1): (keep mask, reconstructed pruned weight).

    ``H = XᵀX + λI`` on the calibration rows ``x`` (n × in), ``λ = damp · mean(diag)``; columns with
    ``diag(H) = 0`` (inputs that are always zero) are pruned first, their weights set to 0. Computed
    in float64.

    >>> g = torch.Generator().manual_seed(0)
    >>> w = torch.randn(8, 16, generator=g); x = torch.randn(64, 16, generator=g)
    >>> keep, w_hat = sparsegpt_prune(w, x, 0.5)
    >>> int(keep.sum()), bool((w_hat[~keep] == 0).all())
    (64, True)
    >>> output_error(w, w_hat, x) < output_error(w, wanda_prune(w, x, 0.5)[1], x)
    True
    """
    W = w.detach().double().clone()
    rows, cols = W.shape
    X = x.detach().double()
    H = X.t() @ X
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    H += damp * torch.diag(H).mean() * torch.eye(cols, dtype=H.dtype)
    try:
        Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    except RuntimeError as err:  # pragma: no cover - only for a singular H with damp = 0
        raise ConfigError(f"SparseGPT: the calibration Hessian is not positive definite ({err}); "
                          "raise the dampening.") from None
    if nm is not None:
        n, m = nm
        blocksize = max(m, (blocksize // m) * m)  # N:M groups never straddle two blocks
    pruned = torch.zeros(rows, cols, dtype=torch.bool)
    done = 0  # weights pruned so far (the layer's count is kept exactly, block by block)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        mask1 = torch.zeros_like(W1, dtype=torch.bool)
        if nm is None:  # adaptive mask selection over the block (Eq. 3: w² / [H⁻¹]²_cc)
            tmp = W1 ** 2 / torch.diag(Hinv1).reshape(1, -1) ** 2
            target = rows * i2 - keep_count(rows * i2, sparsity)
            n_prune = max(0, min(tmp.numel(), target - done))
            if n_prune:
                mask1.view(-1)[tmp.reshape(-1).topk(n_prune, largest=False).indices] = True
            done += n_prune
        for i in range(count):
            col = W1[:, i]
            d = Hinv1[i, i]
            if nm is not None and i % m == 0:
                tmp = W1[:, i : i + m] ** 2 / torch.diag(Hinv1)[i : i + m].reshape(1, -1) ** 2
                mask1.scatter_(1, i + tmp.topk(m - n, dim=1, largest=False).indices, True)
            q = col.clone()
            q[mask1[:, i]] = 0.0
            Q1[:, i] = q
            err = (col - q) / d
            W1[:, i:] -= err.unsqueeze(1) @ Hinv1[i, i:].unsqueeze(0)
            Err1[:, i] = err
        W[:, i1:i2] = Q1
        pruned[:, i1:i2] = mask1
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]  # the lazy batched update of the remaining columns
    keep = ~pruned
    return keep, (W * keep).to(w.dtype)


CRITERIA = {"post-magnitude": magnitude_prune, "wanda": wanda_prune, "sparsegpt": sparsegpt_prune}


# ------------------------------------------------------------------------------------ calibration inputs
def layer_inputs(model: nn.Module, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The calibration inputs of ``module`` (Linear: n × in; Conv2d: unfolded patches, n·H·W × in·k·k)."""
    got = []

    def hook(mod, inp, out):
        got.append(inp[0].detach())

    h = module.register_forward_hook(hook)
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        h.remove()
        model.train(was)
    a = got[0]
    if isinstance(module, nn.Conv2d):
        cols = nn.functional.unfold(a, module.kernel_size, dilation=module.dilation, padding=module.padding,
                                    stride=module.stride)  # (n, in·k·k, L)
        return cols.transpose(1, 2).reshape(-1, cols.shape[1])
    return a.reshape(-1, a.shape[-1])


class PostTrainingSparsifier(MaskSparsifier):
    """Train dense, then prune every layer once from calibration data, no retraining."""

    name = "post-training"
    family = "post-training"
    per_layer_targets = True  # every layer to exactly s (or N:M)
    finetunes = False
    defining_property = ""

    def __init__(self, *, sparsity: float = 0.5,
                 calibration: int = 128,  # calibration samples drawn from the training set (both papers: 128)
                 nm: str = NM_OFF,  # N:M along the input instead of unstructured (e.g. 2:4; none = unstructured)
                 ) -> None:
        super().__init__()
        self.sparsity_level, self.calibration, self.nm = sparsity, calibration, nm
        self.calib_x = None
        self.inputs: dict = {}  # fqn -> the calibration inputs the layer was pruned with
        self.dense_weights: dict = {}  # fqn -> the weight just before pruning

    @classmethod
    def requested(cls, sparsity: float, params: dict) -> float:
        pattern = _pattern(params.get("nm", NM_OFF))
        return float(sparsity) if pattern is None else 1.0 - pattern[0] / pattern[1]

    @classmethod
    def check_params(cls, p: dict) -> None:
        require(p["calibration"] >= 1, f"{cls.name}: the calibration set needs at least 1 sample "
                                       f"(got {p['calibration']}); the papers use 128.")
        pattern = _pattern(p["nm"])
        require(pattern is None or pattern[1] <= 64, f"N:M with M = {pattern and pattern[1]} is too coarse; use M ≤ 64.")

    @classmethod
    def check_shapes(cls, shapes: dict, params: dict) -> None:
        pattern = _pattern(params["nm"])
        if pattern is not None:
            for fqn, shape in shapes.items():
                validate_nm_shape(tuple(shape), *pattern, name=fqn)

    def prune_layer(self, w2: torch.Tensor, x: torch.Tensor):
        return CRITERIA[self.name](w2, x, self.sparsity_level, _pattern(self.nm))

    def step(self) -> None:
        """Prune every layer in forward order from the calibration set (``self.calib_x``)."""
        if self.calib_x is None:
            raise ConfigError(f"{self.name} prunes from calibration data: run it through its recipe (run()).")
        modules = {g["tensor_fqn"]: g["module"] for g in self.groups}
        errors, masks = {}, {}
        for fqn in self.fqns:
            w = self.weight(fqn)
            x = layer_inputs(self.model, modules[fqn], self.calib_x)  # through the layers already pruned
            w2 = as_2d(w.detach()).clone()
            keep, w_hat = self.prune_layer(w2, x)
            self.inputs[fqn], self.dense_weights[fqn] = x, w2
            errors[fqn] = round(output_error(w2, w_hat, x), 6)
            with torch.no_grad():
                w.copy_(w_hat.reshape(w.shape).to(w.dtype))
            masks[fqn] = keep.reshape(w.shape)
            self.set_masks({fqn: masks[fqn]})
        self.extra_result["layer_output_error"] = errors

    def run(self, trainer) -> None:
        from engine.sparse.train import accuracy

        if not trainer.train(trainer.config.epochs, phase="train (dense)"):
            return
        data = trainer.data
        n = min(self.calibration, len(data.x_train))
        gen = torch.Generator().manual_seed(self.seed + 104729)
        self.calib_x = data.x_train[torch.randperm(len(data.x_train), generator=gen)[:n]]
        self.extra_result["calibration_samples"] = n
        self.extra_result["dense_test_accuracy"] = accuracy(self.model, data.x_test, data.y_test)
        trainer.train_flops += len(self.fqns) * n * trainer.forward_flops()  # one calibration pass per layer
        if n < self.calibration:
            trainer.reporter.log(f"The training set has only {n} samples: calibrating on all of them.")
        self.step()
        errs = self.extra_result["layer_output_error"]
        trainer.reporter.log(f"Pruned once from {n} calibration samples to {self.sparsity():.4f} sparsity, no "
                             "retraining; relative output error per layer: "
                             + ", ".join(f"{k} {v:.3f}" for k, v in errs.items()))


class PostMagnitudeSparsifier(PostTrainingSparsifier):
    """Post-training magnitude pruning (layer-wise |W|), no retraining: the baseline of Wanda and SparseGPT."""

    name = "post-magnitude"
    title = "Post-training magnitude pruning, layer-wise, no retraining (the baseline of Wanda / SparseGPT)"
    paper = ("Han et al. 2015 (criterion); the post-training baseline of Sun et al. 2024 and Frantar & Alistarh "
             "2023")
    defining_property = "post_training_magnitude"

    def __init__(self, *, sparsity: float = 0.5,
                 calibration: int = 128,  # calibration samples: only to report the output error (|W| needs no data)
                 nm: str = NM_OFF,  # N:M along the input instead of unstructured (e.g. 2:4; none = unstructured)
                 ) -> None:
        super().__init__(sparsity=sparsity, calibration=calibration, nm=nm)


class WandaSparsifier(PostTrainingSparsifier):
    """Wanda: prune by |W|·‖X‖ per output, from calibration activations, no retraining."""

    name = "wanda"
    title = "Wanda: prune |W|·‖X‖ per output from calibration data, no retraining (Sun et al. 2024)"
    paper = "Sun et al. 2024, A Simple and Effective Pruning Approach for Large Language Models (ICLR)"
    defining_property = "wanda_per_output"

    def __init__(self, *, sparsity: float = 0.5,
                 calibration: int = 128,  # calibration samples drawn from the training set (paper: 128)
                 nm: str = NM_OFF,  # N:M along the input instead of unstructured (e.g. 2:4; none = unstructured)
                 ) -> None:
        super().__init__(sparsity=sparsity, calibration=calibration, nm=nm)


class SparseGPTSparsifier(PostTrainingSparsifier):
    """SparseGPT: row-wise OBS with the calibration Hessian, lazy batched updates, no retraining."""

    name = "sparsegpt"
    title = "SparseGPT: one-shot OBS reconstruction with the calibration Hessian (Frantar & Alistarh 2023)"
    paper = ("Frantar & Alistarh 2023, SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot "
             "(ICML)")
    defining_property = "obs_beats_wanda_beats_magnitude"

    def __init__(self, *, sparsity: float = 0.5,
                 calibration: int = 128,  # calibration samples drawn from the training set (paper: 128)
                 nm: str = NM_OFF,  # N:M along the input instead of unstructured (e.g. 2:4; none = unstructured)
                 blocksize: int = 128,  # B = B_s: columns per lazy-update block and per mask-selection block (paper: 128)
                 damp: float = 0.01,  # λ: dampening of H, as a fraction of its mean diagonal (paper: 1 %)
                 ) -> None:
        super().__init__(sparsity=sparsity, calibration=calibration, nm=nm)
        self.blocksize, self.damp = blocksize, damp

    @classmethod
    def check_params(cls, p: dict) -> None:
        super().check_params(p)
        require(p["blocksize"] >= 1, "SparseGPT: the block size B must be at least 1 column.")
        require(p["damp"] > 0, "SparseGPT: the dampening λ must be positive (H must be invertible).")

    def prune_layer(self, w2, x):
        return sparsegpt_prune(w2, x, self.sparsity_level, _pattern(self.nm), blocksize=self.blocksize, damp=self.damp)
