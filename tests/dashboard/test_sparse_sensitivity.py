"""AppTest of Sparse training → Layer sensitivity: form, refusal, starting, and the layer × sparsity grid."""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_sensitivity.py")


SID = "test-session-0001"  # the browser session these tests play (dashboard.jobs: ?sid=)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params["sid"] = SID  # the runs these tests record belong to this session
    return at


def test_page_renders_with_eight_default_levels(queue_only):
    at = _page().run()
    assert not at.exception
    assert len(at.multiselect(key="ss-levels").value) == 8


def test_no_levels_is_refused_and_starts_nothing(queue_only):
    at = _page().run()
    at.multiselect(key="ss-levels").set_value([]).run()
    at.button(key="ss-start").click().run()
    assert not at.exception
    assert any("at least one sparsity" in e.value for e in at.error)
    assert RunStore(queue_only.store.path).list_runs() == []


def test_analyse_button_records_a_sensitivity_run(queue_only):
    at = _page().run()
    at.multiselect(key="ss-levels").set_value([0.5, 0.9]).run()
    at.button(key="ss-start").click().run()
    assert not at.exception and not at.error
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.kind == "sensitivity" and run.config["sparsities"] == [0.5, 0.9]


def test_finished_analysis_draws_the_layer_by_sparsity_grid(tmp_db):
    from engine.runs.worker import execute_run
    from engine.sparse.sweep import SensitivityConfig

    store = RunStore()
    c = SensitivityConfig(epochs=1, hidden=(16, 16), sparsities=(0.5, 0.99))
    rid = store.create_run("sensitivity", c.to_dict(), seed=0, name="t", group="sparse-sensitivity", owner=SID)
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished"
    at = _page().run()
    assert not at.exception and not at.error
    spec = " ".join(ch.proto.spec for ch in at.get("plotly_chart"))
    assert "Validation accuracy when only this layer is pruned" in spec
    assert "layers.2" in spec
    assert "Dense validation accuracy" in [m.label for m in at.metric]
