"""Experiments gnn / gnn-sweep / fastrp: result keys, live reporting, and clear messages for bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine import registry
from engine.errors import ConfigError, DataError, SparsityLabError
from engine.graphs.gnn_experiments import FastRPConfig, GNNConfig, GNNSweepConfig, run_fastrp, run_gnn, run_gnn_sweep
from engine.runs.reporter import MemoryReporter

SMALL = "generator:csbm?blocks=3&size=30&p_in=0.15&p_out=0.01&features=20&signal=0.2&seed=1"


def test_gnn_run_reports_epochs_snapshots_and_the_result_keys():
    rep = MemoryReporter()
    r = run_gnn(GNNConfig(graph=SMALL, sparsifier="teddy", graph_sparsity=0.5, weight_sparsity=0.8, epochs=20), rep)
    assert {"test_accuracy", "graph_sparsity", "weight_sparsity"} <= set(r)
    assert r["graph_sparsity"] == pytest.approx(1 - r["kept_edges"] / r["edges"])
    assert abs(r["graph_sparsity"] - 0.5) <= 1 / r["edges"] and abs(r["weight_sparsity"] - 0.8) <= 1 / r["weights_total"]
    assert len(rep.values("test_accuracy")) >= 10 and len(rep.values("teacher_test_accuracy")) >= 10
    kept = rep.snapshots["kept"][-1][1]
    assert kept.sum() == r["kept_edges"] and len(rep.snapshots["edges"][0][1]) == r["edges"]
    assert rep.snapshots["edge_score"][-1][1].shape == (r["edges"],)
    json.dumps(r)


def test_ugs_run_reports_its_rounds():
    rep = MemoryReporter()
    r = run_gnn(GNNConfig(graph=SMALL, sparsifier="ugs", graph_sparsity=0.1, weight_sparsity=0.36, epochs=10), rep)
    assert len(r["rounds"]) == 3 and len(rep.values("round_graph_sparsity")) == 3
    assert len(rep.snapshots["kept"]) >= 3


def test_sweep_gives_one_row_per_method_level_and_seed():
    rep = MemoryReporter()
    c = GNNSweepConfig(graph=SMALL, sparsifiers=("teddy", "random"), graph_sparsities=(0.2, 0.6),
                       weight_sparsities=(0.5, 0.9), seeds=(0, 1), epochs=10)
    r = run_gnn_sweep(c, rep)
    assert len(r["rows"]) == 8
    assert {row["sparsifier"] for row in r["rows"]} == {"teddy", "random"}


def test_fastrp_run_gives_f1_and_a_2d_embedding():
    rep = MemoryReporter()
    r = run_fastrp(FastRPConfig(graph=SMALL, dim=16, compare_spectral=True), rep)
    assert 0 <= r["macro_f1"] <= r["micro_f1"] + 0.2 and r["micro_f1"] > 0.5
    assert "spectral_micro_f1" in r
    assert rep.snapshots["embedding_2d"][0][1].shape == (90, 2)


def test_kinds_are_registered():
    for kind in ("gnn", "gnn-sweep", "fastrp"):
        assert registry.get(kind)[0] in (GNNConfig, GNNSweepConfig, FastRPConfig)


def test_sparsity_that_removes_every_edge_is_refused_before_the_run():
    with pytest.raises(ConfigError, match="remove every"):
        GNNConfig(graph="builtin:karate", graph_sparsity=0.995)


@pytest.mark.parametrize("field,value,match", [("graph_sparsity", 1.0, "graph sparsity"),
                                               ("weight_sparsity", -0.1, "weight sparsity"),
                                               ("sparsifier", "magic", "sparsifier"),
                                               ("graph", "generator:csbm?blocks=99", "blocks")])
def test_bad_settings_are_refused_with_a_message(field, value, match):
    with pytest.raises(ConfigError, match=match):
        GNNConfig(**{field: value})


def _edges(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("1 2\n2 3\n3 1\n3 4\n4 5\n")
    return p


def test_graph_without_labels_is_refused(tmp_path):
    with pytest.raises(SparsityLabError, match="no labels"):
        FastRPConfig(graph=f"path:{_edges(tmp_path)}")


def test_graph_without_features_is_refused_for_a_gcn(tmp_path):
    lab = tmp_path / "l.txt"
    lab.write_text("1\t0\n2\t0\n3\t1\n4\t1\n5\t1\n")
    with pytest.raises(ConfigError, match="no node features"):
        GNNConfig(graph=f"path:{_edges(tmp_path)}", labels=str(lab))


def test_label_file_that_does_not_match_the_nodes_is_refused(tmp_path):
    lab = tmp_path / "l.txt"
    lab.write_text("1\t0\n2\t0\n9\t1\n")
    with pytest.raises(DataError, match="does not match"):
        FastRPConfig(graph=f"path:{_edges(tmp_path)}", labels=str(lab))


def test_isolated_nodes_are_said_before_the_run():
    from engine.graphs.gnn_data import NodeData
    from engine.graphs.gnn_experiments import data_notes

    d = NodeData("g", np.array([[0, 1]]), 3, None, np.array([0, 1, 0]), np.array([0]), np.array([1]), np.array([2]))
    assert any("1 isolated node" in n for n in data_notes(d))


def test_cli_runs_gnn_and_fastrp(tmp_path, monkeypatch):
    from engine.cli import main

    monkeypatch.setenv("SPARSITY_LAB_DB", str(tmp_path / "runs.db"))
    out = tmp_path / "r.json"
    assert main(["run", "gnn", "--graph", SMALL, "--sparsifier", "teddy", "--graph-sparsity", "0.5",
                 "--weight-sparsity", "0.9", "--seed", "0", "--epochs", "10", "--json", str(out), "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert abs(r["weight_sparsity"] - 0.9) <= 1 / r["weights_total"] and "test_accuracy" in r
    assert main(["run", "fastrp", "--graph", "karate", "--dim", "8", "--json", str(out), "--quiet"]) == 0
    assert {"micro_f1", "macro_f1"} <= set(json.loads(out.read_text()))


def test_cli_bad_sparsity_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    from engine.cli import main

    monkeypatch.setenv("SPARSITY_LAB_DB", str(tmp_path / "runs.db"))
    assert main(["run", "gnn", "--graph", "karate", "--graph-sparsity", "0.999", "--quiet"]) == 2
    assert "remove every" in capsys.readouterr().err
