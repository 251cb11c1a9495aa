"""N:M building blocks: masks, SR-STE, BDWP, progressive gradient flow (MDGF/SDGF)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from engine.errors import ConfigError
from engine.sparse.nm import (
    SRSTE, BDWPConv2d, BDWPLinear, DecayingNM, bdwp_conv2d, bdwp_linear, bdwp_masks, decay_factor,
    nm_compatible, nm_mask, nm_violations, parse_nm, sdgf_pattern, sdgf_patterns, srste, to_bdwp,
    validate_nm,
)


PATTERNS = [(2, 4), (1, 4), (3, 4), (2, 8), (1, 16)]
SHAPES = [(8, 32), (3, 64), (16, 2, 4, 4), (5, 16, 1, 1)]


def _group_counts(mask: torch.Tensor, m: int, dim: int = 1) -> torch.Tensor:
    t = mask.reshape(mask.shape[0], -1)
    t = t.t() if dim == 0 else t
    return t.reshape(t.shape[0], -1, m).sum(-1)


# --- masks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,m", PATTERNS)
def test_nm_mask_keeps_exactly_n_per_group_on_random_weights(n, m):
    gen = torch.Generator().manual_seed(n * 100 + m)
    for shape in SHAPES:
        for _ in range(5):
            w = torch.randn(shape, generator=gen)
            mask = nm_mask(w, n, m)
            assert mask.shape == w.shape and mask.dtype == torch.bool
            assert nm_violations(w * mask, n, m) == 0
            assert torch.all(_group_counts(mask, m) == n)


def test_nm_mask_keeps_the_largest_magnitudes_of_each_group():
    w = torch.randn(6, 24, generator=torch.Generator().manual_seed(1))
    mask = nm_mask(w, 2, 8)
    a, k = w.abs().reshape(6, 3, 8), mask.reshape(6, 3, 8)
    smallest_kept = torch.where(k, a, torch.inf).amin(-1)
    largest_pruned = torch.where(~k, a, -torch.inf).amax(-1)
    assert torch.all(smallest_kept >= largest_pruned)


def test_nm_mask_breaks_ties_by_position():
    mask = nm_mask(torch.ones(2, 8), 2, 4)
    assert mask.int().tolist() == [[1, 1, 0, 0, 1, 1, 0, 0]] * 2
    assert torch.equal(nm_mask(torch.ones(2, 8), 2, 4), mask)


@pytest.mark.parametrize("n,m", [(1, 4), (3, 4), (2, 8), (5, 8), (1, 16), (9, 16)])
def test_nm_mask_equals_a_stable_sort_even_with_many_ties(n, m):
    w = torch.randint(-2, 3, (12, 4 * m), generator=torch.Generator().manual_seed(m + n)).float()
    groups = w.abs().reshape(12, 4, m)
    keep = torch.argsort(groups, dim=-1, descending=True, stable=True)[..., :n]
    expected = torch.zeros_like(groups, dtype=torch.bool).scatter_(-1, keep, True).reshape(w.shape)
    assert torch.equal(nm_mask(w, n, m), expected)


def test_nm_mask_groups_conv_weights_along_in_kh_kw():
    w = torch.zeros(1, 2, 2, 2)  # 2-D view (1, 8): groups [c0 k00 k01 k10 k11], [c1 ...]
    w[0, 0, 1, 1] = 5.0
    w[0, 1, 0, 0] = 4.0
    mask = nm_mask(w, 1, 4)
    assert mask[0, 0, 1, 1] and mask[0, 1, 0, 0] and int(mask.sum()) == 2


def test_nm_mask_along_output_dim_is_nm_in_the_transpose():
    w = torch.randn(8, 12, generator=torch.Generator().manual_seed(2))
    mask = nm_mask(w, 1, 4, dim=0)
    assert nm_violations(w * mask, 1, 4, dim=0) == 0
    assert torch.equal(mask, nm_mask(w.t(), 1, 4).t())


def test_nm_violations_counts_groups_with_too_many_nonzeros():
    t = torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
    assert nm_violations(t, 2, 4) == 1
    assert nm_violations(t, 3, 4) == 0
    assert nm_violations(torch.ones(8, 2), 3, 4, dim=0) == 4


@pytest.mark.parametrize("n,m", [(4, 4), (5, 4), (0, 4), (-1, 2)])
def test_validate_nm_rejects_n_not_below_m(n, m):
    with pytest.raises(ConfigError, match="0 < N < M"):
        validate_nm((8, 8), n, m)


def test_validate_nm_names_the_layer_that_is_too_small():
    with pytest.raises(ConfigError, match=r"fc\.weight.*too small for 2:8.*input size 4"):
        validate_nm((3, 4), 2, 8, name="fc.weight")
    with pytest.raises(ConfigError, match=r"output size 10 is not a multiple of 4"):
        validate_nm((10, 64), 2, 4, dim=0)
    with pytest.raises(ConfigError, match="input size 9"):
        nm_mask(torch.randn(16, 1, 3, 3), 2, 4)
    assert not nm_compatible((16, 1, 3, 3), 2, 4) and nm_compatible((16, 4, 3, 3), 2, 4)


@pytest.mark.parametrize("text", ["2/4", "4:2", "a:b", "", "2:4:8", "0:4"])
def test_parse_nm_rejects_garbage(text):
    with pytest.raises(ConfigError):
        parse_nm(text)


# --- SR-STE -------------------------------------------------------------------------------------

def _srste_layer(n=2, m=4, decay=2e-4, seed=0):
    torch.manual_seed(seed)
    layer = nn.Linear(16, 6)
    parametrize.register_parametrization(layer, "weight", SRSTE(n, m, decay))
    return layer


def test_srste_forward_uses_the_nm_pruned_weight():
    layer = _srste_layer(1, 4)
    dense = layer.parametrizations.weight.original
    assert torch.equal(layer.weight, dense * nm_mask(dense, 1, 4))
    assert nm_violations(layer.weight, 1, 4) == 0


def test_srste_gradient_is_dense_ste_plus_refined_decay_term():
    lam = 0.3  # large, so the refined term is clearly visible
    layer = _srste_layer(2, 4, lam)
    x = torch.randn(5, 16, generator=torch.Generator().manual_seed(3))
    dense = layer.parametrizations.weight.original
    mask = nm_mask(dense, 2, 4)
    layer(x).pow(2).sum().backward()
    # Reference: plain autograd w.r.t. the sparse weight W̃ as a leaf (what STE hands to W).
    w_sparse = (dense * mask).detach().requires_grad_(True)
    F.linear(x, w_sparse, layer.bias).pow(2).sum().backward()
    expected = w_sparse.grad + lam * (~mask) * dense.detach()
    assert torch.allclose(dense.grad, expected, atol=1e-6)
    assert torch.all(dense.grad[~mask] != 0)  # pruned weights do get a gradient


def test_srste_mask_is_recomputed_from_the_current_dense_weights():
    layer = _srste_layer(1, 4)
    with torch.no_grad():
        layer.parametrizations.weight.original.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]).repeat(6, 4))
    assert layer.weight[0, :4].tolist() == [0.0, 0.0, 0.0, 4.0]
    with torch.no_grad():
        layer.parametrizations.weight.original[0, 0] = 9.0
    assert layer.weight[0, :4].tolist() == [9.0, 0.0, 0.0, 0.0]


def test_srste_with_zero_decay_is_plain_ste():
    w = torch.randn(4, 8, requires_grad=True)
    srste(w, 2, 4, decay=0.0).sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))


# --- BDWP ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (2, 8)])
def test_bdwp_linear_prunes_forward_along_inputs_and_backward_along_outputs(n, m):
    gen = torch.Generator().manual_seed(4)
    w = torch.randn(16, 24, generator=gen, requires_grad=True)
    b = torch.randn(16, generator=gen, requires_grad=True)
    x = torch.randn(7, 24, generator=gen, requires_grad=True)
    g = torch.randn(7, 16, generator=gen)
    m_fwd, m_bwd = bdwp_masks(w, n, m)
    assert nm_violations(w * m_fwd, n, m, dim=1) == 0
    assert nm_violations(w * m_bwd, n, m, dim=0) == 0
    assert not torch.equal(m_fwd, m_bwd)

    y = bdwp_linear(x, w, b, n, m)
    assert torch.allclose(y, x @ (w * m_fwd).t() + b, atol=1e-6)
    y.backward(g)
    assert torch.allclose(x.grad, g @ (w * m_bwd), atol=1e-5)
    assert torch.allclose(w.grad, g.t() @ x, atol=1e-5)  # weight update: dense
    assert torch.allclose(b.grad, g.sum(0), atol=1e-6)


def test_bdwp_decay_adds_the_sr_ste_term_to_the_weight_gradient():
    w = torch.randn(8, 8, requires_grad=True)
    x = torch.randn(3, 8)
    bdwp_linear(x, w, None, 2, 4, decay=0.5).sum().backward()
    m_fwd = nm_mask(w, 2, 4)
    expected = torch.ones(3, 8).t() @ x + 0.5 * (~m_fwd) * w.detach()
    assert torch.allclose(w.grad, expected, atol=1e-6)


def test_bdwp_conv2d_matches_reference_convolutions():
    gen = torch.Generator().manual_seed(5)
    w = torch.randn(8, 4, 3, 3, generator=gen, requires_grad=True)
    x = torch.randn(2, 4, 6, 6, generator=gen, requires_grad=True)
    m_fwd, m_bwd = bdwp_masks(w, 2, 4)
    assert nm_violations(w * m_bwd, 2, 4, dim=0) == 0
    y = bdwp_conv2d(x, w, None, 2, 4, padding=1)
    assert torch.allclose(y, F.conv2d(x, w * m_fwd, padding=1), atol=1e-5)
    g = torch.randn_like(y)
    y.backward(g)
    x_ref = x.detach().requires_grad_(True)
    w_ref = w.detach().requires_grad_(True)
    F.conv2d(x_ref, w_ref * m_bwd, padding=1).backward(g)  # reference for the input gradient
    assert torch.allclose(x.grad, x_ref.grad, atol=1e-4)
    w_dense = w.detach().requires_grad_(True)
    F.conv2d(x.detach(), w_dense, padding=1).backward(g)  # reference for the (dense) weight gradient
    assert torch.allclose(w.grad, w_dense.grad, atol=1e-4)


def test_to_bdwp_swaps_layers_in_place_and_shares_parameters():
    model = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 8))
    params = {k: id(v) for k, v in model.named_parameters()}
    assert to_bdwp(model, 2, 4) == ["0.weight", "3.weight"]
    assert isinstance(model[0], BDWPConv2d) and isinstance(model[3], BDWPLinear)
    assert {k: id(v) for k, v in model.named_parameters()} == params
    model(torch.randn(2, 4, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_to_bdwp_rejects_a_layer_whose_output_size_breaks_the_pattern_without_changing_the_model():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 10))  # output 10 % 4 != 0
    with pytest.raises(ConfigError, match=r"2\.weight.*output size 10"):
        to_bdwp(model, 2, 4)
    assert type(model[0]) is nn.Linear
    assert to_bdwp(model, 2, 4, fqns=["0.weight"]) == ["0.weight"]
    with pytest.raises(ConfigError, match="not a plain"):
        to_bdwp(model, 2, 4, fqns=["1.weight"])


def test_bdwp_mlp_learns_a_toy_task():
    torch.manual_seed(0)
    x = torch.randn(64, 16)
    y = (x[:, :4].sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    to_bdwp(model, 2, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    first = None
    for _ in range(30):
        loss = F.cross_entropy(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.6 * first
    assert nm_violations(model[0].forward_weight(), 2, 4) == 0


# --- progressive gradient flow (MDGF / SDGF) -----------------------------------------------------

@pytest.mark.parametrize("kind", ["exp", "linear"])
def test_decay_factor_falls_from_one_to_zero(kind):
    betas = [decay_factor(s, 200, kind=kind) for s in range(201)]
    assert betas[0] == 1.0 and betas[-1] == 0.0
    assert all(a >= b for a, b in zip(betas, betas[1:]))
    assert decay_factor(199, 200, kind=kind, finetune_frac=0.1) == 0.0  # binary mask while fine-tuning
    assert decay_factor(10, 200, kind=kind, dense_frac=0.1) == 1.0  # dense phase


def test_decay_factor_rejects_bad_settings():
    with pytest.raises(ConfigError):
        decay_factor(0, 10, kind="cosine")
    with pytest.raises(ConfigError):
        decay_factor(0, 10, dense_frac=0.6, finetune_frac=0.5)


def test_sdgf_patterns_tighten_to_the_target():
    for n, m in PATTERNS:
        pats = sdgf_patterns(n, m)
        ns = [k for k, _ in pats]
        assert pats[-1] == (n, m) and ns == sorted(ns, reverse=True) and len(set(ns)) == len(ns)
        seen = [sdgf_pattern(s, 100, n, m) for s in range(101)]
        assert [p for i, p in enumerate(seen) if i == 0 or p != seen[i - 1]] == pats


def _decaying_layer(schedule, n=1, m=4, **kw):
    torch.manual_seed(0)
    layer = nn.Linear(16, 8)
    param = DecayingNM(n, m, schedule, **kw)
    parametrize.register_parametrization(layer, "weight", param)
    return layer, param


@pytest.mark.parametrize("schedule", ["mdgf", "sdgf"])
@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (1, 16)])
def test_decaying_mask_is_exactly_nm_at_the_end_of_training(schedule, n, m):
    layer, param = _decaying_layer(schedule, n, m)
    total = 50
    param.set_progress(total, total)
    assert nm_violations(layer.weight, n, m) == 0
    assert torch.all(_group_counts(layer.weight != 0, m) == n)
    param.set_progress(0, total)
    if schedule == "mdgf":
        assert param.beta() == 1.0 and torch.equal(layer.weight, layer.parametrizations.weight.original)
    else:
        assert nm_violations(layer.weight, m - 1, m) == 0 and param.pattern() == (m - 1, m)


def test_mdgf_scales_pruned_weights_and_their_gradients_by_beta():
    layer, param = _decaying_layer("mdgf", 1, 4, kind="linear")
    param.set_progress(45, 100)  # halfway through the decay phase: β = 0.5
    assert param.beta() == pytest.approx(0.5)
    dense = layer.parametrizations.weight.original
    mask = nm_mask(dense, 1, 4)
    assert torch.allclose(layer.weight, torch.where(mask, dense, 0.5 * dense))
    x = torch.ones(1, 16)
    layer(x).sum().backward()
    assert torch.allclose(dense.grad[mask], torch.ones(int(mask.sum())))
    assert torch.allclose(dense.grad[~mask], torch.full((int((~mask).sum()),), 0.5))


def test_decaying_straight_through_passes_the_full_gradient():
    layer, param = _decaying_layer("sdgf", 1, 4, straight_through=True)
    param.set_progress(100, 100)
    layer(torch.ones(1, 16)).sum().backward()
    assert torch.equal(layer.parametrizations.weight.original.grad, torch.ones(8, 16))


def test_decaying_schedule_rejects_unknown_names():
    with pytest.raises(ConfigError, match="mdgf"):
        DecayingNM(2, 4, "cubic")
