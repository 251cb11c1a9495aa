"""AppTest of the sweep forms' backend choice: Ray queues one `sweep` run whose points are Ray tasks."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
SID = "test-session-ray1"


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard/pages" / name), default_timeout=90)
    at.query_params["sid"] = SID
    return at


def test_compare_page_on_ray_queues_one_sweep_run_with_backend_and_address(queue_only):
    at = _page("sparse_compare.py").run()
    assert [b for b in at.button if b.key == "sc-start"]  # local by default: one sparse run per point
    at.radio(key="sc-backend").set_value("ray").run()
    assert not at.exception
    assert any(m.label == "Cluster CPUs" for m in at.metric)
    assert not [b for b in at.button if b.key == "sc-start"]
    at.button(key="sc-start-ray").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    runs = RunStore(queue_only.store.path).list_runs()
    assert len(runs) == 1 and runs[0].kind == "sweep" and runs[0].status == "queued"
    assert runs[0].config["backend"] == "ray" and runs[0].config["address"] == "local"


def test_a_bad_cluster_address_is_refused_and_queues_nothing(queue_only):
    at = _page("sparse_compare.py").run()
    at.radio(key="sc-backend").set_value("ray").run()
    at.text_input(key="sc-address").set_value("http://head:8265").run()
    assert not at.exception
    assert any("is not one of" in e.value for e in at.error) or any("is not one of" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "sc-start-ray"]
    assert RunStore(queue_only.store.path).list_runs() == []


def test_sensitivity_page_on_ray_records_the_backend(queue_only):
    at = _page("sparse_sensitivity.py").run()
    at.radio(key="ss-backend").set_value("ray").run()
    at.button(key="ss-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    runs = RunStore(queue_only.store.path).list_runs()
    assert len(runs) == 1 and runs[0].kind == "sensitivity" and runs[0].config["backend"] == "ray"
