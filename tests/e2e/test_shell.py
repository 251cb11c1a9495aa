"""The app opens in a real browser and its navigation works."""
from tests.e2e.browser import wait_idle


def test_learn_page_opens_and_shows_its_three_patterns(page, app_url, shot):
    page.goto(app_url + "/learn")
    page.get_by_text("Three ways to make the same matrix sparse").wait_for()
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(2).wait_for()
    assert page.locator(".js-plotly-plot").count() >= 3
    shot(page, "learn")


def test_runs_page_is_reachable_from_the_sidebar(page, app_url, shot):
    page.goto(app_url)
    page.get_by_role("link", name="All runs").click()
    page.get_by_role("heading", name="Runs").wait_for()
    wait_idle(page)
    shot(page, "runs-empty")
