"""Learn in a real browser: teacher links hide exactly the chosen controls, controls write the URL,
and a screenshot of every lesson at 1440×900 and 1024×768 (look at them in screenshots/)."""
import time
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.components.learn_lessons import LESSONS
from tests.e2e.browser import wait_idle


def _keys_present(page, keys):
    return {k for k in keys if page.locator(f".st-key-{k}").count() > 0}


def test_teacher_link_hides_exactly_the_chosen_controls_and_pins_values(page, app_url):
    les = next(l for l in LESSONS if l.number == 4)
    page.goto(f"{app_url}/{les.url_path}?method=set&sparsity=0.8&hide=method,sparsity&run=12")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    wait_idle(page)
    keys = set(les.defaults())
    assert _keys_present(page, keys) == keys - {"method", "sparsity"}
    title = page.locator(".js-plotly-plot .gtitle").first.text_content()
    assert title.startswith("SET") and "18/88 connections" in title  # pinned: SET at 80 % sparsity
    assert page.get_by_text("Teacher mode").count() >= 1
    link = page.locator("[data-testid=stCode]").last.inner_text()
    q = parse_qs(urlparse(link.strip()).query)
    assert q["hide"] == ["method,sparsity"] and q["run"] == ["12"] and q["method"] == ["set"]


def test_changing_a_control_changes_the_url_and_the_link_reopens_it(page, app_url):
    page.goto(f"{app_url}/learn_01_storage?run=3")
    page.locator(".st-key-nm").wait_for()
    wait_idle(page)
    before = page.url
    page.locator(".st-key-nm [role=combobox]").click()
    page.get_by_role("option", name="1:4").click()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and page.url == before:
        time.sleep(0.2)
    q = parse_qs(urlparse(page.url).query)
    assert q.get("nm") == ["1:4"] and q.get("run") == ["3"]
    wait_idle(page)
    page2 = page.context.new_page()
    page2.goto(page.url)
    page2.locator(".st-key-nm").wait_for()
    wait_idle(page2)
    assert page2.locator(".st-key-nm [role=combobox]").input_value() == "1:4"
    page2.close()


def _settled(pg, *, question: bool, timeout: float = 120) -> None:
    """Wait until the script is idle, no spinner is left and (lessons) the question under the demo is shown."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait_idle(pg, timeout=timeout)
        done = pg.locator("[data-testid=stSpinner]").count() == 0 and (
            not question or pg.get_by_text("Think about it.").count() > 0)
        if done:
            time.sleep(0.5)
            if pg.locator("[data-testid=stSpinner]").count() == 0:
                return
        time.sleep(0.3)
    raise AssertionError("the page did not settle")


@pytest.mark.parametrize("size", [(1440, 900), (1024, 768)])
def test_screenshots_of_every_lesson(browser, app_url, shot, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    pg = ctx.new_page()
    pg.set_default_timeout(90_000)
    for path in ["learn"] + [les.url_path for les in LESSONS] + ["learn_teacher"]:
        pg.goto(f"{app_url}/{path}")
        pg.locator("[data-testid=stMain] h1").first.wait_for()
        _settled(pg, question=path.startswith("learn_") and path != "learn_teacher")
        if path == "learn_04_dynamic":  # play a few frames so the shot shows training under way
            pg.locator(".js-plotly-plot .updatemenu-button").first.click()
            time.sleep(3)
        assert pg.locator("[data-testid=stException]").count() == 0, path
        shot(pg, f"learn-{path}-{size[0]}x{size[1]}")
    ctx.close()
