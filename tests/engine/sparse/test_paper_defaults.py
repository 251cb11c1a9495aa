"""Defaults as the papers define them, and each deviation an option named for what it does."""
from __future__ import annotations

import pytest
import torch

from engine.runs.reporter import MemoryReporter
from engine.sparse.build import build
from engine.sparse.config import SparseConfig
from engine.sparse.methods.dst import SET_RIGL_BASELINE
from engine.sparse.train import Trainer


def _setup(method: str, **params):
    config = SparseConfig(method=method, sparsity=0.9, hidden=(32, 32), epochs=3, finetune_epochs=1, batch_size=128,
                          speed_meter=False, method_params=params)
    data, model, sp = build(config)
    return config, data, model, sp, Trainer(model, sp, data, config, MemoryReporter())


def test_gmp_defaults_to_each_layer_on_the_schedule():
    assert SparseConfig(method="gmp").method_params["scope"] == "layer"  # Zhu & Gupta: every layer to s_t


def test_set_defaults_are_mocanus():
    p = SparseConfig(method="set").method_params
    assert (p["update"], p["drop"], p["decay"], p["regrow_init"], p["end"]) == ("epoch", "signed", "constant",
                                                                                "random", 1.0)


def test_set_drops_the_smallest_positive_and_largest_negative_weights_and_regrows_fresh_random_values():
    config, data, model, sp, trainer = _setup("set", zeta=0.25)
    sp.on_train_begin(trainer)
    fqn = "layers.1.weight"
    w, mask = sp.weight(fqn), sp.mask(fqn).clone()
    before = w.detach().clone()
    sp.update(10)
    new = sp.mask(fqn)
    dropped = mask & ~new
    kept = mask & new
    pos, neg = mask & (before > 0), mask & (before <= 0)
    assert int(dropped.sum()) == int(0.25 * int(pos.sum())) + int(0.25 * int(neg.sum()))
    # every dropped positive is at most every kept positive, every dropped negative at least every kept negative
    assert before[dropped & pos].max() <= before[kept & pos].min()
    assert before[dropped & neg].min() >= before[kept & neg].max()
    assert int(new.sum()) == int(mask.sum())  # constant density
    grown = new & ~mask
    fresh = w.detach()[grown]
    bound = 1 / w.shape[1] ** 0.5
    assert grown.any() and bool((fresh != 0).all()) and bool((fresh.abs() <= bound).all())


def test_set_evolves_after_every_epoch_but_the_last():
    config, data, model, sp, trainer = _setup("set")
    sp.run(trainer)
    assert sp.updates == config.epochs - 1


def test_set_as_rigls_baseline_is_an_option():
    config, data, model, sp, trainer = _setup("set", update_every=3, **SET_RIGL_BASELINE)
    sp.on_train_begin(trainer)
    fqn = "layers.1.weight"
    before, mask = sp.weight(fqn).detach().clone(), sp.mask(fqn).clone()
    sp.update(3)
    grown = sp.mask(fqn) & ~mask
    dropped = mask & ~sp.mask(fqn)
    assert before.abs()[dropped].max() <= before.abs()[mask & sp.mask(fqn)].min()  # smallest |w| overall
    assert bool((sp.weight(fqn).detach()[grown] == 0).all())  # regrown at zero


@pytest.mark.parametrize("decay", [0.0, 0.01])
def test_bdwp_decay_is_its_own_parameter_and_reaches_its_layers(decay):
    config, data, model, sp, trainer = _setup("nm-bdwp", decay=decay)
    sp.attach(model, trainer)
    swapped = [m for m in model.modules() if type(m).__name__ == "BDWPLinear"]
    assert swapped and all(m.decay == decay for m in swapped)
    from engine.sparse.nm import nm_mask

    x, y = data.x_train[:64], data.y_train[:64]
    layer = swapped[0]
    grads = []
    for d in (layer.decay, 0.0):  # the same batch with the layer's decay, then without
        layer.decay = d
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        grads.append(layer.weight.grad.clone())
    pruned = ~nm_mask(layer.weight, 2, 4)
    expected = decay * layer.weight.detach() * pruned  # SR-STE's refined term on the forward-pruned weights
    torch.testing.assert_close(grads[0] - grads[1], expected)
    sp.detach()


def test_progressive_decay_exposes_its_phases():
    config, data, model, sp, trainer = _setup("nm-decay", dense_frac=0.4, finetune_frac=0.2, curve="linear")
    sp.attach(model, trainer)
    total = trainer.total_steps
    p = sp._params[0]
    assert (p.dense_frac, p.finetune_frac, p.kind) == (0.4, 0.2, "linear")
    p.set_progress(int(0.3 * total), total)
    assert p.beta() == 1.0  # dense warm-up
    p.set_progress(int(0.6 * total), total)
    assert 0.0 < p.beta() < 1.0  # decay
    p.set_progress(int(0.9 * total), total)
    assert p.beta() == 0.0  # fine-tune with the exact N:M mask
    sp.finalize()


def test_soups_have_their_own_rounds_and_vary_weight_decay():
    config, data, model, sp, trainer = _setup("soup", rounds=2, size=3, vary="weight-decay")
    seen = []
    original = trainer.reset_optimizer

    def spy(lr=None, weight_decay=None):
        seen.append(weight_decay)
        original(lr=lr, weight_decay=weight_decay)

    trainer.reset_optimizer = spy
    sp.run(trainer)
    assert len(sp.extra_result["soup_rounds"]) == 2
    assert seen[:3] == [0.0, 1e-4, 5e-4]  # one weight decay per ingredient


def test_greedy_soup_keeps_only_ingredients_that_do_not_lower_validation_accuracy():
    config, data, model, sp, trainer = _setup("soup", rounds=1, size=3, soup="greedy", vary="lr")
    sp.run(trainer)
    (log,) = sp.extra_result["soup_rounds"]
    best = max(log["ingredients_val_accuracy"])
    assert log["soup_val_accuracy"] >= best - 1e-12  # greedy never ends below its best ingredient
    assert 1 <= len(log["ingredients_used"]) <= 3


def test_structured_ranks_units_by_the_l1_norm_as_li_et_al():
    assert SparseConfig(method="structured").method_params["norm"] == "l1"
