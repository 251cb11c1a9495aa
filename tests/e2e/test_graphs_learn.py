"""Graphs → Sparsify for learning in a real browser: TEDDY on the contextual SBM, drawn live."""

from tests.e2e.browser import wait_idle


def test_teddy_run_shows_curves_kept_edges_and_scores(page, app_url, shot):
    page.goto(app_url)
    page.get_by_role("link", name="Sparsify for learning").click()
    page.get_by_role("heading", name="Sparsify a graph for learning").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Train the GCN").click()
    # .first: while the view redraws, the old and the new copy of a caption can both be on the page
    page.get_by_text("Kept edges (dark) and removed edges (faded red)").first.wait_for(timeout=180_000)
    page.get_by_text("Weight sparsity reached").first.wait_for(timeout=180_000)
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() >= 3  # curves, drawn graph, scores by degree
    assert page.get_by_text("Unexpected error").count() == 0
    shot(page, "graphs-learn-teddy")
