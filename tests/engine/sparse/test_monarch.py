"""Monarch matrices (Dao et al., ICML 2022): the paper's parameter count, an exact projection of a
Monarch matrix (Algorithm 1), its optimality on a dense matrix, both training modes, and refusals."""
from __future__ import annotations

import json

import pytest
import torch

from engine.cli import main
from engine.errors import ConfigError
from engine.runs.reporter import MemoryReporter
from engine.sparse.config import SparseConfig
from engine.sparse.experiments import run_sparse
from engine.sparse.monarch import MonarchLinear, monarch_params, project, project_error
from engine.sparse.preflight import check

SHAPES = [(16, 16, 4), (64, 64, 8), (64, 256, 4), (256, 64, 4), (64, 32, 8), (32, 32, 2)]


@pytest.mark.parametrize("n, b", [(16, 4), (64, 8), (256, 16), (256, 4)])
def test_square_monarch_layer_has_the_papers_parameter_count(n, b):
    layer = MonarchLinear(n, n, b)
    assert layer.n_params() == monarch_params(n, n, b) == 2 * n * n // b
    assert int(layer.R.count_nonzero()) + int(layer.L.count_nonzero()) == 2 * n * n // b  # only the blocks
    if b * b == n:
        assert layer.n_params() == 2 * round(n ** 1.5)  # 2n√n at b = √n (Sec. 3.1)


@pytest.mark.parametrize("n_in, n_out, b", SHAPES)
def test_projecting_a_monarch_matrix_gives_it_back_exactly(n_in, n_out, b):
    torch.manual_seed(n_in + n_out + b)
    m = MonarchLinear(n_in, n_out, b).dense_matrix()
    assert project_error(m, b) < 1e-5
    assert project_error(torch.randn(n_out, n_in), b) > 0.1  # a dense random matrix is not Monarch


@pytest.mark.parametrize("n_in, n_out, b", [(16, 16, 4), (64, 256, 4)])
def test_the_projection_is_the_closest_monarch_matrix_locally(n_in, n_out, b):
    """Perturbing the projection's factors in any random direction moves it away from W."""
    torch.manual_seed(1)
    w = torch.randn(n_out, n_in)
    layer = MonarchLinear(n_in, n_out, b)
    base = layer.load_projection(w)
    rb, lb = project(w, b)
    gen = torch.Generator().manual_seed(2)
    for _ in range(5):
        with torch.no_grad():
            layer.R.copy_(torch.block_diag(*(rb + 1e-2 * torch.randn(rb.shape, generator=gen))))
            layer.L.copy_(torch.block_diag(*(lb + 1e-2 * torch.randn(lb.shape, generator=gen))))
        err = float(torch.linalg.norm(w - layer.dense_matrix()) / torch.linalg.norm(w))
        assert err > base


def test_a_block_count_that_does_not_divide_the_width_is_refused_before_the_run():
    with pytest.raises(ConfigError, match="not a multiple of 3"):
        check(SparseConfig(method="monarch", hidden=(64, 64), method_params={"nblocks": 3}))
    with pytest.raises(ConfigError, match="30 outputs are not a multiple of 4"):
        check(SparseConfig(method="monarch", hidden=(30,), method_params={"nblocks": 4}))
    with pytest.raises(ConfigError, match="at least 2"):
        SparseConfig(method="monarch", method_params={"nblocks": 1})
    with pytest.raises(ConfigError, match="MLP"):
        check(SparseConfig(method="monarch", model="cnn"))


def test_cli_refuses_a_bad_block_count_without_a_traceback(tmp_path, capsys):
    rc = main(["run", "sparse", "--method", "monarch", "--nblocks", "5", "--hidden", "32", "--quiet",
               "--db", str(tmp_path / "runs.db"), "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "not a multiple of 5" in err and "Traceback" not in err and not (tmp_path / "r.json").exists()


def test_cli_monarch_run_writes_the_contract_keys_and_the_parameter_accounting(tmp_path):
    out = tmp_path / "r.json"
    rc = main(["run", "sparse", "--method", "monarch", "--nblocks", "4", "--hidden", "32,32", "--epochs", "2",
               "--batch-size", "256", "--speed-meter", "false", "--quiet", "--db", str(tmp_path / "runs.db"),
               "--json", str(out)])
    r = json.loads(out.read_text())
    assert rc == 0 and r["sparsity"] == pytest.approx(0.75) and 0 <= r["test_accuracy"] <= 1
    assert [row["name"] for row in r["layers"]] == ["layers.0.R", "layers.0.L", "layers.1.R", "layers.1.L"]
    acct = r["monarch"]
    assert acct["layers"][1] == {"name": "layers.1", "shape": [32, 32], "params": 512, "dense_params": 1024,
                                 "param_density": 0.5}
    assert acct["weights"] == sum(row["params"] for row in acct["layers"]) + 320  # + the dense 10×32 head
    assert r["flops_sparse"] == 2 * sum(row["kept"] for row in r["layers"])  # MACs of the blocks only


def test_dense_to_sparse_projects_the_trained_dense_layers_then_fine_tunes():
    cfg = SparseConfig(method="monarch", hidden=(32, 32), epochs=3, finetune_epochs=1, batch_size=128,
                       speed_meter=False, method_params={"nblocks": 4, "start": "project"})
    torch.set_num_threads(1)
    r = run_sparse(cfg, MemoryReporter())
    acct = r["monarch"]
    assert set(acct["projection_error"]) == {"layers.0", "layers.1"}
    assert all(0 < e < 1 for e in acct["projection_error"].values())  # a trained dense layer is not Monarch
    steps_per_epoch = (1797 - 180 - 359) // 128
    assert r["steps"] == 4 * steps_per_epoch  # dense epochs, then fine-tuning, one step counter
    assert acct["dense_test_accuracy"] > 0.5 and r["sparsity"] == pytest.approx(0.75)
