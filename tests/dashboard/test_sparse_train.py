"""AppTest of Sparse training → Train & prune: the form, refusal of bad settings, starting and drawing runs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.runs.jobs import JobRunner
from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_train.py")


SID = "test-session-0001"  # the browser session these tests play (dashboard.jobs: ?sid=)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params["sid"] = SID  # the runs these tests record belong to this session
    return at


def _finished(kind: str, config, group: str = "sparse-train") -> int:
    """Run an experiment in this process and record it, as the worker would."""
    from engine.runs.worker import execute_run

    store = RunStore()
    rid = store.create_run(kind, config.to_dict(), seed=0, name="test", group=group, owner=SID)
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished", store.get_run(rid).error
    return rid


def test_app_opens_on_train_and_prune_with_digits_and_magnitude(tmp_db):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Train & prune"
    assert at.selectbox(key="st-dataset").value == "digits"
    assert at.selectbox(key="st-method").value == "magnitude"
    assert at.slider(key="st-sparsity").value == 0.9


def test_method_choice_shows_only_the_knobs_that_method_reads(queue_only):
    at = _page().run()
    at.selectbox(key="st-method").set_value("rigl").run()
    keys = {w.key for w in at.number_input} | {w.key for w in at.slider} | {w.key for w in at.radio}
    assert {"st-rigl.update_every", "st-rigl.drop_fraction", "st-rigl.distribution"} <= keys
    assert "st-ft" not in keys and not any(k.endswith(".scope") or k.endswith(".rounds") for k in keys)
    at.selectbox(key="st-method").set_value("nm-srste").run()
    assert at.text_input(key="st-nm-srste.nm").value == "2:4"
    assert "st-sparsity" not in {w.key for w in at.slider}
    assert not at.exception


@pytest.mark.parametrize("method, change, message", [
    ("nm-srste", ("text_input", "st-nm-srste.nm", "4:4"), "N must be smaller than M"),
    ("nm-bdwp", ("text_input", "st-nm-bdwp.nm", "2:5"), "not a multiple of 5"),
    ("magnitude", ("text_input", "st-hidden", "256,abc"), "whole numbers"),
    ("magnitude", ("selectbox", "st-dataset", "mnist"), "IDX files"),
])
def test_impossible_settings_show_an_error_and_start_nothing(queue_only, method, change, message):
    at = _page().run()
    at.selectbox(key="st-method").set_value(method).run()
    kind, key, value = change
    getattr(at, kind)(key=key).set_value(value).run()
    at.button(key="st-start").click().run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert RunStore(queue_only.store.path).list_runs() == []


def test_train_button_records_the_run_with_the_form_settings(queue_only):
    at = _page().run()
    at.selectbox(key="st-method").set_value("set").run()
    at.slider(key="st-sparsity").set_value(0.8).run()
    at.number_input(key="st-epochs").set_value(3).run()
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    runs = RunStore(queue_only.store.path).list_runs()
    assert len(runs) == 1
    run = runs[0]
    assert (run.kind, run.status, run.group) == ("sparse", "queued", "sparse-train")
    assert (run.config["method"], run.config["sparsity"], run.config["epochs"]) == ("set", 0.8, 3)
    assert at.session_state["st-run"] == run.id



def test_sparse_fan_in_init_is_offered_for_masks_drawn_at_init_and_recorded(queue_only):
    at = _page().run()
    assert not any(w.key.endswith(".sparse_init") for w in at.radio)  # magnitude prunes a trained network
    at.selectbox(key="st-method").set_value("random-uniform").run()
    at.radio(key="st-random-uniform.sparse_init").set_value("fan-in").run()
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert (run.config["method"], run.config["method_params"]["sparse_init"]) == ("random-uniform", "fan-in")

@pytest.mark.slow
def test_a_started_run_trains_in_a_worker_and_the_page_shows_its_result(tmp_db, monkeypatch):
    runner = JobRunner(tmp_db, poll_interval=0.1)
    monkeypatch.setattr("dashboard.jobs.runner", lambda: runner)
    try:
        at = _page().run()
        at.text_input(key="st-hidden").set_value("32").run()
        at.number_input(key="st-epochs").set_value(2).run()
        at.button(key="st-start").click().run()
        rid = at.session_state["st-run"]
        assert runner.wait(rid, timeout=120) == "finished", runner.store.get_run(rid).error
    finally:
        runner.shutdown()
    at = _page().run()
    assert not at.exception and not at.error
    assert "Test accuracy" in [m.label for m in at.metric]


def test_finished_run_shows_ledger_speed_meter_and_exports(tmp_db):
    from engine.sparse.config import SparseConfig

    _finished("sparse", SparseConfig(method="magnitude", sparsity=0.95, epochs=2, finetune_epochs=1, hidden=(32, 32)))
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert {"Sparsity reached", "Test accuracy", "Parameters ≠ 0", "FLOPs per example"} <= set(labels)
    ledger = next(d.value for d in at.dataframe if "no input" in d.value.columns)
    assert ledger["layer"].tolist() == ["layers.0.weight", "layers.1.weight", "layers.2.weight"]
    assert "no output" in ledger.columns  # dead units counted both ways
    assert "target" not in ledger.columns  # global magnitude sets only the total: no per-layer target
    assert any("sets no per-layer target" in c.value for c in at.caption)
    downloads = [b.proto.label for b in at.get("download_button")]
    assert {"Model (safetensors)", "Model + masks (state_dict)", "Masks (npz)", "YAML recipe"} <= set(downloads)
    run = RunStore().list_runs()[0]
    if run.result.get("speed"):  # the engine's speed meter
        assert any("ideal (FLOPs)" in d.value.columns for d in at.dataframe)


def test_global_pruning_collapse_is_flagged_in_the_ledger(tmp_db):
    from engine.sparse.config import SparseConfig

    _finished("sparse", SparseConfig(dataset="moons", method="magnitude", sparsity=0.9, epochs=2, finetune_epochs=0,
                                     hidden=(16, 16), speed_meter=False))
    at = _page().run()
    assert not at.exception
    assert any("collapsed" in w.value or "dead" in w.value for w in at.warning)
    ledger = next(d.value for d in at.dataframe if "flag" in d.value.columns)
    assert (ledger["flag"] != "ok").any()


def test_two_dimensional_data_draws_the_decision_boundary(tmp_db):
    from engine.sparse.config import SparseConfig

    rid = _finished("sparse", SparseConfig(dataset="spirals", method="rigl", sparsity=0.5, epochs=2, hidden=(16, 16),
                                           speed_meter=False))
    at = _page()
    at.query_params["run"] = str(rid)  # not the method the form selects: opened by link
    at.run()
    assert not at.exception and not at.error
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Decision boundary" in specs and "Masks" in " ".join(m.value for m in at.markdown)


def test_runs_page_draws_a_sparse_run_with_the_sparse_viewer(tmp_db):
    from engine.sparse.config import SparseConfig

    _finished("sparse", SparseConfig(method="nm-srste", method_params={"nm": "1:4"}, epochs=1, hidden=(32,), speed_meter=False))
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    assert "Sparsity reached" in [m.label for m in at.metric]
    assert any(m.value == "75.00%" for m in at.metric)


@pytest.mark.parametrize("method", ["gmp", "set", "nm-decay", "soup", "structured"])
def test_the_form_draws_the_methods_schema_and_records_its_paper_defaults(queue_only, method):
    # after magnitude (global scope) the form must not carry its settings over: GMP is layer-wise
    from engine.sparse import schema
    from engine.sparse.config import SparseConfig
    from engine.sparse.methods.registry import method_class

    at = _page().run()
    at.selectbox(key="st-method").set_value(method).run()
    keys = {w.key for w in at.number_input} | {w.key for w in at.radio} | {w.key for w in at.text_input} | {
        w.key for w in at.checkbox}
    assert {f"st-{method}.{p.name}" for p in schema.params_of(method_class(method))} <= keys
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.config["method_params"] == SparseConfig(method=method).method_params


def test_the_layers_to_prune_are_drawn_before_any_run_and_follow_the_form(queue_only):
    import json

    at = _page().run()
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) == 1 and not at.exception  # the plan, before a run exists
    spec = json.loads(charts[0].proto.spec)
    assert "84,480 weights" in spec["layout"]["title"]["text"]
    assert len(spec["data"]) == 1  # global magnitude: no per-layer target, sizes only
    at.selectbox(key="st-method").set_value("gmp").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in spec["data"]] == ["weights now", "the method keeps"]
    assert RunStore(queue_only.store.path).list_runs() == []


def test_impossible_settings_are_named_before_the_click(queue_only):
    at = _page().run()
    at.text_input(key="st-hidden").set_value("256,abc").run()
    assert not at.exception
    assert any("whole numbers" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.get("plotly_chart")


def test_the_pre_click_warning_prints_a_typed_path_as_plain_text(queue_only):
    at = _page().run()
    at.selectbox(key="st-dataset").set_value("mnist").run()
    at.text_input(key="st-path").set_value("/no/**such**_dir").run()
    assert not at.exception
    (w,) = [w for w in at.warning if "cannot run" in w.value]
    assert r"\*\*such\*\*" in w.value  # escaped: shown as typed, not as bold Markdown
