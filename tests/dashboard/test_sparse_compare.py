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


def _recorded_sweep(store: RunStore, points) -> str:
    """Finished sweep runs with recorded results (method, requested, reached, seed, accuracy): no training."""
    group = "sweep:recorded"
    for method, control, reached, seed, acc in points:
        config = {"method": method, "sparsity": control, "seed": seed, "dataset": "digits"}
        rid = store.create_run("sparse", config, seed=seed, name=f"{method} {control:.0%} · seed {seed}", group=group,
                               owner=SID)
        store.mark_running(rid, os.getpid())
        store.finish(rid, "finished", result={
            "method": method, "requested_sparsity": control, "sparsity": reached, "test_accuracy": acc,
            "val_accuracy": acc, "flops_sparse": 1, "flops_dense": 2, "seconds": 1.0})
    return group


def _curve(at: AppTest) -> dict:
    import json

    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "Test accuracy vs sparsity" in c.proto.spec)
    return spec


def test_accuracy_axis_fits_the_points_and_one_seed_shows_a_dash(tmp_db):
    store = RunStore()
    _recorded_sweep(store, [("dense", 0.0, 0.0, 0, 0.985), ("magnitude", 0.9, 0.9, 0, 0.97),
                            ("magnitude", 0.98, 0.98, 0, 0.90), ("rigl", 0.9, 0.9, 0, 0.96),
                            ("rigl", 0.9, 0.9, 1, 0.95), ("rigl", 0.98, 0.98, 0, 0.86), ("rigl", 0.98, 0.98, 1, 0.88)])
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    lo, hi = _curve(at)["layout"]["yaxis"]["range"]
    assert 0.8 < lo < 0.86 and 0.985 < hi <= 1.0  # not 0–100 %
    table = next(d.value for d in at.dataframe if "mean test acc" in d.value.columns)
    one = table[(table["method"] == "magnitude")]
    assert (one["std"] == "–").all() and (one["seeds"] == 1).all()  # one seed: "–", never "0.00 %"
    two = table[(table["method"] == "rigl") & (table["requested"] == 0.9)].iloc[0]
    assert two["seeds"] == 2 and two["std"] == "0.71 %"  # sample std of 96 % and 95 %
    spec = _curve(at)
    rigl = next(t for t in spec["data"] if t.get("name") == "rigl")
    assert rigl["error_y"]["visible"] is True
    mag = next(t for t in spec["data"] if t.get("name") == "magnitude")
    assert mag["error_y"]["visible"] is False and "–" in str(mag["customdata"])


def test_density_axis_option_draws_a_log_axis_with_clean_sparsity_ticks(tmp_db):
    store = RunStore()
    _recorded_sweep(store, [("magnitude", s, s, 0, 0.99 - s / 10) for s in (0.5, 0.9, 0.95, 0.98, 0.99)])
    at = _page().run()
    assert _curve(at)["layout"]["xaxis"].get("type") != "log"
    at.radio(key="sc-view-xaxis").set_value("density").run()
    assert not at.exception and not at.error
    xaxis = _curve(at)["layout"]["xaxis"]
    assert xaxis["type"] == "log" and xaxis["autorange"] == "reversed"
    assert xaxis["ticktext"] == ["50 %", "80 %", "90 %", "95 %", "98 %", "99 %"]
    assert xaxis["tickvals"] == pytest.approx([0.5, 0.2, 0.1, 0.05, 0.02, 0.01])


def test_each_point_of_a_group_sweep_carries_its_run_id(tmp_db):
    store = RunStore()
    _recorded_sweep(store, [("magnitude", 0.9, 0.9, 0, 0.97), ("rigl", 0.9, 0.9, 0, 0.96)])
    at = _page().run()
    ids = {r.config["method"]: r.id for r in store.list_runs()}
    data = _curve(at)["data"]
    for method, rid in ids.items():
        trace = next(t for t in data if t.get("name") == method)
        assert trace["customdata"][0][0] == rid
