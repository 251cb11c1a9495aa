"""AppTest of Train & prune with WGSEF and Sparse Factorized: the form lists both, draws their settings
from their classes and records their defaults; k larger than a layer's neurons is refused in the form."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_train.py")


@pytest.mark.parametrize("method", ["wgsef", "sift-factorized"])
def test_the_form_lists_the_method_draws_its_settings_and_records_its_defaults(queue_only, method):
    from engine.sparse import schema
    from engine.sparse.config import SparseConfig
    from engine.sparse.methods.registry import method_class

    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert method in at.selectbox(key="st-method").options
    at.selectbox(key="st-method").set_value(method).run()
    keys = {w.key for w in at.number_input} | {w.key for w in at.radio} | {w.key for w in at.text_input} | {
        w.key for w in at.checkbox} | {w.key for w in at.selectbox}
    assert {f"st-{method}.{p.name}" for p in schema.params_of(method_class(method))} <= keys
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.config["method"] == method
    assert run.config["method_params"] == SparseConfig(method=method).method_params


def test_k_larger_than_a_layers_neurons_is_refused_in_the_form(queue_only):
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    at.selectbox(key="st-method").set_value("wgsef").run()
    at.number_input(key="st-wgsef.groups_kept").set_value(300).run()  # the hidden layers have 256 neurons
    at.button(key="st-start").click().run()
    assert not at.exception
    messages = [e.value.replace("\\", "") for e in at.error]  # shown escaped (plain text)
    assert any("k = 300" in m and "only 256 groups" in m for m in messages), messages
    assert RunStore(queue_only.store.path).list_runs() == []
