"""StackVAE-G: a channel-stacked VAE with a learned sparse channel graph.

Li, Hu, Chen, Chen, Feng, "StackVAE-G: An efficient and interpretable model for time series
anomaly detection", AI Open 3 (2022). Implemented after the authors' released code
(``GraphVAEv4``), written anew here.

* **Stacked VAE (Sec. 3.2).** A sliding window of length ``w`` is cut into one row per channel,
  ``x`` of shape (B, n, w). One VAE with the *same weights for every channel* encodes each row:
  ``w -> 200 -> 200`` (ReLU) ``-> 20`` (the latent "H" of each channel), then heads for the
  posterior mean and log-variance ``20 -> 20``; the decoder maps ``z`` through ``20 -> 200 -> 200``
  (ReLU) to heads for the mean and log-variance of the window, ``200 -> w``. The size therefore
  does not grow with the number of channels, except for the node embedding (n x 30).
* **Graph learning (Sec. 3.3).** Node embeddings ``E`` (n x 30), ``M = tanh(alpha * Lin(E))``,
  ``A0 = ReLU(alpha * tanh(M M^T))``, keep the top-k entries of each row, add self-loops and
  row-normalise: ``A~``. The paper writes ``ReLU(tanh(alpha M M^T))``; the released code puts
  alpha outside the tanh, which we follow (it sets how strongly neighbours weigh against the
  self-loop before normalising).
* **What the learned graph can and cannot recover.** A pair whose similarity ``M M^T`` is
  negative sits in the ReLU's flat zone: weight exactly 0 and no gradient; it comes back only if
  the two embeddings move for other reasons. The graph loss below charges an edge by how unlike its
  two channels are, so it removes false edges first, but it is smallest at ``A~ = I`` and keeps
  pressing on true edges too. Measured on the synthetic series (bench/stackvaeg_synthetic.py, 12
  channels in 3 groups, seeds 0-2): with the released start (``nn.Embedding``'s N(0, 1), which
  saturates ``tanh(alpha Lin(E))`` and then ``tanh(M M^T)``) the graph barely moves except that
  false edges die; true edges that start at 0 stay there, and AUROC of ``|A~|`` against the true
  graph ends at 0.86 / 0.76 / 0.77 after 30 epochs and 0.88 / 0.77 / 0.87 after the released 256.
  A sparser truth does not help: 38 channels (SMD's width) in 4 groups, k = 10, give 0.72 / 0.62 /
  0.72 after 30 epochs.
  ``node_init_std`` (not a setting of the paper) scales that start: from N(0, 0.1^2) every pair
  begins alive, unrelated pairs are pruned and the groups appear exactly (AUROC 1.00 at epoch 2-3
  for all three seeds), then the same loss erodes the true edges (0.53-0.56 after 30 epochs).
  |correlation| recovers the groups exactly (AUROC 1.0).
* **The graph-faithful variant (``variant="graph"``; this project's change, not the paper's).**
  Two changes, measured together on the same synthetic series (issue #14): (a) the graph loss
  leaves each channel out of its own reconstruction, ``||X - A_o X||^2`` with ``A_o`` the top-k
  ReLU graph *without* its diagonal, row-renormalised (the ``(A~ - diag)`` renormalised without
  the self-loop; a row with no neighbour is zero), so the loss is no longer smallest at
  ``A~ = I`` and it pays to keep the neighbours that explain a channel; (b) a small node-embedding
  start N(0, 0.1^2) (``node_init_std`` left at its released 1.0 means 0.1 for this variant), so
  every pair starts alive instead of half of them in the ReLU's flat zone. Either alone does not
  help (0.54 / 0.81 mean AUROC, 12 channels, 30 epochs); together the groups are recovered (0.99).
  Propagation, the reconstruction and KL terms, the score and the parameter count are unchanged
  (151,930 for 38 channels). ``variant="released"`` (the default) is the authors' model.
* **Propagation.** ``H' = (1 - gamma) H + gamma A~ H`` mixes each channel's latent with its
  neighbours' before the mean / log-variance heads.
* **Loss.** ``||x - x_hat||^2 + KL(q(z|x) || N(0, I)) + ||x - A~ x||^2`` per window, averaged over
  the batch, where ``x_hat`` is a reparameterised sample of the decoder's Gaussian (as in the
  released code, so the reconstruction term is a squared error, not a Gaussian likelihood).
* **Score (Sec. 3.4).** ``s_t = sum_i (x_{i,t} - x^_{i,t})^2`` with ``x^`` the decoder mean at the
  last step of the window ending at t, decoded from the posterior mean of z (the released code
  averages 200 samples of z, a Monte-Carlo estimate of that mean). The first ``w - 1`` rows have
  no window ending at them; they are scored from the first window's reconstruction.

Unlike scikit-learn's outlier detectors, a *higher* ``score_samples`` means *more* anomalous.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from torch import nn

from engine.anomaly import kernels as K
from engine.config import require
from engine.errors import DataError, RunDiverged
from engine.runs.reporter import Reporter


def count_parameters(n_channels: int, *, window: int = 100, hidden: int = 200, latent: int = 20,
                     node_dim: int = 30) -> int:
    """Trainable parameters of StackVAE-G: shared weights plus ``node_dim`` per channel.

    >>> count_parameters(38)
    151930
    >>> count_parameters(38) - count_parameters(37)
    30
    """
    lin = lambda i, o: i * o + o  # noqa: E731  (weight + bias)
    encoder = lin(window, hidden) + lin(hidden, hidden) + lin(hidden, latent)
    heads_z = 2 * lin(latent, latent)
    decoder = lin(latent, hidden) + lin(hidden, hidden)
    heads_x = 2 * lin(hidden, window)
    graph = lin(node_dim, node_dim)
    return encoder + heads_z + decoder + heads_x + graph + n_channels * node_dim


VARIANTS = ("released", "graph")
KERNELS = ("fast", "reference")  # training arithmetic: same math, see engine.anomaly.kernels
GRAPH_VARIANT_INIT_STD = 0.1  # the graph-faithful variant's node-embedding start


def _topk_relu(s: torch.Tensor, alpha: float, k: int) -> torch.Tensor:
    a0 = F.relu(alpha * torch.tanh(s))  # (n, n), symmetric, >= 0
    return a0 * K.topk_mask(a0, k)


def graph_from_similarity(s: torch.Tensor, alpha: float, k: int) -> torch.Tensor:
    """A~ from the similarity S = M M^T: A0 = ReLU(alpha tanh(S)), top-k per row, self-loops,
    row-normalised. Entries with S <= 0 are exactly 0 and pass no gradient back to S."""
    a = _topk_relu(s, alpha, k) + torch.eye(len(s), dtype=s.dtype)
    return a / a.sum(dim=1, keepdim=True)


def leave_one_out_graph(s: torch.Tensor, alpha: float, k: int) -> torch.Tensor:
    """The graph-faithful variant's loss graph: the same top-k A0 with its diagonal removed and
    each row renormalised without a self-loop (a row with no neighbour stays 0).

    >>> s = torch.tensor([[1.0, 0.5, -1.0], [0.5, 1.0, -1.0], [-1.0, -1.0, 1.0]])
    >>> leave_one_out_graph(s, 3.0, 2).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    a = _topk_relu(s, alpha, k) * (1.0 - torch.eye(len(s), dtype=s.dtype))
    return a / a.sum(dim=1, keepdim=True).clamp_min(1e-12)


class StackVAEGModule(nn.Module):
    """The network; inputs are windows of shape (B, n, w)."""

    def __init__(self, n_channels: int, window: int, hidden: int, latent: int, node_dim: int,
                 k: int, alpha: float, gamma: float, node_init_std: float = 1.0,
                 variant: str = "released") -> None:
        super().__init__()
        self.variant = variant
        self.n, self.k, self.alpha, self.gamma = n_channels, min(k, n_channels), alpha, gamma
        self.encoder = nn.Sequential(nn.Linear(window, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, latent))  # -> H, one row per channel
        self.z_mean = nn.Linear(latent, latent)
        self.z_logvar = nn.Linear(latent, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU())
        self.x_mean = nn.Linear(hidden, window)
        self.x_logvar = nn.Linear(hidden, window)
        self.node_emb = nn.Embedding(n_channels, node_dim)  # PyTorch's N(0, 1), as released
        self.emb_lin = nn.Linear(node_dim, node_dim)
        if node_init_std != 1.0:  # rescale the same draw: N(0, std^2); the rest of the start is unchanged
            with torch.no_grad():
                self.node_emb.weight.mul_(node_init_std)

    def similarity(self) -> torch.Tensor:
        """M M^T with M = tanh(alpha Lin(E)): the embeddings' pairwise similarity (n, n)."""
        m = torch.tanh(self.alpha * self.emb_lin(self.node_emb.weight))  # (n, d)
        return m @ m.T

    def adjacency(self) -> torch.Tensor:
        """A~: top-k, self-looped, row-normalised learned adjacency (n, n)."""
        return graph_from_similarity(self.similarity(), self.alpha, self.k)

    def encode(self, x: torch.Tensor, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)  # (B, n, latent)
        h = (1.0 - self.gamma) * h + self.gamma * torch.matmul(adj, h)  # H' = (1-g)H + g A~H
        return self.z_mean(h), self.z_logvar(h)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.decoder(z)
        return self.x_mean(d), self.x_logvar(d)  # (B, n, w) each

    def losses(self, x: torch.Tensor, gens: torch.Generator | list[torch.Generator]) -> dict[str, torch.Tensor]:
        """Reconstruction, KL and graph loss of one batch (each a per-window sum, batch mean), by
        autograd. The random draws come chunk by chunk (:func:`engine.anomaly.kernels.chunk_noise`,
        chunk c from ``gens[c]``; one generator serves all chunks), exactly as the fast kernels
        draw them."""
        bsz, n, w = x.shape
        lat = self.z_mean.out_features
        gens = [gens] * K.N_CHUNKS if isinstance(gens, torch.Generator) else gens
        draws = [K.chunk_noise(g, (b - a) * n, lat, w) for (a, b), g in zip(K.chunk_bounds(bsz), gens)]
        eps_z = torch.cat([ez.view(lat, -1, n).permute(1, 2, 0) for ez, _ in draws])  # (B, n, latent)
        eps = torch.cat([e.view(w, -1, n).permute(1, 2, 0) for _, e in draws])  # (B, n, w)
        adj = self.adjacency()
        mu, logvar = self.encode(x, adj)
        z = mu + torch.exp(0.5 * logvar) * eps_z
        x_mu, x_logvar = self.decode(z)
        x_hat = x_mu + torch.exp(0.5 * x_logvar) * eps
        recon = (x_hat - x).pow(2).sum(dim=(1, 2)).mean()
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(dim=(1, 2)).mean()
        if self.variant == "graph":  # this project's change: no channel explains itself
            loo = leave_one_out_graph(self.similarity(), self.alpha, self.k)
            graph = (x - torch.matmul(loo, x)).pow(2).sum(dim=(1, 2)).mean()  # ||X - A_o X||^2
        else:
            graph = (x - torch.matmul(adj, x)).pow(2).sum(dim=(1, 2)).mean()  # ||X - A~X||^2
        return {"recon": recon, "kl": kl, "graph": graph}

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decoder mean from the posterior mean of z: (B, n, w)."""
        mu, _ = self.encode(x, self.adjacency())
        return self.decode(mu)[0]

    @torch.no_grad()
    def reconstruct_last(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """Last step of the decoder mean only, (B, n): what the score needs. Same numbers as
        ``reconstruct(x)[..., -1]`` but skips the other w - 1 outputs and the variance head."""
        mu, _ = self.encode(x, adj)
        d = self.decoder(mu)  # (B, n, hidden)
        return d @ self.x_mean.weight[-1] + self.x_mean.bias[-1]


class StackVAEG(BaseEstimator):
    """StackVAE-G anomaly detector, scikit-learn style.

    ``StackVAEG(window=100, epochs=256).fit(X_train)`` learns from an array of shape
    (time, channels); ``score_samples(X)`` gives one anomaly score per row (higher = more
    anomalous), ``channel_scores(X)`` the per-channel squared errors, ``adjacency_`` the learned
    (n, n) row-normalised graph. The defaults are the released setting (256 epochs); shorter runs
    are the caller's choice. ``train_stride > 1`` trains on every s-th window (a speed-up that is
    not in the paper). ``node_init_std`` scales the node embeddings' start (1 = PyTorch's N(0, 1),
    as released; see the module docstring for what a small start shows). ``variant`` is
    ``"released"`` (the authors' model) or ``"graph"`` (this project's graph-faithful variant:
    leave-one-out graph loss and, with ``node_init_std`` at 1, a N(0, 0.1^2) start; see the module
    docstring). ``kernels`` chooses how training is computed, not what: ``"fast"`` (default)
    trains with :class:`engine.anomaly.kernels.FastTrainer` (hand-written float32 gradients on
    oneDNN, each batch in two fixed chunks that run on two threads when torch has two, one fused
    Adam over a flat parameter vector; bench/stackvaeg_smd.py --speed), ``"reference"`` with plain
    autograd on :meth:`StackVAEGModule.losses` and ``torch.optim.Adam``. Both draw the same random
    numbers (one stream per chunk of a batch) and give the same losses, gradients and update to
    float32 rounding; over many steps the rounding lets two runs drift apart as two seeds would not
    (tests/engine/anomaly/test_kernels.py). The fast path gives identical numbers at 1 and 2
    threads. ``fit(X, reporter=...)`` streams losses
    and adjacency snapshots.
    """

    def __init__(self, *, window: int = 100, hidden: int = 200, latent: int = 20,
                 node_dim: int = 30, k: int = 10, alpha: float = 3.0, gamma: float = 0.5,
                 graph_weight: float = 1.0, epochs: int = 256, batch_size: int = 64,
                 lr: float = 1e-3, weight_decay: float = 1e-3, lr_decay: float = 0.8,
                 lr_step: int = 10, clip_norm: float = 12.0, train_stride: int = 1,
                 node_init_std: float = 1.0, snapshot_every: int = 20, seed: int = 0,
                 variant: str = "released", kernels: str = "fast") -> None:
        self.window, self.hidden, self.latent, self.node_dim = window, hidden, latent, node_dim
        self.k, self.alpha, self.gamma, self.graph_weight = k, alpha, gamma, graph_weight
        self.epochs, self.batch_size, self.lr, self.weight_decay = epochs, batch_size, lr, weight_decay
        self.lr_decay, self.lr_step, self.clip_norm = lr_decay, lr_step, clip_norm
        self.train_stride, self.snapshot_every, self.seed = train_stride, snapshot_every, seed
        self.node_init_std, self.variant, self.kernels = node_init_std, variant, kernels

    def init_std(self) -> float:
        """The node-embedding start actually used: ``node_init_std``, except that the graph variant
        with the released 1.0 starts at :data:`GRAPH_VARIANT_INIT_STD`.

        >>> StackVAEG().init_std(), StackVAEG(variant="graph").init_std(), StackVAEG(variant="graph", node_init_std=0.5).init_std()
        (1.0, 0.1, 0.5)
        """
        if self.variant == "graph" and self.node_init_std == 1.0:
            return GRAPH_VARIANT_INIT_STD
        return float(self.node_init_std)

    # ---------------------------------------------------------------- validation
    def _validate_params(self) -> None:
        for name in ("window", "hidden", "latent", "node_dim", "k", "batch_size", "lr_step",
                     "train_stride", "snapshot_every"):
            v = getattr(self, name)
            require(isinstance(v, (int, np.integer)) and v >= 1, f"{name} must be a whole number >= 1 (got {v!r}).")
        require(self.window >= 2, f"window must be at least 2 time steps (got {self.window}).")
        require(isinstance(self.epochs, (int, np.integer)) and self.epochs >= 0,
                f"epochs must be a whole number >= 0 (got {self.epochs!r}).")
        require(0.0 <= self.gamma <= 1.0, f"gamma (neighbour mixing) must lie in [0, 1] (got {self.gamma}).")
        require(self.alpha > 0, f"alpha must be positive (got {self.alpha}).")
        require(self.graph_weight >= 0, f"graph_weight must be >= 0 (got {self.graph_weight}).")
        require(self.lr > 0 and self.weight_decay >= 0, "lr must be > 0 and weight_decay >= 0.")
        require(0 < self.lr_decay <= 1, f"lr_decay must lie in (0, 1] (got {self.lr_decay}).")
        require(self.clip_norm > 0, f"clip_norm must be > 0 (got {self.clip_norm}).")
        require(0.0 <= self.node_init_std <= 10.0,
                f"node_init_std must lie in [0, 10] (got {self.node_init_std}).")
        require(self.variant in VARIANTS, f"variant must be one of {', '.join(VARIANTS)} (got {self.variant!r}).")
        require(self.kernels in KERNELS, f"kernels must be one of {', '.join(KERNELS)} (got {self.kernels!r}).")

    def _check_X(self, X: Any, fitted: bool) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise DataError(f"Expected a 2-D array (time, channels); got shape {X.shape}.")
        if not np.isfinite(X).all():
            raise DataError("The series contains NaN or infinite values; repair it first "
                            "(engine.anomaly.datasets.clean forward-fills them).")
        if X.shape[0] < self.window:
            raise DataError(f"The series has {X.shape[0]} rows, fewer than the window of "
                            f"{self.window}; use a window of at most {X.shape[0]}.")
        if fitted and X.shape[1] != self.n_channels_:
            raise DataError(f"The model was fitted on {self.n_channels_} channels; got {X.shape[1]}.")
        return X

    # ---------------------------------------------------------------- training
    def fit(self, X: Any, y: Any = None, *, reporter: Reporter | None = None) -> "StackVAEG":
        """Train on X (time, channels); y is ignored. Returns self.

        Reports ``train/loss``, ``train/recon``, ``train/kl``, ``train/graph`` per epoch (step =
        epoch), progress per batch, ``adjacency`` snapshots (step = batch) before training, every
        ``snapshot_every`` batches, after each epoch (just before its losses) and, forced, at the
        end. When ``reporter.should_stop()`` turns True, training stops after the
        current batch and the model keeps what it learned (``stopped_early_``).
        """
        self._validate_params()
        X = self._check_X(X, fitted=False)
        n = X.shape[1]
        rng = np.random.default_rng(int(self.seed))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            module = StackVAEGModule(n, self.window, self.hidden, self.latent, self.node_dim,
                                     self.k, float(self.alpha), float(self.gamma),
                                     self.init_std(), self.variant)
        self.module_, self.n_channels_ = module, n
        self.n_params_ = sum(p.numel() for p in module.parameters())
        self.history_: list[dict[str, float]] = []
        self.stopped_early_ = False

        fast = self.kernels == "fast"
        gens = K.chunk_generators(int(self.seed))  # one random stream per chunk of a batch, both kernels
        windows = torch.from_numpy(X).unfold(0, self.window, 1)  # (T-w+1, n, w), a view
        starts = np.arange(0, windows.shape[0], self.train_stride)
        n_batches = max(1, len(starts) // self.batch_size)  # last partial batch dropped, as released
        total = self.epochs * n_batches
        trainer = None
        if fast:  # the windows time-major, (w, T-w+1, n): a batch by_time[:, idx] is B contiguous blocks
            by_time = torch.from_numpy(np.ascontiguousarray(X)).as_strided((self.window, windows.shape[0], n), (n, n, 1))
            trainer = K.FastTrainer(module, by_time, seed=int(self.seed), lr=self.lr, weight_decay=self.weight_decay,
                                    clip_norm=self.clip_norm, graph_weight=self.graph_weight,
                                    batch=self.batch_size, threads=torch.get_num_threads())
            opt = trainer.opt
        else:
            opt = torch.optim.Adam(module.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=self.lr_step, gamma=self.lr_decay)
        step, seconds, seen = 0, 0.0, 0
        if reporter is not None:
            reporter.snapshot("adjacency", self._adjacency_np(), 0)  # the graph before training
        module.train()
        try:
            for epoch in range(1, self.epochs + 1):
                t0 = time.perf_counter()
                order = rng.permutation(starts)
                batches = [torch.from_numpy(order[b * self.batch_size:(b + 1) * self.batch_size])
                           for b in range(n_batches)]
                sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "graph": 0.0}
                done = 0
                ready = trainer.prepare(batches[0]) if trainer is not None else None

                def check(loss: float) -> None:
                    if not math.isfinite(loss):
                        raise RunDiverged(f"Training diverged at epoch {epoch}, batch {done + 1} (loss = "
                                          f"{loss}); try a smaller learning rate.")

                for b, idx in enumerate(batches):
                    if trainer is not None:
                        res, ready = trainer.step(ready, batches[b + 1] if b + 1 < n_batches else None, check)
                        parts = {"recon": res.recon, "kl": res.kl, "graph": res.graph}
                    else:
                        terms = module.losses(windows[idx], gens)  # windows[idx]: (B, n, w)
                        loss_t = terms["recon"] + terms["kl"] + self.graph_weight * terms["graph"]
                        check(loss_t.item())
                        opt.zero_grad()
                        loss_t.backward()
                        nn.utils.clip_grad_norm_(module.parameters(), self.clip_norm)
                        opt.step()
                        parts = {k: v.item() for k, v in terms.items()}
                    step += 1
                    done += 1
                    seen += len(idx)
                    sums["loss"] += parts["recon"] + parts["kl"] + self.graph_weight * parts["graph"]
                    for key, v in parts.items():
                        sums[key] += v
                    if reporter is not None:
                        reporter.progress(step, total)
                        if step % self.snapshot_every == 0 and b < n_batches - 1:  # epoch end snapshots below
                            reporter.snapshot("adjacency", self._adjacency_np(), step)
                        if reporter.should_stop():
                            self.stopped_early_ = True
                            break
                seconds += time.perf_counter() - t0
                sched.step()
                row = {"epoch": epoch, **{k: v / max(done, 1) for k, v in sums.items()},
                       "lr": opt.param_groups[0]["lr"], "batches": done}
                self.history_.append(row)
                if reporter is not None:
                    reporter.snapshot("adjacency", self._adjacency_np(), step)  # the graph after this epoch
                    for key in ("loss", "recon", "kl", "graph"):
                        reporter.metric(f"train/{key}", row[key], epoch)
                if self.stopped_early_:
                    break
        finally:
            if trainer is not None:
                trainer.close()  # the thread stops; the parameters get their own storage back
        module.eval()
        self.adjacency_ = self._adjacency_np()
        self.n_epochs_done_ = len(self.history_)
        self.seconds_per_epoch_ = seconds / max(self.n_epochs_done_, 1)
        self.windows_per_second_ = seen / seconds if seconds > 0 else math.nan
        if reporter is not None:
            reporter.snapshot("adjacency", self.adjacency_, step, force=True)
        return self

    def _adjacency_np(self) -> np.ndarray:
        with torch.no_grad():
            return self.module_.adjacency().numpy().copy()

    # ---------------------------------------------------------------- scoring
    def reconstruct(self, X: Any, *, batch_size: int = 512) -> np.ndarray:
        """Reconstruction x^ of every row, (time, channels): last step of each window's decoder mean."""
        if not hasattr(self, "module_"):
            raise DataError("This StackVAEG is not fitted yet; call fit(X) first.")
        X = self._check_X(X, fitted=True)
        windows = torch.from_numpy(X).unfold(0, self.window, 1)  # (T-w+1, n, w)
        self.module_.eval()
        out = np.empty_like(X)
        # rows before the first full window: from the first window's whole reconstruction
        out[:self.window - 1] = self.module_.reconstruct(windows[:1])[0, :, :-1].numpy().T
        with torch.no_grad():
            adj = self.module_.adjacency()
            for s in range(0, windows.shape[0], batch_size):
                last = self.module_.reconstruct_last(windows[s:s + batch_size], adj)  # (B, n)
                out[self.window - 1 + s:self.window - 1 + s + last.shape[0]] = last.numpy()
        return out

    def channel_scores(self, X: Any) -> np.ndarray:
        """Per-channel anomaly scores (x_{i,t} - x^_{i,t})^2, shape (time, channels)."""
        X = self._check_X(X, fitted=hasattr(self, "n_channels_"))
        return (X - self.reconstruct(X)) ** 2

    def score_samples(self, X: Any) -> np.ndarray:
        """Anomaly score per row, sum over channels of the squared error (higher = more anomalous)."""
        return self.channel_scores(X).sum(axis=1)
