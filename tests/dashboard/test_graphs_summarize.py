"""AppTest of Graphs → Summarize: controls, upload errors, and the drawing of finished runs."""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/graphs_summarize.py")


SID = "test-session-0001"  # the browser session these tests play (dashboard.jobs: ?sid=)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["sid"] = SID  # the runs these tests record belong to this session
    return at


def test_page_loads_with_its_controls(tmp_db):
    at = _page().run()
    assert not at.exception
    assert at.radio(key="gs-kind").value == "Built-in"
    assert at.selectbox(key="gs-builtin").value == "karate"
    assert at.slider(key="gs-ratio").value == 0.3
    assert at.radio(key="gs-error").options == ["l1", "l2"]  # plain names: the link holds them (urlstate)
    assert at.button(key="gs-start") and at.button(key="gs-sweep")
    assert any("34 nodes, 78 edges" in m.value for m in at.markdown)


def test_generator_parameters_change_the_graph(tmp_db):
    at = _page().run()
    at.radio(key="gs-kind").set_value("Generator").run()
    at.number_input(key="gs-sbm-blocks").set_value(3).run()
    at.number_input(key="gs-sbm-size").set_value(10).run()
    assert not at.exception
    assert any("30 nodes" in m.value for m in at.markdown)


def test_impossible_generator_settings_show_an_error_not_a_traceback(tmp_db):
    at = _page().run()
    at.radio(key="gs-kind").set_value("Generator").run()
    at.number_input(key="gs-sbm-p_in").set_value(0.0).run()
    at.number_input(key="gs-sbm-p_out").set_value(0.0).run()
    assert not at.exception
    assert any("no edges" in e.value for e in at.error)


def test_bad_upload_gives_a_clear_error(tmp_db):
    at = _page().run()
    at.radio(key="gs-kind").set_value("Upload an edge list").run()
    at.file_uploader(key="gs-upload").set_value(("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png")).run()
    assert not at.exception
    assert any("edge list" in e.value for e in at.error)


def test_upload_repairs_are_listed(tmp_db):
    at = _page().run()
    at.radio(key="gs-kind").set_value("Upload an edge list").run()
    at.file_uploader(key="gs-upload").set_value(("g.csv", b"a,b\nb,c\nc,c\nb,a\n", "text/csv")).run()
    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "self loop" in infos and "both directions" in infos
    assert any("3 nodes, 2 edges" in m.value for m in at.markdown)
    saved = list((Path(os.environ["SPARSITY_LAB_DB"]).parent / "uploads").iterdir())
    assert len(saved) == 1 and saved[0].name.endswith("g.csv")


def _finished_run(kind: str, config) -> int:
    """Run an experiment in this process and record it as the page's latest run."""
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run

    store = RunStore()
    rid = store.create_run(kind, config.to_dict(), seed=0, name="test", group="graphs-summarize", owner=SID)
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished", store.get_run(rid).error
    return rid


def test_finished_run_shows_numbers_drawings_heatmaps_and_exports(tmp_db):
    from engine.graphs.experiments import SSumMConfig

    _finished_run("ssumm", SSumMConfig(source="builtin:karate", ratio=0.4))
    at = _page().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert "Supernodes |S|" in labels and "RE1" in labels
    assert at.radio(key="gv-1-colour").options == ["supernode", "club (ground truth)"]
    at.radio(key="gv-1-colour").set_value("club (ground truth)").run()
    assert not at.exception and not at.error


def test_finished_sweep_shows_its_table(tmp_db):
    from engine.graphs.experiments import SSumMSweepConfig

    rid = _finished_run("ssumm-sweep", SSumMSweepConfig(source="builtin:florentine", ratios=(0.3, 0.6)))
    at = _page()
    at.query_params["run"] = str(rid)  # not the graph the form selects: opened by link
    at.run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert table["ratio"].tolist() == [0.3, 0.6]


def test_runs_page_draws_an_ssumm_run_with_the_graphs_viewer(tmp_db):
    from engine.graphs.experiments import SSumMConfig

    _finished_run("ssumm", SSumMConfig(source="builtin:florentine", ratio=0.5))
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    assert "Supernodes |S|" in [m.label for m in at.metric]


def test_graph_above_the_drawing_limit_shows_statistics_not_nodes(tmp_db):
    from dashboard.components.graphs_view import DRAW_MAX_NODES
    from engine.graphs.experiments import SSumMConfig
    from engine.runs.store import RunStore

    n = DRAW_MAX_NODES + 500
    rid = _finished_run("ssumm", SSumMConfig(source=f"generator:ba?n={n}&m=2&seed=0", ratio=0.3))
    store = RunStore()
    assert store.latest_snapshot(rid, "edges") is None          # the edge list is not even stored
    assert store.get_run(rid).result["drawable"] is False
    at = _page()
    at.query_params["run"] = str(rid)  # not the graph the form selects: opened by link
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("more than this page draws node by node" in i.value for i in at.info)
    assert "Supernodes |S|" in [m.label for m in at.metric]


def test_block_lines_fall_between_supernodes_even_when_downsampled():
    import plotly.graph_objects as go

    from dashboard.components.graphs_figures import add_block_lines

    fig = add_block_lines(go.Figure(), [2, 3, 5], side=10)        # 10 nodes, one pixel each
    xs = sorted({s.x0 for s in fig.layout.shapes if s.x0 == s.x1})
    assert xs == [1.5, 4.5]                                        # after nodes 0-1 and 2-4
    half = add_block_lines(go.Figure(), [2, 3, 5], side=5)        # 2 nodes per pixel
    assert sorted({s.x0 for s in half.layout.shapes if s.x0 == s.x1}) == [0.5, 2.0]
    assert len(add_block_lines(go.Figure(), [1] * 100, side=100).layout.shapes) == 0   # clutter: none


def test_skip_half_density_is_an_l1_option_that_reaches_the_run(queue_only):
    at = _page().run()
    assert at.checkbox(key="gs-skip-half").value is False
    at.checkbox(key="gs-skip-half").check().run()
    at.button(key="gs-start").click().run()
    assert not at.exception and not at.error
    (run,) = queue_only.store.list_runs("ssumm")
    assert run.config["skip_half_density"] is True and "skip ½" in run.name
    at.radio(key="gs-error").set_value("l2").run()
    assert at.checkbox(key="gs-skip-half").disabled
    at.button(key="gs-start").click().run()
    assert not at.error
    newest = queue_only.store.list_runs("ssumm")[0]
    assert newest.config["error"] == "l2" and newest.config["skip_half_density"] is False


def test_a_large_graph_gets_its_largest_supernodes_a_neighbourhood_and_a_dense_crop(tmp_db):
    from dashboard.components.graphs_view import DRAW_MAX_NODES
    from engine.graphs.experiments import SSumMConfig

    n = DRAW_MAX_NODES + 500
    rid = _finished_run("ssumm", SSumMConfig(
        source=f"generator:sbm?blocks=25&size={n // 25}&p_in=0.3&p_out=0.001&seed=0", ratio=0.3))
    at = _page()
    at.query_params["run"] = str(rid)  # not the graph the form selects: opened by link
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table.columns[:3]) == ["supernode", "members", "density inside"]
    assert table["members"].is_monotonic_decreasing and table["members"].iloc[0] >= 2
    center = at.text_input(key="gv-1-center")
    assert center.value          # a member of the largest supernode, by its original id
    center.set_value("no-such-node").run()
    assert any("No node with id" in w.value for w in at.warning)
    center.set_value("7").run()
    assert not at.exception and not at.error
    assert not any("No node with id" in w.value for w in at.warning)
