"""Defining properties of the lessons' SET/RigL (constant density, masks move, RigL grows by |grad|)."""
import numpy as np
import pytest

from engine.learn.mlp import MLP, make_data, train
from engine.learn.playground import drop_and_grow, drop_fraction, trajectory
from engine.sparse.schedules import cosine_drop_fraction


@pytest.mark.parametrize("method", ["set", "rigl"])
def test_dynamic_methods_keep_every_layers_density_constant(method):
    t = trajectory(method, sparsity=0.6, steps=300, seed=1)
    counts = {tuple(int(m.sum()) for m in f.masks) for f in t.frames}
    assert len(counts) == 1
    assert t.updates == len(range(25, int(0.75 * 300), 25))


@pytest.mark.parametrize("method", ["set", "rigl"])
def test_dynamic_methods_move_connections_and_static_does_not(method):
    dyn = trajectory(method, sparsity=0.5, steps=300)
    static = trajectory("static", sparsity=0.5, steps=300)
    assert not all(np.array_equal(a, b) for a, b in zip(dyn.frames[0].masks, dyn.frames[-1].masks))
    assert all(np.array_equal(a, b) for f in static.frames for a, b in zip(f.masks, static.frames[0].masks))
    assert static.updates == 0


def test_each_update_drops_floor_f_t_of_the_active_weights_per_layer():
    t = trajectory("rigl", sparsity=0.5, steps=400, alpha=0.4)
    updates = [f for f in t.frames if f.grown]
    end = int(0.75 * 400)
    for f in updates:
        frac = cosine_drop_fraction(f.step, alpha=0.4, end=end)
        for m, g, d in zip(f.masks, f.grown, f.dropped):
            assert int(g.sum()) == int(d.sum())
            # moved connections ≤ k: a dropped weight may be regrown at once (it is a candidate too)
            assert int(g.sum()) <= int(frac * m.sum())


def test_grown_weights_start_at_zero():
    t = trajectory("rigl", sparsity=0.5, steps=200)
    f = next(f for f in t.frames if f.grown)
    assert all((w[g] == 0).all() for w, g in zip(f.weights, f.grown))
    assert any(g.any() for g in f.grown)


def test_drop_and_grow_drops_smallest_magnitude_and_grows_highest_score():
    w = np.array([[0.9, -0.1, 0.0, 0.0], [0.5, 0.0, -0.05, 0.0]])
    mask = w != 0
    scores = np.array([[0.0, 0.0, 1.0, 3.0], [0.0, 2.0, 0.0, 0.5]])
    new = drop_and_grow(w, mask, scores, 0.5)  # k = 2: drop -0.05 and -0.1, grow scores 3.0 and 2.0
    assert new.sum() == mask.sum()
    assert new.tolist() == [[True, False, False, True], [True, True, False, False]]


def test_rigl_grows_where_the_dense_gradient_is_largest():
    x, y = make_data("moons", 100)
    net = MLP((8, 8), seed=0)
    rng = np.random.default_rng(0)
    net.masks = [rng.random(w.shape) < 0.5 for w in net.weights]
    net.apply_masks()
    gw, _ = net.grads(x, y)
    l = 1
    new = drop_and_grow(net.weights[l], net.masks[l], np.abs(gw[l]), 0.3)
    grown = new & ~net.masks[l]
    k = int(grown.sum())
    candidates = np.abs(gw[l])[~net.masks[l]]
    assert k > 0 and np.allclose(np.sort(np.abs(gw[l])[grown]), np.sort(candidates)[-k:])


def test_dense_gradient_matches_finite_differences_at_pruned_weights():
    x, y = make_data("circles", 60, seed=3)
    net = MLP((4,), seed=2)
    net.masks[0][0, 0] = False
    net.apply_masks()
    gw, _ = net.grads(x, y)
    eps = 1e-6
    net.masks[0][0, 0] = True  # perturb the pruned weight as if it were active (value 0 + eps)
    net.weights[0][0, 0] = eps
    up = net.loss_acc(x, y)[0]
    net.weights[0][0, 0] = -eps
    down = net.loss_acc(x, y)[0]
    assert gw[0][0, 0] == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-9)


def test_drop_fraction_is_the_labs_cosine_schedule():
    assert [drop_fraction(t, alpha=0.3, end=100, decay="cosine") for t in (0, 25, 50, 99, 100)] == \
        [cosine_drop_fraction(t, alpha=0.3, end=100) for t in (0, 25, 50, 99, 100)]


def test_masked_training_keeps_pruned_weights_at_zero():
    x, y = make_data("moons", 100)
    net = MLP((8, 8))
    net.masks[1][:] = False
    net.masks[1][0, 0] = True
    net.apply_masks()
    train(net, x, y, 50)
    assert (net.weights[1][~net.masks[1]] == 0).all()


def test_trajectory_is_deterministic_for_a_seed():
    a, b = trajectory("set", steps=200, seed=4), trajectory("set", steps=200, seed=4)
    assert all(np.array_equal(m, n) for fa, fb in zip(a.frames, b.frames) for m, n in zip(fa.masks, fb.masks))
