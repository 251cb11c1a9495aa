"""AppTest of Graphs → Sparsify for learning: controls, bad settings, and the drawing of finished runs."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/graphs_learn.py")
SMALL = "generator:csbm?blocks=3&size=30&p_in=0.15&p_out=0.01&features=20&signal=0.2&seed=1"


SID = "test-session-0001"  # the browser session these tests play (dashboard.jobs: ?sid=)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params["sid"] = SID  # the runs these tests record belong to this session
    return at


def _finished_run(kind: str, config) -> int:
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run

    store = RunStore()
    rid = store.create_run(kind, config.to_dict(), seed=0, name="test", group="graphs-learn", owner=SID)
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished", store.get_run(rid).error
    return rid


def test_page_loads_with_its_controls(tmp_db):
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="gl-graph").value == "generator:csbm"
    assert at.selectbox(key="gl-sparsifier").value == "teddy"
    assert at.slider(key="gl-gs").value == 0.5 and at.slider(key="gl-ws").value == 0.5
    assert at.button(key="gl-start") and at.button(key="gl-sweep") and at.button(key="gl-fastrp")
    assert any("400 nodes" in t.value for t in at.text)


def test_start_queues_a_gnn_run(queue_only):
    at = _page().run()
    at.button(key="gl-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    runs = queue_only.store.list_runs("gnn", group="graphs-learn")
    assert len(runs) == 1 and runs[0].config["sparsifier"] == "teddy"


def test_shared_graphs_are_offered_only_when_the_data_is_there(tmp_db, monkeypatch, tmp_path):
    monkeypatch.setenv("SPARSITY_LAB_DATA", str(tmp_path))  # an empty data folder
    at = _page().run()
    assert not at.exception
    assert len(at.selectbox(key="gl-graph").options) == 2
    assert not any("shared data" in o for o in at.selectbox(key="gl-graph").options)


def test_finished_gnn_run_shows_numbers_curves_and_the_drawn_graph(tmp_db):
    from engine.graphs.gnn_experiments import GNNConfig

    _finished_run("gnn", GNNConfig(graph=SMALL, sparsifier="teddy", graph_sparsity=0.5, weight_sparsity=0.8, epochs=15))
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert {"Test accuracy", "Graph sparsity reached", "Weight sparsity reached"} <= set(labels)
    assert len(at.get("plotly_chart")) >= 3  # curves, graph, scores


def test_finished_fastrp_run_shows_f1_and_the_embedding(tmp_db):
    from engine.graphs.gnn_experiments import FastRPConfig

    _finished_run("fastrp", FastRPConfig(graph=SMALL, dim=16))
    at = _page().run()
    assert not at.exception and not at.error
    assert {"Micro-F1", "Macro-F1"} <= {m.label for m in at.metric}


def test_page_does_not_import_torch_at_module_top():
    import subprocess

    code = ("import sys, runpy; sys.argv=['x'];\n"
            "import engine.graphs.gnn_experiments, engine.graphs.gnn_data, dashboard.components.gnn_view\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_finished_sweep_draws_both_curves(tmp_db):
    from engine.graphs.gnn_experiments import GNNSweepConfig

    _finished_run("gnn-sweep", GNNSweepConfig(graph=SMALL, sparsifiers=("teddy", "random"), graph_sparsities=(0.2, 0.6),
                                              weight_sparsities=(0.5, 0.9), seeds=(0,), epochs=5))
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 2
