"""WGSEF and the sparse envelope's prox (engine/sparse/prox.py): the closed forms against numerical
minimisers, the λ ≥ 1 hard threshold, the envelope's zero set, exactly k groups at the end of a run
(MLP and CNN), masks that change no output, and k larger than a layer's groups refused before a run."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import LinearConstraint, minimize

from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse import preflight
from engine.sparse.build import build
from engine.sparse.config import SparseConfig
from engine.sparse.experiments import run_sparse
from engine.sparse.prox import (half_ksupport_sq, prox_groups, prox_half_ksupport_sq, prox_sparse_envelope,
                                sparse_envelope, top_k_hard_threshold)
from engine.sparse.train import Trainer


def _h_k_numeric(x: np.ndarray, k: int) -> float:
    """h_k(x) = ½ min_{0≤u≤1, Σu≤k} Σ x_i²/u_i (the biconjugate's variational form), by a QP-like solver."""
    d = len(x)
    res = minimize(lambda u: 0.5 * np.sum(x ** 2 / u), np.full(d, min(1.0, k / d)), method="trust-constr",
                   bounds=[(1e-9, 1.0)] * d, constraints=[LinearConstraint(np.ones((1, d)), -np.inf, k)],
                   options={"gtol": 1e-12, "xtol": 1e-12, "maxiter": 5000})
    return float(res.fun)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_closed_form_k_support_norm_matches_the_numerical_convex_envelope():
    rng = np.random.default_rng(0)
    for _ in range(12):
        d = int(rng.integers(2, 7))
        k = int(rng.integers(1, d + 1))
        x = rng.normal(size=d)
        assert half_ksupport_sq(torch.tensor(x), k) == pytest.approx(_h_k_numeric(x, k), rel=1e-4)
        y = rng.normal(size=d)  # Fenchel–Young with h_k*(y) = ½‖H_k(y)‖²
        hy = top_k_hard_threshold(torch.tensor(y), k).numpy()
        assert half_ksupport_sq(torch.tensor(x), k) >= x @ y - 0.5 * hy @ hy - 1e-12


def test_the_envelope_is_zero_exactly_on_k_sparse_vectors():
    rng = np.random.default_rng(1)
    for _ in range(20):
        d, k = 6, int(rng.integers(1, 6))
        x = torch.tensor(rng.normal(size=d))
        assert sparse_envelope(x, k) > 1e-9  # 6 non-zeros > k
        assert sparse_envelope(top_k_hard_threshold(x, k), k) == pytest.approx(0.0, abs=1e-12)


def _objective(v: np.ndarray, y: np.ndarray, k: int, lam: float) -> float:
    return lam * sparse_envelope(torch.tensor(v), k) + 0.5 * float(((v - y) ** 2).sum())


@pytest.mark.parametrize("lam", [0.05, 0.3, 0.7, 0.95, 1.0, 1.5, 4.0])
def test_the_prox_of_the_envelope_minimises_its_objective_against_a_multistart_search(lam):
    rng = np.random.default_rng(int(lam * 100))
    for _ in range(8):
        d = int(rng.integers(2, 7))
        k = int(rng.integers(1, d))
        y = rng.normal(size=d) * 2
        p = prox_sparse_envelope(torch.tensor(y), k, lam).numpy()
        starts = [y, np.zeros(d), p + 0.1 * rng.normal(size=d), rng.normal(size=d), top_k_hard_threshold(
            torch.tensor(y), k).numpy()]
        found = min(minimize(_objective, s, args=(y, k, lam), method="Powell",
                             options={"xtol": 1e-10, "ftol": 1e-13}).fun for s in starts)
        assert _objective(p, y, k, lam) <= found + 1e-9, (y, k, lam)
        assert int(np.count_nonzero(p)) >= k  # never fewer than k survive
        if lam >= 1:  # the hard threshold
            assert np.array_equal(p, top_k_hard_threshold(torch.tensor(y), k).numpy())


def test_the_prox_of_half_the_squared_k_support_norm_is_its_minimiser_and_keeps_the_largest_unshrunk():
    rng = np.random.default_rng(3)
    for _ in range(10):
        d, k, beta = 7, int(rng.integers(1, 6)), float(rng.uniform(0.1, 3))
        z = rng.normal(size=d)
        p = prox_half_ksupport_sq(torch.tensor(z), k, beta).numpy()
        f = lambda v: beta * half_ksupport_sq(torch.tensor(v), k) + 0.5 * float(((v - z) ** 2).sum())  # noqa: E731
        found = min(minimize(f, s, method="Powell", options={"xtol": 1e-10, "ftol": 1e-13}).fun for s in (z, p + 0.05))
        assert f(p) <= found + 1e-9
    y = torch.tensor([5.0, 4.0, 0.3, 0.2, 0.1], dtype=torch.float64)
    out = prox_sparse_envelope(y, 2, 0.3)
    assert out[:2].tolist() == [5.0, 4.0] and out[2:].tolist() == [0.0, 0.0, 0.0]  # group lasso would shrink 5 and 4


def test_the_group_prox_rescales_groups_by_their_norms():
    x = torch.tensor([[3.0, 4.0], [0.6, 0.8], [0.0, 0.1]], dtype=torch.float64)  # norms 5, 1, 0.1
    scale = prox_groups(x.norm(dim=1), 1, 2.0)
    assert scale.tolist() == [1.0, 0.0, 0.0]
    weighted = prox_groups(x.norm(dim=1), 1, 0.3, weight=2.0)  # λc² = 1.2 ≥ 1: the hard threshold too
    assert weighted.tolist() == [1.0, 0.0, 0.0]


def _config(**kw) -> SparseConfig:
    base = dict(method="wgsef", sparsity=0.75, hidden=(24, 16), epochs=3, batch_size=128, speed_meter=False)
    base.update(kw)
    return SparseConfig(**base)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_a_run_ends_with_exactly_k_nonzero_groups_per_hidden_layer(model):
    torch.set_num_threads(1)
    r = run_sparse(_config(model=model, channels=(8, 12)), MemoryReporter())
    info = r["wgsef"]
    assert info["exactly_k"] and info["nonzero_groups"] == info["k"]
    expected = [6, 4] if model == "mlp" else [2, 3]  # round(0.25 · units)
    assert list(info["k"].values()) == expected
    assert [row["units"] - row["units_removed"] for row in r["ledger"]["layers"][:-1]] == expected
    counts = [sum(h["nonzero_groups"].values()) for h in info["history"]]
    assert counts[0] > sum(expected) and counts[-1] == sum(expected)  # the prox brought them down during training


def test_recording_the_masks_changes_no_output_and_the_model_compacts():
    from engine.sparse.speed import compacted_params, infer

    config = _config()
    data, model, sp = build(config)
    trainer = Trainer(model, sp, data, config, MemoryReporter())
    sp.on_train_begin(trainer)
    trainer.train(config.epochs, phase="train")
    sp.active = False
    x = data.x_test
    before = model(x).detach()
    sp.step()
    assert torch.allclose(model(x).detach(), before, atol=1e-6)
    assert torch.allclose(infer(model, x, "compacted"), before, atol=1e-5)
    dense, compact = compacted_params(model, (64,))
    assert compact == (64 * 6 + 6) + (6 * 4 + 4) + (4 * 10 + 10) and dense > compact


def test_a_constant_strength_reports_how_many_groups_it_left():
    r = run_sparse(_config(method_params={"schedule": "constant"}), MemoryReporter())
    info = r["wgsef"]
    assert all(info["nonzero_groups"][f] >= info["k"][f] for f in info["k"])
    assert info["exactly_k"] == (info["nonzero_groups"] == info["k"])


def test_k_larger_than_a_layers_groups_is_refused_before_the_run():
    config = _config(method_params={"groups_kept": 20})  # the second hidden layer has 16 units
    with pytest.raises(ConfigError, match=r"k = 20 .* layers.1.weight has only 16 groups"):
        preflight.check(config)
    with pytest.raises(ConfigError, match="λ must be positive"):
        _config(method_params={"lam": 0})
    r = run_sparse(_config(method_params={"groups_kept": 5}), MemoryReporter())
    assert list(r["wgsef"]["nonzero_groups"].values()) == [5, 5]


def test_the_linear_time_root_search_gives_the_sorted_search_prox_with_ties_and_zeros():
    from engine.sparse.prox import prox_half_ksupport_sq_sorted

    rng = np.random.default_rng(11)
    for t in range(400):
        d = int(rng.integers(2, 80))
        k, beta = int(rng.integers(1, d)), float(rng.uniform(0.01, 10))
        z = rng.normal(size=d)
        if t % 3 == 0:
            z = np.round(z, 1)  # ties between entries and breakpoints
        if t % 4 == 0:
            z[rng.random(d) < 0.4] = 0.0
        zt = torch.tensor(z)
        assert torch.allclose(prox_half_ksupport_sq(zt, k, beta), prox_half_ksupport_sq_sorted(zt, k, beta),
                              atol=1e-12, rtol=0), (d, k, beta)
