"""Fast training (engine/anomaly/kernels.py): each hand-written gradient equals autograd's on the
reference computation (to float32 rounding), one fast step makes the same update as the reference
step, a fit gives the same history at 1 and 2 threads, and the trainer cleans up after itself."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.anomaly import kernels as K
from engine.anomaly.stackvae_g import StackVAEG, StackVAEGModule, graph_from_similarity, leave_one_out_graph
from engine.errors import ConfigError, RunDiverged
from engine.runs.reporter import MemoryReporter


def _module(n=38, w=100, hidden=200, latent=20, variant="released", seed=0):
    torch.manual_seed(seed)
    return StackVAEGModule(n, w, hidden, latent, 30 if n > 8 else 4, min(10, n), 3.0, 0.5,
                           node_init_std=0.1 if variant == "graph" else 1.0, variant=variant)


def _close(a, b, rel=1e-4):
    scale = a.abs().max().item()
    return (a - b).abs().max().item() <= rel * scale + 1e-7


def _vae_params(m):
    return [m.encoder[0].weight, m.encoder[0].bias, m.encoder[2].weight, m.encoder[2].bias,
            m.encoder[4].weight, m.encoder[4].bias, m.z_mean.weight, m.z_logvar.weight, m.z_mean.bias,
            m.z_logvar.bias, m.decoder[0].weight, m.decoder[0].bias, m.decoder[2].weight, m.decoder[2].bias,
            m.x_mean.weight, m.x_logvar.weight, m.x_mean.bias, m.x_logvar.bias]


@pytest.mark.parametrize("shape", [(38, 100, 200, 20, 64), (5, 12, 16, 4, 3), (1, 2, 3, 1, 1)])
def test_vae_chunk_gives_autograds_losses_and_gradients(shape):
    """The hand-written forward/backward of one chunk against autograd on the reference graph, for
    SMD's size, a small one and the smallest (one channel, window 2, one window)."""
    n, w, hidden, latent, bsz = shape
    m = _module(n, w, hidden, latent)
    g = torch.Generator().manual_seed(3)
    x = torch.rand(bsz, n, w, generator=g)
    eps_z, eps = torch.randn(bsz, n, latent, generator=g), torch.randn(bsz, n, w, generator=g)
    adj = m.adjacency().detach().requires_grad_(True)
    mu, lv = m.encode(x, adj)
    x_mu, x_lv = m.decode(mu + torch.exp(0.5 * lv) * eps_z)
    recon = (x_mu + torch.exp(0.5 * x_lv) * eps - x).pow(2).sum() / bsz
    kl = (-0.5 * (1 + lv - mu.pow(2) - lv.exp())).sum() / bsz
    ref = torch.autograd.grad(recon + kl, _vae_params(m) + [adj])

    fm = lambda t: t.permute(2, 0, 1).reshape(t.shape[2], -1)  # noqa: E731  (B, n, f) -> (f, B*n)
    stacked = [m.encoder[0].weight, m.encoder[0].bias, m.encoder[2].weight, m.encoder[2].bias,
               m.encoder[4].weight, m.encoder[4].bias, torch.cat([m.z_mean.weight, m.z_logvar.weight]),
               torch.cat([m.z_mean.bias, m.z_logvar.bias]), m.decoder[0].weight, m.decoder[0].bias,
               m.decoder[2].weight, m.decoder[2].bias, torch.cat([m.x_mean.weight, m.x_logvar.weight]),
               torch.cat([m.x_mean.bias, m.x_logvar.bias])]
    out = K.vae_chunk(K.vae_weights(stacked), adj.detach(), fm(x).contiguous(), 0.5, fm(eps_z).contiguous(),
                      fm(eps).contiguous(), bsz)
    assert out.recon == pytest.approx(float(recon.detach()), rel=1e-5)
    assert out.kl == pytest.approx(float(kl.detach()), rel=1e-4)
    sizes = [t.numel() for t in stacked]
    got = list(torch.split(out.grads, sizes))
    want = [ref[0], ref[1], ref[2], ref[3], ref[4], ref[5], torch.cat([ref[6], ref[7]]), torch.cat([ref[8], ref[9]]),
            ref[10], ref[11], ref[12], ref[13], torch.cat([ref[14], ref[15]]), torch.cat([ref[16], ref[17]])]
    for i, (a, b) in enumerate(zip(want, got)):
        assert _close(a.reshape(-1), b), i
    assert _close(ref[-1], out.g_adj)
    assert float(recon.detach()) > 0 and ref[0].abs().max() > 0  # not trivially zero


@pytest.mark.parametrize("variant", ["released", "graph"])
def test_graph_part_gives_autograds_graph_loss_and_gradients(variant):
    """Node embeddings -> A~ (and A_o) -> graph loss from the Gram matrix plus a mixing gradient on
    A~: the hand-written backward equals autograd through the reference functions."""
    n, w, bsz = 12, 20, 5
    m = _module(n, w, 16, 4, variant)
    g = torch.Generator().manual_seed(5)
    x = torch.rand(bsz, n, w, generator=g)
    g_mix = torch.randn(n, n, generator=g)  # what the chunks return for A~
    s = m.similarity()
    adj = graph_from_similarity(s, m.alpha, m.k)
    lg = leave_one_out_graph(s, m.alpha, m.k) if variant == "graph" else adj
    graph = (x - torch.matmul(lg, x)).pow(2).sum() / bsz
    graph_params = [m.node_emb.weight, m.emb_lin.weight, m.emb_lin.bias]
    ref = torch.autograd.grad(graph + (adj * g_mix).sum(), graph_params)

    c = K.graph_forward(m.node_emb.weight, m.emb_lin.weight, m.emb_lin.bias, m.alpha, m.k, variant == "graph")
    assert torch.allclose(c.adj, adj, atol=1e-6) and torch.allclose(c.loss_graph, lg, atol=1e-6)
    gram = sum(xb @ xb.T for xb in x)
    value, g_lg = K.graph_loss_from_gram(c.loss_graph, gram, bsz)
    assert value == pytest.approx(float(graph.detach()), rel=1e-5)
    got = (K.graph_backward(c, g_mix.clone(), g_lg) if variant == "graph"
           else K.graph_backward(c, g_mix + g_lg, None))
    for a, b in zip(ref, got):
        assert _close(a, b, 1e-4)
    assert ref[0].abs().max() > 0


def test_leave_one_out_rows_without_a_neighbour_pass_no_gradient():
    """A node whose embedding is orthogonal to all others keeps no edge in A_o: its row is 0 and
    the clamp in the renormalisation passes nothing back, as in autograd."""
    m = _module(4, 6, 8, 2, "graph")
    with torch.no_grad():
        m.node_emb.weight.zero_()
        m.emb_lin.weight.copy_(torch.eye(4))
        m.emb_lin.bias.zero_()
        m.node_emb.weight[:3, 0] = 1.0  # nodes 0-2 alike, node 3 at the origin: tanh(0) = 0
    c = K.graph_forward(m.node_emb.weight, m.emb_lin.weight, m.emb_lin.bias, m.alpha, 2, True)
    assert c.loss_graph[3].abs().sum() == 0 and c.loss_graph[0].sum() == pytest.approx(1.0)
    grads = K.graph_backward(c, torch.zeros(4, 4), torch.ones(4, 4))
    assert all(torch.isfinite(t).all() for t in grads)


def _step_reference(m, x, gens, clip, lr=1e-3, wd=1e-3):
    opt = torch.optim.Adam(m.parameters(), lr=lr, weight_decay=wd)
    terms = m.losses(x, gens)
    loss = terms["recon"] + terms["kl"] + terms["graph"]
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), clip)
    grads = [p.grad.clone() for p in _vae_params(m) + [m.node_emb.weight, m.emb_lin.weight, m.emb_lin.bias]]
    opt.step()
    return {k: float(v.detach()) for k, v in terms.items()}, grads


@pytest.mark.parametrize("variant", ["released", "graph"])
@pytest.mark.parametrize("clip", [12.0, 1e-3])  # the released clip, and one that always clips
def test_one_fast_step_makes_the_reference_update(variant, clip):
    """Same start, same batch, same chunked random draws: one FastTrainer step has the losses and
    the clipped gradient of one autograd + clip step, and updates the parameters as torch's Adam
    does with that gradient (SMD-sized: 38 channels, window 100). (Comparing the two updates
    directly would test rounding: Adam's first step moves an entry by +-lr whatever its gradient's
    size, so an entry whose gradient is near 0 can move either way.)"""
    n, w, bsz = 38, 100, 64
    series = torch.rand(bsz + w - 1, n, generator=torch.Generator().manual_seed(4))
    by_time = series.as_strided((w, bsz, n), (n, n, 1))
    idx = torch.arange(bsz)
    a, b = _module(n, w, variant=variant), _module(n, w, variant=variant)
    ref_terms, ref_grads = _step_reference(a, by_time.permute(1, 2, 0)[idx], K.chunk_generators(7), clip)
    with K.FastTrainer(b, by_time, seed=7, lr=1e-3, weight_decay=1e-3, clip_norm=clip, graph_weight=1.0,
                       batch=bsz, threads=1) as trainer:
        res, _ = trainer.step(trainer.prepare(idx))
    assert res.recon == pytest.approx(ref_terms["recon"], rel=1e-5)
    assert res.kl == pytest.approx(ref_terms["kl"], rel=1e-4)
    assert res.graph == pytest.approx(ref_terms["graph"], rel=1e-5)
    got = torch.split(trainer.grad, [g.numel() for g in ref_grads])
    for i, (ga, gb) in enumerate(zip(ref_grads, got)):
        # float32 sums over 2,432 rows in another order; a few ReLU inputs lie within rounding of 0
        # (5 of 486,400 here within 1e-6), and a unit that flips moves the decoder's gradients by ~1e-3
        assert _close(ga.reshape(-1), gb, 5e-3), i
    if clip < 1.0:
        assert float(trainer.grad.norm()) == pytest.approx(clip, rel=1e-4)  # clipped to the global norm
    # the update: torch's per-tensor Adam (L2 weight decay) on the fast step's clipped gradient
    c = _module(n, w, variant=variant)
    ordered = _vae_params(c) + [c.node_emb.weight, c.emb_lin.weight, c.emb_lin.bias]
    for p, g in zip(ordered, torch.split(trainer.grad, [p.numel() for p in ordered])):
        p.grad = g.view_as(p).clone()
    torch.optim.Adam(c.parameters(), lr=1e-3, weight_decay=1e-3).step()
    for (name, pb), pc in zip(b.named_parameters(), c.parameters()):
        assert torch.allclose(pb, pc, atol=1e-7, rtol=0), name  # fused vs per-tensor Adam: an ulp or two


def _series(rows=700, n=6, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    return (np.sin(t / 7.0)[:, None] * rng.uniform(0.5, 1, n) + 0.05 * rng.normal(size=(rows, n))).astype(np.float32)


KW = dict(window=20, hidden=64, latent=8, node_dim=6, k=3, epochs=3, batch_size=32, seed=1)


@pytest.mark.parametrize("variant", ["released", "graph"])
def test_a_short_fit_gives_the_same_history_and_graph_as_the_reference_path(variant):
    X = _series()
    a = StackVAEG(**KW, variant=variant, kernels="reference").fit(X)
    b = StackVAEG(**KW, variant=variant, kernels="fast").fit(X)
    for ra, rb in zip(a.history_, b.history_):
        for key in ("loss", "recon", "kl", "graph"):
            assert rb[key] == pytest.approx(ra[key], rel=2e-3), key
    assert np.abs(a.adjacency_ - b.adjacency_).max() < 1e-2
    assert np.corrcoef(a.score_samples(X), b.score_samples(X))[0, 1] > 0.999


def test_the_thread_count_changes_the_speed_not_the_numbers():
    """The chunks, their random streams and the order of the sums do not depend on the threads, and
    each product runs on one core either way: 1 and 2 threads give bit-identical fits."""
    X = _series(900, 5)
    before = torch.get_num_threads()
    fits = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        try:
            fits.append(StackVAEG(**KW).fit(X))
        finally:
            torch.set_num_threads(before)
    (a, b) = fits
    assert [r["loss"] for r in a.history_] == [r["loss"] for r in b.history_]
    assert np.array_equal(a.adjacency_, b.adjacency_)
    assert torch.get_num_threads() == before


def test_after_a_fit_the_parameters_have_their_own_storage_and_the_threads_are_back():
    before = torch.get_num_threads()
    m = StackVAEG(**{**KW, "epochs": 1}).fit(_series())
    ptrs = {p.untyped_storage().data_ptr() for p in m.module_.parameters()}
    assert len(ptrs) == len(list(m.module_.parameters()))  # no view of the trainer's flat vector left
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("threads", [1, 2])
def test_a_run_stopped_after_one_batch_ends_cleanly(threads):
    """Stopping while the other thread already started the next batch: the trainer lets it finish,
    restores the thread count and keeps what was learned."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        m = StackVAEG(**KW).fit(_series(), reporter=MemoryReporter(stop_after=0))
    finally:
        torch.set_num_threads(before)
    assert m.stopped_early_ and m.history_[0]["batches"] == 1
    assert np.isfinite(m.score_samples(_series())).all()


@pytest.mark.parametrize("threads", [1, 2])
def test_a_diverged_fast_run_raises_before_updating(threads):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with pytest.raises(RunDiverged, match="diverged at epoch 1, batch 1"):
            StackVAEG(**{**KW, "lr": 1e30}).fit(np.full((200, 3), 1e30, np.float32))
    finally:
        torch.set_num_threads(before)
    assert torch.get_num_threads() == before


def test_batches_of_one_window_and_odd_sizes_train():
    """A batch of one window has one chunk; an odd batch splits 3 / 2."""
    X = _series(60, 2)
    for bsz in (1, 5):
        m = StackVAEG(**{**KW, "batch_size": bsz, "epochs": 1, "window": 10}).fit(X)
        assert np.isfinite(m.history_[0]["loss"]) and m.history_[0]["batches"] == 51 // bsz


def test_unknown_kernels_value_is_a_clear_error():
    with pytest.raises(ConfigError, match="kernels must be one of fast, reference"):
        StackVAEG(kernels="gpu").fit(np.zeros((200, 2), np.float32))
