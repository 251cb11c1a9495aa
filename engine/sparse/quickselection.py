"""QuickSelection (Atashgahi et al., Machine Learning 2022, "Quick and Robust Feature Selection: the
Strength of Energy-efficient Sparse Training for Autoencoders"): unsupervised feature selection with
a sparse denoising autoencoder trained by SET.

* The autoencoder: ``x̃ = x + noise·N(0, 1)`` → hidden (sigmoid) → reconstruction (linear), MSE to
  the clean ``x``, SGD with momentum; both layers sparse from the start with Erdős–Rényi densities
  ``ε (n_in + n_out) / (n_in n_out)`` and evolved by SET after every epoch (drop ζ of the positive
  and ζ of the negative weights nearest zero, regrow as many at random; ``engine.sparse.methods.dst``).
* Feature importance: the *strength* of each input neuron, ``s_i = Σ_j |W_enc[j, i]|`` over its
  (sparse) connections; the ``K`` strongest inputs are selected.
* Evaluation (supervised, after the unsupervised selection): an ExtraTrees classifier on the K
  selected features, against all features, K random features and K chosen by scikit-learn's
  ``SelectKBest(mutual_info_classif)``, same train / test split, same classifier.

Simplifications against the paper: the hidden layer is small (200 units for digits), training is 30
epochs at learning rate 0.1 instead of the paper's 100 at 0.01 (on digits, 0.01 selected features
barely better than random: ExtraTrees 0.883 against 0.958 at 0.1, seed 0, K = 16,
``bench/quickselection.py``), and the paper's other evaluation classifiers are not run.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.config import Config, require
from engine import limits
from engine.limits import bounded

QS_DATASETS = ("digits", "mnist", "fashion-mnist")
N_FEATURES = {"digits": 64, "mnist": 784, "fashion-mnist": 784}


@dataclass(frozen=True)
class QuickSelectionConfig(Config):
    """One QuickSelection run."""

    k_features: int = 16  # K: input features (pixels) selected
    hidden_units: int = 200  # hidden units of the autoencoder
    epsilon: float = 13.0  # ε: Erdős–Rényi sparsity level (paper: 13)
    zeta: float = 0.2  # ζ: fraction of weights SET removes and regrows each epoch (paper: 0.2)
    noise: float = 0.2  # noise factor of the denoising autoencoder (paper: 0.2)
    epochs: int = 30
    lr: float = 0.1  # SGD learning rate, momentum 0.9 (paper: 0.01 over 100 epochs; 0.1 here for 30 epochs)
    batch_size: int = 64
    dataset: str = "digits"
    data_path: str = ""
    max_train: int = 5000
    seed: int = 0

    def validate(self) -> None:
        require(self.dataset in QS_DATASETS, f"QuickSelection reads images: dataset must be one of {', '.join(QS_DATASETS)}.")
        n = N_FEATURES[self.dataset]
        require(1 <= self.k_features < n, f"K must be at least 1 and smaller than the {n} input features "
                                          f"(got K = {self.k_features}).")
        require(self.hidden_units >= 2, "The autoencoder needs at least 2 hidden units.")
        require(self.epsilon > 0, "ε must be positive.")
        require(0 < self.zeta < 1, "ζ must be in (0, 1).")
        require(self.noise >= 0, "The noise factor cannot be negative.")
        require(self.epochs >= 1 and self.lr > 0 and self.batch_size >= 1, "Epochs, learning rate and batch size must be positive.")
        require(self.dataset == "digits" or bool(self.data_path.strip()),
                f"{self.dataset} is read from IDX files: give the folder that holds them (data path).")
        # size bounds (engine/limits.py): fixed caps, then the memory / time estimate
        bounded("Hidden units", self.hidden_units, 2, limits.MAX_WIDTH)
        bounded("Epochs", self.epochs, 1, limits.MAX_EPOCHS)
        bounded("Batch size", self.batch_size, 1, limits.MAX_BATCH)
        bounded("Training images kept (max train)", self.max_train, 0, limits.MAX_TRAIN)
        weights = 2 * n * self.hidden_units  # the dense-equivalent autoencoder (an upper estimate)
        limits.check_budget(macs_per_sample=weights, weights=weights, samples=self.max_train or limits.MAX_TRAIN,
                            epochs=self.epochs, what="this QuickSelection run")


def er_density(n_in: int, n_out: int, epsilon: float) -> float:
    """Erdős–Rényi density of a layer, ``ε (n_in + n_out) / (n_in n_out)`` capped at 1 (Mocanu et al. 2018).

    >>> round(er_density(64, 200, 13), 4)
    0.2681
    """
    return min(1.0, epsilon * (n_in + n_out) / (n_in * n_out))


def input_strength(encoder_weight) -> np.ndarray:
    """Strength of each input neuron: ``Σ_j |W[j, i]|`` over the encoder's rows (its connections).

    >>> input_strength(np.array([[1.0, -2.0, 0.0], [0.5, 0.0, 0.0]])).tolist()
    [1.5, 2.0, 0.0]
    """
    return np.abs(np.asarray(encoder_weight)).sum(axis=0)


def select(strength: np.ndarray, k: int) -> list[int]:
    """The ``k`` strongest inputs, strongest first (ties: lower index first).

    >>> select(np.array([0.1, 3.0, 2.0, 3.0]), 2)
    [1, 3]
    """
    return [int(i) for i in np.argsort(-np.asarray(strength), kind="stable")[:k]]


def downstream(x_train, y_train, x_test, y_test, features, seed: int) -> float:
    """Test accuracy of an ExtraTrees classifier (100 trees) on the given feature columns."""
    from sklearn.ensemble import ExtraTreesClassifier

    clf = ExtraTreesClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    clf.fit(x_train[:, features], y_train)
    return float(clf.score(x_test[:, features], y_test))


def run_quickselection(config: QuickSelectionConfig, reporter) -> dict:
    return _run(config, reporter)   # torch's threads: the worker's policy (engine/runs/threads.py)


class _Clock:
    """What SET's schedule reads from a trainer."""

    def __init__(self, total_steps: int, steps_per_epoch: int) -> None:
        self.total_steps, self.steps_per_epoch = total_steps, steps_per_epoch


def _run(config: QuickSelectionConfig, reporter) -> dict:
    import torch
    from torch import nn

    from engine.sparse.data import load
    from engine.sparse.methods.dst import SETSparsifier

    t0 = time.perf_counter()
    torch.manual_seed(config.seed)
    data = load(config.dataset, seed=config.seed, data_path=config.data_path, max_train=config.max_train)
    x_train = data.x_train.flatten(1)
    n_in = x_train.shape[1]
    model = nn.Sequential(nn.Linear(n_in, config.hidden_units), nn.Sigmoid(), nn.Linear(config.hidden_units, n_in))
    density = er_density(n_in, config.hidden_units, config.epsilon)
    sp = SETSparsifier(sparsity=1.0 - density, distribution="erk", zeta=config.zeta)
    sp.seed = config.seed
    sp.prepare(model)  # 0.weight (encoder) and 2.weight (decoder)
    bs = min(config.batch_size, len(x_train))
    spe = max(1, len(x_train) // bs)
    total = config.epochs * spe
    sp.on_train_begin(_Clock(total, spe))
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
    sp.optimizer = opt
    gen = torch.Generator().manual_seed(config.seed)
    step, stopped, densities = 0, False, []
    shape = data.image_shape
    for epoch in range(config.epochs):
        perm = torch.randperm(len(x_train), generator=gen)
        loss_sum = 0.0
        for b in range(spe):
            if reporter.should_stop():
                stopped = True
                break
            x = x_train[perm[b * bs : (b + 1) * bs]]
            noisy = x + config.noise * torch.randn(x.shape, generator=gen)
            loss = ((model(noisy) - x) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            sp.mask_grads()
            opt.step()
            loss_sum += float(loss.detach())
            step += 1
            reporter.progress(step, total)
        if stopped:
            reporter.log(f"Stopped by the user at step {step}.")
            break
        sp.end_of_epoch(step)  # SET: drop and regrow ζ, every epoch but the last
        densities.append(round(float(sp.mask("0.weight").float().mean()), 6))
        strength = input_strength(model[0].weight.detach().numpy())
        reporter.metric("qs/reconstruction_mse", loss_sum / spe, step)
        reporter.snapshot("qs/strength", strength.reshape(shape).astype(np.float32), step)
    strength = input_strength(model[0].weight.detach().numpy())
    chosen = select(strength, config.k_features)
    reporter.snapshot("qs/strength", strength.reshape(shape).astype(np.float32), step, force=True)
    picked = np.zeros(n_in, dtype=np.float32)
    picked[chosen] = 1.0
    reporter.snapshot("qs/selected", picked.reshape(shape), step, force=True)

    xtr, ytr = x_train.numpy(), data.y_train.numpy()
    xte, yte = data.x_test.flatten(1).numpy(), data.y_test.numpy()
    rng = np.random.default_rng(config.seed)
    random_k = sorted(int(i) for i in rng.choice(n_in, config.k_features, replace=False))
    from sklearn.feature_selection import SelectKBest, mutual_info_classif

    def mi(xs, ys):
        return mutual_info_classif(xs, ys, random_state=config.seed)

    kbest = [int(i) for i in np.flatnonzero(SelectKBest(mi, k=config.k_features).fit(xtr, ytr).get_support())]
    accuracy = {
        "quickselection": downstream(xtr, ytr, xte, yte, chosen, config.seed),
        "all features": downstream(xtr, ytr, xte, yte, list(range(n_in)), config.seed),
        "random K": downstream(xtr, ytr, xte, yte, random_k, config.seed),
        "mutual information (SelectKBest)": downstream(xtr, ytr, xte, yte, kbest, config.seed),
    }
    reporter.log("Downstream ExtraTrees accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in accuracy.items()) + ".")
    return {
        "dataset": config.dataset, "seed": config.seed, "k_features": config.k_features,
        "selected": chosen, "strength": [round(float(s), 6) for s in strength],
        "random_selected": random_k, "mutual_info_selected": kbest,
        "accuracy": accuracy, "test_accuracy": accuracy["quickselection"],
        "encoder_density_by_epoch": densities, "er_density": round(density, 6),
        "image_shape": list(shape), "steps": step, "stopped": stopped,
        "seconds": round(time.perf_counter() - t0, 3),
    }


EXPERIMENTS = {"quickselection": (QuickSelectionConfig, run_quickselection)}
