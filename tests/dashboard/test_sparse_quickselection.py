"""AppTest of Sparse training → Feature selection (QuickSelection): refuses K ≥ 64, queues a run,
draws a finished one (strength map with the selected pixels, downstream accuracies)."""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_quickselection.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=90)


def test_k_of_all_pixels_is_refused_and_starts_nothing(queue_only):
    at = _page().run()
    assert not at.exception
    at.number_input(key="qs-k").set_value(64).run()
    at.button(key="qs-start").click().run()
    assert not at.exception
    assert any("smaller than the 64 input features" in e.value for e in at.error)
    assert RunStore(queue_only.store.path).list_runs() == []


def test_the_button_queues_one_run(queue_only):
    at = _page().run()
    at.number_input(key="qs-k").set_value(8).run()
    at.button(key="qs-start").click().run()
    assert not at.exception and not at.error
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.kind == "quickselection" and run.config["k_features"] == 8


def test_a_finished_run_draws_strength_selection_and_accuracies(tmp_db):
    from engine.runs.worker import execute_run
    from engine.sparse.quickselection import QuickSelectionConfig

    store = RunStore()
    c = QuickSelectionConfig(k_features=6, hidden_units=30, epochs=2)
    rid = store.create_run("quickselection", c.to_dict(), seed=0, name="t", group="sparse-quickselection")
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished"
    at = _page()
    at.query_params["run"] = str(rid)  # recorded outside this browser session: opened by link
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    spec = " ".join(ch.proto.spec for ch in at.get("plotly_chart"))
    assert "Input-neuron strength" in spec and "Downstream accuracy" in spec and "random K" in spec
    assert any("Selected pixels" in cap.value for cap in at.caption)
