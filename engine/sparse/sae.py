"""Sparse autoencoders on a lab model's hidden activations: TopK, Feature Choice and Mutual Choice
(Ayonrinde 2024, "Adaptive Sparse Allocation with Mutual Choice & Feature Choice Sparse
Autoencoders", arXiv 2411.02124), with an auxiliary loss for dead and under-used features.

This is **activation** sparsity: the SAE's codes are sparse, no weight is pruned.

The paper frames the sparsifying activation as an allocation of ``k·B`` token-feature matches in a
batch of ``B`` samples over the ``F`` features of the affinity matrix ``A = ReLU(W_enc (x − b_dec) + b_enc)``:

* ``topk`` (Gao et al. 2024): every sample keeps its ``k`` largest affinities (``k`` per row);
* ``feature-choice``: every feature keeps its ``m_j`` largest affinities over the batch (per column),
  ``Σ_j m_j = k·B`` — uniform ``m = k·B/F`` (``capacity="uniform"``, the paper's "at most m tokens")
  or Zipf-shaped over the features ranked by their running density (``capacity="zipf"``);
* ``mutual-choice``: the ``k·B`` largest affinities of the whole batch, however they fall on rows
  and columns (the unrestricted allocation).

Codes ``z = A ⊙ mask``, reconstruction ``x̂ = W_dec z + b_dec`` (decoder columns unit-norm, b_dec
initialised to the data mean as Gao et al. do). Loss: ``‖x − x̂‖² / ‖x − x̄‖²`` (normalised MSE) plus
``aux_coef`` × the auxiliary loss:

* ``aux="k"``: Gao et al.'s aux_k_loss: the residual ``e = x − x̂`` is reconstructed from the
  ``k_aux`` largest pre-activations among *dead* features (no activation during the last epoch),
  ``‖e − ê‖² / ‖x − x̄‖²`` (the main loss's normaliser, so ``aux_coef`` weighs both on one scale);
* ``aux="zipf"`` (default): the aux_zipf_loss as this lab reads the paper, which "generalises
  aux_k_loss to dead *and under-used* features": the same residual reconstruction, from the
  features whose running density falls below half of the Zipf law ``d(r) ∝ r^−α`` fitted (least
  squares in log-log) to the density-rank curve of the used features. The fit and the factor ½
  are this lab's choice; the paper's text was not available to check its exact weighting.

Reported: L0 per sample (mean, min, max), dead features (never active on the training set),
under-used features (active on fewer than 10 % of the average feature's share ``k/F``), the
normalised MSE on the test split, and each feature's top-activating digits (a mosaic snapshot).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.config import Config, require
from engine import limits
from engine.limits import bounded

VARIANTS = ("topk", "feature-choice", "mutual-choice")
SAE_DATASETS = ("digits", "mnist", "fashion-mnist")


@dataclass(frozen=True)
class SAEConfig(Config):
    """One SAE run: a small MLP trained on the data, then an SAE on its hidden activations."""

    variant: str = "topk"  # topk | feature-choice | mutual-choice
    width: int = 256  # F: SAE features (dictionary size)
    k: int = 8  # k: average active features per sample (the sparsity budget is k·B per batch)
    capacity: str = "uniform"  # feature-choice only: uniform m = kB/F, or zipf-shaped capacities
    aux: str = "zipf"  # zipf (dead + under-used features) | k (dead features, Gao et al.) | none
    aux_coef: float = 0.03125  # weight of the auxiliary loss (Gao et al.: 1/32)
    k_aux: int = 32  # affinities the auxiliary reconstruction uses per sample
    epochs: int = 30  # SAE epochs
    lr: float = 1e-3
    batch_size: int = 128  # B
    dataset: str = "digits"
    data_path: str = ""  # folder of the IDX files (mnist / fashion-mnist)
    max_train: int = 5000
    model_hidden: int = 64  # width of the lab model's hidden layer (the activations the SAE reads)
    model_epochs: int = 20  # epochs of the lab model (Adam, lr 5e-3)
    seed: int = 0

    def validate(self) -> None:
        require(self.variant in VARIANTS, f"Unknown SAE variant '{self.variant}'. Choose one of: {', '.join(VARIANTS)}.")
        require(self.dataset in SAE_DATASETS, f"The SAE reads a digits model: dataset must be one of {', '.join(SAE_DATASETS)}.")
        require(self.width >= 2, "The SAE needs at least 2 features.")
        require(1 <= self.k < self.width, f"k must be at least 1 and smaller than the SAE width {self.width} "
                                          f"(got k = {self.k}): k ≥ width keeps every feature, nothing is sparse.")
        require(self.capacity in ("uniform", "zipf"), "capacity must be 'uniform' or 'zipf'.")
        require(self.aux in ("zipf", "k", "none"), "aux must be 'zipf', 'k' or 'none'.")
        require(self.aux_coef >= 0, "The auxiliary loss weight cannot be negative.")
        require(1 <= self.k_aux <= self.width, f"k_aux must be in 1..{self.width}.")
        require(self.epochs >= 1 and self.model_epochs >= 1, "Epochs must be at least 1.")
        require(self.lr > 0, "The learning rate must be positive.")
        require(self.batch_size >= 2, "The batch needs at least 2 samples (the allocation is over a batch).")
        require(self.model_hidden >= 2, "The lab model needs at least 2 hidden units.")
        require(self.dataset == "digits" or bool(self.data_path.strip()),
                f"{self.dataset} is read from IDX files: give the folder that holds them (data path).")
        # size bounds (engine/limits.py): fixed caps, then the memory / time estimate
        bounded("SAE width", self.width, 2, limits.MAX_WIDTH)
        bounded("Lab model hidden units", self.model_hidden, 2, limits.MAX_WIDTH)
        bounded("SAE epochs", self.epochs, 1, limits.MAX_EPOCHS)
        bounded("Lab model epochs", self.model_epochs, 1, limits.MAX_EPOCHS)
        bounded("Batch size", self.batch_size, 2, limits.MAX_BATCH)
        bounded("Training images kept (max train)", self.max_train, 0, limits.MAX_TRAIN)
        n_in = 64 if self.dataset == "digits" else 784
        n = self.max_train or limits.MAX_TRAIN
        model = n_in * self.model_hidden + self.model_hidden * 10
        sae = 2 * self.model_hidden * self.width
        limits.check_budget(macs_per_sample=model + sae * self.epochs / self.model_epochs, weights=model + sae,
                            samples=n, epochs=self.model_epochs, what="this SAE run")


# --------------------------------------------------------------------------- allocations (torch)
def allocate(affinity, variant: str, k: int, capacities=None):
    """Boolean mask of the kept token-feature matches of a ``(B, F)`` affinity matrix.

    >>> import torch
    >>> a = torch.tensor([[5., 4., 0., 0.], [3., 2., 1., 0.5], [9., 8., 7., 6.]])
    >>> allocate(a, "topk", 1).sum(1).tolist(), int(allocate(a, "mutual-choice", 1).sum())
    ([1, 1, 1], 3)
    >>> allocate(a, "mutual-choice", 1).sum(1).tolist()  # the budget goes where the affinities are
    [0, 0, 3]
    >>> allocate(a, "feature-choice", 1, capacities=torch.tensor([1, 1, 1, 0])).sum(0).tolist()
    [1, 1, 1, 0]
    """
    import torch

    b, f = affinity.shape
    if variant == "topk":
        idx = affinity.topk(k, dim=1).indices
        return torch.zeros_like(affinity, dtype=torch.bool).scatter_(1, idx, True)
    if variant == "mutual-choice":
        idx = affinity.reshape(-1).topk(k * b).indices
        return torch.zeros(b * f, dtype=torch.bool).scatter_(0, idx, True).reshape(b, f)
    if variant == "feature-choice":
        order = affinity.argsort(dim=0, descending=True)  # (B, F): rows ranked per feature
        ranks = torch.empty_like(order).scatter_(0, order, torch.arange(b).unsqueeze(1).expand(b, f))
        return ranks < capacities.unsqueeze(0)
    raise ValueError(variant)


def capacities_for(batch: int, width: int, k: int, kind: str, density=None, alpha: float = 1.0):
    """Feature Choice capacities ``m_j``, summing to exactly ``k·batch``, each at most ``batch``.

    ``uniform``: ``k·B/F`` each (the remainder to the first features); ``zipf``: ``∝ r^−α`` over the
    features ranked by ``density`` (largest first), by largest remainders.

    >>> capacities_for(10, 4, 2, "uniform").tolist()
    [5, 5, 5, 5]
    >>> import torch; m = capacities_for(8, 4, 2, "zipf", density=torch.tensor([0.1, 0.4, 0.2, 0.3]))
    >>> m.tolist(), int(m.sum())
    ([2, 8, 2, 4], 16)
    """
    import torch

    total = k * batch
    if kind == "uniform":
        weights = torch.ones(width, dtype=torch.float64)
        order = torch.arange(width)
    else:
        order = torch.argsort(density.double(), descending=True, stable=True)
        weights = torch.empty(width, dtype=torch.float64)
        weights[order] = 1.0 / torch.arange(1, width + 1, dtype=torch.float64) ** alpha
    share = weights / weights.sum() * total
    m = share.floor().clamp(max=batch)
    frac = (share - share.floor()).tolist()
    pos = {int(j): i for i, j in enumerate(order)}
    queue = sorted(range(width), key=lambda j: (-frac[j], pos[j]))  # largest remainders, then rank
    rest, i = int(total - m.sum()), 0
    while rest > 0:  # feasible: k < F, so k·B < F·B
        j = queue[i % width]
        if m[j] < batch:
            m[j] += 1
            rest -= 1
        i += 1
    return m.long()


def zipf_underused(density, factor: float = 0.5):
    """Features whose density is below ``factor`` × the Zipf law fitted to the used features'
    density-rank curve (dead features included).

    >>> import torch
    >>> d = torch.tensor([0.5, 0.25, 1 / 6, 0.125, 0.0, 0.01])  # Zipf 1/(2r), one dead, one far below
    >>> zipf_underused(d).tolist()
    [False, False, False, False, True, True]
    """
    import torch

    d = density.double()
    order = torch.argsort(d, descending=True, stable=True)
    ranks = torch.empty_like(d)
    ranks[order] = torch.arange(1, len(d) + 1, dtype=torch.float64)
    used = d > 0
    if int(used.sum()) < 2:
        return ~used
    x, y = ranks[used].log(), d[used].log()
    # fit on the head of the curve (the paper: Zipf fits all but the lower end): upper 3/4 of the used ranks
    cut = torch.quantile(ranks[used], 0.75)
    head = ranks[used] <= cut
    if int(head.sum()) >= 2:
        x, y = x[head], y[head]
    slope, icpt = np.polyfit(x.numpy(), y.numpy(), 1)
    expected = torch.exp(icpt + slope * ranks.log())
    return (d < factor * expected) | ~used


class SAE:
    """The autoencoder's parameters and its forward pass (torch tensors, trained by :func:`train_sae`)."""

    def __init__(self, n_in: int, width: int, mean, gen) -> None:
        import torch

        w = torch.randn(n_in, width, generator=gen)
        w = w / w.norm(dim=0, keepdim=True)
        self.W_dec = torch.nn.Parameter(w)  # (n_in, F), unit-norm columns
        self.W_enc = torch.nn.Parameter(w.T.clone())  # (F, n_in), tied at init (Gao et al.)
        self.b_enc = torch.nn.Parameter(torch.zeros(width))
        self.b_dec = torch.nn.Parameter(mean.clone())

    def parameters(self):
        return [self.W_enc, self.b_enc, self.W_dec, self.b_dec]

    def pre(self, x):
        return (x - self.b_dec) @ self.W_enc.T + self.b_enc  # (B, F) pre-activations

    def affinity(self, x):
        import torch

        return torch.relu(self.pre(x))  # (B, F)

    def decode(self, z):
        return z @ self.W_dec.T + self.b_dec


def nmse(x, x_hat, mean) -> float:
    """Normalised MSE ``‖x − x̂‖² / ‖x − x̄‖²`` (1 = no better than predicting the mean).

    >>> import torch; x = torch.tensor([[0., 2.], [2., 0.]])
    >>> nmse(x, x, x.mean(0)), nmse(x, x.mean(0).expand(2, 2), x.mean(0))
    (0.0, 1.0)
    """
    return float(((x - x_hat) ** 2).sum() / ((x - mean) ** 2).sum().clamp(min=1e-12))


def lab_activations(config: SAEConfig, reporter):
    """Train the lab model (an MLP with one hidden layer) and return (data, hidden activations by split, accuracy)."""
    import torch

    from engine.sparse.config import SparseConfig
    from engine.sparse.data import load
    from engine.sparse.methods.magnitude import DenseBaseline
    from engine.sparse.models import MLP
    from engine.sparse.train import Trainer, accuracy

    torch.manual_seed(config.seed)
    data = load(config.dataset, seed=config.seed, data_path=config.data_path, max_train=config.max_train)
    model = MLP(data.n_features, (config.model_hidden,), data.n_classes)
    sp = DenseBaseline()
    sp.prepare(model, [])
    cfg = SparseConfig(method="dense", dataset=config.dataset, data_path=config.data_path, hidden=(config.model_hidden,),
                       epochs=config.model_epochs, finetune_epochs=0, seed=config.seed, speed_meter=False)

    class _Quiet:  # the lab model's own curves are not this run's
        def __getattr__(self, name):
            return getattr(reporter, name) if name in ("should_stop", "log") else (lambda *a, **k: None)

    trainer = Trainer(model, sp, data, cfg, _Quiet())
    trainer.train(config.model_epochs, phase="lab model")
    with torch.no_grad():
        acts = {s: torch.relu(model.layers[0](getattr(data, f"x_{s}").flatten(1))) for s in ("train", "val", "test")}
    return data, acts, accuracy(model, data.x_test, data.y_test), trainer.stopped


def _codes(sae, x, config, capacities):
    a = sae.affinity(x)
    return a * allocate(a.detach(), config.variant, config.k, capacities)


def mosaic(images: np.ndarray, rows: list[list[int]], shape: tuple[int, int]) -> np.ndarray:
    """Tiles ``images[i]`` (flattened ``shape``) in a grid: one row per feature, one column per rank.

    >>> mosaic(np.arange(8.0).reshape(2, 4), [[1, 0]], (2, 2)).tolist()
    [[4.0, 5.0, 0.0, 1.0], [6.0, 7.0, 2.0, 3.0]]
    """
    h, w = shape
    n_cols = max(len(r) for r in rows)
    out = np.zeros((len(rows) * h, n_cols * w), dtype=np.float32)
    for i, r in enumerate(rows):
        for j, idx in enumerate(r):
            out[i * h : (i + 1) * h, j * w : (j + 1) * w] = images[idx].reshape(h, w)
    return out


def run_sae(config: SAEConfig, reporter) -> dict:
    """Train the lab model, then the SAE; see the module docstring for what is reported."""
    return _run_sae(config, reporter)   # torch's threads: the worker's policy (engine/runs/threads.py)


def _run_sae(config: SAEConfig, reporter) -> dict:
    import torch

    t0 = time.perf_counter()
    data, acts, model_acc, stopped = lab_activations(config, reporter)
    x_train, x_test = acts["train"], acts["test"]
    n, n_in = x_train.shape
    mean = x_train.mean(0)
    gen = torch.Generator().manual_seed(config.seed)
    sae = SAE(n_in, config.width, mean, gen)
    opt = torch.optim.Adam(sae.parameters(), lr=config.lr)
    bs = min(config.batch_size, n)
    steps_per_epoch = max(1, n // bs)
    total = config.epochs * steps_per_epoch
    density = torch.full((config.width,), config.k / config.width)  # running (per-epoch) density
    fired_last_epoch = torch.ones(config.width, dtype=torch.bool)
    reporter.log(f"Lab model: test accuracy {model_acc:.3f}; SAE {config.variant} on its {n_in} hidden "
                 f"activations, {config.width} features, k = {config.k}.")
    step = 0
    for epoch in range(config.epochs if not stopped else 0):
        perm = torch.randperm(n, generator=gen)
        caps = capacities_for(bs, config.width, config.k, config.capacity, density) \
            if config.variant == "feature-choice" else None
        fired = torch.zeros(config.width)
        sums = {"loss": 0.0, "aux": 0.0}
        if config.aux == "zipf":
            starved = zipf_underused(density) | ~fired_last_epoch
        else:
            starved = ~fired_last_epoch
        for b in range(steps_per_epoch):
            if reporter.should_stop():
                stopped = True
                break
            x = x_train[perm[b * bs : (b + 1) * bs]]
            a = sae.affinity(x)
            z = a * allocate(a.detach(), config.variant, config.k, caps)
            x_hat = sae.decode(z)
            loss = ((x - x_hat) ** 2).sum() / ((x - mean) ** 2).sum().clamp(min=1e-12)
            aux = torch.zeros(())
            if config.aux != "none" and config.aux_coef > 0 and bool(starved.any()):
                e = (x - x_hat).detach()
                # pre-activations, not affinities: a feature whose ReLU is 0 everywhere still gets a gradient
                pre = sae.pre(x).masked_fill(~starved, float("-inf"))
                kk = min(config.k_aux, int(starved.sum()))
                z_aux = torch.zeros_like(pre).scatter(1, pre.topk(kk, dim=1).indices,
                                                      pre.topk(kk, dim=1).values)
                aux = ((e - z_aux @ sae.W_dec.T) ** 2).sum() / ((x - mean) ** 2).sum().clamp(min=1e-12)
            opt.zero_grad(set_to_none=True)
            (loss + config.aux_coef * aux).backward()
            opt.step()
            with torch.no_grad():
                sae.W_dec /= sae.W_dec.norm(dim=0, keepdim=True).clamp(min=1e-8)  # unit-norm decoder columns
            fired += (z.detach() > 0).float().sum(0)
            sums["loss"] += float(loss.detach())
            sums["aux"] += float(aux.detach())
            step += 1
            reporter.progress(step, total)
        if stopped:
            reporter.log(f"Stopped by the user at step {step}.")
            break
        seen = steps_per_epoch * bs
        density = fired / seen
        fired_last_epoch = fired > 0
        reporter.metric("sae/nmse_train", sums["loss"] / steps_per_epoch, step)
        reporter.metric("sae/aux_loss", sums["aux"] / steps_per_epoch, step)
        reporter.metric("sae/dead_features", float((~fired_last_epoch).sum()), step)
        reporter.metric("sae/starved_features", float(starved.sum()), step)
    result = evaluate(sae, config, acts, data, mean)
    result.update({"variant": config.variant, "width": config.width, "k": config.k, "capacity": config.capacity,
                   "aux": config.aux, "dataset": config.dataset, "seed": config.seed, "steps": step,
                   "stopped": stopped, "model_test_accuracy": model_acc, "activation_sparsity": True,
                   "seconds": round(time.perf_counter() - t0, 3)})
    reporter.snapshot("sae/top_digits", result.pop("_mosaic"), step, force=True)
    for name in ("l0_hist",):
        reporter.snapshot(f"sae/{name}", np.asarray(result[name], dtype=np.float32).reshape(1, -1), step, force=True)
    reporter.snapshot("sae/density", np.asarray(result["density"], dtype=np.float32).reshape(1, -1), step, force=True)
    return result


def evaluate(sae, config: SAEConfig, acts: dict, data, mean, *, top: int = 8, show: int = 16) -> dict:
    """L0, dead / under-used features, normalised MSE and top-activating digits, on full splits.

    Feature Choice and Mutual Choice allocate over a batch: the evaluation codes each split in
    batches of ``batch_size`` (as in training) with capacities from the training density.
    """
    import torch

    with torch.no_grad():
        def encode(x, density):
            bs = min(config.batch_size, len(x))
            out = []
            for i in range(0, len(x), bs):
                chunk = x[i : i + bs]
                caps = capacities_for(len(chunk), config.width, config.k, config.capacity, density) \
                    if config.variant == "feature-choice" else None
                out.append(_codes(sae, chunk, config, caps))
            return torch.cat(out)

        uniform = torch.full((config.width,), 1.0 / config.width)
        z_train = encode(acts["train"], uniform)
        density = (z_train > 0).float().mean(0)
        if config.capacity == "zipf":
            z_train = encode(acts["train"], density)
            density = (z_train > 0).float().mean(0)
        z_test = encode(acts["test"], density)
        l0 = (z_test > 0).sum(1)
        err = nmse(acts["test"], sae.decode(z_test), mean)
    dead = int((density == 0).sum())
    under = int(((density > 0) & (density < 0.1 * config.k / config.width)).sum())
    order = torch.argsort(density, descending=True)
    images = data.x_train.flatten(1).numpy()
    labels = data.y_train.numpy()
    features = []
    for j in order.tolist():
        col = z_train[:, j]
        active = int((col > 0).sum())
        idx = torch.argsort(col, descending=True)[: min(top, active)].tolist()
        features.append({"feature": j, "density": round(float(density[j]), 6), "top_indices": idx,
                         "top_labels": [int(labels[i]) for i in idx]})
    shown = [f["top_indices"] for f in features[:show] if f["top_indices"]] or [[0]]
    hist = np.bincount(l0.numpy(), minlength=config.width + 1)[: max(int(l0.max()) + 1, config.k * 3)]
    return {
        "nmse": round(err, 6),
        "l0_mean": round(float(l0.float().mean()), 4),
        "l0_min": int(l0.min()), "l0_max": int(l0.max()),
        "l0_hist": hist.tolist(),
        "dead_features": dead,
        "underused_features": under,
        "density": [round(float(d), 6) for d in density],
        "features": features,
        "_mosaic": mosaic(images, shown, data.image_shape),
    }


EXPERIMENTS = {"sae": (SAEConfig, run_sae)}
