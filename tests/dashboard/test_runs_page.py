"""AppTest of the Runs page: filter, sort, select, bulk delete (active runs cancelled first), compare by
fraction of training or epoch."""
from __future__ import annotations

import json
import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/runs.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60)


def _runs(store: RunStore) -> dict[str, int]:
    ids = {}
    for name, kind, status in (("alpha rigl", "sparse", "finished"), ("beta magnitude", "sparse", "failed"),
                               ("gamma toy", "toy", "finished"), ("delta running", "toy", "running")):
        rid = store.create_run(kind, {"steps": 3}, name=name)
        if status != "queued":
            store.mark_running(rid, os.getpid())
        if status in ("finished", "failed"):
            store.finish(rid, status, error="boom" if status == "failed" else None)
        ids[name] = rid
    return ids


def test_filter_by_text_kind_and_status_and_sort_by_name(tmp_db, monkeypatch):
    monkeypatch.setattr("dashboard.jobs.cancel", lambda rid: None)
    _runs(RunStore(tmp_db))
    at = _page().run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 4
    at.text_input(key="runs-filter").set_value("MAGNITUDE").run()
    assert at.dataframe[0].value["name"].tolist() == ["beta magnitude"]
    at.text_input(key="runs-filter").set_value("").run()
    at.multiselect(key="runs-kinds").set_value(["toy"]).run()
    assert sorted(at.dataframe[0].value["name"]) == ["delta running", "gamma toy"]
    at.multiselect(key="runs-status").set_value(["finished"]).run()
    assert at.dataframe[0].value["name"].tolist() == ["gamma toy"]
    at.multiselect(key="runs-kinds").set_value([]).run()
    at.multiselect(key="runs-status").set_value([]).run()
    at.selectbox(key="runs-sort").set_value("name").run()
    assert at.dataframe[0].value["name"].tolist() == ["alpha rigl", "beta magnitude", "delta running", "gamma toy"]
    at.selectbox(key="runs-sort").set_value("newest first").run()
    assert at.dataframe[0].value["id"].tolist() == [4, 3, 2, 1]
    at.text_input(key="runs-filter").set_value("no such run").run()
    assert not at.exception and any("No run matches" in i.value for i in at.info)


def test_bulk_delete_cancels_an_active_run_before_deleting_it(tmp_db, monkeypatch):
    store = RunStore(tmp_db)
    ids = _runs(store)
    events = []

    from engine.runs.jobs import JobRunner

    runner = JobRunner(tmp_db, background=False, warm=0)
    monkeypatch.setattr("dashboard.jobs.runner", lambda: runner)

    def cancel(rid):
        events.append(("cancel", rid, store.get_run(rid).status))  # the run still exists when it is cancelled
        store.finish(rid, "cancelled", error="cancelled by the user")  # as its worker does on the flag

    real_delete = RunStore.delete_run
    monkeypatch.setattr(runner, "cancel", cancel)
    monkeypatch.setattr(RunStore, "delete_run", lambda self, rid: (events.append(("delete", rid)), real_delete(self, rid)))
    at = _page().run()
    doomed = [ids["alpha rigl"], ids["delta running"]]
    at.multiselect(key="runs-selected").set_value(doomed).run()
    assert not at.exception
    at.button(key="bulk-del-yes").click().run()
    assert not at.exception
    left = sorted(r.name for r in RunStore(tmp_db).list_runs())
    assert left == ["beta magnitude", "gamma toy"]
    assert events.index(("cancel", ids["delta running"], "running")) < events.index(("delete", ids["delta running"]))
    assert ("cancel", ids["alpha rigl"], "finished") not in events  # a finished run needs no cancel
    assert len(at.dataframe[0].value) == 2


def test_compare_lines_runs_up_by_fraction_of_training_or_epoch(tmp_db):
    store = RunStore(tmp_db)
    for name, steps in (("short", 20), ("long", 1000)):
        rid = store.create_run("toy", {"steps": steps}, name=name)
        store.mark_running(rid, os.getpid())
        store.add_metrics(rid, [(steps * k // 4, "val/accuracy", 0.2 * k) for k in (1, 2, 3, 4)])
        store.finish(rid, "finished", result={"accuracy": 0.8})
    at = _page().run()
    assert not at.exception
    at.multiselect(key="cmp-pick").set_value([1, 2]).run()
    at.selectbox(key="cmp-metric").set_value("val/accuracy").run()
    chart = _compare_chart(at)
    assert [t["x"] for t in chart["data"]] == [[0.25, 0.5, 0.75, 1.0]] * 2  # 20 and 1000 steps line up
    assert chart["layout"]["xaxis"]["title"]["text"] == "fraction of training"
    at.radio(key="cmp-x").set_value("epoch").run()
    chart = _compare_chart(at)
    assert [t["x"] for t in chart["data"]] == [[1, 2, 3, 4]] * 2


def _compare_chart(at: AppTest) -> dict:
    import numpy as np

    def decode(v):
        if isinstance(v, dict) and "bdata" in v:  # plotly's typed arrays
            import base64
            return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
        return v

    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if (json.loads(c.proto.spec)["layout"].get("title") or {}).get("text") == "val/accuracy")
    for t in spec["data"]:
        t["x"] = decode(t["x"])
    return spec
