"""Two browser sessions each start a run on Train & prune: each sees only its own (issue #10 item 2).

Also: a reload re-attaches to the session's run (the ``sid`` query parameter), the second run shows
its place in the queue behind the first, and both can be cancelled.
"""
import re
import time

import pytest

from engine.runs.store import RunStore
from tests.e2e.browser import wait_idle

pytestmark = pytest.mark.e2e


def _start(browser, app_url, epochs: str):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url)
    page.get_by_role("heading", name="Train & prune").wait_for()
    wait_idle(page)
    box = page.get_by_role("spinbutton", name="Epochs", exact=True)
    box.fill(epochs)
    box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    heading = page.get_by_role("heading", name=re.compile(r"^Run #\d+")).first
    heading.wait_for()
    run_id = int(re.match(r"Run #(\d+)", heading.inner_text()).group(1))
    return ctx, page, run_id


def _run_headings(page) -> set[int]:
    texts = page.get_by_role("heading", name=re.compile(r"^Run #\d+")).all_inner_texts()
    return {int(re.match(r"Run #(\d+)", t).group(1)) for t in texts}


def test_two_sessions_each_see_only_their_own_run(browser, app_url, app_db, shot):
    ctx_a, a, run_a = _start(browser, app_url, "1000")  # the most the form takes: still running when the test cancels it
    assert "sid=" in a.url
    ctx_b = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        b = ctx_b.new_page()
        b.set_default_timeout(60_000)
        b.goto(app_url)
        b.get_by_role("heading", name="Train & prune").wait_for()
        wait_idle(b)
        time.sleep(1.0)
        assert _run_headings(b) == set(), "a fresh session shows another session's run"
        ctx_b.close()
        ctx_b, b, run_b = _start(browser, app_url, "1000")
        assert run_b != run_a
        time.sleep(1.5)  # a few polls of both pages
        assert _run_headings(a) == {run_a} and _run_headings(b) == {run_b}
        queued = b.get_by_text(re.compile(r"Queued: position 1 of 1 waiting"))
        if queued.count():  # one worker on this machine: B waits behind A, and says so (A by its label)
            assert f"#{run_a}" in queued.first.inner_text()
        shot(b, "my-runs-second-session")
        a.reload()
        a.get_by_role("heading", name=re.compile(r"^Run #\d+")).first.wait_for()
        assert _run_headings(a) == {run_a}, "a reload did not re-attach to the session's own run"
        shot(a, "my-runs-first-session-after-reload")
        for page in (b, a):
            page.get_by_role("button", name="Cancel").first.click()
            wait_idle(page)
        # each session's Cancel stops its own run (the cancelled message itself is checked in test_sparse_live)
        store = RunStore(app_db)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and any(store.get_run(r).active for r in (run_a, run_b)):
            time.sleep(0.5)
        statuses = {store.get_run(r).status for r in (run_a, run_b)}
        assert statuses <= {"cancelled", "finished"} and "cancelled" in statuses, statuses  # stopped, never failed
        assert a.get_by_text("Unexpected error").count() == 0 and b.get_by_text("Unexpected error").count() == 0
    finally:
        ctx_a.close()
        ctx_b.close()
