"""AppTest of Train & prune with the methods of issue 13: the form draws each one's schema from its
class and records its defaults; impossible settings (calibration size 0) are refused in the form."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_train.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=90)


@pytest.mark.parametrize("method", ["post-magnitude", "wanda", "sparsegpt", "sift-wide", "random-search",
                                    "random-search-nodes"])
def test_the_form_draws_the_new_methods_and_records_their_defaults(queue_only, method):
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
    assert run.config["method"] == method
    assert run.config["method_params"] == SparseConfig(method=method).method_params


def test_zero_calibration_samples_are_refused_in_the_form(queue_only):
    at = _page().run()
    at.selectbox(key="st-method").set_value("sparsegpt").run()
    at.number_input(key="st-sparsegpt.calibration").set_value(0).run()
    at.button(key="st-start").click().run()
    assert not at.exception
    assert any("at least 1 sample" in e.value for e in at.error), [e.value for e in at.error]
    assert RunStore(queue_only.store.path).list_runs() == []


def test_a_finished_post_training_run_shows_each_layers_output_error_in_the_ledger(tmp_db):
    import os

    from engine.runs.worker import execute_run
    from engine.sparse.config import SparseConfig

    store = RunStore()
    config = SparseConfig(method="wanda", sparsity=0.5, epochs=2, hidden=(32, 32), speed_meter=False)
    rid = store.create_run("sparse", config.to_dict(), seed=0, name="test", group="sparse-train")
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished", store.get_run(rid).error
    at = _page()
    at.query_params["run"] = str(rid)  # a run this session did not start: opened by link
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    ledger = next(d.value for d in at.dataframe if "no input" in d.value.columns)
    column = "output error ‖WX−ŴX‖/‖WX‖"
    errors = store.get_run(rid).result["layer_output_error"]
    assert ledger[column].tolist() == [errors[f] for f in ledger["layer"]]
