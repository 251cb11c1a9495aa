"""The app's adapter around engine.runs: one store and one job runner per app server process.

**Whose runs a page shows.** Every run records the browser session that started it (the run's
``owner``). A session is identified by a random token kept in the page's URL query parameters
under the reserved name ``sid`` (and in ``st.session_state``, so it survives page switches that
drop query parameters): a page reload keeps the URL, so it re-attaches to the session's own
running jobs. An experiment page shows only runs of its session, or one run the user opens on
purpose with ``?run=ID`` (shown labelled "opened by link", with its own settings). The Runs page
lists every run. Sharing a URL that contains ``sid`` shares that view of your runs; share
``?run=ID`` links to show one run.

Reserved query parameter names (URL state of page settings must keep them and not reuse them):
``RESERVED_PARAMS`` = ``sid`` (the session token) and ``run`` (a run opened by link).
"""
from __future__ import annotations

import re
import secrets
from typing import Any, Callable, Mapping

import streamlit as st

from engine.config import Config
from engine.paths import default_db_path
from engine.runs.jobs import JobRunner
from engine.runs.store import Run, RunStore

SID_PARAM = "sid"  # the browser session's token (query parameter)
RUN_PARAM = "run"  # a run opened on purpose by link (query parameter)
RESERVED_PARAMS = (SID_PARAM, RUN_PARAM)
_SID_STATE = "_sparsity_lab_sid"
_LINK_STATE = "_sparsity_lab_link"  # run id -> state key it is shown under, for the "opened by link" label
_NOTICE_STATE = "_sparsity_lab_notice"
_SID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@st.cache_resource(show_spinner=False)
def _runner(db_path: str) -> JobRunner:
    return JobRunner(db_path, warm_delay=1.5)  # the pool warms up once the first page is painted


def runner() -> JobRunner:
    """The job runner of this app server (created once; re-created if SPARSITY_LAB_DB changes).

    It starts its warm worker pool at once, so the first click finds a worker with torch loaded.
    """
    return _runner(str(default_db_path()))


def store() -> RunStore:
    """The run store (same file as the runner's)."""
    return runner().store


def session_id() -> str:
    """This browser session's token: from ``?sid=``, else the session state, else a new random one.

    It is written back into the URL, so a reload of the page keeps it.
    """
    sid = st.session_state.get(_SID_STATE)
    from_url = st.query_params.get(SID_PARAM)
    if sid is None and from_url and _SID_RE.match(from_url):
        sid = from_url
    if sid is None:
        sid = secrets.token_urlsafe(12)
    st.session_state[_SID_STATE] = sid
    if from_url != sid:
        st.query_params[SID_PARAM] = sid
    return sid


def start(kind: str, config: Config, *, name: str | None = None, group: str | None = None) -> int:
    """Queue a run owned by this session; it starts in a worker as soon as a slot is free. Returns the run id.

    A double-click (or a second click while the same settings are still queued or running) does
    not queue a second run: the run already going is returned, and a note says so.
    """
    run_id, created = runner().submit_once(kind, config, name=name, group=group, owner=session_id())
    if created:
        runner().await_first_report(run_id)  # a warm worker's first picture then draws in this rerun
    else:
        st.session_state[_NOTICE_STATE] = (f"Run #{run_id} with these settings is already queued or running "
                                           "for you; it is shown instead of starting a second one.")
    if st.query_params.get(RUN_PARAM) is not None:  # the page now shows the user's own run, not the linked one
        del st.query_params[RUN_PARAM]
    st.session_state.pop(_LINK_STATE, None)
    return run_id


def cancel(run_id: int) -> None:
    runner().cancel(run_id)


def delete(run_ids: int | list[int]) -> None:
    """Delete runs; queued or running ones are cancelled first (never a row vanishing under a worker)."""
    for rid in [run_ids] if isinstance(run_ids, int) else run_ids:
        runner().delete(rid)


def my_runs(kind: str | None = None, *, group: str | None = None) -> list[Run]:
    """Runs this browser session started, newest first."""
    return store().list_runs(kind, group=group, owner=session_id())


def linked_run(kind: str | None = None) -> Run | None:
    """The run opened on purpose with ``?run=ID`` (of ``kind`` if given), or None."""
    raw = st.query_params.get(RUN_PARAM)
    if raw is None or not str(raw).isdigit():
        return None
    run = store().find_run(int(raw))
    if run is None or (kind is not None and run.kind != kind):
        return None
    return run


def opened_by_link(run_id: int) -> bool:
    """True if the page shows this run because the URL asked for it (not because this session started it)."""
    run = store().find_run(run_id)
    return run is not None and run.id in st.session_state.get(_LINK_STATE, {}) and run.owner != session_id()


def _matches(run: Run, match: Mapping[str, Any] | Callable[[Run], bool] | None) -> bool:
    if match is None:
        return True
    if callable(match):
        return bool(match(run))
    return all(run.config.get(k) == (list(v) if isinstance(v, tuple) else v) for k, v in match.items())


def page_run(
    state_key: str,
    kind: str,
    group: str,
    *,
    match: Mapping[str, Any] | Callable[[Run], bool] | None = None,
) -> int | None:
    """The run a page shows under its form (stored in ``st.session_state[state_key]``), or None.

    In order: the run opened by link (``?run=ID`` of this kind), else this session's run last
    shown or started, else this session's newest run of the group; never another session's run.
    ``match`` keeps the section under a form about what the form selects now: a dict of config
    values (e.g. ``{"method": "rigl"}``, ``{"source": ...}``) or a predicate on the run. A run
    deleted meanwhile is forgotten, with a calm note.
    """
    notice = st.session_state.pop(_NOTICE_STATE, None)
    if notice:
        st.info(notice, icon=":material/info:")
    link = linked_run(kind)
    if link is not None and link.id not in st.session_state.get(_LINK_STATE, {}):
        st.session_state.setdefault(_LINK_STATE, {})[link.id] = state_key
        st.session_state[state_key] = link.id
    current = st.session_state.get(state_key)
    if link is not None and current == link.id:
        return link.id
    mine = [r for r in my_runs(kind, group=group) if _matches(r, match)]
    ids = {r.id for r in mine}
    if current is not None and current not in ids:
        if store().find_run(current) is None:
            st.info(f"Run #{current} was deleted (on the Runs page or in another tab).", icon=":material/delete:")
        st.session_state.pop(state_key, None)
        if mine:
            st.session_state[state_key] = mine[0].id
    elif current is None and mine:
        st.session_state[state_key] = mine[0].id
    return st.session_state.get(state_key)


def queue_info(run_id: int):
    """Where a queued run stands (position, runs ahead, estimated start and duration), or None."""
    from engine.runs.queue import queue_info as info

    return info(store(), run_id, workers=runner().max_workers)


def estimate(kind: str, config: Config | dict):
    """The engine's estimate of a run's duration here (from past runs of the same kind and size), or None."""
    from engine.runs.queue import estimate_duration

    data = config.to_dict() if isinstance(config, Config) else dict(config)
    return estimate_duration(store(), kind, data)
