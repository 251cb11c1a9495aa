"""AppTest: Monarch on the Train & prune form (its settings drawn from its class, a bad block count refused)."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard/pages/sparse_train.py")


def test_monarch_form_refuses_a_block_count_that_does_not_divide_the_width(queue_only):
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    at.selectbox(key="st-method").set_value("monarch").run()
    assert at.number_input(key="st-monarch.nblocks").value == 4
    at.number_input(key="st-monarch.nblocks").set_value(3).run()
    at.button(key="st-start").click().run()
    assert not at.exception
    assert any("not a multiple of 3" in e.value for e in at.error), [e.value for e in at.error]
    assert RunStore(queue_only.store.path).list_runs() == []
    at.number_input(key="st-monarch.nblocks").set_value(8).run()
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.config["method"] == "monarch" and run.config["method_params"] == {"nblocks": 8, "start": "scratch"}
