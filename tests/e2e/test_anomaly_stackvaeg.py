"""Time series → StackVAE-G in a real browser: train on synthetic data, watch the graph form, read results."""
from tests.e2e.browser import wait_idle


def set_number(page, label, value):
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def test_synthetic_run_shows_the_graph_forming_then_every_result(page, app_url, shot):
    page.goto(app_url)
    page.get_by_role("link", name="Learned adjacency (StackVAE-G)").click()
    page.get_by_role("heading", name="Learned adjacency: StackVAE-G").wait_for()
    wait_idle(page)
    set_number(page, "Rows (train = test)", 600)
    set_number(page, "Epochs", 25)
    set_number(page, "Window w", 30)
    page.get_by_role("button", name="Train and evaluate").click()
    page.get_by_text("ordered by learned clusters").first.wait_for(timeout=90_000)  # live heatmap
    page.get_by_text("Loss per epoch").first.wait_for(timeout=60_000)  # still running: both side by side
    shot(page, "anomaly-stackvaeg-live")
    page.get_by_text("AUROC of |Ã| against it").wait_for(timeout=240_000)
    wait_idle(page)
    assert page.get_by_text("Unexpected error").count() == 0
    # learned graph + ordered heatmap (the page's last rerun, when the run ends, may be re-mounting them)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 2
    shot(page, "anomaly-stackvaeg-graph")
    page.get_by_role("tab", name="Training").click()
    page.get_by_text("Loss per epoch").first.wait_for()
    page.get_by_text("Recovery of the true graph").first.wait_for()  # AUROC vs the truth, per epoch
    wait_idle(page)
    shot(page, "anomaly-stackvaeg-training")
    page.get_by_role("tab", name="Scores & metrics").click()
    page.get_by_text("Every protocol, beside the baselines").wait_for()
    wait_idle(page)
    shot(page, "anomaly-stackvaeg-metrics")
    page.get_by_role("tab", name="Diagnose a segment").click()
    page.get_by_text("Verdict:").wait_for()
    wait_idle(page)
    shot(page, "anomaly-stackvaeg-segment")
    page.get_by_role("tab", name="Compare graphs").click()
    page.get_by_text("Learned graph vs correlation and Lasso").wait_for()
    wait_idle(page)
    assert page.get_by_text("Unexpected error").count() == 0
    shot(page, "anomaly-stackvaeg-compare")
