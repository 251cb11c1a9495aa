"""Fixtures of the page tests."""
from __future__ import annotations

import pytest

from engine.runs.jobs import JobRunner


@pytest.fixture(autouse=True)
def _no_warm_pool(monkeypatch):
    """Page tests draw pages, they do not race runs: no pre-warmed workers importing torch beside them
    (the pool has its own tests in tests/engine/runs and the browser tests run the real app)."""
    monkeypatch.setenv("SPARSITY_LAB_WARM_POOL", "0")


@pytest.fixture
def queue_only(tmp_db, monkeypatch):
    """The app's job runner, except that queued runs never start (nothing is trained)."""
    runner = JobRunner(tmp_db, background=False, warm=0)
    runner._start_queued = lambda: None
    monkeypatch.setattr("dashboard.jobs.runner", lambda: runner)
    return runner
