"""#18 items 3 and 6 on the pages outside the anomaly/graphs area: user-supplied strings (run names,
run errors, logs, an uploaded CSV's file name and column names, an opened run's settings) are
shown as typed, never as Markdown; a damaged run store is reported as damaged on a page."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
IMG = "![pic](http://evil.example/p.png)"
LINK = "[Click here](http://evil.example/login)"
PLANTED = (IMG, LINK)


def _texts(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "info", "error", "warning", "success", "title", "subheader", "header")
    return [el.value for kind in kinds for el in getattr(at, kind)]


def _assert_plain(at: AppTest) -> list[str]:
    assert not at.exception, [e.message for e in at.exception]
    texts = _texts(at)
    for planted in PLANTED:
        assert not [t for t in texts if planted in t], (planted, [t for t in texts if planted in t])
    return texts


def test_runs_page_run_name_error_and_log_are_plain_text(tmp_db, monkeypatch):
    monkeypatch.setattr("dashboard.jobs.cancel", lambda rid: None)
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {"steps": 3}, name=f"{IMG} {LINK}")
    store.mark_running(rid, os.getpid())
    store.write_events(rid, logs=[(0.0, f"reading {LINK}")])
    store.finish(rid, "failed", error=f"Could not read {LINK} {IMG}")
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=60).run()
    texts = _assert_plain(at)
    # still shown, as typed: the status line carries the (escaped) name, the error box the error
    assert any("Click here" in t and "evil" in t for t in texts)
    assert any("Could not read" in e.value and "Click here" in e.value for e in at.error)


def _csv_with_markup() -> bytes:
    rng = np.random.default_rng(0)
    cols = [LINK, IMG, "f3", "y"]
    lines = [",".join('"' + c.replace('"', '""') + '"' for c in cols)]
    for a, b, c in rng.normal(size=(120, 3)):
        lines.append(f"{a:.3f},{b:.3f},{c:.3f},{'yes' if a > 0 else 'no'}")
    return ("\n".join(lines) + "\n").encode()


def test_sparse_upload_file_name_and_column_names_are_plain_text(tmp_db):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/sparse_train.py"), default_timeout=60).run()
    at.selectbox(key="st-dataset").set_value("csv").run()
    at.file_uploader(key="st-table").set_value((f"{LINK}.csv", _csv_with_markup(), "text/csv")).run()
    texts = _assert_plain(at)
    assert any("120 rows" in t and "Click here" in t for t in texts)


def test_sparse_upload_error_quoting_a_label_name_is_plain_text(tmp_db):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/sparse_train.py"), default_timeout=60).run()
    at.selectbox(key="st-dataset").set_value("csv").run()
    bad = _csv_with_markup().replace(b'"y"', ("\"" + IMG + "x\"").encode())  # no label column: named in the error
    at.file_uploader(key="st-table").set_value((f"{IMG}.csv", bad, "text/csv")).run()
    _assert_plain(at)
    assert at.error


import pytest  # noqa: E402


@pytest.mark.parametrize("page", ["runs.py", "sparse_train.py", "sparse_sae.py", "graphs_learn.py",
                                  "anomaly_stackvaeg.py"])
def test_a_damaged_store_is_reported_as_damaged_on_a_page(tmp_path, monkeypatch, page):
    db = tmp_path / "runs.db"
    db.write_bytes(os.urandom(16384))
    monkeypatch.setenv("SPARSITY_LAB_DB", str(db))
    at = AppTest.from_file(str(ROOT / "dashboard/pages" / page), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]  # a message on the page, not a traceback
    errors = [e.value for e in at.error]
    assert any("damaged" in e and "move the file aside" in e for e in errors), errors
    assert not any("is full" in e for e in errors)


def test_train_form_states_the_size_bounds_in_its_help(tmp_db):
    """#18 item 2: the bound of engine/limits.py is stated where the width is typed."""
    at = AppTest.from_file(str(ROOT / "dashboard/pages/sparse_train.py"), default_timeout=60).run()
    assert "8,192 units per layer" in at.text_input(key="st-hidden").help
    at.selectbox(key="st-dataset").set_value("digits").run()
    at.radio(key="st-model").set_value("cnn").run()
    assert "512 channels per block" in at.text_input(key="st-channels").help


def test_train_form_refuses_an_oversized_width_before_a_run(queue_only):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/sparse_train.py"), default_timeout=60).run()
    at.text_input(key="st-hidden").set_value("10000000,10000000").run()
    at.button(key="st-start").click().run()
    assert not at.exception
    assert any("8,192" in e.value.replace("\\\\", "") for e in at.error), [e.value for e in at.error]
    assert RunStore(queue_only.store.path).list_runs() == []
