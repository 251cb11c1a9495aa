"""Shared fixtures: every test gets its own run store file, never the user's, and the runner's thread policy."""
from __future__ import annotations

import sys

import pytest

from engine.runs import threads as thread_policy

# Before any test imports torch or numpy's BLAS: the same cap a worker gets (engine/runs/threads.py).
TEST_THREADS = thread_policy.threads_for("test", workers=1)
thread_policy.set_env(TEST_THREADS)


@pytest.fixture(autouse=True)
def _thread_policy():
    """Every test runs torch with the policy's thread count (set again: a test may have changed it)."""
    thread_policy.apply(TEST_THREADS)
    yield


@pytest.fixture(autouse=True)
def _restore_main():
    """Put ``__main__`` back after each test: AppTest installs its page script as ``__main__``, and a
    ``spawn`` child started by a later test would re-run that script (and fail) before its target."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SPARSITY_LAB_DB", str(tmp_path_factory.mktemp("db") / "runs.db"))


@pytest.fixture
def tmp_db(tmp_path, monkeypatch):
    """A fresh run store path, also exported as SPARSITY_LAB_DB (for AppTest pages and workers)."""
    path = tmp_path / "runs.db"
    monkeypatch.setenv("SPARSITY_LAB_DB", str(path))
    return path
