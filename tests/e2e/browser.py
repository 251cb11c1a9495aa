"""Helpers the browser tests share (imported by tests/e2e/conftest.py and the test modules)."""
from __future__ import annotations

import time


def wait_idle(page, timeout: float = 30.0) -> None:
    """Wait until Streamlit has finished running the page script (its status widget is gone)."""
    deadline = time.monotonic() + timeout
    page.wait_for_selector("[data-testid='stApp']")
    while time.monotonic() < deadline:
        if page.locator("[data-testid='stStatusWidget']").count() == 0:
            return
        time.sleep(0.2)
