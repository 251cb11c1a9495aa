"""Live view of one run: status, progress, Cancel, and a page-specific ``draw`` that polls the store."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from dashboard import jobs
from dashboard.components.common import guard, plain
from engine.runs.store import Run, RunStore

STATUS_ICON = {
    "queued": ":material/schedule:",
    "running": ":material/play_circle:",
    "finished": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/cancel:",
}


def status_line(run: Run) -> None:
    """A one-line summary of a run's state (and its error, if any)."""
    secs = f" · {run.seconds:.1f} s" if run.seconds is not None else ""
    st.markdown(f"{STATUS_ICON.get(run.status, '')} **{plain(run.label)}** — {run.status}{secs}")
    if run.status == "failed" and run.error:
        st.error(plain(run.error))  # may quote a file or column name
    elif run.status == "cancelled":
        st.warning("Cancelled: everything reported before the cancel is kept below.")


def live(run_id: int, draw: Callable[[RunStore, Run], None], *, key: str, interval: float = 0.4) -> None:
    """Show a run and redraw it every ``interval`` s while it is queued or running.

    Only this fragment reruns while polling, so the rest of the page stays usable. When the run
    ends, the whole page reruns once, which stops the polling.
    """
    store = jobs.store()
    first = store.get_run(run_id)
    every = interval if first.active else None

    @st.fragment(run_every=every)
    def _view() -> None:
        run = store.get_run(run_id)
        cols = st.columns([5, 1])
        with cols[0]:
            status_line(run)
        bar = st.empty()  # one slot, running or not: what is drawn below keeps its place when the run ends
        if run.active:
            with cols[1]:
                if st.button("Cancel", key=f"{key}-cancel-{run_id}", icon=":material/stop:"):
                    jobs.cancel(run_id)
            bar.progress(run.fraction, text=f"step {run.step} / {run.total or '?'}")
        with guard("drawing the run"):
            draw(store, run)
        if every is not None and not run.active:
            st.rerun()  # the run ended: redraw the page once, without polling

    _view()
