"""The CLI contract of issue 3: ``python -m engine run sparse|sweep|sensitivity ... --json PATH``.

Runs go through ``engine.cli.main`` in-process (the same code path as ``python -m engine``, with a
temporary run store); one test starts the real ``python -m engine`` once to prove the entry point.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.runs.store import RunStore

CONTRACT_METHODS = ["magnitude", "gmp", "imp", "random-uniform", "random-erk", "snip", "grasp", "synflow",
                    "set", "rigl", "nm-srste", "nm-bdwp", "nm-decay", "structured", "soup"]
# Tiny training so every run takes a fraction of a second; the contract flags come first.
FAST = ["--hidden", "32", "--epochs", "1", "--finetune-epochs", "1", "--batch-size", "256", "--imp-rounds", "1",
        "--soup-size", "2", "--synflow-iters", "5", "--pai-batches", "1", "--update-every", "2", "--quiet"]
ROOT = Path(__file__).resolve().parents[3]


def _run(tmp_path, *argv: str) -> tuple[int, dict | None]:
    out = tmp_path / "r.json"
    rc = main(["run", *argv, "--db", str(tmp_path / "runs.db"), "--json", str(out)])
    return rc, json.loads(out.read_text()) if out.exists() else None


@pytest.mark.parametrize("method", CONTRACT_METHODS)
def test_every_contract_method_runs_and_writes_the_result_json(tmp_path, method):
    nm = ["--nm", "2:4"] if method.startswith("nm-") else []
    rc, r = _run(tmp_path, "sparse", "--dataset", "digits", "--model", "mlp", "--method", method,
                 "--sparsity", "0.98", "--seed", "0", *nm, *FAST, "--speed-meter", "false")
    assert rc == 0
    assert 0.0 <= r["test_accuracy"] <= 1.0 and r["seconds"] > 0 and r["method"] == method
    assert [layer["name"] for layer in r["layers"]] == ["layers.0.weight", "layers.1.weight"]
    assert [layer["shape"] for layer in r["layers"]] == [[32, 64], [10, 32]]
    kept = sum(layer["density"] * layer["shape"][0] * layer["shape"][1] for layer in r["layers"])
    assert r["sparsity"] == pytest.approx(1 - kept / (32 * 64 + 10 * 32), abs=1e-3)  # densities add up
    if method.startswith("nm-"):
        assert r["sparsity"] == 0.5 and all(layer["density"] == 0.5 for layer in r["layers"])
    elif method == "structured":  # 98 % of the 32 hidden units go: 1 kept (in and out of the layer)
        assert r["layers"][0]["density"] == pytest.approx(1 / 32, abs=1e-4) and r["sparsity"] > 0.96
    else:
        assert r["sparsity"] == pytest.approx(0.98, abs=0.005)


def test_sparse_run_is_recorded_in_the_store_with_its_exports(tmp_path):
    rc, r = _run(tmp_path, "sparse", "--method", "rigl", "--sparsity", "0.9", *FAST, "--speed-meter", "false",
                 "--out", str(tmp_path / "export"))
    assert rc == 0
    run = RunStore(tmp_path / "runs.db").get_run(r["run_id"])
    assert run.status == "finished" and run.kind == "sparse" and run.config["method"] == "rigl"
    assert {"model.safetensors", "masks.npz", "recipe.yaml"} <= {p.name for p in (tmp_path / "export").iterdir()}


def test_the_exported_recipe_reproduces_the_run(tmp_path):
    rc, first = _run(tmp_path, "sparse", "--method", "snip", "--sparsity", "0.95", "--seed", "3", *FAST,
                     "--speed-meter", "false", "--out", str(tmp_path / "export"))
    rc2, again = _run(tmp_path, "sparse", "--recipe", str(tmp_path / "export" / "recipe.yaml"), "--quiet")
    assert rc == rc2 == 0
    assert again["test_accuracy"] == first["test_accuracy"] and again["layers"] == first["layers"]


def test_sparse_result_carries_the_speed_meter(tmp_path):
    rc, r = _run(tmp_path, "sparse", "--method", "magnitude", "--sparsity", "0.95", *FAST)
    assert rc == 0
    cells = {(row["backend"], row["batch"]) for row in r["speed"]}
    assert cells == {(b, n) for b in ("dense", "compacted", "torch-csr", "scipy-csr") for n in (1, 64)}
    sparse_rows = [row for row in r["speed"] if row["backend"] != "dense"]
    assert all(row["theoretical_flop_ratio"] == pytest.approx(r["flops_dense"] / r["flops_sparse"], rel=0.01)
               for row in sparse_rows)
    assert all(row["max_abs_diff"] < 1e-3 and row["median_ms"] > 0 for row in r["speed"])


def test_sweep_writes_one_row_per_run(tmp_path):
    rc, r = _run(tmp_path, "sweep", "--methods", "magnitude,set", "--sparsities", "0.5,0.9", "--seeds", "0,1",
                 "--hidden", "16", "--epochs", "1", "--finetune-epochs", "1", "--batch-size", "256", "--quiet",
                 "--csv", str(tmp_path / "rows.csv"))
    assert rc == 0
    rows = r["rows"]
    assert len(rows) == r["n_runs"] == 2 * (1 + 2 * 2)  # per seed: dense + 2 methods × 2 levels
    assert {(x["method"], x["requested_sparsity"], x["seed"]) for x in rows} == (
        {("dense", 0.0, s) for s in (0, 1)} | {(m, p, s) for m in ("magnitude", "set") for p in (0.5, 0.9) for s in (0, 1)})
    assert len((tmp_path / "rows.csv").read_text().strip().splitlines()) == 1 + len(rows)


def test_method_flags_come_from_the_method_class_and_old_flags_still_work(tmp_path):
    rc, r = _run(tmp_path, "sparse", "--method", "set", "--zeta", "0.2", "--update", "steps", *FAST,
                 "--speed-meter", "false")
    assert rc == 0
    run = RunStore(tmp_path / "runs.db").get_run(r["run_id"])
    p = run.config["method_params"]
    assert (p["zeta"], p["update"], p["update_every"], p["drop"]) == (0.2, "steps", 2, "signed")  # --update-every 2
    rc, r = _run(tmp_path, "sparse", "--method", "nm-srste", "--srste-decay", "0.001", *FAST, "--speed-meter", "false")
    assert rc == 0 and RunStore(tmp_path / "runs.db").get_run(r["run_id"]).config["method_params"]["decay"] == 0.001
    rc, r = _run(tmp_path, "sparse", "--method", "imp", "--method-params", '{"rounds": 1, "rewind": "init"}', *FAST,
                 "--speed-meter", "false")
    assert rc == 0 and RunStore(tmp_path / "runs.db").get_run(r["run_id"]).config["method_params"]["rewind"] == "init"


def test_structured_result_reports_units_removed_and_weight_sparsity(tmp_path):
    rc, r = _run(tmp_path, "sparse", "--method", "structured", "--sparsity", "0.5", *FAST, "--speed-meter", "false")
    assert rc == 0
    led = r["ledger"]
    assert (led["counts"], led["axis"], led["per_layer_targets"]) == ("units", "units removed", True)
    assert led["layers"][0]["units_removed"] == 16 and led["total"]["units_removed"] == 16
    assert led["total"]["sparsity"] == r["sparsity"] and 0.4 < r["sparsity"] < 0.6
    assert not any("units have no" in w for w in r["warnings"])  # removed on purpose: no warning


def test_sensitivity_writes_the_layer_by_sparsity_matrix(tmp_path):
    rc, r = _run(tmp_path, "sensitivity", "--sparsities", "0.5,0.99", "--hidden", "16", "--epochs", "1",
                 "--batch-size", "256", "--quiet")
    assert rc == 0
    assert r["layers"] == ["layers.0.weight", "layers.1.weight"] and r["sparsities"] == [0.5, 0.99]
    assert all(len(row) == 2 and all(0 <= a <= 1 for a in row) for row in r["accuracy"])


@pytest.mark.parametrize(
    "argv, words",
    [
        (["sparse", "--method", "nm-srste", "--nm", "4:4"], "smaller than M"),
        (["sparse", "--method", "nm-srste", "--nm", "5:4"], "smaller than M"),
        (["sparse", "--sparsity", "1.0"], "impossible"),
        (["sparse", "--epochs", "0"], "Epochs"),
        (["sparse", "--method", "lottery"], "Unknown method"),
        (["sparse", "--method", "nm-bdwp", "--nm", "1:64", "--hidden", "32"], "too small"),
        (["sparse", "--hidden", "1,x"], "whole numbers"),
        (["sweep", "--methods", "magnitude,prune-it"], "Unknown method"),
        (["sweep", "--methods", "nm-srste", "--nm", "2:8", "--hidden", "12"], "not a multiple of 8"),
        (["sensitivity", "--sparsities", "0.5,1.0"], "impossible"),
        (["sparse", "--method", "rigl", "--zeta", "0.2"], "The method rigl takes"),
        (["sparse", "--method", "set", "--zeta", "lots"], "'zeta' must be a float"),
        (["sparse", "--method", "gmp", "--scope", "all"], "must be one of layer, global"),
        (["sparse", "--method", "imp", "--method-params", "[1]"], "JSON object"),
    ],
)
def test_bad_input_fails_before_a_run_is_recorded(tmp_path, capsys, argv, words):
    rc, r = _run(tmp_path, *argv)
    assert rc == 2 and r is None
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and "Traceback" not in err
    assert not (tmp_path / "runs.db").exists() or RunStore(tmp_path / "runs.db").list_runs() == []


@pytest.mark.slow
def test_python_dash_m_engine_honours_the_contract(tmp_path):
    out = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "engine", "run", "sparse", "--dataset", "digits", "--model", "mlp", "--method",
           "nm-srste", "--nm", "2:4", "--sparsity", "0.98", "--seed", "0", "--json", str(out),
           "--db", str(tmp_path / "runs.db"), *FAST, "--speed-meter", "false"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert {"test_accuracy", "sparsity", "layers", "seconds"} <= set(r) and r["nm"] == "2:4"
    assert set(r["layers"][0]) >= {"name", "shape", "density"}
