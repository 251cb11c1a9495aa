"""The app in a real browser: navigation, offline assets, theme, narrow screens, plain-text user strings."""
import pytest

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


# Every page of the app (url path of each st.Page), with a text that shows it has drawn.
PAGES = {"": "Train", "sparse_compare": "Accuracy", "sparse_sensitivity": "sensitivity",
         "graphs_summarize": "Summarize", "anomaly_stackvaeg": "StackVAE-G", "runs": "Runs", "learn": "Three ways"}


def _is_local(url: str) -> bool:
    from urllib.parse import urlparse

    u = urlparse(url)
    return u.scheme in ("data", "blob", "about") or u.hostname in ("127.0.0.1", "localhost")


def test_no_page_requests_anything_from_another_host(browser, app_url):
    """Offline means offline: loading every page (and opening the menu) fetches only from the app."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    seen: list[str] = []
    page.on("request", lambda req: seen.append(req.url))
    try:
        for path, text in PAGES.items():
            page.goto(f"{app_url}/{path}")
            page.get_by_text(text).first.wait_for()
            wait_idle(page)
            page.wait_for_timeout(500)
        assert seen, "no request recorded"
        foreign = sorted({u for u in seen if not _is_local(u)})
        assert not foreign, foreign
        icons = page.locator("link[rel*='icon']")
        assert icons.count() and all(_is_local(page.evaluate("(e) => e.href", icons.nth(i).element_handle()))
                                     for i in range(icons.count()))
    finally:
        ctx.close()


def test_theme_choice_is_reachable_and_the_sidebar_collapses_at_1024(browser, app_url, shot):
    """At 1024×768 the sidebar collapses (and the page still works), and the menu offers light/dark."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(app_url + "/runs")
        page.get_by_role("heading", name="Runs").wait_for()
        wait_idle(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        page.wait_for_function(  # narrower than Streamlit's 300 px at this width (the app's stylesheet)
            "() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().width <= 260",
            timeout=10_000)
        sidebar.hover()  # Streamlit shows its collapse button on hover
        page.locator("[data-testid='stSidebarCollapseButton'] button").click()
        page.wait_for_timeout(800)
        assert sidebar.get_attribute("data-collapsed") == "true"
        main = page.locator("[data-testid='stMain']").bounding_box()
        assert main["width"] >= 1000  # the page takes the whole width
        shot(page, "shell-1024-sidebar-collapsed")
        page.locator("[data-testid='stExpandSidebarButton']").click()
        page.wait_for_timeout(800)
        assert sidebar.get_attribute("data-collapsed") == "false"
        page.locator("[data-testid='stMainMenuButton']").click()
        menu = page.locator("[data-testid='stMainMenuPopover']")
        menu.wait_for()
        assert {"System", "Light", "Dark"} <= set(menu.inner_text().split()), menu.inner_text()
        assert menu.locator("[data-testid='stThemeSwitcher']").count() == 1
        menu.locator("[data-testid='stMainMenuItem-theme-Dark']").click()
        page.wait_for_timeout(800)
        bg = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
        assert bg not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), bg
        shot(page, "shell-1024-dark")
    finally:
        ctx.close()


def test_planted_markdown_in_an_upload_renders_as_plain_text_in_the_browser(browser, app_url, shot):
    """A file name and column names holding an image and a link: shown as typed, nothing fetched."""
    planted_link = "[Click here](http://evil.example/login)"
    planted_img = "![pic](http://evil.example/p.png)"
    rows = "\n".join(f"{i % 7},{(i * 3) % 11},{i % 5},{int(i > 150)}" for i in range(200))
    blob = f'"{planted_link}","{planted_img}","mail me@evil.example",label\n{rows}\n'.encode()
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    seen: list[str] = []
    page.on("request", lambda req: seen.append(req.url))
    try:
        page.goto(app_url + "/anomaly_stackvaeg")
        page.get_by_text("Your CSV").click()
        wait_idle(page)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            files=[{"name": f"{planted_img} {planted_link}.csv", "mimeType": "text/csv", "buffer": blob}])
        page.get_by_text("labels found").wait_for()
        wait_idle(page)
        main = page.locator("[data-testid='stMain']")
        assert main.locator("a", has_text="Click here").count() == 0
        assert main.locator("a[href*='evil']").count() == 0  # no autolinked URL either
        assert main.locator("img[src*='evil.example']").count() == 0
        assert planted_link in main.inner_text().replace("\u2060", "")  # shown as typed
        assert not [u for u in seen if "evil.example" in u]
        shot(page, "shell-planted-markdown")
    finally:
        ctx.close()


def _record_runs(db) -> None:
    """One small finished run for each experiment page, recorded the way the app records them."""
    import os

    from engine.anomaly.experiments import StackVAEGConfig
    from engine.graphs.experiments import SSumMConfig
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run
    from engine.sparse.config import SparseConfig

    store = RunStore(db)
    if any(r.group == "anomaly-stackvaeg" for r in store.list_runs()):
        return
    for kind, config, group, name in (
        ("sparse", SparseConfig(hidden=(64, 64), epochs=3, finetune_epochs=1), "sparse-train", "magnitude 90% · digits"),
        ("ssumm", SSumMConfig(iterations=5), "graphs-summarize", "karate · 0.30 · L1"),
        ("stackvaeg", StackVAEGConfig(n_channels=38, n_groups=6, length=400, n_anomalies=4, window=20, epochs=3,
                                      hidden=32, latent=8, node_dim=8, batch_size=64), "anomaly-stackvaeg",
         "StackVAE-G · synthetic 38ch · 3 epochs"),
    ):
        rid = store.create_run(kind, config.to_dict(), seed=0, name=name, group=group)
        store.mark_running(rid, os.getpid())
        assert execute_run(store, rid) == "finished", store.get_run(rid).error


@pytest.mark.parametrize("width,height", [(1024, 768), (1440, 900)])
def test_every_page_draws_without_error_and_metrics_are_not_cut(browser, app_url, app_db, shot, width, height):
    """Screenshots of every page (look at them); no exception box; no headline metric ends in '…'."""
    _record_runs(app_db)
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        for path, text in PAGES.items():
            page.goto(f"{app_url}/{path}")
            page.get_by_text(text).first.wait_for()
            wait_idle(page, 60)
            page.wait_for_timeout(1500)
            assert page.locator("[data-testid='stException']").count() == 0, path
            cut = page.evaluate("""() => [...document.querySelectorAll(
                  '[data-testid=stMetricValue], [data-testid=stMetricValue] *, [data-testid=stMetricDelta] *,'
                  + ' [data-testid=stMetricLabel] *')]
                .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
            assert not cut, (path, cut)
            shot(page, f"page-{path or 'sparse_train'}-{width}x{height}")
    finally:
        ctx.close()
