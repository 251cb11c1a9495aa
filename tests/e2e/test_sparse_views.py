"""The comparison chart, the Runs page and a finished run's masks in a real browser, at 1440×900 and 1024×768.

Small real runs (digits, one hidden layer of 32, one epoch) are trained into the app's store first;
screenshots go to screenshots/ (sparse-views-*.png): look at them.
"""
from __future__ import annotations

import os

import pytest

from tests.e2e.browser import wait_idle

pytestmark = pytest.mark.e2e
SIZES = {"1440": (1440, 900), "1024": (1024, 768)}
SID = "e2e-views-session"  # the browser session that "ran" the sweep (dashboard.jobs: ?sid=)


@pytest.fixture(scope="module")
def trained(app_db):
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run
    from engine.sparse.config import SparseConfig

    store = RunStore(app_db)
    ids = {}
    points = [("dense", 0.0, s) for s in (0, 1)] + [(m, lv, s) for m in ("magnitude", "rigl") for lv in (0.5, 0.9, 0.98)
                                                   for s in (0, 1)] + [("structured", 0.75, 0)]
    for method, level, seed in points:
        c = SparseConfig(method=method, sparsity=level, seed=seed, epochs=2, finetune_epochs=1 if method != "rigl" else 0,
                         hidden=(32,), speed_meter=method == "structured")
        rid = store.create_run("sparse", c.to_dict(), seed=seed, name=f"{method} {level:.0%} · seed {seed}",
                               group="sweep:e2e views", owner=SID)
        store.mark_running(rid, os.getpid())
        assert execute_run(store, rid) == "finished"
        ids[(method, level, seed)] = rid
    return ids


def _no_traceback(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


@pytest.mark.parametrize("size", list(SIZES))
def test_compare_page_fits_the_points_and_offers_a_density_axis(browser, app_url, trained, shot, size):
    w, h = SIZES[size]
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url + f"/sparse_compare?sid={SID}")
    page.get_by_text("Test accuracy vs sparsity").first.wait_for()
    wait_idle(page)
    _no_traceback(page)
    shot(page, f"sparse-views-compare-linear-{size}")
    page.get_by_text("density, log scale").first.click()
    wait_idle(page)
    page.wait_for_timeout(1500)
    _no_traceback(page)
    ticks = [t.text_content() for t in page.locator(".js-plotly-plot .xtick text").all()]
    assert "98 %" in ticks and "90 %" in ticks, ticks
    shot(page, f"sparse-views-compare-density-{size}")
    # a point opens its run: click the first marker of the first method
    marker = page.locator(".js-plotly-plot .scatterlayer .trace .points path").nth(1)
    marker.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    pt = marker.bounding_box()
    page.mouse.move(pt["x"] + pt["width"] / 2, pt["y"] + pt["height"] / 2)
    page.wait_for_timeout(500)  # plotly clicks the point it hovers: hover first
    page.mouse.down()
    page.mouse.up()
    wait_idle(page)
    page.wait_for_timeout(2000)
    _no_traceback(page)
    assert page.get_by_text("Opened: run #").count() + page.get_by_text("Point detail").count() >= 1
    shot(page, f"sparse-views-compare-clicked-{size}")
    ctx.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_runs_page_and_a_finished_structured_run(browser, app_url, trained, shot, size):
    w, h = SIZES[size]
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url + "/runs")
    page.get_by_role("heading", name="Runs").wait_for()
    wait_idle(page)
    box = page.get_by_label("Filter")
    box.fill("structured")
    box.press("Enter")
    wait_idle(page)
    page.wait_for_timeout(3000)
    _no_traceback(page)
    shot(page, f"sparse-views-runs-structured-{size}")
    # hover a mask cell of the finished run: the hover names row, column, state and weight
    plot = page.locator(".js-plotly-plot").filter(has=page.locator(".heatmaplayer")).first
    plot.scroll_into_view_if_needed()
    bb = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(bb["x"] + bb["width"] * 0.3, bb["y"] + bb["height"] * 0.3)
    page.wait_for_timeout(800)
    hover = " ".join(t.text_content() or "" for t in page.locator(".hoverlayer").all())
    assert "row" in hover and ("kept" in hover or "pruned" in hover), hover
    page.screenshot(path=f"screenshots/sparse-views-mask-hover-{size}.png")
    ctx.close()
