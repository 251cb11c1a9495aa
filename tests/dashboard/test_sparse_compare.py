"""AppTest of Sparse training → Accuracy vs sparsity: the sweep form, refusal, queueing, the curves."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_compare.py")


SID = "test-session-0001"  # the browser session these tests play (dashboard.jobs: ?sid=)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params["sid"] = SID  # the runs these tests record belong to this session
    return at


def test_page_renders_its_default_sweep_of_seven_runs(queue_only):
    at = _page().run()
    assert not at.exception
    assert any(c.value.startswith("7 runs") for c in at.caption)
    assert any("No sweep yet" in i.value for i in at.info)


def test_a_sweep_without_methods_is_refused_and_starts_nothing(queue_only):
    at = _page().run()
    at.multiselect(key="sc-methods").set_value([]).run()
    assert not at.exception
    assert any("at least one method" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "sc-start"]
    assert RunStore(queue_only.store.path).list_runs() == []


def test_queue_button_records_one_sparse_run_per_point_in_one_group(queue_only):
    at = _page().run()
    at.multiselect(key="sc-methods").set_value(["magnitude", "rigl"]).run()
    at.multiselect(key="sc-levels").set_value([0.5, 0.9]).run()
    at.number_input(key="sc-seeds").set_value(2).run()
    at.button(key="sc-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    runs = RunStore(queue_only.store.path).list_runs()
    assert len(runs) == 2 * (1 + 2 * 2)  # per seed: dense + 2 methods × 2 levels
    assert len({r.group for r in runs}) == 1 and runs[0].group.startswith("sweep:")
    points = sorted((r.config["method"], r.config["sparsity"], r.config["seed"]) for r in runs)
    assert ("rigl", 0.9, 1) in points and ("dense", 0.0, 0) in points
    assert all(r.kind == "sparse" and r.status == "queued" for r in runs)
    assert at.selectbox(key="sc-group").value == runs[0].group


def test_finished_runs_of_a_group_draw_mean_and_spread(tmp_db):
    from engine.runs.worker import execute_run
    from engine.sparse.config import SparseConfig

    store = RunStore()
    for method, s, seed in (("dense", 0.0, 0), ("magnitude", 0.9, 0), ("magnitude", 0.9, 1)):
        c = SparseConfig(method=method, sparsity=s, seed=seed, epochs=1, finetune_epochs=0, hidden=(16,),
                         speed_meter=False)
        rid = store.create_run("sparse", c.to_dict(), seed=seed, name="t", group="sweep:test", owner=SID)
        store.mark_running(rid, os.getpid())
        assert execute_run(store, rid) == "finished"
    at = _page().run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "mean test acc" in d.value.columns)
    row = table[table["method"] == "magnitude"].iloc[0]
    accs = [r.result["test_accuracy"] for r in store.list_runs() if r.config["method"] == "magnitude"]
    assert row["seeds"] == 2 and row["mean test acc"] == pytest.approx(sum(accs) / 2)
    spec = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Test accuracy vs sparsity" in spec and "dense" in spec


def test_runs_page_draws_a_cli_sweep_with_the_sparse_viewer(tmp_db):
    from engine.cli import main as cli_main

    assert cli_main(["run", "sweep", "--methods", "magnitude", "--sparsities", "0.5,0.9", "--epochs", "1",
                     "--finetune-epochs", "0", "--hidden", "16", "--quiet"]) == 0
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    assert "Test accuracy vs sparsity" in " ".join(c.proto.spec for c in at.get("plotly_chart"))
