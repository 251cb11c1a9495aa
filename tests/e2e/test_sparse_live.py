"""The sparse training pages in a real browser.

Train & prune: start RigL, watch the progress and the mask heatmap change, cancel, find the run on the
Runs page. Accuracy vs sparsity and Layer sensitivity: small runs, drawn as they finish.
"""
import time

import pytest

from tests.e2e.browser import wait_idle

pytestmark = pytest.mark.e2e


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the Streamlit selectbox labelled ``label``."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label)
    box.locator("input").click()
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_idle(page)


def step_text(page) -> str:
    return page.get_by_text("step ", exact=False).filter(has_text=" / ").first.inner_text()


def first_mask_png(page) -> str | None:
    """The PNG (data URI) of the first mask heatmap: px.imshow(binary_string=True) draws an <image>.
    While Plotly redraws a heatmap its <image> has no href for a moment: take the first one that has."""
    return page.evaluate("() => { for (const e of document.querySelectorAll('.js-plotly-plot image')) {"
                         " const h = e.getAttribute('href'); if (h) return h; } return null; }")


def test_rigl_run_draws_live_changing_masks_then_cancels_and_is_listed(page, app_url, shot):
    page.goto(app_url)  # Train & prune is the app's default page
    page.get_by_role("heading", name="Train & prune").wait_for()
    wait_idle(page)
    pick(page, "Method", "rigl")
    page.get_by_text("dynamic sparse training").first.wait_for()
    epochs = page.get_by_role("spinbutton", name="Epochs", exact=True)
    epochs.fill("400")
    epochs.press("Enter")
    wait_idle(page)
    shot(page, "sparse-train-form")

    page.get_by_role("button", name="Train").click()
    page.locator(".js-plotly-plot image").first.wait_for(timeout=90_000)  # the first mask heatmap is drawn
    page.get_by_text("Training loss").first.wait_for(timeout=60_000)
    first_step, first_png = step_text(page), first_mask_png(page)
    deadline = time.monotonic() + 10
    while first_png is None and time.monotonic() < deadline:
        time.sleep(0.2)
        first_png = first_mask_png(page)
    assert first_png is not None, "no mask heatmap image"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (step_text(page) == first_step or first_mask_png(page) == first_png):
        time.sleep(0.5)
    assert step_text(page) != first_step, "the progress did not move"
    assert first_mask_png(page) != first_png, "RigL's mask heatmap did not change while training"
    assert page.get_by_text("Sparsity per layer").count() >= 1
    assert page.get_by_text("Unexpected error").count() == 0
    shot(page, "sparse-train-running")

    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Cancelled: everything reported before the cancel is kept below.").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator(".js-plotly-plot").count() >= 4  # curves and masks are kept
    shot(page, "sparse-train-cancelled")

    page.get_by_role("link", name="All runs").click()
    page.get_by_role("heading", name="Runs").wait_for()
    wait_idle(page)
    shot(page, "sparse-runs-page")
    picked = page.locator("[data-testid='stSelectbox']").filter(has_text="Run")
    shown = picked.inner_text() + " " + " ".join(i.input_value() for i in picked.locator("input").all())
    assert "rigl 90% · digits mlp (cancelled)" in shown, shown
    page.get_by_text("Cancelled: everything reported before the cancel is kept below.").wait_for()


def open_page(page, app_url, link: str) -> None:
    page.goto(app_url)
    page.get_by_role("link", name=link).click()
    page.get_by_role("heading", name=link).wait_for()
    wait_idle(page)


def set_text(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def test_small_sweep_draws_curves_with_the_dense_line(page, app_url, shot):
    open_page(page, app_url, "Accuracy vs sparsity")
    set_text(page, "Hidden widths", "32")
    set_text(page, "Epochs", "3")
    levels = page.locator("[data-testid='stMultiSelect']").filter(has_text="Sparsity levels")
    for level in ("0.7", "0.8", "0.95"):  # levels are shown (and linked) as fractions
        levels.get_by_role("button", name=f"Remove {level}").click()
        wait_idle(page)
    page.get_by_text("4 runs (1 method(s) × 3 level(s) × 1 seed(s) + dense)").wait_for()
    page.get_by_role("button", name="Queue 4 runs").click()
    page.get_by_text("4 finished").wait_for(timeout=240_000)
    wait_idle(page)
    assert page.get_by_text("Test accuracy vs sparsity").count() >= 1
    assert page.get_by_text("Unexpected error").count() == 0
    shot(page, "sparse-compare")


def test_sensitivity_draws_the_layer_grid(page, app_url, shot):
    open_page(page, app_url, "Layer sensitivity")
    set_text(page, "Hidden widths", "64,32")
    set_text(page, "Dense epochs", "3")
    page.get_by_role("button", name="Analyse").click()
    try:
        # .first: while the view redraws, the browser may still hold the previous (hidden) copy of the chart
        page.get_by_text("Validation accuracy when only this layer is pruned").first.wait_for(timeout=120_000)
    except Exception:
        shot(page, "sparse-sensitivity-timeout")
        raise
    page.get_by_text("— finished").wait_for(timeout=60_000)
    wait_idle(page)
    time.sleep(1)
    assert page.get_by_text("Unexpected error").count() == 0
    shot(page, "sparse-sensitivity")
