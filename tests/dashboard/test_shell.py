"""AppTest of the app shell, the Runs page and the Learn page."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.cli import main as cli_main
from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]


def test_app_entry_renders_without_exception(tmp_db):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception


def test_navigation_shows_only_pages_that_exist():
    from dashboard.nav import PAGES, available_pages

    shown = available_pages()
    assert {p.file for p in shown} <= {p.file for p in PAGES}
    assert all((ROOT / "dashboard" / "pages" / p.file).exists() for p in shown)
    assert "runs.py" in {p.file for p in shown} and "learn.py" in {p.file for p in shown}


def test_runs_page_empty_store_says_how_to_start(tmp_db):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=30).run()
    assert not at.exception
    assert any("No runs yet" in i.value for i in at.info)


def test_runs_page_shows_a_cli_run_and_deletes_it(tmp_db):
    assert cli_main(["run", "toy", "--steps", "5", "--quiet"]) == 0
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=30).run()
    assert not at.exception
    assert "toy (CLI)" in at.dataframe[0].value["name"].tolist()
    assert at.selectbox(key="runs-pick").value == 1
    at.button(key="del-yes").click().run()
    assert not at.exception
    assert RunStore(tmp_db).list_runs() == []


def test_runs_page_shows_a_failed_run_error(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {"steps": 3})
    store.finish(rid, "failed", error="Loss became NaN at step 2")
    at = AppTest.from_file(str(ROOT / "dashboard/pages/runs.py"), default_timeout=30).run()
    assert not at.exception
    assert any("Loss became NaN" in e.value for e in at.error)


@pytest.mark.parametrize("nm", ["2:4", "1:8"])
def test_learn_page_demo_respects_its_patterns(nm):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/learn.py"), default_timeout=30).run()
    assert not at.exception
    at.selectbox(key="learn-nm").set_value(nm).run()
    table = at.dataframe[0].value
    n, m = (int(x) for x in nm.split(":"))
    assert table.loc[1, "sparsity"] == f"{1 - n / m:.0%}"
