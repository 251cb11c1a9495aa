"""Graphs → Summarize in a real browser: summarize the karate club and see the result drawn."""

from tests.e2e.browser import wait_idle


def open_page(page, app_url):
    """Through the sidebar: the page's URL is "/" while it is the app's default page."""
    page.goto(app_url)
    page.get_by_role("link", name="Summarize (SSumM)").click()
    page.get_by_role("heading", name="Summarize a graph (SSumM)").wait_for()


def test_summarize_karate_shows_live_curves_drawings_and_exports(page, app_url, shot):
    open_page(page, app_url)
    page.get_by_text("34 nodes, 78 edges").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Summarize").click()
    page.get_by_text("Summary graph: size ∝ members").wait_for(timeout=90_000)
    page.get_by_text("Reconstruction Â from the summary", exact=True).wait_for()
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() >= 5  # curves, input graph, summary graph, 2 heatmaps
    assert page.get_by_role("button", name="Download Summary (authors' format)").count() == 1
    assert page.get_by_text("Unexpected error").count() == 0
    shot(page, "graphs-summarize-karate")


def test_bad_upload_shows_an_error_in_the_browser(page, app_url, shot, tmp_path):
    bad = tmp_path / "picture.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    open_page(page, app_url)
    wait_idle(page)
    page.get_by_text("Upload an edge list").click()
    page.locator("input[type='file']").set_input_files(str(bad))
    page.get_by_text("not a text file").wait_for()
    shot(page, "graphs-summarize-bad-upload")


def test_ratio_sweep_draws_the_error_vs_size_curve(page, app_url, shot):
    open_page(page, app_url)
    page.get_by_text("34 nodes, 78 edges").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Sweep ratios 0.1 … 0.9 (error vs size)").click()
    page.get_by_text("RE1 vs size").wait_for(timeout=120_000)
    page.get_by_role("button", name="Download the curve (CSV)").wait_for(timeout=120_000)
    wait_idle(page)
    assert page.get_by_text("Unexpected error").count() == 0
    shot(page, "graphs-summarize-sweep")
