"""The SSumM experiments: config validation, live reporting, final snapshots, files, cancel, sweep."""
from __future__ import annotations

import io
import json
import math

import networkx as nx
import numpy as np
import pytest

from engine.errors import ConfigError
from engine.graphs.experiments import (
    EXPERIMENTS, SSumMConfig, SSumMSweepConfig, adjacency_images, budget_notes, run_ssumm, run_ssumm_sweep,
    export_file, summary_json, supernode_order,
)
from engine.graphs.summary import Summary
from engine.runs.reporter import MemoryReporter


@pytest.mark.parametrize("ratio", [0, -0.2, 1.5, float("nan"), "0.3", True])
def test_ratio_outside_the_half_open_unit_interval_is_a_config_error(ratio):
    with pytest.raises(ConfigError, match=r"in \(0, 1\]|must be a (finite )?number"):
        SSumMConfig(ratio=ratio)


@pytest.mark.parametrize("field,value,words", [
    ("error", "l3", "'l1' or 'l2'"), ("iterations", 0, "iterations"), ("seed", -1, "seed"),
    ("source", "builtin:nope", "Unknown built-in"), ("source", "", "Pick a graph"),
])
def test_other_bad_settings_are_config_errors(field, value, words):
    with pytest.raises(ConfigError, match=words):
        SSumMConfig(**{field: value})


def test_sweep_checks_every_ratio():
    with pytest.raises(ConfigError, match=r"in \(0, 1\]"):
        SSumMSweepConfig(ratios=(0.2, 1.5))
    with pytest.raises(ConfigError, match="at least one"):
        SSumMSweepConfig(ratios=())


def test_configs_round_trip_through_json():
    c = SSumMSweepConfig(source="generator:sbm?blocks=3&size=10", ratios=(0.2, 0.4), error="l2")
    again = SSumMSweepConfig.from_dict(json.loads(c.to_json()))
    assert again == c
    assert set(EXPERIMENTS) == {"ssumm", "ssumm-sweep"}


def _tiny_summary():
    # two triangles {0,1,2} and {3,4,5} joined by the edge 2-3; summary: one supernode per triangle
    edges = np.array([[0, 1], [0, 2], [1, 2], [3, 4], [3, 5], [4, 5], [2, 3]])
    s = Summary.from_blocks([0, 0, 0, 1, 1, 1], [[0, 0], [1, 1], [0, 1]], [3, 3, 1], n_edges=7, edges=edges)
    return edges, s


def test_adjacency_images_equal_the_dense_matrices_when_small():
    edges, s = _tiny_summary()
    order = supernode_order(s.supernode_of)
    A = nx.to_numpy_array(nx.Graph(edges.tolist()), nodelist=range(6))[np.ix_(order, order)]
    original, recon = adjacency_images(edges, s.supernode_of, s.superedges, s.densities, max_side=64)
    assert np.allclose(original, A)
    assert np.allclose(recon, s.reconstructed_dense(order))


def test_adjacency_images_are_pair_averages_when_downsampled():
    edges, s = _tiny_summary()
    original, recon = adjacency_images(edges, s.supernode_of, s.superedges, s.densities, max_side=2)
    # cell (0,0) is the first triangle: all 6 ordered pairs are edges; (0,1): 1 edge of 9 pairs
    assert np.allclose(original, [[1.0, 1 / 9], [1 / 9, 1.0]])
    assert np.allclose(recon, [[1.0, 1 / 9], [1 / 9, 1.0]])


def test_budget_notes_are_silent_for_a_comfortable_budget_and_speak_when_over_it():
    _, s = _tiny_summary()
    s.target_bits = s.size_bits * 10
    assert budget_notes(s) == []
    s.target_bits = 1.0
    (note,) = budget_notes(s)
    assert "above the budget" in note


@pytest.mark.parametrize("ratio,words", [(0.05, "too small for any superedge"), (0.1, "|V|·log2|S|")])
def test_a_sparse_ring_at_small_ratios_is_said_to_collapse(ratio, words):
    result = run_ssumm(SSumMConfig(source="generator:ws?n=300&k=2&p=0", ratio=ratio), MemoryReporter())
    assert result["size_bits"] <= result["target_bits"]
    assert any(words in n for n in result["notes"])


def test_karate_run_reports_every_iteration_and_fits_the_budget():
    rep = MemoryReporter()
    result = run_ssumm(SSumMConfig(source="builtin:karate", ratio=0.4, seed=0), rep)
    for key in ("nodes", "edges", "supernodes", "superedges", "size_bits", "input_bits", "re1", "re2", "seconds",
                "target_bits", "ratio", "error", "notes"):
        assert key in result
    assert (result["nodes"], result["edges"]) == (34, 78)
    assert result["size_bits"] <= result["target_bits"] + 1e-9
    assert result["input_bits"] == pytest.approx(2 * 78 * math.log2(34))
    steps = [s for s, _ in rep.metrics["size_bits"]]
    assert len(steps) >= 1 and steps == sorted(steps)
    for name in ("target_bits", "re1", "re2", "supernodes", "superedges"):
        assert [s for s, _ in rep.metrics[name]] == steps
    assert rep.values("size_bits")[-1] == pytest.approx(result["size_bits"])
    assert rep.snapshots["supernode_of"][-1][1].shape == (34,)


def test_karate_run_writes_files_that_read_back():
    rep = MemoryReporter()
    result = run_ssumm(SSumMConfig(source="builtin:karate", ratio=0.5, error="l2", seed=1,
                                   files=("summary.json", "summary.graphml")), rep)
    text = rep.artifacts["summary.txt"][0].decode()
    edges = np.array(nx.karate_club_graph().edges())
    back = Summary.from_text(text, edges)
    assert back.n_supernodes == result["supernodes"] and back.n_superedges == result["superedges"]
    assert back.re1 == pytest.approx(result["re1"])
    G = nx.read_graphml(io.BytesIO(rep.artifacts["summary.graphml"][0]))
    assert G.number_of_nodes() == result["supernodes"] and G.number_of_edges() == result["superedges"]
    data = json.loads(rep.artifacts["summary.json"][0])
    assert sorted(m for s in data["supernodes"] for m in s["members"]) == list(range(34))
    orig = rep.snapshots["adjacency_original"][-1][1]
    assert orig.shape == (34, 34) and orig.sum() == pytest.approx(2 * 78)
    assert "edges" in rep.snapshots and "groups" in rep.snapshots  # small graph: drawable, with its clubs


def test_same_seed_same_summary():
    a, b = MemoryReporter(), MemoryReporter()
    cfg = SSumMConfig(source="generator:sbm?blocks=3&size=12&p_in=0.6&p_out=0.05&seed=2", ratio=0.3, seed=5)
    ra, rb = run_ssumm(cfg, a), run_ssumm(cfg, b)
    assert (ra["size_bits"], ra["re1"]) == (rb["size_bits"], rb["re1"])
    assert (a.snapshots["supernode_of"][-1][1] == b.snapshots["supernode_of"][-1][1]).all()


def test_cancel_returns_early_and_keeps_a_valid_summary():
    rep = MemoryReporter(stop_after=1)
    result = run_ssumm(SSumMConfig(source="builtin:lesmis", ratio=0.2, seed=0), rep)
    assert rep.stop_requested and result["stopped_early"]
    assert any("Cancelled" in n for n in result["notes"])
    assert len(rep.values("size_bits")) < 20
    assert rep.snapshots["supernode_of"][-1][1].shape == (77,)


def test_sweep_reports_one_row_per_ratio_and_more_bits_buy_less_error():
    rep = MemoryReporter()
    result = run_ssumm_sweep(SSumMSweepConfig(source="builtin:karate", ratios=(0.1, 0.5, 0.9), seed=0), rep)
    rows = result["rows"]
    assert [r["ratio"] for r in rows] == [0.1, 0.5, 0.9]
    assert [s for s, _ in rep.metrics["re1"]] == [0, 1, 2]
    assert all(r["size_bits"] <= r["target_bits"] + 1e-9 for r in rows)
    assert rows[0]["re1"] > rows[2]["re1"]
    assert b"ratio" in rep.artifacts["sweep.csv"][0]


def test_sweep_cancel_keeps_only_finished_ratios():
    rep = MemoryReporter(stop_after=0)
    result = run_ssumm_sweep(SSumMSweepConfig(source="builtin:karate", ratios=(0.2, 0.4)), rep)
    assert result["rows"] == [] and "Cancelled" in result["notes"][-1]


def test_a_run_writes_only_the_summary_text_unless_asked():
    rep = MemoryReporter()
    result = run_ssumm(SSumMConfig(source="builtin:karate", ratio=0.5, seed=1), rep)
    assert set(rep.artifacts) == {"summary.txt"}
    # the page builds the other files from the text on demand: the same as a run that wrote them
    asked = MemoryReporter()
    run_ssumm(SSumMConfig(source="builtin:karate", ratio=0.5, seed=1, files=("summary.json", "summary.graphml")),
              asked)
    text = rep.artifacts["summary.txt"][0].decode()
    for name in ("summary.json", "summary.graphml"):
        assert export_file(name, text, result) == asked.artifacts[name][0]


def test_summary_json_densities_match_the_summary():
    rep = MemoryReporter()
    run_ssumm(SSumMConfig(source="builtin:lesmis", ratio=0.4, seed=0), rep)
    text = rep.artifacts["summary.txt"][0].decode()
    s = Summary.from_text(text)
    data = summary_json(text, {})
    assert [e["density"] for e in data["superedges"]] == pytest.approx(s.densities.tolist())


def test_skip_half_density_is_an_l1_option():
    with pytest.raises(ConfigError, match="L1 option"):
        SSumMConfig(error="l2", skip_half_density=True)
    with pytest.raises(ConfigError, match="Unknown summary file"):
        SSumMConfig(files=("summary.png",))
    assert SSumMConfig(ratio=1.0).ratio == 1.0   # (0, 1], as the library and the message say


def test_cancel_before_the_first_iteration_ends_at_once_with_a_valid_summary():
    rep = MemoryReporter(stop_after=0)
    result = run_ssumm(SSumMConfig(source="builtin:lesmis", ratio=0.3, seed=0), rep)
    assert rep.stop_requested and result["stopped_early"]
    assert "size_bits" not in rep.metrics or len(rep.values("size_bits")) == 1   # only the final point
    assert result["within_budget"] and "Cancelled after iteration 0" in " ".join(result["notes"])
