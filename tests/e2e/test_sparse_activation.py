"""Sparse autoencoders and QuickSelection in a real browser: start a small run, see it drawn."""
import pytest

from tests.e2e.browser import wait_idle

pytestmark = pytest.mark.e2e


def _set(page, label: str, value: str) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def test_sae_run_draws_l0_densities_and_top_digits(page, app_url, shot):
    page.goto(app_url)
    page.get_by_role("link", name="Sparse autoencoders").click()
    page.get_by_role("heading", name="Sparse autoencoders").wait_for()
    page.get_by_text("activation", exact=False).first.wait_for()
    wait_idle(page)
    _set(page, "SAE epochs", "5")
    _set(page, "Lab model epochs", "5")
    page.get_by_role("button", name="Train SAE").click()
    page.get_by_text("Top-activating digits", exact=False).wait_for(timeout=120_000)
    page.get_by_text("Test NMSE").first.wait_for()
    wait_idle(page)
    shot(page, "sparse-sae")


def test_quickselection_run_draws_the_selected_pixels(page, app_url, shot):
    page.goto(app_url)
    page.get_by_role("link", name="Feature selection").click()
    page.get_by_role("heading", name="Feature selection (QuickSelection)").wait_for()
    wait_idle(page)
    _set(page, "Epochs", "5")
    page.get_by_role("button", name="Select features").click()
    page.get_by_text("Selected pixels (strongest first)", exact=False).wait_for(timeout=120_000)
    wait_idle(page)
    shot(page, "sparse-quickselection")
