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
    assert not at.exception
    assert any("fewer than the window" in e.value for e in at.error)  # said before any click …
    assert at.button(key="av-start").disabled  # … and nothing can be started



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


@pytest.fixture
def tiny_smd(tmp_path, monkeypatch):
    """A shared-data folder holding one 3-channel SMD machine (the real layout, 400 rows)."""
    root = tmp_path / "data" / "SMD"
    rng = np.random.default_rng(0)
    for sub in ("train", "test", "test_label"):
        (root / sub).mkdir(parents=True)
    np.savetxt(root / "train" / "machine-9-9.txt", rng.random((400, 3)), delimiter=",", fmt="%.4f")
    np.savetxt(root / "test" / "machine-9-9.txt", rng.random((400, 3)), delimiter=",", fmt="%.4f")
    np.savetxt(root / "test_label" / "machine-9-9.txt", (np.arange(400) > 380).astype(int), fmt="%d")
    monkeypatch.setenv("SPARSITY_LAB_DATA", str(tmp_path / "data"))
    return root


def test_switching_the_data_resets_dependent_settings_to_that_sources_defaults(tmp_db, tiny_smd):
    at = _page().run()
    assert at.number_input(key="av-s").value == 1
    at.number_input(key="av-w").set_value(50).run()
    at.radio(key="av-src").set_value("smd").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.number_input(key="av-s").value == 10  # SMD's own default, not the synthetic stride 1
    assert at.number_input(key="av-w").value == 100  # the window the user set for synthetic is reset too
    at.radio(key="av-src").set_value("synthetic").run()
    assert at.number_input(key="av-s").value == 1


def test_caption_estimates_the_duration_instead_of_promising_it(tmp_db, tiny_smd):
    at = _page().run()
    captions = " ".join(c.value for c in at.caption)
    assert "finishes while you watch" not in captions
    assert "Estimated duration" in captions and "1,500 training rows" in captions
    at.number_input(key="av-ep").set_value(200).run()
    longer = " ".join(c.value for c in at.caption)
    assert "finishes while you watch" not in longer and "Estimated duration" in longer
    at.radio(key="av-src").set_value("smd").run()
    assert any("400 training rows" in c.value and "3 channels" in c.value for c in at.caption)


def test_two_channel_synthetic_is_refused_before_starting(tmp_db):
    at = _page().run()
    at.number_input(key="av-g").set_value(2).run()
    at.number_input(key="av-n").set_value(2).run()
    assert not at.exception
    assert len(at.error) == 1
    assert any("fewer groups than channels" in e.value for e in at.error)
    assert at.button(key="av-start").disabled


def test_k_at_least_the_channel_count_is_said_before_starting(tmp_db):
    at = _page().run()
    at.number_input(key="av-n").set_value(6).run()
    at.number_input(key="av-k").set_value(8).run()
    assert any("every pair is kept" in c.value for c in at.caption)
    assert not at.button(key="av-start").disabled  # allowed: it is only not sparse


def test_csv_window_default_follows_the_upload_and_a_too_long_window_is_refused(tmp_db):
    text = "a,b,c\n" + "".join(f"{t},{t % 5},{t % 3}\n" for t in range(120))
    at = _page().run()
    at.radio(key="av-src").set_value("csv").run()
    at.file_uploader(key="av-csv").set_value(("s.csv", text.encode(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.number_input(key="av-w").value == 30  # 60 training rows: half of them, not 100
    at.number_input(key="av-w").set_value(80).run()
    assert any("fewer than the window" in e.value for e in at.error)
    assert at.button(key="av-start").disabled


@pytest.mark.slow
def test_finished_run_offers_adjacency_edges_and_scores_downloads_and_a_hoverable_heatmap(tmp_db):
    import io
    import json

    import pandas as pd

    _finished_run()
    at = _page().run()
    assert not at.exception and not at.error
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Ã as CSV (named)", "Ã as .npy", "Top-3 edges (CSV)", "Scores per step (CSV)"} <= labels, labels
    heat = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "ordered by learned clusters" in c.proto.spec]
    trace = next(t for f in heat for t in f["data"] if t["type"] == "heatmap")
    assert "weight" in trace["hovertemplate"] and trace["colorbar"]["title"]["text"] == "weight"
    assert trace["customdata"][0][1].startswith("ch")  # hover names the channel pair
    layout = heat[0]["layout"]
    assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
    assert all(t.startswith("ch") for t in layout["xaxis"]["ticktext"])


def test_exports_carry_channel_names_and_the_uploaded_files_rows(tmp_path):
    import io

    import pandas as pd

    from engine.anomaly import export

    adj = np.array([[1.0, 0.3, 0.0], [0.2, 1.0, 0.7], [0.0, 0.1, 1.0]])
    frame = pd.read_csv(io.StringIO(export.adjacency_csv(adj, ["cpu", "mem", "disk"])), index_col=0)
    assert list(frame.columns) == ["cpu", "mem", "disk"] and list(frame.index) == ["cpu", "mem", "disk"]
    assert frame.loc["mem", "disk"] == pytest.approx(0.7)
    edges = export.edge_list(adj, ["cpu", "mem", "disk"], 1)
    assert edges.to_dict("records")[1] == {"channel": "mem", "neighbour": "disk", "rank": 1, "weight": 0.7}
    path = tmp_path / "s.csv"
    path.write_text("timestamp,a\n" + "".join(f"2024-01-01 00:{m:02d}:00,{m}\n" for m in range(10)))
    title, axis = export.time_axis({"data": "csv", "csv_path": str(path)}, 4)
    assert title == "timestamp" and str(axis[0]).startswith("2024-01-01T00:06")
    path.write_text("a,b\n" + "".join(f"{m},{m}\n" for m in range(10)))
    assert export.time_axis({"data": "csv", "csv_path": str(path)}, 4)[1].tolist() == [7, 8, 9, 10]
