"""Shared fixtures: every test gets its own run store file, never the user's."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SPARSITY_LAB_DB", str(tmp_path_factory.mktemp("db") / "runs.db"))


@pytest.fixture
def tmp_db(tmp_path, monkeypatch):
    """A fresh run store path, also exported as SPARSITY_LAB_DB (for AppTest pages and workers)."""
    path = tmp_path / "runs.db"
    monkeypatch.setenv("SPARSITY_LAB_DB", str(path))
    return path
