"""Whose runs a page shows, the visible queue, double-clicks, deleted runs, and no torch in the app server.

Issue #10 items 2 and 4, #18 item 1, #12 item 6. The page under test is Train & prune (the default
page); the job runner only queues (``queue_only``), so nothing trains unless a test says so.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.runs.store import RunStore
from engine.sparse.config import SparseConfig

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/sparse_train.py")
ME, STRANGER = "session-me-0001", "session-them-001"


def _page(sid: str | None = ME, **params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    if sid is not None:
        at.query_params["sid"] = sid
    for k, v in params.items():
        at.query_params[k] = str(v)
    return at


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.subheader] + [i.value for i in at.info]
    parts += [t.value for t in at.text] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def _record(store: RunStore, owner: str | None, method: str = "magnitude", status: str = "finished", **kw) -> int:
    cfg = SparseConfig(method=method, epochs=1, hidden=(16,), speed_meter=False, **kw).to_dict()
    rid = store.create_run("sparse", cfg, seed=0, name=f"{method} of {owner}", group="sparse-train", owner=owner)
    if status != "queued":
        store.mark_running(rid, 1)
        if status != "running":
            store.finish(rid, status, error="x" if status == "failed" else None)
    return rid


def test_a_fresh_session_does_not_see_a_strangers_run(queue_only):
    _record(queue_only.store, STRANGER)
    at = _page(sid=None).run()
    assert not at.exception
    assert "st-run" not in at.session_state
    assert "magnitude of" not in _texts(at)
    assert at.query_params["sid"] and at.query_params["sid"] != [STRANGER]  # a token of its own, in the URL


def test_a_session_sees_its_own_run_and_a_reload_reattaches_to_it(queue_only):
    at = _page(sid=None).run()
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = queue_only.store.list_runs()
    sid = at.query_params["sid"]
    sid = sid[0] if isinstance(sid, list) else sid
    assert run.owner == sid
    again = _page(sid=sid).run()  # the same URL in a new script session: a reload
    assert again.session_state["st-run"] == run.id
    assert f"#{run.id}" in _texts(again)
    other = _page(sid=STRANGER).run()
    assert "st-run" not in other.session_state


def test_the_section_under_the_form_follows_the_forms_method(queue_only):
    rid = _record(queue_only.store, ME, method="rigl")
    at = _page().run()
    assert at.selectbox(key="st-method").value == "magnitude"
    assert "st-run" not in at.session_state  # my RigL run does not sit under a form set to magnitude
    at.selectbox(key="st-method").set_value("rigl").run()
    assert at.session_state["st-run"] == rid


def test_a_run_opened_by_link_is_shown_labelled_with_its_own_settings(queue_only):
    rid = _record(queue_only.store, STRANGER, method="rigl")
    at = _page(run=rid).run()
    assert not at.exception and not at.error
    assert at.session_state["st-run"] == rid
    assert any(f"Opened by link (?run={rid})" in i.value for i in at.info)
    assert any(e.label == f"Settings of run #{rid}" for e in at.expander)
    assert '"method": "rigl"' in " ".join(c.value for c in at.code)
    own = _page().run()
    assert "st-run" not in own.session_state  # without the link the stranger's run is not shown


def test_a_double_click_queues_one_run(queue_only):
    at = _page().run()
    at.button(key="st-start").click().run()
    at.button(key="st-start").click().run()
    assert not at.exception
    assert len(queue_only.store.list_runs()) == 1
    assert any("already queued or running" in i.value for i in at.info)


def test_a_queued_run_shows_its_place_what_is_ahead_an_estimate_and_can_be_cancelled(queue_only):
    store = queue_only.store
    past = _record(store, STRANGER, seed=5)  # a past run of this kind and size took 20 s
    with store._tx() as con:
        con.execute("UPDATE runs SET started_at=100, finished_at=120 WHERE id=?", (past,))
    ahead = _record(store, STRANGER, status="queued", seed=7)
    mine = _record(store, ME, status="queued")
    at = _page().run()
    assert not at.exception and not at.error
    note = "\n".join(t.value for t in at.text)
    assert "position 2 of 2 waiting" in note and f"#{ahead} magnitude of {STRANGER} (queued)" in note
    assert "Starts in ~20 s" in note and "takes ~20 s (median of 1 past run with these settings)" in note
    assert "test_accuracy" not in note  # labels only, nothing else of the other run
    at.button(key=f"st-live-cancel-{mine}").click().run()
    assert store.get_run(mine).status == "cancelled" and store.get_run(ahead).status == "queued"


def test_a_run_deleted_while_watched_gives_a_calm_note_not_a_store_error(queue_only):
    rid = _record(queue_only.store, ME, status="queued")
    at = _page().run()
    assert at.session_state["st-run"] == rid
    queue_only.store.delete_run(rid)  # deleted in another tab
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(f"Run #{rid} was deleted" in i.value for i in at.info)


def test_rendering_the_app_imports_no_torch_in_the_server(tmp_db):
    """#12 item 6: the app server loads no torch before a run starts (every page renders without it)."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('streamlit_app.py', default_timeout=120).run()\n"
        "assert not at.exception, at.exception\n"
        "print('TITLE', at.title[0].value)\n"
        "print('TORCH', 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    assert lines.get("TITLE") == "Train & prune", out.stderr[-3000:]
    assert lines.get("TORCH") == "False", "the app server imported torch while rendering the default page"
