"""App cold start: seconds from launching `streamlit run` to the first painted page in Chromium.

Also times the import of the app's modules alone (what every script rerun pays), and checks that
torch is not imported at app start. Needs /usr/bin/chromium and Playwright.

    python bench/app_cold_start.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(browser, page_path: str, marker: str) -> tuple[float, float]:
    """(server answering, page title painted) seconds after launching the server."""
    port = free_port()
    env = dict(os.environ, SPARSITY_LAB_DB=os.path.join(tempfile.mkdtemp(), "runs.db"))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port",
                             str(port), "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = browser.new_page()
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}/{page_path}", timeout=2000)
                break
            except Exception:  # server not up yet
                time.sleep(0.05)
        t_server = time.perf_counter() - t0
        page.locator("h1").filter(has_text=marker).first.wait_for(timeout=30000)
        t_paint = time.perf_counter() - t0
        page.close()
        return t_server, t_paint
    finally:
        proc.terminate()
        proc.wait(10)


def import_cost() -> tuple[float, bool]:
    code = ("import time, sys; t=time.perf_counter(); import streamlit, dashboard.nav, dashboard.jobs, "
            "dashboard.components.live, dashboard.components.run_view, dashboard.components.sparse_form, "
            "dashboard.components.sparse_view; "
            "print(time.perf_counter()-t, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout.split()
    return float(out[0]), out[1] == "True"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    imp = [import_cost() for _ in range(args.repeats)]
    print(f"app modules import: {np.median([t for t, _ in imp]):.2f} s; torch imported at start: {imp[0][1]}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        print(f"{'page':<22} {'server up s':>12} {'first paint s':>14}")
        for path, marker in [("", "Train & prune"), ("runs", "Runs"), ("learn", "Sparsity, explained")]:
            times = [cold_start(browser, path, marker) for _ in range(args.repeats)]
            print(f"/{path:<21} {np.median([a for a, _ in times]):>12.2f} {np.median([b for _, b in times]):>14.2f}")
        browser.close()


if __name__ == "__main__":
    main()
