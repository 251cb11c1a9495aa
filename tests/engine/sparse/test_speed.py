"""The speed meter: every backend computes the same function; rows are complete; the model is restored."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from engine.errors import ConfigError
from engine.sparse.nm import SRSTE, to_bdwp
from engine.sparse.speed import BACKENDS, count_flops, infer, measure_speed


def _masked_mlp(density: float = 0.2, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))
    with torch.no_grad():
        for layer in model[::2]:
            layer.weight.mul_(torch.rand_like(layer.weight) < density)
    return model


def _small_cnn() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                         nn.Flatten(), nn.Linear(8 * 3 * 3, 4))


def test_speed_rows_cover_every_backend_and_batch_and_match_dense_outputs():
    rows = measure_speed(_masked_mlp(), (16,), batch_sizes=(1, 5), repeats=2, warmup=0)
    assert {(r["backend"], r["batch"]) for r in rows} == {(b, s) for b in BACKENDS for s in (1, 5)}
    for r in rows:
        assert r["max_abs_diff"] < 1e-5
        assert r["median_ms"] > 0 and r["p90_ms"] >= r["median_ms"] and r["repeats"] == 2
        assert 0.1 < r["density"] < 0.3
    dense = [r for r in rows if r["backend"] == "dense"]
    assert all(r["speedup_vs_dense"] == 1.0 and r["theoretical_flop_ratio"] == 1.0 for r in dense)
    sparse = [r for r in rows if r["backend"] != "dense"]
    assert all(r["theoretical_flop_ratio"] > 3 for r in sparse)


@pytest.mark.parametrize("backend", ["torch-csr", "scipy-csr"])
def test_sparse_backends_compute_the_dense_function_for_convolutions(backend):
    model = _small_cnn()
    x = torch.randn(3, 4, 6, 6)
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(infer(model, x, backend), expected, atol=1e-5)


def test_speed_uses_the_effective_weight_of_parametrized_and_bdwp_layers():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8))
    for layer in model[::2]:
        parametrize.register_parametrization(layer, "weight", SRSTE(1, 4))
    x = torch.randn(4, 16)
    with torch.no_grad():
        expected = model(x)
    flops = count_flops(model, (16,))
    assert flops["ratio"] == pytest.approx(4.0)  # 1:4 everywhere: a quarter of the MACs
    for backend in BACKENDS:
        assert torch.allclose(infer(model, x, backend), expected, atol=1e-5)

    bdwp = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8))
    to_bdwp(bdwp, 2, 4)
    with torch.no_grad():
        expected = bdwp(x)
    assert count_flops(bdwp, (16,))["ratio"] == pytest.approx(2.0)
    assert torch.allclose(infer(bdwp, x, "scipy-csr"), expected, atol=1e-5)


def test_speed_meter_leaves_the_model_as_it_found_it():
    model = _masked_mlp()
    model.train()
    layers = list(model)
    measure_speed(model, (16,), batch_sizes=(2,), repeats=1, warmup=0, backends=("torch-csr",))
    assert list(model) == layers and model.training


def test_count_flops_counts_conv_macs_per_output_position():
    conv = nn.Conv2d(2, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[:, 0, 1, 1] = 1.0  # 4 non-zeros of 72
    flops = count_flops(nn.Sequential(conv), (2, 5, 5))
    assert flops["dense_macs"] == 4 * 2 * 9 * 25 and flops["sparse_macs"] == 4 * 25
    assert flops["layers"][0]["kind"] == "Conv2d"


def test_speed_meter_rejects_unknown_backends_and_bad_batches():
    with pytest.raises(ConfigError, match="backend"):
        measure_speed(_masked_mlp(), (16,), backends=("cuda",))
    with pytest.raises(ConfigError, match="Batch"):
        measure_speed(_masked_mlp(), (16,), batch_sizes=(0,))
    with pytest.raises(ConfigError, match="shape"):
        measure_speed(_masked_mlp(), (15,))


def _unit_pruned(model: nn.Module, keep: dict[int, torch.Tensor]) -> nn.Module:
    """Structured pruning by hand: zero the rows of removed units and their columns in the next layer."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for i, k in keep.items():
            layers[i].weight[~k] = 0.0
            nxt = layers[i + 1].weight
            if nxt.dim() == 4:
                nxt[:, ~k] = 0.0
            else:
                per = nxt.shape[1] // k.numel()
                nxt[:, ~k.repeat_interleave(per)] = 0.0
    return model


def test_compacted_mlp_computes_the_same_function_with_fewer_parameters():
    from engine.sparse.models import MLP
    from engine.sparse.speed import compact, compacted_params

    torch.manual_seed(3)
    model = _unit_pruned(MLP(16, (32, 24), 5), {0: torch.rand(32) < 0.3, 1: torch.rand(24) < 0.5})
    x = torch.randn(7, 16)
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(infer(model, x, "compacted"), expected, atol=1e-5)
    before, after = compacted_params(model, (16,))
    shapes = {k: tuple(v.weight.shape) for k, v in compact(model, (16,)).items()}
    assert after < before / 2
    kept0 = shapes["layers.0"][0]
    assert shapes["layers.1"][1] == kept0 and shapes["layers.2"] == (5, shapes["layers.1"][0])  # chained, 5 outputs


def test_compacted_cnn_removes_filters_and_matching_channels_and_flattened_columns():
    from engine.sparse.models import SmallCNN
    from engine.sparse.speed import compact, compacted_params

    torch.manual_seed(4)
    keep0 = torch.tensor([True, False] * 4)  # 4 of 8 filters
    keep1 = torch.tensor([True, True, False, False] * 3)  # 6 of 12
    model = _unit_pruned(SmallCNN((8, 8), (8, 12), 3), {0: keep0, 1: keep1})
    x = torch.randn(4, 64)
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(infer(model, x, "compacted"), expected, atol=1e-5)
    shapes = {k: tuple(v.weight.shape) for k, v in compact(model, (64,)).items()}
    assert shapes["convs.0"] == (4, 1, 3, 3) and shapes["convs.1"] == (6, 4, 3, 3)
    assert shapes["fc"] == (3, 6 * 2 * 2)
    before, after = compacted_params(model, (64,))
    assert after < before


def test_unstructured_masks_compact_to_the_same_size():
    from engine.sparse.speed import compacted_params

    before, after = compacted_params(_masked_mlp(0.9), (16,))  # every unit still feeds the next layer
    assert before == after


def test_nm_models_get_an_untimed_row_that_says_what_they_need():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8))
    for layer in model[::2]:
        parametrize.register_parametrization(layer, "weight", SRSTE(2, 4))
    rows = measure_speed(model, (16,), batch_sizes=(1,), repeats=1, warmup=0)
    nm = [r for r in rows if r["backend"] == "n:m"]
    assert len(nm) == 1 and nm[0]["median_ms"] is None and "tensor cores" in nm[0]["note"]
    assert all("ignores the 2:4" in r["note"] for r in rows if r["backend"].endswith("csr"))
    # a 98 %-sparse random mask is not an N:M model, though each group of 4 holds at most one weight
    assert not [r for r in measure_speed(_masked_mlp(0.02), (16,), batch_sizes=(1,), repeats=1, warmup=0)
                if r["backend"] == "n:m"]


def test_speed_meter_on_a_structured_run_reports_compacted_rows():
    from engine.sparse.models import MLP

    torch.manual_seed(6)
    model = _unit_pruned(MLP(16, (64, 64), 4), {0: torch.arange(64) < 8, 1: torch.arange(64) < 8})
    rows = measure_speed(model, (16,), batch_sizes=(4,), repeats=2, warmup=0, backends=("compacted",))
    comp = next(r for r in rows if r["backend"] == "compacted")
    dense = next(r for r in rows if r["backend"] == "dense")
    assert comp["params"] < dense["params"] / 4 and comp["max_abs_diff"] < 1e-5
    assert "parameters after removing units" in comp["note"]
