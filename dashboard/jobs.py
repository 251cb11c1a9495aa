"""The app's adapter around engine.runs: one store and one job runner per app server process."""
from __future__ import annotations

import streamlit as st

from engine.config import Config
from engine.runs.jobs import JobRunner
from engine.runs.store import RunStore
from engine.paths import default_db_path


@st.cache_resource(show_spinner=False)
def _runner(db_path: str) -> JobRunner:
    return JobRunner(db_path)


def runner() -> JobRunner:
    """The job runner of this app server (created once; re-created if SPARSITY_LAB_DB changes)."""
    return _runner(str(default_db_path()))


def store() -> RunStore:
    """The run store (same file as the runner's)."""
    return runner().store


def start(kind: str, config: Config, *, name: str | None = None, group: str | None = None) -> int:
    """Queue a run; it starts in a worker process as soon as a slot is free. Returns the run id."""
    return runner().submit(kind, config, name=name, group=group)


def cancel(run_id: int) -> None:
    runner().cancel(run_id)


def page_run(state_key: str, kind: str, group: str) -> int | None:
    """The run a page shows: the one it started in this session, else the group's latest (or None).

    A run deleted meanwhile is forgotten, so a page never shows a run that no longer exists.
    """
    runs = store().list_runs(kind, group=group)
    if st.session_state.get(state_key) not in {r.id for r in runs}:
        st.session_state.pop(state_key, None)
        if runs:
            st.session_state[state_key] = runs[0].id
    return st.session_state.get(state_key)
