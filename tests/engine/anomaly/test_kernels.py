"""Fast training kernels: each equals the plain autograd computation it replaces (to float32 rounding),
and a training step / a short fit with ``kernels="fast"`` matches ``kernels="reference"``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.anomaly import kernels as K
from engine.anomaly.stackvae_g import StackVAEG, StackVAEGModule
from engine.errors import ConfigError


def _grads(fn, *tensors):
    ts = [t.detach().clone().requires_grad_(True) for t in tensors]
    out = fn(*ts)
    out.backward(torch.ones_like(out))
    return out.detach(), [t.grad for t in ts]


@pytest.mark.parametrize("shape", [(50, 100, 200), (50, 200, 20), (30, 20, 40), (7, 3, 5)])
@pytest.mark.parametrize("relu", [False, True])
def test_linear_matches_autograd_forward_and_backward(shape, relu):
    m, i, o = shape
    g = torch.Generator().manual_seed(1)
    x, w, b = torch.randn(m, i, generator=g), torch.randn(o, i, generator=g), torch.randn(o, generator=g)
    ref = lambda x, w, b: F.relu(F.linear(x, w, b)) if relu else F.linear(x, w, b)  # noqa: E731
    y0, g0 = _grads(ref, x, w, b)
    y1, g1 = _grads(lambda x, w, b: K.linear(x.t(), w, b, relu=relu).t(), x, w, b)  # feature-major
    assert torch.allclose(y0, y1, rtol=1e-5, atol=1e-4)
    for a, c in zip(g0, g1):
        assert torch.allclose(a, c, rtol=1e-5, atol=1e-3)


def test_recon_loss_and_its_gradient_match_autograd():
    g = torch.Generator().manual_seed(2)
    out, x, eps = torch.randn(8, 12, generator=g), torch.rand(4, 12, generator=g), torch.randn(4, 12, generator=g)

    def ref(out):
        x_hat = out[:4] + torch.exp(0.5 * out[4:]) * eps
        return (x_hat - x).pow(2).sum() / 3

    l0, (g0,) = _grads(ref, out)
    l1, (g1,) = _grads(lambda o: K.gaussian_recon_loss(o, x, eps, 3), out)
    assert torch.allclose(l0, l1, rtol=1e-6) and torch.allclose(g0, g1, rtol=1e-5, atol=1e-6)
    assert float(l1) > 0  # not trivially zero


def test_gram_graph_loss_equals_the_per_window_sum_and_its_gradient():
    g = torch.Generator().manual_seed(3)
    a = torch.rand(6, 6, generator=g)
    a = a / a.sum(1, keepdim=True)
    xb = torch.rand(5, 6, 10, generator=g)  # (B, n, w)
    ref = lambda a: (xb - torch.matmul(a, xb)).pow(2).sum(dim=(1, 2)).mean()  # noqa: E731
    l0, (g0,) = _grads(ref, a)
    l1, (g1,) = _grads(lambda a: K.graph_loss_gram(a, xb.transpose(1, 2).reshape(-1, 6), 5), a)
    assert torch.allclose(l0, l1, rtol=1e-5) and torch.allclose(g0, g1, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("variant", ["released", "graph"])
def test_one_training_step_gives_the_same_losses_and_gradients(variant):
    """Same seed, same batch, same random draws: the fast path's three losses and every parameter's
    gradient equal the reference path's to float32 rounding (SMD-sized: 38 channels, window 100)."""
    n, w, bsz = 38, 100, 64
    x = torch.rand(bsz, n, w, generator=torch.Generator().manual_seed(4))
    out = {}
    for name in ("reference", "fast"):
        torch.manual_seed(0)
        m = StackVAEGModule(n, w, 200, 20, 30, 10, 3.0, 0.5, node_init_std=0.1 if variant == "graph" else 1.0,
                            variant=variant)
        gen = torch.Generator().manual_seed(7)
        parts = (m.losses(x, gen) if name == "reference"
                 else m.losses_fast(x.permute(2, 0, 1).contiguous(), gen))  # time-major (w, B, n)
        sum(parts.values()).backward()
        out[name] = ({k: float(v.detach()) for k, v in parts.items()}, {k: p.grad.clone() for k, p in m.named_parameters()})
    (l0, g0), (l1, g1) = out["reference"], out["fast"]
    for k in l0:
        assert l1[k] == pytest.approx(l0[k], rel=1e-5), k
    for k in g0:
        scale = g0[k].abs().max().item()
        assert (g0[k] - g1[k]).abs().max().item() <= 1e-4 * scale + 1e-7, k


def test_a_short_fit_gives_the_same_history_and_graph_as_the_reference_path():
    rng = np.random.default_rng(0)
    t = np.arange(700)
    X = (np.sin(t / 7.0)[:, None] * rng.uniform(0.5, 1, 6) + 0.05 * rng.normal(size=(700, 6))).astype(np.float32)
    kw = dict(window=20, hidden=64, latent=8, node_dim=6, k=3, epochs=3, batch_size=32, seed=1)
    a = StackVAEG(**kw, kernels="reference").fit(X)
    b = StackVAEG(**kw, kernels="fast").fit(X)
    for ra, rb in zip(a.history_, b.history_):
        for key in ("loss", "recon", "kl", "graph"):
            assert rb[key] == pytest.approx(ra[key], rel=2e-3), key
    assert np.abs(a.adjacency_ - b.adjacency_).max() < 1e-2
    sa, sb = a.score_samples(X), b.score_samples(X)
    assert np.corrcoef(sa, sb)[0, 1] > 0.999


def test_unknown_kernels_value_is_a_clear_error():
    with pytest.raises(ConfigError, match="kernels must be one of fast, reference"):
        StackVAEG(kernels="gpu").fit(np.zeros((200, 2), np.float32))


def test_fast_path_reads_any_memory_layout_of_the_series():
    rng = np.random.default_rng(1)
    X = rng.random((150, 4)).astype(np.float32)
    kw = dict(window=10, hidden=16, latent=4, node_dim=6, k=2, epochs=1, batch_size=16, seed=0)
    a = StackVAEG(**kw).fit(X)
    b = StackVAEG(**kw).fit(np.asfortranarray(X))
    assert a.history_[0]["loss"] == b.history_[0]["loss"]
