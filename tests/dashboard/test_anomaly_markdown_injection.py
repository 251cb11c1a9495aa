"""No user-supplied string is rendered as Markdown (issue #18 item 3), on the pages this area owns.

Markup is planted in every field a user controls (uploaded file names, CSV column names, channel
names, the label column, an edge list's first line) and each text element the page draws is
checked: the planted image and link appear only escaped (shown as typed), never as markup, and
Plotly labels carry no raw ``<a href>``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
IMG = "![pic](http://evil.example/p.png)"
LINK = "[Click here](http://evil.example/login)"
HTML = '<a href="http://evil.example/h">Click me</a>'
PLANTED = (IMG, LINK, "[Click here](evil.example)")


def _texts(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "info", "error", "warning", "success", "title", "subheader", "header")
    return [el.value for kind in kinds for el in getattr(at, kind)]


def _assert_plain(at: AppTest, *, expect_visible: bool = True) -> None:
    assert not at.exception, [e.message for e in at.exception]
    texts = _texts(at)
    for planted in PLANTED:
        assert not [t for t in texts if planted in t], planted  # never unescaped
    if expect_visible:  # … but still shown, as typed
        assert any("Click here" in t for t in texts)
    specs = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "<a href" not in specs and "<a href" not in json.dumps(specs)


def _series_csv() -> bytes:
    cols = [LINK, IMG, HTML, "label"]
    lines = [",".join(f'"{c}"' for c in [c.replace('"', '""') for c in cols])]
    for t in range(160):
        lines.append(f"{np.sin(t / 5):.3f},{np.cos(t / 7):.3f},{t % 9},{int(120 < t < 130)}")
    return ("\n".join(lines) + "\n").encode()


def test_stackvaeg_upload_file_name_and_column_names_are_plain_text(tmp_db):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/anomaly_stackvaeg.py"), default_timeout=60).run()
    at.radio(key="av-src").set_value("csv").run()
    at.file_uploader(key="av-csv").set_value((f"{LINK}.csv", _series_csv(), "text/csv")).run()
    _assert_plain(at)


def test_stackvaeg_label_column_echoed_in_an_error_is_plain_text(tmp_db):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/anomaly_stackvaeg.py"), default_timeout=60).run()
    at.radio(key="av-src").set_value("csv").run()
    at.text_input(key="av-lab").input(IMG + LINK).run()
    at.file_uploader(key="av-csv").set_value(("s.csv", _series_csv(), "text/csv")).run()
    assert at.error
    _assert_plain(at)


@pytest.mark.slow
def test_stackvaeg_result_with_planted_channel_names_is_plain_text(tmp_path):
    from engine.anomaly.experiments import StackVAEGConfig
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run

    path = tmp_path / "[Click here](evil.example).csv"  # a file name cannot hold a slash
    path.write_bytes(_series_csv())
    store = RunStore(tmp_path / "runs.db")
    config = StackVAEGConfig(data="csv", csv_path=str(path), window=12, epochs=2, hidden=16, latent=4, node_dim=6,
                             k=2, batch_size=32)
    rid = store.create_run("stackvaeg", config.to_dict(), seed=0, name=f"run on {LINK}")
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished", store.get_run(rid).error

    def draw(db, run_id):
        from dashboard.components.anomaly_view import draw_run
        from dashboard.components.live import status_line
        from engine.runs.store import RunStore

        s = RunStore(db)
        status_line(s.get_run(run_id))
        draw_run(s, s.get_run(run_id))

    at = AppTest.from_function(draw, args=(str(store.path), rid), default_timeout=60).run()
    _assert_plain(at)
    assert any("Verdict" in t for t in _texts(at))  # the segment diagnosis (channel names) was drawn


def test_edge_list_file_name_is_plain_text_in_the_title(tmp_db):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/graphs_summarize.py"), default_timeout=60).run()
    at.radio(key="gs-kind").set_value("Upload an edge list").run()
    at.file_uploader(key="gs-upload").set_value((f"{IMG} {LINK}.txt", b"0 1\n1 2\n2 0\n2 2\n", "text/plain")).run()
    _assert_plain(at)


def test_sparse_table_file_and_column_names_are_plain_text(tmp_db):
    rng = np.random.default_rng(0)
    header = f'"{LINK}","{IMG}",y'
    rows = [f"{a:.3f},{b:.3f},{'yes' if a > 0 else 'no'}" for a, b in rng.normal(size=(60, 2))]
    at = AppTest.from_file(str(ROOT / "dashboard/pages/sparse_train.py"), default_timeout=60).run()
    at.selectbox(key="st-dataset").set_value("csv").run()
    at.file_uploader(key="st-table").set_value((f"{LINK}.csv", "\n".join([header, *rows]).encode(), "text/csv")).run()
    assert not at.error, [e.value for e in at.error]
    _assert_plain(at)
    bad = "\n".join([f'"{LINK}",b,y', *[f"x{i},{i},{i % 2}" for i in range(30)]]).encode()  # error names the column
    at.file_uploader(key="st-table").set_value((f"{IMG}.csv", bad, "text/csv")).run()
    assert at.error
    _assert_plain(at)
