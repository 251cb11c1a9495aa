"""Live view of one run: status, queue place, progress, Cancel, and a page-specific ``draw`` that polls the store."""
from __future__ import annotations

import json
import re
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
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


def plain(text: object) -> str:
    """``text`` with every Markdown character escaped: user-supplied strings render as typed.

    >>> print(plain("![x](http://e.org/a.png) [Click](http://x) *now*"))
    \\!\\[x\\]\\(http\\://e\\.org/a\\.png\\) \\[Click\\]\\(http\\://x\\) \\*now\\*
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _duration(seconds: float | None) -> str:
    """'~45 s', '~3 min', '~1.5 h' (or 'unknown').

    >>> _duration(44.6), _duration(200), _duration(5400), _duration(None)
    ('~45 s', '~3 min', '~1.5 h', 'unknown')
    """
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def status_line(run: Run) -> None:
    """A one-line summary of a run's state (and its error, if any)."""
    secs = f" · {run.seconds:.1f} s" if run.seconds is not None else ""
    st.markdown(f"{STATUS_ICON.get(run.status, '')} **{plain(run.label)}** — {run.status}{secs}")
    if run.status == "failed" and run.error:
        st.error(plain(run.error))  # may quote a file or column name
    elif run.status == "cancelled":
        st.warning("Cancelled: everything reported before the cancel is kept below.")


def link_banner(run: Run) -> None:
    """Say that this run was opened by link (not started in this session) and show its own settings."""
    st.info(f"Opened by link (?run={run.id}): run #{run.id} as it was set up when it started. The form above "
            "does not describe it; start a run to see your own.", icon=":material/link:")
    with st.expander(f"Settings of run #{run.id}"):
        st.code(json.dumps(run.config, indent=1, sort_keys=True), language="json")


def queue_note(run: Run) -> None:
    """A queued run's place in line, what is ahead (labels only), and the estimated wait and duration."""
    info = jobs.queue_info(run.id)
    if info is None:
        return
    ahead = ", ".join(f"{r.label} ({r.status})" for r in info.ahead[:5])
    more = f" and {len(info.ahead) - 5} more" if len(info.ahead) > 5 else ""
    dur = info.duration
    lines = [
        f"Queued: position {info.position} of {info.queued} waiting; "
        f"{len(info.ahead)} run(s) ahead{': ' + ahead + more if ahead else ''}.",
        f"Starts in {_duration(info.start_in)}; then takes {_duration(dur.seconds if dur else None)}"
        + (f" ({dur.basis})." if dur else " (no past run of this kind and size to go by)."),
    ]
    st.text("\n".join(lines))


def running_note(run: Run) -> None:
    """Estimated time left of a running run (from its progress)."""
    from engine.runs.queue import remaining

    left = remaining(run, None)
    if left is not None:
        st.caption(f"About {_duration(left)} left (from the progress so far).")


def _gone(run_id: int) -> None:
    st.info(f"Run #{run_id} was deleted (on the Runs page or in another tab); there is nothing more to show.",
            icon=":material/delete:")


def live(run_id: int, draw: Callable[[RunStore, Run], None], *, key: str, interval: float = 0.4) -> None:
    """Show a run and redraw it every ``interval`` s while it is queued or running.

    Only this fragment reruns while polling, so the rest of the page stays usable. When the run
    ends, the whole page reruns once, which stops the polling. A run deleted meanwhile shows a
    calm note once and stops polling.
    """
    store = jobs.store()
    first = store.find_run(run_id)
    if first is None:
        _gone(run_id)
        return
    if jobs.opened_by_link(run_id):
        link_banner(first)
    every = interval if first.active else None

    @st.fragment(run_every=every)
    def _view() -> None:
        run = store.find_run(run_id)
        if run is None:
            if every is not None:
                st.rerun()  # stop polling; the page forgets the deleted run and says so
            _gone(run_id)
            return
        cols = st.columns([5, 1])
        with cols[0]:
            status_line(run)
        # fixed slots, running or not: the note (queue place or time left) may be empty or not, the
        # progress bar goes when the run ends, and what is drawn below keeps its place in both cases
        note, bar, body = st.container(), st.empty(), st.container(key=f"live-{key}")
        if run.active:
            with cols[1]:
                if st.button("Cancel", key=f"{key}-cancel-{run_id}", icon=":material/stop:"):
                    jobs.cancel(run_id)
            with note:
                if run.status == "queued":
                    queue_note(run)
                else:
                    running_note(run)
            bar.progress(run.fraction, text=f"step {run.step} / {run.total or '?'}")
        else:
            cols[1].empty()  # the Cancel button goes at once, not when the page's last redraw reaches it
        with body, guard("drawing the run"):
            draw(store, run)
        if every is not None and not run.active:
            st.rerun()  # the run ended: redraw the page once, without polling

    _view()
