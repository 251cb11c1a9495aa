"""Accuracy vs sparsity on the Ray backend, in a real browser: the curve grows as Ray tasks finish.

The address is ``local``: the sweep's worker starts a Ray cluster on 127.0.0.1 for the sweep and
stops it after; the driver writes each point into the run store as it arrives.
"""
import re
import time

import pytest

from tests.e2e.browser import wait_idle

pytest.importorskip("ray", reason="ray is not installed (pip install -r requirements.txt)")
pytestmark = pytest.mark.e2e


def set_text(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def finished_points(page) -> int | None:
    """N of the caption 'N of M points finished on the Ray cluster', or None while it is not shown."""
    loc = page.get_by_text(re.compile(r"\d+ of \d+ points finished on the Ray cluster"))
    if loc.count() == 0:
        return None
    try:
        return int(loc.first.inner_text().split(" of ")[0].strip())
    except Exception:  # noqa: BLE001 - redrawn between the lookup and the read
        return None


def drawn_points(page) -> int:
    """Markers of the accuracy curve (the first chart; a redraw may briefly show a second one)."""
    plots = page.locator(".js-plotly-plot")
    if plots.count() == 0:
        return 0
    try:
        return plots.first.locator(".scatterlayer path.point").count()
    except Exception:  # noqa: BLE001 - redrawn between the lookup and the count
        return 0


def test_a_sweep_on_ray_draws_its_curve_as_points_finish(page, app_url, shot):
    page.goto(app_url)
    page.get_by_role("link", name="Accuracy vs sparsity").click()
    page.get_by_role("heading", name="Accuracy vs sparsity").wait_for()
    wait_idle(page)
    set_text(page, "Hidden widths", "32")
    set_text(page, "Epochs", "200")  # a few seconds per point: the page redraws between points
    page.locator("[data-testid='stRadio']").filter(has_text="Run the points on").get_by_text("Ray cluster").click()
    wait_idle(page)
    page.get_by_text("Cluster CPUs").wait_for()
    shot(page, "ray-sweep-form")
    page.get_by_role("button", name="Run 7 points on Ray").click()

    seen: list[tuple[int, int]] = []  # (points finished, points drawn) each time they change
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        n = finished_points(page)
        if n is not None and (not seen or seen[-1] != (n, drawn_points(page))):
            seen.append((n, drawn_points(page)))
            if 0 < n < 7 and len([s for s in seen if 0 < s[0] < 7]) == 1:
                shot(page, "ray-sweep-growing")
        if n == 7:
            break
        time.sleep(0.3)
    page.get_by_text("— finished").first.wait_for(timeout=60_000)
    wait_idle(page)
    time.sleep(1)
    final = drawn_points(page)
    shot(page, "ray-sweep-finished")
    print("points finished, points drawn:", seen)
    partial = [s for s in seen if 0 < s[0] < 7 and s[1] > 0]
    assert partial, f"no partial curve was ever drawn: {seen}"
    assert seen[-1][0] == 7, seen
    counts = [n for n, _ in seen]
    assert counts == sorted(counts), f"finished points went down: {seen}"
    # while points were still running the chart had fewer markers than at the end (a redraw may be
    # caught half-done, so each sample is only compared with the final chart)
    assert final == 6, f"the finished curve has {final} markers, not 6 (one per sparsity level): {seen}"
    assert min(d for _, d in partial) < final, f"the curve did not grow: {seen}"
    assert page.get_by_text(re.compile(r"7 of 7 points finished on the Ray cluster \(local\), on \d+ CPUs")).count()
    assert page.get_by_text("Unexpected error").count() == 0
