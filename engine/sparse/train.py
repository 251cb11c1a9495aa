"""The one training loop every sparse method runs in, with the sparsifier's hooks.

One step (``Trainer.train_step``)::

    loss = CE(model(x), y) [+ sparsifier.regularizer()]
    loss.backward()
    sparsifier.after_backward(step)   # dense gradients available (RigL grows here)
    sparsifier.mask_grads()           # pruned weights get a zero gradient, so their moments stay zero
    optimizer.step()                  # ... and Adam / SGD (+ momentum, weight decay) leave them at 0
    sparsifier.after_step(step)       # schedules (GMP), SET with update="steps", IMP's rewind point

and after each epoch's metrics ``sparsifier.end_of_epoch(step)`` where a method has one (SET evolves
its masks there, Mocanu et al. 2018).

Pruned weights stay exactly zero without a second multiply after ``optimizer.step()``: their
gradient is zero and so are their optimizer moments (``set_masks`` zeroes the moments of every
weight whose mask flips and zeroes newly pruned weights), so Adam's update ``m / (√v + ε)`` and
SGD's ``momentum · buf + g + λ w`` are exactly 0 there. That saves one pass over every masked
weight per step (``bench/sparse_step.py`` measures the masked step against a dense one);
``test_pruned_weights_stay_exactly_zero_through_every_optimizer_step`` checks the claim for Adam and
SGD with momentum and weight decay, while masks change.

Batches are drawn by tensor indexing with a seeded generator (no DataLoader: it costs more than
the step on digits). Per epoch it reports ``train/loss``, ``train/accuracy``, ``val/accuracy``,
``sparsity`` and ``density/<fqn>``; mask snapshots ``mask/<fqn>`` whenever a mask changes.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.errors import RunDiverged
from engine.sparse.data import Splits
from engine.sparse.masks import as_2d


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 2048) -> float:
    """Top-1 accuracy of ``model`` on (x, y), in eval mode, in chunks."""
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), chunk):
        correct += int((model(x[i : i + chunk]).argmax(1) == y[i : i + chunk]).sum())
    model.train(was)
    return correct / max(len(x), 1)


def make_optimizer(model: nn.Module, name: str, lr: float, momentum: float, weight_decay: float):
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=True)
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay, foreach=True)


class Trainer:
    """Trains ``model`` under ``sparsifier`` on ``data``; ``config`` is a :class:`SparseConfig`."""

    def __init__(self, model: nn.Module, sparsifier, data: Splits, config, reporter) -> None:
        self.model, self.sparsifier, self.data, self.config, self.reporter = model, sparsifier, data, config, reporter
        self.batch_size = min(config.batch_size, len(data.x_train))
        self.steps_per_epoch = max(1, len(data.x_train) // self.batch_size)  # drop the ragged last batch
        self.total_steps = sparsifier.total_epochs(config.epochs, config.finetune_epochs) * self.steps_per_epoch
        self.step = 0
        self.stopped = False
        self.generator = torch.Generator().manual_seed(config.seed)
        self.lr = config.lr
        self.reset_optimizer()
        self._snap_version = -1
        self.loss_fn = nn.CrossEntropyLoss()
        self.phase = ""
        self.train_flops = 0.0  # training FLOPs estimate (count_flops), reported as result["train_flops"]
        self._macs, self._flops_version, self._step_flops = None, None, 0.0

    def reset_optimizer(self, lr: float | None = None, weight_decay: float | None = None) -> None:
        """A fresh optimizer (IMP rounds, soup ingredients); the sparsifier resets moments through it."""
        c = self.config
        self.lr = c.lr if lr is None else lr
        wd = c.weight_decay if weight_decay is None else weight_decay
        self.optimizer = make_optimizer(self.model, c.optimizer, self.lr, c.momentum, wd)
        self.sparsifier.optimizer = self.optimizer

    def val_accuracy(self) -> float:
        """Accuracy of the current model on the validation split."""
        return accuracy(self.model, self.data.x_val, self.data.y_val)

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One masked step; returns (loss, logits) detached."""
        sp, opt = self.sparsifier, self.optimizer
        logits = self.model(x)  # (B, classes)
        loss = self.loss_fn(logits, y)
        reg = sp.regularizer()
        opt.zero_grad(set_to_none=True)
        (loss if reg is None else loss + reg).backward()
        sp.after_backward(self.step)
        sp.mask_grads()
        opt.step()  # pruned weights: zero gradient and zero moments, so they stay exactly 0 (module doc)
        sp.after_step(self.step)
        return loss.detach(), logits.detach()

    def train(self, epochs: int, *, phase: str) -> bool:
        """Train ``epochs`` epochs; False when the user cancelled (``self.stopped``)."""
        if self.stopped:
            return False
        if phase != self.phase:
            self.phase = phase
            self.reporter.log(f"{phase}: {epochs} epoch(s) from step {self.step}")
        x_all, y_all, bs = self.data.x_train, self.data.y_train, self.batch_size
        self.model.train()
        for _ in range(epochs):
            perm = torch.randperm(len(x_all), generator=self.generator)
            loss_sum, correct, seen = 0.0, 0, 0
            for b in range(self.steps_per_epoch):
                if self.reporter.should_stop():
                    self.stopped = True
                    self.reporter.log(f"Stopped by the user at step {self.step}.")
                    return False
                idx = perm[b * bs : (b + 1) * bs]
                x, y = x_all[idx], y_all[idx]
                loss, logits = self.train_step(x, y)
                self.count_flops(len(y))
                value = float(loss)
                if not np.isfinite(value):
                    if seen:
                        self.reporter.metric("train/loss", loss_sum / seen, self.step)
                    raise RunDiverged(
                        f"Training diverged: the loss became {value} at step {self.step} ({phase}). "
                        f"Try a smaller learning rate than {self.lr:g}; the curves so far are kept."
                    )
                loss_sum += value * len(y)
                correct += int((logits.argmax(1) == y).sum())
                seen += len(y)
                self.step += 1
                self.reporter.progress(self.step, self.total_steps)
                if self.sparsifier.version != self._snap_version:
                    self.snapshot_masks()
            self.end_epoch(loss_sum / max(seen, 1), correct / max(seen, 1))
            hook = getattr(self.sparsifier, "end_of_epoch", None)
            if hook is not None:
                hook(self.step)  # SET evolves its masks after every epoch (Mocanu et al. 2018)
                if self.sparsifier.version != self._snap_version:
                    self.snapshot_masks()
        return True

    def forward_flops(self) -> float:
        """FLOPs of one example's forward pass under the current masks: 2 · Σ MACs_l · density_l."""
        if self._macs is None:
            from engine.sparse.models import layer_flops

            self._macs = layer_flops(self.model, self.data.x_train[:1])
        dens = self.sparsifier.densities() if self.sparsifier.groups else {}
        return 2.0 * sum(m * dens.get(f, 1.0) for f, m in self._macs.items())

    def count_flops(self, batch: int) -> None:
        """Add one step's training FLOPs: 3 × the masked forward FLOPs per example (the backward pass
        costs about twice the forward; the convention of Evci et al. 2020, App. H). Not counted: the
        occasional dense gradient of RigL's updates and the scoring passes of pruning at init."""
        if self._flops_version != self.sparsifier.version:
            self._step_flops = 3.0 * self.forward_flops()
            self._flops_version = self.sparsifier.version
        self.train_flops += self._step_flops * batch

    def end_epoch(self, train_loss: float, train_acc: float) -> None:
        r, s = self.reporter, self.step
        r.metric("train/loss", train_loss, s)
        r.metric("train/accuracy", train_acc, s)
        r.metric("val/accuracy", accuracy(self.model, self.data.x_val, self.data.y_val), s)
        r.metric("sparsity", self.sparsifier.sparsity(), s)
        for fqn, d in self.sparsifier.densities().items():
            r.metric(f"density/{fqn}", d, s)
        for fqn in self.sparsifier.fqns:
            w = self.sparsifier.weight(fqn).detach()
            r.snapshot(f"weight/{fqn}", as_2d(w).numpy().astype(np.float32), s)
        if self.data.image_shape is None and self.data.n_features == 2:
            r.snapshot("boundary", decision_grid(self.model, self.data), s)

    def snapshot_masks(self, *, force: bool = False) -> None:
        self._snap_version = self.sparsifier.version
        for fqn, m in self.sparsifier.masks().items():
            self.reporter.snapshot(f"mask/{fqn}", as_2d(m).numpy().astype(np.uint8), self.step, force=force)


def grid_extent(data: Splits) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max) of the training points, with a margin."""
    x = data.x_train.numpy()
    lo, hi = x.min(0), x.max(0)
    pad = 0.1 * (hi - lo)
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


@torch.no_grad()
def decision_grid(model: nn.Module, data: Splits, size: int = 64) -> np.ndarray:
    """P(class 1) (binary) or predicted class (multi-class) on a size×size grid over the data (rows = y)."""
    x0, x1, y0, y1 = grid_extent(data)
    gx, gy = torch.meshgrid(torch.linspace(x0, x1, size), torch.linspace(y0, y1, size), indexing="xy")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)  # (size², 2)
    was = model.training
    model.eval()
    logits = model(pts)
    model.train(was)
    out = logits.softmax(1)[:, 1] if logits.shape[1] == 2 else logits.argmax(1).float()
    return out.reshape(size, size).numpy().astype(np.float32)
