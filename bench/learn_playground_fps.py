"""Frames per second of lesson 4's playground animation in Chromium (Debian /usr/bin/chromium).

Starts the app, opens the lesson, presses ▶ Play and counts for ``SECONDS`` seconds
(1) the animation frames Plotly draws (``plotly_animatingframe`` events) and
(2) the browser's paints (``requestAnimationFrame`` callbacks), for each data set and hidden size.
Also reports the server-side cost of the demo (training + figure, in the same process).

    .venv/bin/python bench/learn_playground_fps.py

The machine is shared with other agents: numbers are measured under that load.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECONDS = 6.0
CASES = [("moons", "8,8", "rigl"), ("spirals", "16,16", "set"), ("circles", "8,8,8", "rigl")]

COUNT_JS = """async (seconds) => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')][0];
  let frames = 0, paints = 0, running = true;
  plot.on('plotly_animatingframe', () => { frames += 1; });
  const raf = () => { paints += 1; if (running) requestAnimationFrame(raf); };
  requestAnimationFrame(raf);
  const btn = [...plot.querySelectorAll('.updatemenu-button')].find(b => b.textContent.includes('Play'));
  btn.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  const t0 = performance.now();
  await new Promise(r => setTimeout(r, seconds * 1000));
  running = false;
  const dt = (performance.now() - t0) / 1000;
  return {frames, paints, dt, total: plot._transitionData ? (plot._transitionData._frames || []).length : -1};
}"""


def server_cost(data: str, hidden: str, method: str) -> tuple[float, float]:
    """Seconds to train the trajectory and build the figure (imports warmed up first), and its JSON size in kB."""
    from dashboard.components.learn_figures import playground
    from engine.learn.playground import trajectory

    playground(trajectory(method, dataset=data, steps=20)).to_json()  # warm-up: imports, sklearn, plotly
    t0 = time.perf_counter()
    fig = playground(trajectory(method, dataset=data, hidden=tuple(int(h) for h in hidden.split(",")), grid=32))
    payload = fig.to_json()
    return time.perf_counter() - t0, len(payload) / 1e3


def main() -> None:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="learn-fps-"))
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.fileWatcherType", "none",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, SPARSITY_LAB_DB=str(tmp / "runs.db")))
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    rows = []
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                   args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            for data, hidden, method in CASES:
                pg = b.new_page(viewport={"width": 1440, "height": 900})
                pg.goto(f"{url}/learn_04_dynamic?data={data}&hidden={hidden}&method={method}")
                pg.locator(".js-plotly-plot .updatemenu-button").first.wait_for(timeout=60_000)
                time.sleep(1.0)
                r = pg.evaluate(COUNT_JS, SECONDS)
                rows.append((data, hidden, method, r["frames"] / r["dt"], r["paints"] / r["dt"], *server_cost(data, hidden, method)))
                pg.close()
            b.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"lesson 4 playground, Chromium headless (software GL), {SECONDS:.0f} s of ▶ Play each; shared 2-core machine")
    print(f"{'data':8} {'hidden':7} {'method':6} {'anim frames/s':>13} {'paints/s':>9} {'server s (train+figure)':>24} {'figure kB':>10}")
    for d, h, m, f, p, s, kb in rows:
        print(f"{d:8} {h:7} {m:6} {f:13.1f} {p:9.1f} {s:24.2f} {kb:10.0f}")
    print("target: ≥ 5 animation frames/s (frame duration 120 ms → at most 8.3/s)")


if __name__ == "__main__":
    main()
