"""Time series → Inspect an adjacency in a real browser: upload a matrix, read it, then a bad one."""
import numpy as np

from tests.e2e.browser import wait_idle


def _csv(tmp_path, name, a, names):
    path = tmp_path / name
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(f"{v:.5g}" for v in row) for row in a) + "\n")
    return path


def test_upload_shows_communities_graph_and_a_bad_matrix_a_message(page, app_url, shot, tmp_path):
    rng = np.random.default_rng(0)
    g = np.arange(24) % 4
    a = (g[:, None] == g[None, :]) * (0.5 + rng.random((24, 24))) + 0.03 * rng.random((24, 24))
    a[0, 5] = -0.6
    page.goto(app_url)
    page.get_by_role("link", name="Inspect an adjacency").click()
    page.get_by_role("heading", name="Inspect an adjacency").wait_for()
    wait_idle(page)
    page.locator("input[type=file]").first.set_input_files(str(_csv(tmp_path, "g.csv", a, [f"cpu{i}" for i in range(24)])))
    page.get_by_text("Matrix ordered by community").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert page.get_by_text("Unexpected error").count() == 0
    assert page.locator(".js-plotly-plot").count() >= 4  # matrix, graph, two distributions
    shot(page, "anomaly-inspect")
    page.set_viewport_size({"width": 1024, "height": 768})
    shot(page, "anomaly-inspect-1024")
    page.locator("input[type=file]").first.set_input_files(str(_csv(tmp_path, "bad.csv", a[:3], [f"c{i}" for i in range(24)])))
    page.get_by_text("not square").wait_for(timeout=30_000)
    assert page.get_by_text("Unexpected error").count() == 0
