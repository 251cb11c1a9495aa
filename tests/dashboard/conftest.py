"""Fixtures of the page tests."""
from __future__ import annotations

import pytest

from engine.runs.jobs import JobRunner


@pytest.fixture
def queue_only(tmp_db, monkeypatch):
    """The app's job runner, except that queued runs never start (nothing is trained)."""
    runner = JobRunner(tmp_db, background=False)
    runner._start_queued = lambda: None
    monkeypatch.setattr("dashboard.jobs.runner", lambda: runner)
    return runner
