"""Conformance suite: every registered sparsity method against the sparsifier protocol
(``engine.sparse.masks``), as scikit-learn's ``check_estimator`` checks every estimator.

Checks, each parametrised over ``METHODS``:

1. same seed, same masks;
2. ``load_state_dict(state_dict())`` round trip on a fresh model, and ``squash_mask`` leaves a plain
   model whose pruned weights are zero;
3. the asked sparsity is reached, on the method's axis (weights, or hidden units) and per layer
   where the method defines per-layer targets;
4. pruned weights stay exactly zero through every optimiser step while masks are enforced, and
   through further Adam (weight decay) and SGD (momentum, weight decay) steps after the run;
5. the method's own defining property, declared by its class (``defining_property``) and checked
   by the function of that name below.

Tiny model (64-32-32-10 on digits), two epochs: the whole suite runs in seconds.
"""
from __future__ import annotations

import functools

import pytest
import torch

from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse import schema
from engine.sparse.build import build
from engine.sparse.config import SparseConfig
from engine.sparse.ledger import ledger_from_masks
from engine.sparse.masks import FAMILIES, keep_count
from engine.sparse.methods.registry import METHODS, method_class, methods
from engine.sparse.train import Trainer

SPARSITY = {"structured": 0.5}  # fraction of hidden units; 0.9 everywhere else (N:M: the pattern decides)
SMALL = {"rounds": 2, "size": 2, "iterations": 10, "update_every": 3, "batches": 1, "every": 2}


def config_for(method: str, seed: int = 0, **params) -> SparseConfig:
    cls = method_class(method)
    names = {p.name for p in schema.params_of(cls)}
    mp = {k: v for k, v in SMALL.items() if k in names}
    mp.update(params)
    return SparseConfig(method=method, sparsity=SPARSITY.get(method, 0.9), seed=seed, hidden=(32, 32), epochs=2,
                        finetune_epochs=1, batch_size=128, speed_meter=False, method_params=mp)


class Traced:
    """One run of a method, with the masks after every step and the weights just before each ``step()``."""

    def __init__(self, config: SparseConfig) -> None:
        self.config = config
        self.data, self.model, self.sp = build(config)
        self.trainer = Trainer(self.model, self.sp, self.data, config, MemoryReporter())
        self.steps: list[dict] = []  # {"step", "masks", "violations"}
        self.before_step: list[dict] = []  # weights right before each call of sp.step()
        original_train_step, original_step = self.trainer.train_step, self.sp.step

        def train_step(x, y):
            out = original_train_step(x, y)
            enforcing = self.sp.enforces_masks or getattr(self.sp, "enforce", False)
            violations = None
            if enforcing:
                violations = sum(int(torch.count_nonzero(self.sp.weight(f)[~m])) for f, m in self.sp.masks().items())
            self.steps.append({"step": self.trainer.step + 1, "violations": violations,
                               "masks": {f: m.clone() for f, m in self.sp.masks().items()}})
            return out

        def step():
            self.before_step.append({f: self.sp.weight(f).detach().clone() for f in self.sp.fqns})
            original_step()

        self.trainer.train_step = train_step
        self.sp.step = step
        if config.method != "dense":
            self.sp.check_model(self.model)
        self.sp.run(self.trainer)
        self.masks = {f: m.clone() for f, m in self.sp.masks().items()}

    def ledger(self) -> dict:
        return ledger_from_masks({k: m.numpy() for k, m in self.masks.items()}, method=self.config.method,
                                 requested=self.config.requested, params=self.config.method_params)


@functools.lru_cache(maxsize=None)
def traced(method: str, seed: int = 0) -> Traced:
    torch.set_num_threads(1)
    return Traced(config_for(method, seed))


# ------------------------------------------------------------------------------------ the registry
def test_every_method_declares_its_metadata_and_a_known_defining_property():
    families = set(FAMILIES)
    for cls in methods():
        assert cls.name in METHODS and cls.title and cls.family in families, cls
        assert cls.counts in ("weights", "units") and isinstance(cls.per_layer_targets, bool), cls
        assert cls.defining_property in PROPERTIES, (cls.name, cls.defining_property)
        for p in schema.params_of(cls):  # every setting has a paper default and a one-line comment
            assert p.help, (cls.name, p.name)


# ------------------------------------------------------------------------------------ 1. determinism
@pytest.mark.parametrize("method", METHODS)
def test_same_seed_gives_the_same_masks(method):
    again = Traced(config_for(method))
    first = traced(method)
    assert set(again.masks) == set(first.masks)
    for f, m in first.masks.items():
        assert torch.equal(again.masks[f], m), f


# ------------------------------------------------------------------------------------ 2. state round trip
@pytest.mark.parametrize("method", METHODS)
def test_state_dict_round_trips_and_squash_mask_leaves_a_plain_sparse_model(method):
    t = traced(method)
    state = t.sp.state_dict()
    _, model2, sp2 = build(t.config)
    if sp2.groups:
        sp2.load_state_dict(state)
        for f, m in t.masks.items():
            assert torch.equal(sp2.mask(f), m)
            assert torch.count_nonzero(model2.get_parameter(f)[~m]) == 0  # installed masks prune the weights
        assert all(torch.equal(a, b) for a, b in zip(sp2.state_dict()["masks"].values(), state["masks"].values()))
        with pytest.raises(ConfigError, match="saved masks"):
            sp2.load_state_dict({"masks": {"nowhere.weight": torch.ones(1, dtype=torch.bool)}})
    t2 = Traced(t.config)
    t2.sp.squash_mask()
    assert not t2.sp.groups and not t2.sp.state
    for f, m in t.masks.items():
        assert torch.count_nonzero(t2.model.get_parameter(f)[~m]) == 0
    assert not any(torch.nn.utils.parametrize.is_parametrized(mod) for mod in t2.model.modules())


# ------------------------------------------------------------------------------------ 3. sparsity reached
@pytest.mark.parametrize("method", METHODS)
def test_the_asked_sparsity_is_reached_on_the_methods_axis(method):
    t, cls = traced(method), method_class(method)
    requested = t.config.requested
    if not t.masks:  # dense: no weight is masked, nothing is asked
        assert requested == 0.0 and all(bool((w != 0).all()) for w in t.model.parameters() if w.dim() > 1)
        return
    led = t.ledger()
    if cls.counts == "units":
        for row in led["layers"][:-1]:
            assert row["units_removed"] == row["units"] - max(1, keep_count(row["units"], requested)), row["name"]
        assert led["layers"][-1]["units_removed"] == 0  # the classes are never removed
        assert led["total"]["sparsity"] > 0  # and the weight sparsity that follows is reported
        return
    if led["per_layer_targets"]:
        shapes = {f: tuple(m.shape) for f, m in t.masks.items()}
        targets = cls.layer_targets(shapes, requested, t.config.method_params)
        for row in led["layers"]:
            assert abs(row["kept"] - keep_count(row["total"], targets[row["name"]])) <= 1, row
    assert led["total"]["sparsity"] == pytest.approx(requested, abs=len(led["layers"]) / led["total"]["weights"] + 1e-9)


# ------------------------------------------------------------------------------------ 4. pruned stay zero
@pytest.mark.parametrize("method", METHODS)
def test_pruned_weights_stay_exactly_zero_through_optimizer_steps(method):
    t = traced(method)
    enforced = [s["violations"] for s in t.steps if s["violations"] is not None]
    assert all(v == 0 for v in enforced), method
    assert method_class(method).enforces_masks is False or len(enforced) == len(t.steps)
    for optimizer, wd in (("adam", 1e-3), ("sgd", 1e-3)):
        t.trainer.config = SparseConfig(**{**t.config.to_dict(), "optimizer": optimizer, "weight_decay": wd})
        t.trainer.reset_optimizer()
        for step in range(4):
            idx = torch.arange(step * 64, step * 64 + 64) % len(t.data.x_train)
            t.trainer.train_step(t.data.x_train[idx], t.data.y_train[idx])
            for f, m in t.sp.masks().items():
                assert torch.count_nonzero(t.sp.weight(f)[~m]) == 0, (f, optimizer, step)
    t.trainer.config = t.config


# ------------------------------------------------------------------------------------ 5. defining property
def all_kept(t: Traced) -> None:
    """dense: nothing is ever pruned."""
    assert all(bool(m.all()) for s in t.steps for m in s["masks"].values())


def keeps_largest_magnitudes(t: Traced) -> None:
    """magnitude: the kept weights are the largest |w| at pruning time (globally or per layer); static after."""
    (before,) = t.before_step
    kept = {f: before[f].abs()[t.masks[f]] for f in t.masks}
    pruned = {f: before[f].abs()[~t.masks[f]] for f in t.masks}
    if t.sp.scope == "global":
        assert min(float(v.min()) for v in kept.values()) >= max(float(v.max()) for v in pruned.values() if v.numel())
    else:
        for f in t.masks:
            assert float(kept[f].min()) >= float(pruned[f].max())
    last = t.steps[-1]["masks"]
    assert all(torch.equal(last[f], t.masks[f]) for f in t.masks)


def cubic_schedule(t: Traced) -> None:
    """gmp: at every pruning step each layer holds the cubic schedule's s_t (Zhu & Gupta, Eq. 1), monotone."""
    sp = t.sp
    assert sp.scope == "layer"  # the paper's default
    seen_prunes = 0
    previous = None
    for s in t.steps:
        step = s["step"]
        if sp.begin_step <= step <= sp.end_step and ((step - sp.begin_step) % sp.every == 0 or step == sp.end_step):
            target = sp.target(step)
            for f, m in s["masks"].items():
                assert int(m.sum()) == keep_count(m.numel(), target), (f, step, target)
            seen_prunes += 1
        dens = [int(m.sum()) for m in s["masks"].values()]
        if previous is not None:
            assert all(a <= b for a, b in zip(dens, previous))  # only ever removes weights
        previous = dens
    assert seen_prunes >= 3


def geometric_rounds(t: Traced) -> None:
    """imp: each round removes the same fraction of the survivors; the last reaches s."""
    rounds = t.sp.rounds
    history = t.sp.extra_result["imp_round_sparsity"]
    assert len(history) == rounds
    survivors = [1.0] + [1.0 - s for s in history]
    ratios = [b / a for a, b in zip(survivors[:-1], survivors[1:])]
    assert max(ratios) - min(ratios) < 0.01
    assert history[-1] == pytest.approx(t.config.sparsity, abs=2e-3)


def layer_targets_exact(t: Traced) -> None:
    """random pruning: each layer keeps exactly its distribution's count, fixed for the whole training."""
    shapes = {f: tuple(m.shape) for f, m in t.masks.items()}
    targets = type(t.sp).layer_targets(shapes, t.config.sparsity, t.config.method_params)
    for f, m in t.masks.items():
        assert int(m.sum()) == keep_count(m.numel(), targets[f]), f
    first = t.steps[0]["masks"]
    assert all(torch.equal(s["masks"][f], first[f]) for s in t.steps for f in first)


def keeps_top_scores(t: Traced) -> None:
    """SNIP / GraSP: the mask is the global top-k of the method's saliency at init, then static."""
    from engine.sparse.criteria import scores_to_masks

    expected = scores_to_masks(t.sp.last_scores, t.config.sparsity, "global")
    assert all(torch.equal(expected[f], t.masks[f]) for f in t.masks)
    first = t.steps[0]["masks"]
    assert all(torch.equal(s["masks"][f], first[f]) for s in t.steps for f in first)


def data_free(t: Traced) -> None:
    """SynFlow: the mask does not depend on the data (same init, random data: same mask)."""
    data, model, sp = build(t.config)
    data.x_train = torch.rand_like(data.x_train)
    data.y_train = data.y_train[torch.randperm(len(data.y_train))]
    sp.on_train_begin(Trainer(model, sp, data, t.config, MemoryReporter()))
    assert all(torch.equal(sp.mask(f), t.steps[0]["masks"][f]) for f in t.masks)


def constant_density_mask_changes(t: Traced) -> None:
    """SET / RigL: every layer's density is constant while the mask itself changes."""
    counts = [{f: int(m.sum()) for f, m in s["masks"].items()} for s in t.steps]
    assert all(c == counts[0] for c in counts)
    first = t.steps[0]["masks"]
    assert any(not torch.equal(t.masks[f], first[f]) for f in first)


def nm_groups(t: Traced) -> None:
    """N:M methods: every group of M consecutive inputs keeps at most N non-zero weights (exactly N in the mask)."""
    from engine.sparse.nm import nm_violations

    n, m = t.config.nm_pair
    for f, mask in t.masks.items():
        assert nm_violations(t.sp.weight(f), n, m) == 0
        groups = mask.reshape(mask.shape[0], -1).reshape(-1, m).sum(1)
        assert bool((groups == n).all()), f


def whole_units(t: Traced) -> None:
    """structured: every hidden unit is either whole (row and next layer's column kept) or removed (both empty)."""
    fqns = list(t.masks)
    inputs = torch.ones(t.masks[fqns[0]].shape[1], dtype=torch.bool)  # the image's pixels are all there
    for producer, consumer in zip(fqns[:-1], fqns[1:]):
        rows, cols = t.masks[producer], t.masks[consumer]
        alive = cols.any(1)  # the consumer's own units that were kept (removed ones have empty rows)
        for u in range(rows.shape[0]):
            whole = bool(rows[u, inputs].all()) and bool(cols[alive, u].all())
            removed = not bool(rows[u].any()) and not bool(cols[:, u].any())
            assert whole or removed, (producer, u)
        inputs = rows.any(1)
    assert sum(int((~t.masks[f].any(1)).sum()) for f in fqns[:-1]) > 0  # units were removed


def soup_keeps_mask(t: Traced) -> None:
    """soups: every round averages `size` ingredients sharing one mask, and the soup keeps that mask."""
    log = t.sp.extra_result["soup_rounds"]
    assert len(log) == t.sp.rounds
    assert all(len(r["ingredients_val_accuracy"]) == t.sp.size for r in log)
    versions = {tuple(int(m.sum()) for m in s["masks"].values()) for s in t.steps}
    assert len(versions) == t.sp.rounds + 1  # dense training, then a change only when a round prunes


PROPERTIES = {f.__name__: f for f in (all_kept, keeps_largest_magnitudes, cubic_schedule, geometric_rounds,
                                      layer_targets_exact, keeps_top_scores, data_free,
                                      constant_density_mask_changes, nm_groups, whole_units, soup_keeps_mask)}



def _reshape_transpose(rows: int, cols: int) -> torch.Tensor:
    """The permutation matrix of 'reshape to rows×cols, transpose, flatten' (Dao et al. 2022, Def. 3.1)."""
    n = rows * cols
    perm = torch.zeros(n, n)
    for i in range(rows):
        for j in range(cols):
            perm[j * rows + i, i * cols + j] = 1.0
    return perm


def monarch_structure(t: Traced) -> None:
    """monarch: each hidden layer is P L Pᵀ R with fixed block-diagonal factors, the paper's parameter
    count (2n²/b when square), and its projection onto the Monarch class (Algorithm 1) is exact."""
    from engine.sparse.monarch import MonarchLinear, block_diag_mask, project_error

    b = t.sp.nblocks
    layers = [m for m in t.model.layers if isinstance(m, MonarchLinear)]
    assert len(layers) == len(t.model.layers) - 1  # every hidden layer; the head stays dense
    for i, m in enumerate(layers):
        for name in ("R", "L"):
            w = getattr(m, name).detach()
            assert torch.equal(t.masks[f"layers.{i}.{name}"], block_diag_mask(*w.shape, b))
            assert torch.count_nonzero(w[~t.masks[f"layers.{i}.{name}"]]) == 0
        assert m.n_params() == b * (m.q * m.p + m.s * m.q)
        if m.in_features == m.out_features:
            assert m.n_params() == 2 * m.in_features ** 2 // b
        explicit = _reshape_transpose(b, m.s) @ m.L.detach() @ _reshape_transpose(m.q, b) @ m.R.detach()
        assert torch.allclose(m.dense_matrix(), explicit, atol=1e-5)
        assert project_error(m.dense_matrix(), b) < 1e-5
    first = t.steps[0]["masks"]
    assert all(torch.equal(s["masks"][f], first[f]) for s in t.steps for f in first)


PROPERTIES["monarch_structure"] = monarch_structure

@pytest.mark.parametrize("method", METHODS)
def test_the_methods_defining_property_holds(method):
    PROPERTIES[method_class(method).defining_property](traced(method))



# ------------------------------------------------------------------------------------ post-training (issue 13)
def _post_layers(t: Traced):
    """(fqn, weight before pruning (2-D), calibration inputs, keep mask (2-D)) of a post-training run."""
    for f, m in t.masks.items():
        w = t.sp.dense_weights[f]
        yield f, w, t.sp.inputs[f], m.reshape(w.shape[0], -1)


def _pruned_once_after_dense_training(t: Traced) -> None:
    trained = t.config.epochs * t.trainer.steps_per_epoch
    assert t.trainer.step == trained  # the recipe trained the dense epochs and nothing after pruning
    assert all(bool(m.all()) for s in t.steps[:trained] for m in s["masks"].values())  # every training step was dense
    assert len(t.before_step) == 1 and set(t.sp.extra_result["layer_output_error"]) == set(t.masks)


def post_training_magnitude(t: Traced) -> None:
    """post-magnitude: each layer keeps exactly its largest |w| at pruning time; pruned once, never retrained."""
    _pruned_once_after_dense_training(t)
    for f, w, x, m in _post_layers(t):
        assert int(m.sum()) == keep_count(m.numel(), t.config.sparsity), f
        assert float(w.abs()[m].min()) >= float(w.abs()[~m].max()), f


def wanda_per_output(t: Traced) -> None:
    """wanda: the mask is the per-output top of |W|·‖X‖₂ on the run's calibration inputs, kept weights
    unchanged, and its output error is at most magnitude's on the same layer and inputs."""
    from engine.sparse.methods.posttrain import magnitude_prune, output_error, per_output_keep, wanda_scores

    _pruned_once_after_dense_training(t)
    for f, w, x, m in _post_layers(t):
        assert torch.equal(m, per_output_keep(wanda_scores(w, x), t.config.sparsity)), f
        rows = m.sum(1)
        assert int(rows.max() - rows.min()) <= 1 and int(m.sum()) == keep_count(m.numel(), t.config.sparsity)
        err = t.sp.extra_result["layer_output_error"][f]
        assert err == pytest.approx(output_error(w, w * m, x), abs=1e-5)  # the kept weights were not changed
        assert err <= output_error(w, magnitude_prune(w, x, t.config.sparsity)[1], x) + 1e-9, f


def obs_beats_wanda_beats_magnitude(t: Traced) -> None:
    """sparsegpt: on every layer's calibration inputs, output error SparseGPT ≤ Wanda ≤ magnitude, exact count."""
    from engine.sparse.methods.posttrain import magnitude_prune, output_error, wanda_prune

    _pruned_once_after_dense_training(t)
    s = t.config.sparsity
    for f, w, x, m in _post_layers(t):
        assert int(m.sum()) == keep_count(m.numel(), s), f
        e_gpt = t.sp.extra_result["layer_output_error"][f]
        e_wanda = output_error(w, wanda_prune(w, x, s)[1], x)
        e_mag = output_error(w, magnitude_prune(w, x, s)[1], x)
        assert e_gpt <= e_wanda + 1e-9 and e_wanda <= e_mag + 1e-9, (f, e_gpt, e_wanda, e_mag)


SPARSITY.update({"post-magnitude": 0.5, "wanda": 0.5, "sparsegpt": 0.5})  # the papers' regime (50 %)
PROPERTIES.update({f.__name__: f for f in (post_training_magnitude, wanda_per_output, obs_beats_wanda_beats_magnitude)})


def iso_flop_wide(t: Traced) -> None:
    """sift-wide: every hidden width is the dense one × k (> 1), every layer at s, and the sparse wide
    network's forward FLOPs are within 1 % of the dense model's; RigL moves the mask at constant density."""
    from engine.sparse.models import build_model, layer_flops

    c, x = t.config, t.data.x_train
    dense = build_model(c.model, n_in=t.data.n_features, n_out=t.data.n_classes, hidden=c.hidden, channels=c.channels,
                        image_shape=t.data.image_shape)
    f_dense = 2 * sum(layer_flops(dense, x).values())
    macs = layer_flops(t.model, x)
    f_wide = 2 * sum(macs[f] * float(m.float().mean()) for f, m in t.masks.items())
    assert abs(f_wide / f_dense - 1) <= 0.01, (f_wide, f_dense)
    k = t.sp.extra_result["sift"]["width_factor"]
    widths = [layer.out_features for layer in t.model.layers[:-1]]
    assert k > 1 and all(abs(w - h * k) < 1 for w, h in zip(widths, c.hidden)), (widths, k)
    for f, m in t.masks.items():
        assert int(m.sum()) == keep_count(m.numel(), c.sparsity), f
    constant_density_mask_changes(t)


PROPERTIES.update({"iso_flop_wide": iso_flop_wide})


def best_of_random_candidates(t: Traced) -> None:
    """random-search: `candidates` distinct random masks at exact per-layer counts; the final mask is the
    one with the best validation accuracy after the short training, fixed while it trains fully."""
    sp, info = t.sp, t.sp.extra_result["random_search"]
    assert len(sp.candidate_masks) == sp.candidates == len(info["candidates_val_accuracy"])
    shapes = {f: tuple(m.shape) for f, m in t.masks.items()}
    targets = type(sp).layer_targets(shapes, t.config.sparsity, t.config.method_params)
    for cand in sp.candidate_masks:
        for f, m in cand.items():
            assert int(m.sum()) == keep_count(m.numel(), targets[f]), f
    keys = {tuple(torch.cat([m.reshape(-1) for m in c.values()]).nonzero().reshape(-1).tolist()) for c in sp.candidate_masks}
    assert len(keys) == sp.candidates  # every candidate is a different mask
    vals = info["candidates_val_accuracy"]
    assert vals[info["best"]] == max(vals)
    assert all(torch.equal(t.masks[f], sp.candidate_masks[info["best"]][f]) for f in t.masks)
    final = t.config.epochs * t.trainer.steps_per_epoch
    search = sp.candidates * sp.search_epochs * t.trainer.steps_per_epoch
    assert t.trainer.step == search + final
    assert all(torch.equal(s["masks"][f], t.masks[f]) for s in t.steps[search:search + final] for f in t.masks)


PROPERTIES.update({"best_of_random_candidates": best_of_random_candidates})


def best_of_random_node_candidates(t: Traced) -> None:
    """random-search-nodes: every candidate removes exactly the asked share of each hidden layer's units,
    whole (row and next layer's column), the candidates differ, and the best by validation is the
    final mask, fixed while it trains fully."""
    from engine.sparse.masks import keep_count

    sp, info = t.sp, t.sp.extra_result["random_search"]
    assert len(sp.candidate_masks) == sp.candidates == len(info["candidates_val_accuracy"])
    fqns = list(t.masks)
    for cand in sp.candidate_masks:
        for producer, consumer in zip(fqns[:-1], fqns[1:]):
            rows = cand[producer].reshape(cand[producer].shape[0], -1)
            kept = rows.any(1)
            assert bool((rows[kept] == rows[kept][0]).all()), producer  # every kept unit reads all kept inputs
            assert int(kept.sum()) == max(1, keep_count(rows.shape[0], t.config.sparsity)), producer
            cols = cand[consumer].reshape(cand[consumer].shape[0], kept.numel(), -1)
            assert torch.equal(cols.any(0).any(-1), kept), consumer  # the next layer reads only kept units
    keys = {tuple(torch.cat([m.reshape(-1) for m in c.values()]).nonzero().reshape(-1).tolist()) for c in sp.candidate_masks}
    assert len(keys) == sp.candidates
    vals = info["candidates_val_accuracy"]
    assert vals[info["best"]] == max(vals)
    assert all(torch.equal(t.masks[f], sp.candidate_masks[info["best"]][f]) for f in t.masks)


PROPERTIES.update({"best_of_random_node_candidates": best_of_random_node_candidates})


def k_groups_at_convergence(t: Traced) -> None:
    """wgsef: every hidden layer ends with exactly k non-zero groups (incoming weights and bias of a unit),
    left by the prox during training, not by a pruning step: the weights just before the masks were
    recorded already had exactly those zero groups (that the masks change no output is in test_wgsef.py)."""
    sp = t.sp
    (before,) = t.before_step  # the one call of step(): it records the masks
    info = sp.extra_result["wgsef"]
    for producer, _ in sp.pairs():
        rows = before[producer].reshape(before[producer].shape[0], -1)
        alive = rows.abs().sum(1) > 0
        k = max(1, keep_count(rows.shape[0], t.config.sparsity))
        assert int(alive.sum()) == k == info["nonzero_groups"][producer] == info["k"][producer], producer
        assert torch.equal(t.masks[producer].any(1), alive)
        kept = t.masks[producer][alive]  # within a kept unit only the inputs from removed units are masked
        assert bool(kept.all(0).eq(kept.any(0)).all())
        assert info["eta_final"][producer] * sp.c_of(producer) ** 2 >= 1.0  # the prox ended as the top-k threshold
    whole_units(t)


SPARSITY["wgsef"] = 0.5  # fraction of hidden units (groups), as for structured
PROPERTIES.update({"k_groups_at_convergence": k_groups_at_convergence})


def iso_flop_factorized(t: Traced) -> None:
    """sift-factorized: every Linear of the MLP is U·V with inner width d, (1 − s)·d·(n_in + n_out) ≈ n_in·n_out,
    both factors at s, and the network's forward FLOPs within 1 % of the dense model's; RigL moves the mask."""
    from engine.sparse.factorized import FactorizedLinear
    from engine.sparse.methods.sift import factorized_inner
    from engine.sparse.models import build_model, layer_flops

    c, x = t.config, t.data.x_train
    dense = build_model(c.model, n_in=t.data.n_features, n_out=t.data.n_classes, hidden=c.hidden, channels=c.channels)
    f_dense = 2 * sum(layer_flops(dense, x).values())
    macs = layer_flops(t.model, x)
    assert set(macs) == set(t.masks)  # the factors are the only weights
    f_sparse = 2 * sum(macs[f] * float(m.float().mean()) for f, m in t.masks.items())
    assert abs(f_sparse / f_dense - 1) <= 0.01, (f_sparse, f_dense)
    for layer, ref in zip(t.model.layers, dense.layers):
        assert isinstance(layer, FactorizedLinear)
        assert layer.inner == factorized_inner(ref.in_features, ref.out_features, c.sparsity)
        assert layer.dense_matrix().shape == ref.weight.shape
    for f, m in t.masks.items():
        assert int(m.sum()) == keep_count(m.numel(), c.sparsity), f
    constant_density_mask_changes(t)


PROPERTIES.update({"iso_flop_factorized": iso_flop_factorized})
