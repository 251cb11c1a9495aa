"""Where things live on disk: the run store and the optional benchmark data."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """The benchmark data folder (``SPARSITY_LAB_DATA``, else ``<repo>/../shared/data``), or None if absent.

    The data is never part of this repository; features and tests that need it degrade or skip.
    """
    env = os.environ.get("SPARSITY_LAB_DATA")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


def default_db_path() -> Path:
    """The run store's file: ``SPARSITY_LAB_DB``, else ``<user data dir>/sparsity-lab/runs.db``."""
    env = os.environ.get("SPARSITY_LAB_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("sparsity-lab", appauthor=False)) / "runs.db"
