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
