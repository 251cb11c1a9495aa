"""AppTest of Time series → StackVAE-G: controls, CSV errors, and the drawing of finished runs."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/anomaly_stackvaeg.py")
TINY = dict(n_channels=6, n_groups=2, length=240, n_anomalies=2, window=12, epochs=2, hidden=16, latent=4,
            node_dim=6, k=3, batch_size=32)


SID = "test-session-0001"  # the browser session these tests play (dashboard.jobs: ?sid=)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["sid"] = SID  # the runs these tests record belong to this session
    return at


def _finished_run(**overrides) -> int:
    """Run the experiment in this process and record it as the page's latest run."""
    from engine.anomaly.experiments import StackVAEGConfig
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run

    config = StackVAEGConfig(**{**TINY, **overrides})
    store = RunStore()
    rid = store.create_run("stackvaeg", config.to_dict(), seed=0, name="test", group="anomaly-stackvaeg", owner=SID)
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) in ("finished", "cancelled"), store.get_run(rid).error
    return rid


def test_page_loads_with_synthetic_default_and_released_setting_hint(tmp_db):
    at = _page().run()
    assert not at.exception and not at.error
    assert at.radio(key="av-src").value == "synthetic"
    assert at.number_input(key="av-n").value == 12 and at.number_input(key="av-ep").value == 20
    assert any("released 256" in c.value for c in at.caption)
    assert at.button(key="av-start")


def test_non_numeric_csv_upload_gives_a_clear_error(tmp_db):
    at = _page().run()
    at.radio(key="av-src").set_value("csv").run()
    assert any("Upload a CSV" in i.value for i in at.info)
    at.file_uploader(key="av-csv").set_value(("words.csv", b"a,b\nx,y\nz,w\n", "text/csv")).run()
    assert not at.exception
    assert any("contain no numbers" in e.value for e in at.error)


def test_csv_upload_with_gaps_is_described_and_saved(tmp_db):
    text = "time,a,b,label\n" + "".join(f"{t},{np.sin(t / 5):.3f},{'nan' if t == 3 else t % 7},{int(t > 50)}\n"
                                        for t in range(60))
    at = _page().run()
    at.radio(key="av-src").set_value("csv").run()
    at.file_uploader(key="av-csv").set_value(("s.csv", text.encode(), "text/csv")).run()
    assert not at.exception and not at.error
    assert any("2 channels" in c.value and "labels found" in c.value for c in at.caption)
    assert any("time index" in i.value for i in at.info)
    assert len(list((Path(os.environ["SPARSITY_LAB_DB"]).parent / "uploads").iterdir())) == 1


def test_window_longer_than_series_is_refused_before_starting(tmp_db):
    at = _page().run()
    at.number_input(key="av-len").set_value(300).run()
    at.number_input(key="av-w").set_value(400).run()
    at.button(key="av-start").click().run()
    assert not at.exception
    assert any("fewer than the window" in e.value for e in at.error)



def test_graph_loss_ablation_is_recorded_in_the_config_and_the_run_name(queue_only):
    from engine.runs.store import RunStore

    at = _page().run()
    at.checkbox(key="av-nograph").check().run()
    at.button(key="av-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.config["graph_weight"] == 0.0 and "ablation" in run.name


def test_node_embedding_start_is_recorded_in_the_config_and_the_run_name(queue_only):
    from engine.runs.store import RunStore

    at = _page().run()
    at.number_input(key="av-init").set_value(0.1).run()
    at.button(key="av-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.config["node_init_std"] == pytest.approx(0.1) and "init std 0.1" in run.name
    assert run.config["graph_weight"] == 1.0


@pytest.mark.slow
def test_finished_run_shows_graph_scores_metrics_diagnosis_and_comparison(tmp_db):
    _finished_run()
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Parameters" in [m.label for m in at.metric]
    assert any("AUROC of |Ã|" in m.value for m in at.markdown)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Recovery of the true graph" in specs and "Loss per epoch" in specs  # Training tab
    table = at.dataframe[0].value
    assert list(table.index) == ["StackVAE-G", "Random", "PCA", "IsolationForest"]
    assert {"F1 (POT)", "PA-F1 (POT)", "best F1", "best F1 + PA", "PA%K AUC", "HitRate@100"} <= set(table.columns)
    assert any("Verdict" in m.value for m in at.markdown)
    at.selectbox(key="av-1-seg").set_value(1).run()
    assert not at.exception and not at.error
    assert any("system fault" in m.value or "sensor fault" in m.value for m in at.markdown)
    at.radio(key="av-1-cmp-order").set_value("true groups").run()  # compare graphs in the true order
    assert not at.exception and not at.error


@pytest.mark.slow
def test_cancelled_run_keeps_its_graph_and_says_why_scores_are_missing(tmp_db):
    from engine.anomaly.experiments import StackVAEGConfig, run_stackvaeg
    from engine.runs.reporter import MemoryReporter

    result = run_stackvaeg(StackVAEGConfig(**{**TINY, "epochs": 30}), MemoryReporter(stop_after=3))
    from engine.runs.store import RunStore

    store = RunStore()
    rid = store.create_run("stackvaeg", StackVAEGConfig(**TINY).to_dict(), seed=0, group="anomaly-stackvaeg", owner=SID)
    store.finish(rid, "cancelled", result=result)
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("cancelled before scoring" in i.value for i in at.info)


@pytest.mark.slow
def test_runs_page_draws_a_stackvaeg_run_with_the_anomaly_viewer(tmp_db):
    _finished_run()
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    assert "Parameters" in [m.label for m in at.metric]
