"""AppTest of the sparse lab's own-table data choice (issue #10 item 11) on the Train & prune page."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_train.py")


def _csv(n: int = 120, label: str = "y", extra: str = "") -> bytes:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    lines = [f"f1,f2,f3,{label}"] + [f"{a:.3f},{b:.3f},{c:.3f},{'yes' if a > 0 else 'no'}" for a, b, c in x]
    return ("\n".join(lines) + "\n" + extra).encode()


def _page_on_csv() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="st-dataset").set_value("csv").run()
    return at


def test_own_table_is_offered_and_asks_for_an_upload(tmp_db):
    at = _page_on_csv()
    assert not at.exception
    assert any("Upload a CSV" in i.value for i in at.info)


def test_a_good_table_is_described_and_starts_a_run_on_the_saved_file(queue_only):
    from engine.runs.store import RunStore

    at = _page_on_csv()
    at.file_uploader(key="st-table").set_value(("flowers.csv", _csv(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("120 rows" in c.value and "3 features" in c.value and "2 classes" in c.value for c in at.caption)
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.config["dataset"] == "csv" and run.config["label_column"] == "y"
    assert Path(run.config["data_path"]).read_bytes() == _csv()


@pytest.mark.parametrize("blob,says", [
    (b"a,b,y\n" + b"".join(b"%d,x%d,%d\n" % (i, i, i % 2) for i in range(30)), "not numeric"),
    (_csv(label="outcome"), "no column named"),
    (b"a,b,y\n" + b"".join(b"%d,%d,1\n" % (i, i) for i in range(30)), "one class only"),
    (_csv(n=8), "at least 20"),
    (b"a,b,y\n" + b"".join(b"%d,%s,%d\n" % (i, b"nan" if i == 3 else b"1", i % 2) for i in range(30)), "NaN"),
])
def test_a_malformed_table_says_why_and_nothing_starts(queue_only, blob, says):
    from engine.runs.store import RunStore

    at = _page_on_csv()
    at.file_uploader(key="st-table").set_value(("bad.csv", blob, "text/csv")).run()
    assert not at.exception
    assert any(says in e.value for e in at.error), [e.value for e in at.error]
    at.button(key="st-start").click().run()
    assert not at.exception
    assert RunStore(queue_only.store.path).list_runs() == []


def test_the_label_column_can_be_chosen(queue_only):
    at = _page_on_csv()
    at.file_uploader(key="st-table").set_value(("t.csv", _csv(label="outcome"), "text/csv")).run()
    at.selectbox(key="st-label").set_value("outcome").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("label column outcome" in c.value for c in at.caption)
