"""Where a sweep's points run: here (local) or as Ray tasks on a cluster, with the cluster's CPUs.

``show(key, ctl) -> (backend, address)``. The app never imports Ray: the cluster's CPUs are asked
by a short separate process (``engine.runs.ray_backend.probe``), cached for 30 s.
"""
from __future__ import annotations

import streamlit as st

from dashboard.components.common import plain
from dashboard.components.urlstate import Controls
from engine.runs.ray_backend import probe, ray_available

LABELS = {"local": "This machine (local)", "ray": "Ray cluster"}


@st.cache_data(ttl=30, show_spinner="Asking the Ray cluster for its CPUs …")
def _probe(address: str) -> dict:
    return probe(address)


def show(key: str, ctl: Controls | None = None) -> tuple[str, str]:
    """The backend radio, and with Ray the cluster address and the CPUs it offers."""
    ctl = ctl or Controls()
    left, mid, right = st.columns([2, 3, 2])
    backend = ctl.radio("Run the points on", list(LABELS), format_func=LABELS.get, horizontal=True,
                        key=f"{key}-backend", where=left,
                        help="local: one point after another in this sweep's worker. Ray: each point a Ray task "
                             "on a cluster (same function, same seeds, same results); this run's worker writes "
                             "what the tasks return into the run store as they finish.")
    if backend != "ray":
        return "local", "local"
    address = ctl.text_input(
        "Cluster address", "local", key=f"{key}-address", where=mid,
        help="local: a Ray cluster started on this machine for the sweep (127.0.0.1 only) and stopped after it; "
             "auto: the cluster started here with `ray start`; HOST:PORT of a head; or ray://HOST:10001 "
             "(Ray Client).").strip() or "local"
    with right:
        if not ray_available():
            st.warning("Ray is not installed here: `pip install -r requirements.txt`.")
        else:
            info = _probe(address)
            if "error" in info:
                st.warning(plain(info["error"]))  # may quote the address the user typed
            else:
                st.metric("Cluster CPUs", f"{info['cpus']:,}",
                          help=f"{info['nodes']} node(s)" + (f"; {info['note']}" if info.get("note") else ""))
    return "ray", address
