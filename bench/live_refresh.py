"""Live refresh rate: how often the Runs page redraws a running run in Chromium.

Starts the app on a temporary store, starts a long toy run from the CLI (so this also checks that
CLI runs appear live in the app), opens the Runs page and samples the progress text for a few
seconds. Reports distinct redraws per second (goal: ≥ 2) and how long a click on another control
takes to be answered while the run goes.

    python bench/live_refresh.py [--seconds 6] [--run toy|rigl]

``--run rigl`` watches a real RigL training run (digits MLP) instead: the heaviest live view (masks
as PNGs, histograms, ledger) while the worker keeps one core busy.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--run", choices=["toy", "rigl"], default="toy")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    env = dict(os.environ, SPARSITY_LAB_DB=os.path.join(tempfile.mkdtemp(), "runs.db"))
    port = free_port()
    app = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                            "--server.headless", "true"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli = (["toy", "--steps", "100000", "--step-seconds", "0.01"] if args.run == "toy" else
           ["sparse", "--method", "rigl", "--sparsity", "0.9", "--epochs", "400", "--speed-meter", "false"])
    # one torch thread, as the app's job runner gives a worker on this 2-core machine (cpu_count - 1)
    run_env = dict(env, OMP_NUM_THREADS=str(max(1, (os.cpu_count() or 2) - 1)))
    run = subprocess.Popen([sys.executable, "-m", "engine", "run", *cli, "--quiet"], cwd=ROOT, env=run_env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/runs")
            progress = page.get_by_text("step ", exact=False).first
            progress.wait_for(timeout=60000)
            seen, t0 = [], time.perf_counter()
            while time.perf_counter() - t0 < args.seconds:
                try:
                    text = progress.inner_text(timeout=1000)
                except Exception:  # redrawn in between
                    continue
                if not seen or seen[-1] != text:
                    seen.append(text)
                time.sleep(0.02)
            rate = (len(seen) - 1) / args.seconds
            t1 = time.perf_counter()
            page.get_by_role("tab", name="Compare runs").click()
            page.get_by_text("Runs to compare").wait_for()
            click = time.perf_counter() - t1
            browser.close()
        print(f"{'measure (' + args.run + ' run)':<44} {'value':>8}")
        print(f"{'distinct progress redraws per second':<44} {rate:>8.2f}")
        print(f"{'click on another tab answered in (s)':<44} {click:>8.2f}")
    finally:
        run.terminate()
        app.terminate()
        run.wait(10)
        app.wait(10)


if __name__ == "__main__":
    main()
