"""Each method's defining property, on tiny models and two-epoch runs."""
from __future__ import annotations

import math

import pytest
import torch

from engine.runs.reporter import MemoryReporter
from engine.sparse import nm as nmlib
from engine.sparse.experiments import build, run_sparse
from engine.sparse.masks import erk_densities, keep_count
from engine.sparse.methods.soup import average_state
from engine.sparse.train import Trainer

from .conftest import tiny

UNSTRUCTURED = ["magnitude", "gmp", "imp", "random-uniform", "random-erk", "snip", "grasp", "synflow", "set", "rigl", "soup"]


def _run(config):
    """Run like run_sparse but keep the model and sparsifier for inspection."""
    data, model, sp = build(config)
    rep = MemoryReporter()
    trainer = Trainer(model, sp, data, config, rep)
    sp.run(trainer)
    return model, sp, trainer, rep


CASES = [(m, "global") for m in UNSTRUCTURED] + [(m, "layer") for m in ("magnitude", "gmp", "imp", "soup")]


@pytest.mark.parametrize("method, scope", CASES)
def test_every_method_reaches_the_requested_sparsity_within_one_weight_per_layer(method, scope):
    s = 0.93
    model, sp, _, _ = _run(tiny(method=method, sparsity=s, scope=scope))
    masks = sp.masks()
    total = sum(m.numel() for m in masks.values())
    kept = sum(int(m.sum()) for m in masks.values())
    assert abs(kept - keep_count(total, s)) <= len(masks)
    targets = getattr(sp, "targets", None)
    for fqn, m in masks.items():
        w = sp.weight(fqn)
        assert torch.all(w[~m] == 0), f"{fqn}: pruned weights must be exactly zero"
        if scope == "layer" or method == "random-uniform":
            assert abs(int(m.sum()) - keep_count(m.numel(), s)) <= 1
        if targets:
            assert abs(int(m.sum()) - keep_count(m.numel(), 1 - targets[fqn])) <= 1


@pytest.mark.parametrize("method", ["nm-srste", "nm-bdwp", "nm-decay"])
@pytest.mark.parametrize("pattern", ["2:4", "1:4", "2:8", "1:16"])
def test_nm_methods_never_exceed_n_nonzeros_per_group(method, pattern):
    n, m = map(int, pattern.split(":"))
    model, sp, _, _ = _run(tiny(method=method, nm=pattern, epochs=1))
    for fqn in sp.fqns:
        w = sp.weight(fqn)
        assert nmlib.nm_violations(w, n, m) == 0
        assert int((w != 0).sum()) == w.numel() * n // m  # exactly N of every M: density N/M
    assert all(type(mod) in (torch.nn.Linear,) for mod in model.layers)  # BDWP layers swapped back


def test_bdwp_prunes_weights_forward_and_gradients_backward_both_n_m():
    config = tiny(method="nm-bdwp", nm="2:4", epochs=1)
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    sp.attach(model, trainer)
    layer = model.layers[1]
    assert isinstance(layer, nmlib.BDWPLinear)
    x = torch.randn(5, 32, requires_grad=True)
    g = torch.randn(5, 32)
    (layer(x) * g).sum().backward()
    fwd, bwd = nmlib.bdwp_masks(layer.weight, 2, 4)
    assert nmlib.nm_violations(layer.weight * fwd, 2, 4, dim=1) == 0
    assert nmlib.nm_violations(layer.weight * bwd, 2, 4, dim=0) == 0
    torch.testing.assert_close(x.grad, g @ (layer.weight * bwd))  # ∂L/∂x used the backward N:M weight
    sp.finalize()
    assert type(model.layers[1]) is torch.nn.Linear


def test_nm_layer_too_small_for_the_pattern_is_refused_before_training():
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="too small"):
        run_sparse(tiny(method="nm-srste", nm="1:64", hidden=(32, 32)), MemoryReporter())


@pytest.mark.parametrize("method", ["set", "rigl"])
def test_dynamic_sparse_training_keeps_each_layer_density_constant_while_changing_the_mask(method):
    config = tiny(method=method, sparsity=0.9, epochs=3, update_every=2)
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    sp.on_train_begin(trainer)
    counts0 = {f: int(m.sum()) for f, m in sp.masks().items()}
    first = {f: m.clone() for f, m in sp.masks().items()}
    trainer.train(config.epochs, phase="t")
    assert sp.updates >= (config.epochs - 1 if method == "set" else 3)  # SET (Mocanu): after every epoch but the last
    assert {f: int(m.sum()) for f, m in sp.masks().items()} == counts0
    assert any(not torch.equal(first[f], m) for f, m in sp.masks().items())


def test_rigl_grows_the_largest_dense_gradients():
    config = tiny(method="rigl", sparsity=0.9, epochs=1)
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    sp.on_train_begin(trainer)
    fqn = "layers.1.weight"
    w = sp.weight(fqn)
    before = sp.mask(fqn).clone()
    w.grad = torch.randn_like(w)
    grad = w.grad.clone()
    sp.update(1)
    grown = sp.mask(fqn) & ~before
    inactive_not_grown = ~sp.mask(fqn) & ~before
    assert grown.sum() > 0
    assert grad.abs()[grown].min() >= grad.abs()[inactive_not_grown].max()


def test_erk_ratios_match_the_formula_and_cap_dense_layers():
    shapes = {"a": (4, 3), "b": (64, 32), "c": (128, 64)}
    d = erk_densities(shapes, 0.2)
    n = {k: math.prod(s) for k, s in shapes.items()}
    assert d["a"] == 1.0  # capped: its raw ERK density exceeds 1
    raw = {k: sum(s) / math.prod(s) for k, s in shapes.items()}
    assert d["b"] / raw["b"] == pytest.approx(d["c"] / raw["c"])  # same ε for the uncapped layers
    assert sum(d[k] * n[k] for k in shapes) == pytest.approx(0.2 * sum(n.values()))


def test_imp_rewinding_restores_the_saved_weights_exactly():
    config = tiny(method="imp", sparsity=0.8, rewind="early", rewind_step=3)
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    sp._trainer = trainer
    trainer.train(1, phase="round 1")
    saved = {k: v.clone() for k, v in sp.rewind_state.items()}
    assert trainer.step > 3  # trained past the rewind point
    sp.prune_to(0.5)
    sp.rewind_to_saved(trainer)
    state = model.state_dict()
    for k, v in saved.items():
        expected = v * sp.mask(k) if k in sp.masks() else v
        assert torch.equal(state[k], expected), k


def test_gradual_pruning_hits_its_end_sparsity_at_the_end_step():
    config = tiny(method="gmp", sparsity=0.9, scope="layer", epochs=4, prune_every=2, prune_begin=0.1, prune_end=0.5)
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    seen = {}
    original = sp.after_step

    def spy(step):
        original(step)
        seen[step + 1] = sp.sparsity()

    sp.after_step = spy
    sp.run(trainer)
    assert seen[sp.end_step] == pytest.approx(0.9, abs=1e-3)
    assert seen[sp.end_step - 1] < 0.9
    assert all(seen[t] <= seen[t + 1] + 1e-12 for t in range(1, sp.end_step))  # monotone


def test_soup_of_models_with_identical_masks_keeps_the_mask():
    model, sp, trainer, rep = _run(tiny(method="soup", sparsity=0.8))
    for fqn, m in sp.masks().items():
        assert torch.all(sp.weight(fqn)[~m] == 0)
    rounds = sp.extra_result["soup_rounds"]
    assert len(rounds) == 2 and len(rounds[0]["ingredients_val_accuracy"]) == 2
    a = {"w": torch.tensor([[1.0, 0.0], [0.0, 2.0]])}
    b = {"w": torch.tensor([[3.0, 0.0], [0.0, 4.0]])}
    assert torch.equal(average_state([a, b])["w"] == 0, a["w"] == 0)


def test_snip_keeps_the_largest_connection_sensitivities():
    config = tiny(method="snip", sparsity=0.9)
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    scores = sp.scores(trainer)
    sp.on_train_begin(trainer)
    kept = torch.cat([scores[f][sp.mask(f)] for f in sp.fqns])
    dropped = torch.cat([scores[f][~sp.mask(f)] for f in sp.fqns])
    assert kept.min() >= dropped.max()


def test_grasp_scores_are_minus_theta_times_hessian_gradient():
    config = tiny(method="grasp", sparsity=0.5, hidden=(3,))
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    scores = sp.scores(trainer)  # θ ⊙ Hg (keeping the largest removes the largest −θ ⊙ Hg)
    x, y = next(iter(sp._batches(trainer)))
    params = [sp.weight(f) for f in sp.fqns]
    shapes = [p.shape for p in params]

    def loss_of(flat):
        ws, i = [], 0
        for s in shapes:
            ws.append(flat[i : i + math.prod(s)].reshape(s))
            i += math.prod(s)
        h = torch.relu(x @ ws[0].T + model.layers[0].bias)
        return torch.nn.functional.cross_entropy((h @ ws[1].T + model.layers[1].bias) / sp.temperature, y)

    flat = torch.cat([p.detach().reshape(-1) for p in params])
    g = torch.autograd.functional.jacobian(loss_of, flat)
    hess = torch.autograd.functional.hessian(loss_of, flat)
    expected = flat * (hess @ g)
    got = torch.cat([scores[f].reshape(-1) for f in sp.fqns])
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-9)


def test_synflow_is_data_free_and_keeps_every_layer_alive_at_extreme_sparsity():
    masks_a = _first_masks(tiny(method="synflow", sparsity=0.99))
    masks_b = _first_masks(tiny(method="synflow", sparsity=0.99, val_frac=0.3))  # other training data
    for f in masks_a:
        assert torch.equal(masks_a[f], masks_b[f])  # same init, different data: same mask
        assert int(masks_a[f].sum()) > 0  # no layer collapse


def _first_masks(config):
    data, model, sp = build(config)
    sp.on_train_begin(Trainer(model, sp, data, config, MemoryReporter()))
    return {f: m.clone() for f, m in sp.masks().items()}


def test_structured_pruning_removes_whole_units_in_and_out():
    model, sp, _, _ = _run(tiny(method="structured", sparsity=0.5))
    w0, w1 = sp.weight("layers.0.weight"), sp.weight("layers.1.weight")
    dead_rows = (w0 == 0).all(1)
    assert int(dead_rows.sum()) == 16  # half of 32 units
    assert torch.all(w1[:, dead_rows] == 0)  # their outgoing weights are gone too
    assert sp.mask("layers.2.weight").shape == (10, 32)
    assert int((~sp.mask("layers.2.weight").all(0)).sum()) == 16


def test_structured_pruning_removes_whole_channels_of_a_cnn():
    model, sp, _, _ = _run(tiny(method="structured", sparsity=0.5, model="cnn", channels=(4, 8), epochs=1))
    m0, m1, fc = sp.mask("convs.0.weight"), sp.mask("convs.1.weight"), sp.mask("fc.weight")
    removed0 = ~m0.reshape(4, -1).any(1)
    assert int(removed0.sum()) == 2 and not m1[:, removed0].any()
    removed1 = ~m1.reshape(8, -1).any(1)
    assert int(removed1.sum()) == 4
    assert not fc.reshape(10, 8, -1)[:, removed1].any()


def test_group_lasso_drives_whole_units_towards_zero():
    def unit_norms(lam):
        config = tiny(method="structured", sparsity=0.0, group_lasso=lam, epochs=3, finetune_epochs=0, lr=3e-3)
        model, sp, _, _ = _run(config)
        return sp.unit_norms("layers.0.weight")

    plain, lasso = unit_norms(0.0), unit_norms(0.05)
    assert float(lasso.min()) < 0.5 * float(plain.min())


def test_squash_mask_leaves_a_plain_sparse_model():
    model, sp, _, _ = _run(tiny(method="magnitude", sparsity=0.8))
    masks = {f: m.clone() for f, m in sp.masks().items()}
    state = sp.state_dict()
    assert set(state["masks"]) == set(masks) and all(torch.equal(state["masks"][f], m) for f, m in masks.items())
    sp.squash_mask()
    for f, m in masks.items():
        assert torch.all(model.get_parameter(f)[~m] == 0)
    assert not sp.groups


@pytest.mark.parametrize("method", ["random-uniform", "snip", "rigl"])
def test_sparse_fan_in_init_rescales_each_unit_to_its_kept_inputs(method):
    config = tiny(method=method, sparsity=0.9, sparse_init="fan-in")
    data, model, sp = build(config)
    before = {f: sp.weight(f).detach().clone() for f in sp.fqns}
    sp.on_train_begin(Trainer(model, sp, data, config, MemoryReporter()))
    for fqn in sp.fqns:
        w, m = sp.weight(fqn), sp.mask(fqn)
        k = m.sum(1, keepdim=True).clamp(min=1).float()
        expected = before[fqn] * m * (m.shape[1] / k).sqrt()
        torch.testing.assert_close(w.detach(), expected)  # variance of each unit's input is dense-like again


def test_dense_init_is_the_default_and_keeps_the_kept_weights():
    config = tiny(method="random-erk", sparsity=0.9)
    data, model, sp = build(config)
    before = {f: sp.weight(f).detach().clone() for f in sp.fqns}
    sp.on_train_begin(Trainer(model, sp, data, config, MemoryReporter()))
    assert config.method_params["sparse_init"] == "dense"
    for fqn in sp.fqns:
        torch.testing.assert_close(sp.weight(fqn).detach(), before[fqn] * sp.mask(fqn))


@pytest.mark.parametrize("optimizer, weight_decay", [("adam", 0.0), ("adam", 1e-3), ("sgd", 1e-3)])
@pytest.mark.parametrize("method", ["random-erk", "rigl", "gmp"])
def test_pruned_weights_stay_exactly_zero_through_every_optimizer_step(method, optimizer, weight_decay):
    # The loop masks gradients only (no second multiply after optimizer.step()): zero gradient and
    # zero moments must leave pruned weights at exactly 0 after every step, also while masks change.
    config = tiny(method=method, sparsity=0.9, optimizer=optimizer, weight_decay=weight_decay, lr=1e-2,
                  update_every=2, prune_every=1, prune_begin=0.0, prune_end=0.9, epochs=2)
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    sp.on_train_begin(trainer)
    if method == "gmp":
        sp.begin_step, sp.end_step = 0, 12
    versions = set()
    for step in range(16):
        idx = torch.arange(step * 32, step * 32 + 64) % len(data.x_train)
        trainer.train_step(data.x_train[idx], data.y_train[idx])
        trainer.step += 1
        versions.add(sp.version)
        for fqn in sp.fqns:
            assert torch.count_nonzero(sp.weight(fqn)[~sp.mask(fqn)]) == 0, (fqn, step)
    assert method == "random-erk" or len(versions) > 3  # RigL / GMP masks did change during these steps
