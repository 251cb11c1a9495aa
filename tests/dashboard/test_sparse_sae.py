"""AppTest of Sparse training → Sparse autoencoders: says it is activation sparsity, refuses k ≥ F,
queues a run, and draws a finished one (metrics, L0, densities, top digits)."""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_sae.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=90)


def test_page_says_it_is_activation_sparsity(queue_only):
    at = _page().run()
    assert not at.exception
    assert any("activation" in i.value and "no weight is pruned" in i.value for i in at.info)


def test_k_not_below_the_width_is_refused_and_starts_nothing(queue_only):
    at = _page().run()
    at.number_input(key="sae-width").set_value(8).run()
    at.number_input(key="sae-k").set_value(8).run()
    at.button(key="sae-start").click().run()
    assert not at.exception
    assert any("smaller than the SAE width 8" in e.value for e in at.error)
    assert RunStore(queue_only.store.path).list_runs() == []


def test_the_button_queues_one_sae_run_with_the_form_settings(queue_only):
    at = _page().run()
    at.selectbox(key="sae-variant").set_value("mutual-choice").run()
    at.number_input(key="sae-k").set_value(4).run()
    at.button(key="sae-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.kind == "sae" and run.config["variant"] == "mutual-choice" and run.config["k"] == 4


def test_a_finished_run_draws_its_metrics_and_top_digits(tmp_db):
    from engine.runs.worker import execute_run
    from engine.sparse.sae import SAEConfig

    store = RunStore()
    c = SAEConfig(variant="feature-choice", width=32, k=4, epochs=2, model_epochs=2, model_hidden=16)
    rid = store.create_run("sae", c.to_dict(), seed=0, name="t", group="sparse-sae")
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished"
    at = _page()
    at.query_params["run"] = str(rid)  # recorded outside this browser session: opened by link
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert "Test NMSE" in labels and "Dead features" in labels
    spec = " ".join(ch.proto.spec for ch in at.get("plotly_chart"))
    assert "L0 per sample" in spec and "Feature density by rank" in spec
    assert any("top digits (labels)" in d.value.columns for d in at.dataframe)
