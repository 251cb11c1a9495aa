"""Fast float32 training of StackVAE-G: the same arithmetic, with hand-written gradients, on two cores.

Profiled on this project's 2-core AMD EPYC (Zen 5) machine (issue #14 item 6), StackVAE-G's
training step is matrix products: about 2.1 GFLOP per batch of 64 SMD windows (38 channels x
window 100), nearly all of it in the shared per-channel VAE (``w -> 200 -> 200 -> 20``, heads,
``20 -> 200 -> 200 -> 2w``) applied to 64 x 38 = 2,432 rows. PyTorch sends float32 products to
MKL, whose code path on this CPU ran at about 105 GFLOP/s a core; oneDNN (inside PyTorch too) ran
the same products at 210-240 GFLOP/s, near the core's peak. The autograd graph around them cost
as much again in small passes, and splitting each product between two intra-op threads made
training *slower* on this machine (3,250 windows/s at 2 threads against 3,930 at 1, with this
module's previous autograd-based kernels). This module therefore

* computes the VAE's forward and backward by hand (:func:`vae_chunk`) on *feature-major*
  activations (features x rows), so that every product is one oneDNN float32 call on contiguous
  memory and no product needs a transposed copy of an activation;
* splits each batch into :data:`N_CHUNKS` fixed chunks of windows, each with its own random
  stream (:func:`chunk_generators`), whose gradients are summed in a fixed order. With two threads
  the two chunks run side by side, one on each core, each product single-threaded (data parallel
  inside the batch); with one thread they run one after the other. The chunks, their random draws
  and the order of the sums do not depend on the thread count, so a fit gives *the same numbers at
  1 and 2 threads* (tests/engine/anomaly/test_kernels.py). The thread count is the one
  ``engine/runs/threads.py`` gave torch: the trainer splits it between its two threads and gives
  it back when it closes;
* computes the small graph part (node embeddings -> top-k graph, the graph loss from the channel
  Gram matrix, :func:`graph_forward` / :func:`graph_backward`) by hand too;
* keeps all parameters in one flat vector (:class:`FastTrainer`), so gradient clipping and Adam
  are one fused call each instead of a loop over 19 tensors;
* prepares the next batch (gather, Gram matrix, the second chunk's noise) on the second thread
  while the first one updates the parameters, and starts the next batch's second chunk as soon as
  the update is done (it needs A~ only after its encoder);
* asks glibc to keep freed memory (:func:`keep_freed_memory`): otherwise a step could spend a
  third of its time in page faults.

Measured with bench/stackvaeg_smd.py --speed on SMD machines 1-2, 1-3, 1-4 at low load: about
7,800-8,400 training windows/s at 2 threads and 4,200 at 1, against 2,300-2,500 for the autograd
path at 2 threads.

The loss, its gradients and the update equal the autograd reference (``kernels="reference"``) to
float32 rounding: only the order of the sums differs. Where oneDNN is not available (a PyTorch
built without it) the products fall back to ``torch.mm``.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

N_CHUNKS = 2  # chunks of every batch; fixed, so that results do not depend on the thread count


def onednn_available() -> bool:
    """True when PyTorch carries oneDNN's float32 linear kernel (``torch.ops.mkldnn._linear_pointwise``)."""
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):
        return False


_ONEDNN = onednn_available()
_LP = torch.ops.mkldnn._linear_pointwise.default if _ONEDNN else None
_RELU_BACK = torch.ops.aten.threshold_backward.default  # pass g where the ReLU's output y > 0
_RELU_BACK_INTO = torch.ops.aten.threshold_backward.grad_input


def _relu_back(g: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """ReLU's backward in place: g where the ReLU's output y > 0, else 0 (g is a fresh product)."""
    return _RELU_BACK_INTO(g, y, 0.0, grad_input=g)


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse (mmap threshold 32 MB, trim threshold
    256 MB) instead of handing it back to the system. A training step allocates and frees about
    40 one-megabyte activations; with glibc's adaptive defaults, whether they come back as fresh
    pages (a page fault per 4 KB, on every step) depended on what the process had allocated
    before: the same step took 10.1 or 5.7 ms on one core depending on the series length. The
    setting is process-wide and costs only that the process keeps its peak heap. Returns False
    where there is no glibc."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-3, 32 << 20)) and bool(libc.mallopt(-1, 256 << 20))  # M_MMAP_/M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        return False


def wa(w: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``W @ A`` for a weight W (out, in) and feature-major activations A (in, M), float32.

    >>> w, a = torch.arange(6.0).view(2, 3), torch.ones(3, 4)
    >>> wa(w, a)[:, 0].tolist()
    [3.0, 12.0]
    """
    if _LP is None or a.dtype != torch.float32:
        return torch.mm(w, a)
    return _LP(w, a.t(), None, "none", [], "")  # oneDNN computes x @ y^T: here W @ (A^T)^T


def gat(g: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``G @ A^T`` for G (out, M) and A (in, M): a weight gradient, reduced over the M rows.

    >>> gat(torch.ones(2, 4), torch.ones(3, 4)).tolist()
    [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
    """
    if _LP is None or a.dtype != torch.float32:
        return torch.mm(g, a.t())
    return _LP(g, a, None, "none", [], "")


def chunk_bounds(batch: int) -> list[tuple[int, int]]:
    """The :data:`N_CHUNKS` chunks of a batch, as ``np.array_split`` cuts it (empty chunks dropped).

    >>> chunk_bounds(64), chunk_bounds(5), chunk_bounds(1)
    ([(0, 32), (32, 64)], [(0, 3), (3, 5)], [(0, 1)])
    """
    cuts = np.cumsum([0] + [len(c) for c in np.array_split(np.arange(batch), N_CHUNKS)])
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def chunk_generators(seed: int) -> list[torch.Generator]:
    """One random stream per chunk, derived from ``seed`` with numpy's ``SeedSequence``."""
    states = np.random.SeedSequence(int(seed)).generate_state(N_CHUNKS, dtype=np.uint64)
    return [torch.Generator().manual_seed(int(s) >> 1) for s in states]


def chunk_noise(gen: torch.Generator, rows: int, latent: int, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One chunk's reparameterisation draws, feature-major: ``eps_z`` (latent, rows) for z, then
    ``eps`` (window, rows) for the window; ``rows`` = windows x channels, window-major
    (column ``b * n + i`` is channel i of window b). Both kernels draw exactly these."""
    return torch.randn((latent, rows), generator=gen), torch.randn((window, rows), generator=gen)


# ----------------------------------------------------------------------------- the shared VAE
class VAEWeights(NamedTuple):
    """The VAE's weights as the hand-written step reads them, views of the trainer's flat vector
    (so they follow every update): the two mean / log-variance heads of z and of x stacked
    ([mean ; log-variance]), biases as columns."""
    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor
    w3: torch.Tensor
    b3: torch.Tensor
    wz: torch.Tensor
    bz: torch.Tensor
    wd1: torch.Tensor
    bd1: torch.Tensor
    wd2: torch.Tensor
    bd2: torch.Tensor
    wx: torch.Tensor
    bx: torch.Tensor


def vae_weights(w: Sequence[torch.Tensor]) -> VAEWeights:
    """From ``[w1, b1, w2, b2, w3, b3, wz, bz, wd1, bd1, wd2, bd2, wx, bx]`` (stacked heads)."""
    w = [t.detach() for t in w]
    return VAEWeights(*[t[:, None] if t.dim() == 1 else t for t in w])


class ChunkResult(NamedTuple):
    recon: float  # this chunk's part of the batch-mean reconstruction term
    kl: float  # and of the KL term
    grads: torch.Tensor  # d(recon + kl)/d weights, flat, in vae_weights' order (stacked heads)
    g_adj: torch.Tensor  # d(recon + kl)/d A~ through the propagation step (n, n)


def vae_chunk(p: VAEWeights, late: torch.Tensor | Future, x: torch.Tensor, gamma: float, eps_z: torch.Tensor,
              eps: torch.Tensor, batch: int) -> ChunkResult:
    """Forward and hand-written backward of the shared VAE on one chunk: the released
    reconstruction term ``sum (x_mu + exp(lv_x / 2) eps - x)^2`` plus ``KL(q(z|x) || N(0, I))``,
    each summed over the chunk and divided by the whole ``batch`` (so chunks add up to the batch
    mean). ``x`` is feature-major (w, M), M = windows x n channels, window-major; ``late`` is the
    current A~ (or the future that brings it: the encoder runs before it is needed); no
    gradient is taken through A~ here, its gradient is returned as ``g_adj``. Same arithmetic as
    :meth:`StackVAEGModule.losses` (tests/engine/anomaly/test_kernels.py)."""
    w, m = x.shape
    # forward
    h1 = wa(p.w1, x).add_(p.b1).relu_()  # (hidden, M)
    h2 = wa(p.w2, h1).add_(p.b2).relu_()
    h3 = wa(p.w3, h2).add_(p.b3)  # H^T: (latent, M)
    lat = h3.shape[0]
    adj = late.result() if isinstance(late, Future) else late
    n = adj.shape[0]
    h3v = h3.view(-1, n)  # (latent * windows, n): one row per (latent unit, window)
    hp = torch.mm(h3v, adj.t()).mul_(gamma).add_(h3v, alpha=1.0 - gamma).view(lat, m)  # H' = (1-g)H + g A~H
    zz = wa(p.wz, hp).add_(p.bz)  # [mu ; logvar]: (2 latent, M)
    mu, lv = zz[:lat], zz[lat:]
    std = torch.exp(lv * 0.5)
    dz = std * eps_z  # z - mu
    z = dz + mu
    d1 = wa(p.wd1, z).add_(p.bd1).relu_()
    d2 = wa(p.wd2, d1).add_(p.bd2).relu_()
    out = wa(p.wx, d2).add_(p.bx)  # [x_mu ; x_logvar]: (2w, M)
    e = out[w:].mul_(0.5).exp_().mul_(eps)  # sigma_x * eps (x_logvar itself is not needed again)
    r = torch.sub(out[:w], x).add_(e)  # x_hat - x
    recon = torch.dot(r.view(-1), r.view(-1)) / batch
    ev = std * std  # exp(logvar)
    kl = 0.5 * (ev.sum() - lv.sum() + torch.dot(mu.reshape(-1), mu.reshape(-1)) - lv.numel()) / batch
    # backward (the gradient w.r.t. [x_mu ; x_logvar] takes out's place: out is not needed again)
    go = out
    e.mul_(r).mul_(1.0 / batch)  # d/d x_logvar = 2 r sigma eps / 2 / B
    torch.mul(r, 2.0 / batch, out=go[:w])  # d/d x_mu = 2 r / B
    gwx, gbx = gat(go, d2), go.sum(1)
    g = _relu_back(wa(p.wx.t(), go), d2)
    gwd2, gbd2 = gat(g, d1), g.sum(1)
    g = _relu_back(wa(p.wd2.t(), g), d1)
    gwd1, gbd1 = gat(g, z), g.sum(1)
    gz = wa(p.wd1.t(), g)  # (latent, M)
    gzz = torch.empty_like(zz)
    torch.add(gz, mu, alpha=1.0 / batch, out=gzz[:lat])  # d/d mu: through z, plus KL's mu / B
    torch.mul(gz, dz, out=gzz[lat:])  # d/d logvar: through z, 0.5 (z - mu) ...
    gzz[lat:].add_(ev, alpha=1.0 / batch).add_(-1.0 / batch).mul_(0.5)  # ... plus KL's (exp(lv) - 1) / 2B
    gwz, gbz = gat(gzz, hp), gzz.sum(1)
    ghp = wa(p.wz.t(), gzz).view(-1, n)  # (latent * windows, n)
    g_adj = torch.mm(ghp.t(), h3v).mul_(gamma)
    gh3 = torch.mm(ghp, adj).mul_(gamma).add_(ghp, alpha=1.0 - gamma).view(lat, m)
    gw3, gb3 = gat(gh3, h2), gh3.sum(1)
    g = _relu_back(wa(p.w3.t(), gh3), h2)
    gw2, gb2 = gat(g, h1), g.sum(1)
    g = _relu_back(wa(p.w2.t(), g), h1)
    gw1, gb1 = gat(g, x), g.sum(1)
    grads = [gw1, gb1, gw2, gb2, gw3, gb3, gwz, gbz, gwd1, gbd1, gwd2, gbd2, gwx, gbx]
    return ChunkResult(float(recon), float(kl), torch.cat([g.view(-1) for g in grads]), g_adj)


# ----------------------------------------------------------------------------- the graph part
def topk_mask(a0: torch.Tensor, k: int) -> torch.Tensor:
    """1 at the k largest entries of each row of ``a0``, 0 elsewhere (a constant: no gradient).

    >>> topk_mask(torch.tensor([[3.0, 1.0, 2.0]]), 2).tolist()
    [[1.0, 0.0, 1.0]]
    """
    return torch.zeros_like(a0).scatter_(1, a0.topk(min(k, a0.shape[1]), dim=1).indices, 1.0)


class GraphCache(NamedTuple):
    adj: torch.Tensor  # A~: top-k, self-looped, row-normalised (n, n)
    loss_graph: torch.Tensor  # the graph in the graph loss: A~, or the leave-one-out A_o
    emb: torch.Tensor
    lin_w: torch.Tensor
    m: torch.Tensor  # tanh(alpha (E W^T + b))
    t: torch.Tensor  # tanh(M M^T)
    a0: torch.Tensor  # ReLU(alpha t)
    mask: torch.Tensor  # the top-k entries of each row
    row: torch.Tensor  # A~'s row sums before normalising (n, 1)
    row_o: torch.Tensor | None  # A_o's row sums (n, 1), unclamped
    alpha: float


def graph_forward(emb: torch.Tensor, lin_w: torch.Tensor, lin_b: torch.Tensor, alpha: float, k: int,
                  leave_one_out: bool) -> GraphCache:
    """A~ (and, for the graph-faithful variant, A_o) from the node embeddings, keeping what the
    hand-written backward needs: the same operations as ``StackVAEGModule.adjacency`` and
    ``leave_one_out_graph``.

    >>> g = torch.Generator().manual_seed(0)
    >>> e, w, b = torch.randn(4, 3, generator=g), torch.randn(3, 3, generator=g), torch.zeros(3)
    >>> c = graph_forward(e, w, b, 3.0, 2, False)
    >>> [round(float(s), 6) for s in c.adj.sum(1)]  # row-normalised
    [1.0, 1.0, 1.0, 1.0]
    """
    emb, lin_w, lin_b = emb.detach(), lin_w.detach(), lin_b.detach()
    n = len(emb)
    m = torch.tanh(torch.addmm(lin_b, emb, lin_w.t()).mul_(alpha))  # (n, d)
    t = torch.tanh(m @ m.t())
    a0 = torch.relu(t * alpha)
    mask = topk_mask(a0, k)
    a1 = a0 * mask
    eye = torch.eye(n, dtype=a0.dtype)
    a = a1 + eye
    row = a.sum(1, keepdim=True)
    adj = a / row
    row_o = None
    loss_graph = adj
    if leave_one_out:
        ao = a1 * (1.0 - eye)
        row_o = ao.sum(1, keepdim=True)
        loss_graph = ao / row_o.clamp_min(1e-12)
    return GraphCache(adj, loss_graph, emb, lin_w, m, t, a0, mask, row, row_o, alpha)


def graph_loss_from_gram(loss_graph: torch.Tensor, gram: torch.Tensor, batch: int) -> tuple[float, torch.Tensor]:
    """``(1/B) sum_b ||x_b - A x_b||^2 = tr(D S D^T) / B`` with ``D = I - A`` and the channel Gram
    matrix ``S = sum_b x_b x_b^T``; returns the value and its gradient ``-2 D S / B`` w.r.t. A.

    >>> a, xb = torch.tensor([[0.5, 0.5], [0.0, 1.0]]), torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    >>> s = xb[0] @ xb[0].T
    >>> value, _ = graph_loss_from_gram(a, s, 1); value, float((xb - a @ xb).pow(2).sum())
    (2.0, 2.0)
    """
    d = torch.eye(len(loss_graph), dtype=loss_graph.dtype) - loss_graph
    ds = d @ gram
    return float((ds * d).sum()) / batch, ds.mul_(-2.0 / batch)


def graph_backward(c: GraphCache, g_adj: torch.Tensor, g_loss_graph: torch.Tensor | None) -> list[torch.Tensor]:
    """Gradients w.r.t. (node embeddings, Lin weight, Lin bias) of a loss whose gradient is ``g_adj``
    w.r.t. A~ and ``g_loss_graph`` w.r.t. A_o (None for the released model, whose graph loss uses
    A~ itself and is already in ``g_adj``). Entries outside the top-k, or with ``M M^T <= 0``,
    pass no gradient, as in autograd."""
    g_a = (g_adj - (g_adj * c.adj).sum(1, keepdim=True)) / c.row  # through A~ = A / rowsum(A)
    if g_loss_graph is not None:
        clamp = c.row_o.clamp_min(1e-12)
        through_sum = (g_loss_graph * c.loss_graph).sum(1, keepdim=True) * (c.row_o >= 1e-12)
        g_a = g_a + (g_loss_graph - through_sum) / clamp * (1.0 - torch.eye(len(g_a), dtype=g_a.dtype))
    g_s = _RELU_BACK(g_a * c.mask, c.a0, 0.0).mul_(c.alpha).mul_(1.0 - c.t * c.t)  # top-k, ReLU, tanh
    g_m = (g_s + g_s.t()) @ c.m  # S = M M^T
    g_l = g_m.mul_(1.0 - c.m * c.m).mul_(c.alpha)  # M = tanh(alpha L)
    return [g_l @ c.lin_w, g_l.t() @ c.emb, g_l.sum(0)]  # L = E W^T + b


# ----------------------------------------------------------------------------- the trainer
class Batch(NamedTuple):
    """One batch, cut into chunks: per chunk the feature-major windows (w, rows) and the two draws
    (``None`` until drawn), and the Gram matrix of all its windows (for the graph loss)."""
    x: list[torch.Tensor]
    noise: list[tuple[torch.Tensor, torch.Tensor] | None]
    gram: torch.Tensor
    size: int  # windows in the batch (the batch mean divides by it)


class Pending(NamedTuple):
    """The next batch, already under way on the second thread: its preparation (gather, Gram, the
    second chunk's noise), then its second chunk, which waits for A~ (``late``, set by this thread
    at the start of the step)."""
    batch: Future
    second: Future | None
    late: Future


class StepResult(NamedTuple):
    recon: float
    kl: float
    graph: float


class FastTrainer:
    """Trains a :class:`~engine.anomaly.stackvae_g.StackVAEGModule` with the hand-written step.

    Its parameters become views of one flat vector (``flat``), updated in place by one fused Adam
    (the same update as ``torch.optim.Adam`` per tensor, L2 weight decay included) after one
    clipping of the global gradient norm. ``threads`` >= 2 runs the two chunks of each batch on two
    threads (each product on one core); more threads are shared between the two. Call
    :meth:`close` (or use ``with``) to give the parameters their own storage back and stop the
    thread. ``by_time`` is the series' windows time-major, (w, windows, n).
    """

    def __init__(self, module: nn.Module, by_time: torch.Tensor, *, seed: int, lr: float, weight_decay: float,
                 clip_norm: float, graph_weight: float, batch: int, threads: int) -> None:
        keep_freed_memory()
        self.module, self.by_time = module, by_time
        self.clip_norm, self.graph_weight = clip_norm, graph_weight
        self.gens = chunk_generators(seed)
        mod = module
        heads = lambda a, b: torch.cat([a.detach().reshape(-1), b.detach().reshape(-1)])  # noqa: E731
        parts = [  # the flat vector's pieces in order; each pair of heads side by side, so W_z, W_x are views
            (mod.encoder[0].weight,), (mod.encoder[0].bias,), (mod.encoder[2].weight,), (mod.encoder[2].bias,),
            (mod.encoder[4].weight,), (mod.encoder[4].bias,), (mod.z_mean.weight, mod.z_logvar.weight),
            (mod.z_mean.bias, mod.z_logvar.bias), (mod.decoder[0].weight,), (mod.decoder[0].bias,),
            (mod.decoder[2].weight,), (mod.decoder[2].bias,), (mod.x_mean.weight, mod.x_logvar.weight),
            (mod.x_mean.bias, mod.x_logvar.bias), (mod.node_emb.weight,), (mod.emb_lin.weight,), (mod.emb_lin.bias,)]
        shapes = [(sum(len(t) for t in p),) + tuple(p[0].shape[1:]) for p in parts]
        flat = torch.cat([heads(*p) if len(p) == 2 else p[0].detach().reshape(-1) for p in parts])
        self.flat = nn.Parameter(flat)
        self.grad = torch.zeros_like(flat)
        self.flat.grad = self.grad
        self.views, off = [], 0
        for p, shape in zip(parts, shapes):
            size = int(np.prod(shape))
            view = self.flat.data[off:off + size].view(shape)
            half = shape[0] // 2
            for i, param in enumerate(p):  # the module's own parameters now read and write the flat vector
                param.data = view[i * half:(i + 1) * half] if len(p) == 2 else view
            self.views.append(view)
            off += size
        self.p = vae_weights(self.views[:14])  # views: they follow every update
        self.n_vae = sum(v.numel() for v in self.views[:14])
        self.latent = self.views[4].shape[0]  # W3: (latent, hidden)
        self.opt = torch.optim.Adam([self.flat], lr=lr, weight_decay=weight_decay, fused=True)
        self.workers = 2 if threads >= 2 and len(chunk_bounds(batch)) > 1 else 1
        self._threads_before = torch.get_num_threads()
        inner = max(1, threads // self.workers)
        torch.set_num_threads(inner)  # each chunk's products on its own core(s)
        self.pool = (ThreadPoolExecutor(1, initializer=torch.set_num_threads, initargs=(inner,))
                     if self.workers == 2 else None)
        self._late: Future | None = None

    # -- inputs
    def prepare(self, idx: torch.Tensor, draw: Sequence[int] | None = None) -> Batch:
        """Gather one batch's windows and their Gram matrix, and draw the noise of the chunks in
        ``draw`` (all by default; :meth:`draw` does the others). No parameter is read."""
        w, _, n = self.by_time.shape
        xs, noise, gram = [], [], None
        for c, (a, b) in enumerate(chunk_bounds(len(idx))):
            xt = self.by_time[:, idx[a:b]]  # (w, windows, n), a copy
            s = xt.view(w * (b - a), n)
            g = gat(s.t(), s.t())  # s^T s: (n, n)
            gram = g if gram is None else gram + g
            xs.append(xt.view(w, (b - a) * n))
            noise.append(None)
        batch = Batch(xs, noise, gram, len(idx))
        for c in range(len(xs)) if draw is None else draw:
            self.draw(batch, c)
        return batch

    def draw(self, batch: Batch, c: int) -> None:
        """Chunk c's noise, from chunk c's own random stream (so the thread that draws it does not matter)."""
        if c < len(batch.x) and batch.noise[c] is None:
            batch.noise[c] = chunk_noise(self.gens[c], batch.x[c].shape[1], self.latent, batch.x[c].shape[0])

    # -- one step
    def step(self, batch: Batch | Pending, next_idx: torch.Tensor | None = None,
             check: Callable[[float], None] | None = None) -> tuple[StepResult, Pending | Batch | None]:
        """One training step (losses, gradients, clipping, Adam) on a batch from :meth:`prepare`
        or from the previous step. With two threads the second chunk runs on the other thread, which
        then prepares the batch ``next_idx`` while this one finishes the update, and starts that
        batch's second chunk as soon as the update is done. ``check(loss)`` is called before the
        update and may raise (a diverged run)."""
        mod = self.module
        if isinstance(batch, Pending):
            batch, second, late = batch.batch.result(), batch.second, batch.late
        else:
            late = Future()
            second = (self.pool.submit(self._second, batch, late)
                      if self.pool is not None and len(batch.x) == 2 else None)
        self._late = late
        nxt: Pending | Batch | Future | None = None
        if self.pool is not None and next_idx is not None:
            nxt = self.pool.submit(self.prepare, next_idx, (1,))  # after the second chunk; its noise too
        graph = graph_forward(mod.node_emb.weight, mod.emb_lin.weight, mod.emb_lin.bias, mod.alpha, mod.k,
                              mod.variant == "graph")
        late.set_result(graph.adj)
        for c in range(1 if second is not None else len(batch.x)):
            self.draw(batch, c)  # this thread's chunks' noise (the other thread drew the second's)
        results = [vae_chunk(self.p, graph.adj, batch.x[c], mod.gamma, *batch.noise[c], batch.size)
                   for c in range(1 if second is not None else len(batch.x))]
        if second is not None:
            results.append(second.result())
        if self.pool is None and next_idx is not None:
            nxt = self.prepare(next_idx)
        g_vae, g_adj = self.grad[:self.n_vae], results[0].g_adj
        if len(results) == 2:  # chunk sums in a fixed order, whichever thread ran them
            torch.add(results[0].grads, results[1].grads, out=g_vae)
            g_adj = g_adj + results[1].g_adj
        else:
            g_vae.copy_(results[0].grads)
        value, g_lg = graph_loss_from_gram(graph.loss_graph, batch.gram, batch.size)
        g_lg.mul_(self.graph_weight)
        if mod.variant == "graph":
            g_graph = graph_backward(graph, g_adj, g_lg)
        else:  # the released graph loss is on A~ itself
            g_graph = graph_backward(graph, g_adj.add_(g_lg), None)
        torch.cat([g.view(-1) for g in g_graph], out=self.grad[self.n_vae:])
        recon, kl = sum(r.recon for r in results), sum(r.kl for r in results)
        if check is not None:
            check(recon + kl + self.graph_weight * value)
        # torch.nn.utils.clip_grad_norm_'s rule, on the one flat gradient
        coef = self.clip_norm / (float(torch.linalg.vector_norm(self.grad)) + 1e-6)
        if coef < 1.0:
            self.grad.mul_(coef)
        self.opt.step()
        if isinstance(nxt, Future):  # the next batch's second chunk, queued behind its preparation
            late = Future()
            second = (self.pool.submit(self._second, nxt, late)
                      if len(chunk_bounds(len(next_idx))) == 2 else None)
            self._late = late
            nxt = Pending(nxt, second, late)
        return StepResult(recon, kl, value), nxt

    def _second(self, batch: Batch | Future, late: Future) -> ChunkResult:
        """The second chunk of a batch, on the other thread (which prepared the batch just before)."""
        batch = batch.result() if isinstance(batch, Future) else batch
        return vae_chunk(self.p, late, batch.x[1], self.module.gamma, *batch.noise[1], batch.size)

    def close(self) -> None:
        """Stop the thread, restore the thread count, give each parameter its own storage back."""
        if self._late is not None and not self._late.done():  # a started chunk whose step never came
            self._late.set_exception(RuntimeError("training stopped"))
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None
        torch.set_num_threads(self._threads_before)
        for param in self.module.parameters():
            param.data = param.data.clone()

    def __enter__(self) -> "FastTrainer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
