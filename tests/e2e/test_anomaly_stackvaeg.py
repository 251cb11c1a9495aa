"""Time series → StackVAE-G in a real browser: train on synthetic data, watch the graph form, read results."""
import time


def wait_idle(page, timeout=30.0):
    deadline = time.monotonic() + timeout
    page.wait_for_selector("[data-testid='stApp']")
    while time.monotonic() < deadline:
        if page.locator("[data-testid='stStatusWidget']").count() == 0:
            return
        time.sleep(0.2)


def tall_shot(page, shot, name):
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('section, [data-testid=stMain]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 100, 12000)})
    time.sleep(1.0)
    shot(page, name)


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
    tall_shot(page, shot, "anomaly-stackvaeg-live")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_text("AUROC of |Ã| against it").wait_for(timeout=240_000)
    wait_idle(page)
    assert page.get_by_text("Unexpected error").count() == 0
    assert page.locator(".js-plotly-plot").count() >= 2  # learned graph + ordered heatmap
    tall_shot(page, shot, "anomaly-stackvaeg-graph")
    page.get_by_role("tab", name="Training").click()
    page.get_by_text("Loss per epoch").first.wait_for()
    page.get_by_role("tab", name="Scores & metrics").click()
    page.get_by_text("Every protocol, beside the baselines").wait_for()
    wait_idle(page)
    tall_shot(page, shot, "anomaly-stackvaeg-metrics")
    page.get_by_role("tab", name="Diagnose a segment").click()
    page.get_by_text("Verdict:").wait_for()
    wait_idle(page)
    tall_shot(page, shot, "anomaly-stackvaeg-segment")
    page.get_by_role("tab", name="Compare graphs").click()
    page.get_by_text("Learned graph vs correlation and Lasso").wait_for()
    wait_idle(page)
    assert page.get_by_text("Unexpected error").count() == 0
    tall_shot(page, shot, "anomaly-stackvaeg-compare")
