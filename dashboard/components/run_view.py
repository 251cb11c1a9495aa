"""Draw any stored run: the area's own viewer where one exists, else a generic one.

An area's viewer is ``draw_run(store, run)`` in the module named in ``VIEWERS``; the generic one
shows every metric's curve, the latest snapshot of each name, the result, files and log.
"""
from __future__ import annotations

import importlib
import json

import pandas as pd
import streamlit as st

from dashboard.components.figures import heatmap_live, line_chart
from engine.runs.store import Run, RunStore

VIEWERS = {
    "sparse": "dashboard.components.sparse_view",
    "sweep": "dashboard.components.sparse_view",
    "sensitivity": "dashboard.components.sparse_view",
    "ssumm": "dashboard.components.graphs_view",
    "ssumm-sweep": "dashboard.components.graphs_view",
    "gnn": "dashboard.components.gnn_view",
    "gnn-sweep": "dashboard.components.gnn_view",
    "fastrp": "dashboard.components.gnn_view",
    "stackvaeg": "dashboard.components.anomaly_view",
    "sae": "dashboard.components.sae_view",
    "quickselection": "dashboard.components.qs_view",
}

MAX_SNAPSHOTS_SHOWN = 12


def draw_run(store: RunStore, run: Run) -> None:
    """The area viewer of ``run.kind`` if it exists, else :func:`draw_generic`."""
    module = VIEWERS.get(run.kind)
    if module:
        try:
            viewer = importlib.import_module(module).draw_run
        except (ImportError, AttributeError):
            viewer = None
        if viewer is not None:
            viewer(store, run)
            return
    draw_generic(store, run)


def metric_groups(names: list[str]) -> dict[str, list[str]]:
    """Group metric names by their prefix (``train/loss`` -> ``train``); per-layer series stay together."""
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(n.split("/", 1)[0] if "/" in n else "metrics", []).append(n)
    return groups


def draw_curves(store: RunStore, run: Run, *, key: str) -> None:
    df = store.metrics(run.id)
    if df.empty:
        st.info("No metrics reported yet.")
        return
    groups = metric_groups(sorted(df["name"].unique()))
    cols = st.columns(min(3, len(groups)))
    for i, (group, names) in enumerate(groups.items()):
        with cols[i % len(cols)]:
            sub = df[df["name"].isin(names)]
            st.plotly_chart(line_chart(sub, x="step", y="value", color="name", title=group), key=f"{key}-c-{group}")


def draw_snapshots(store: RunStore, run: Run, *, key: str) -> None:
    names = store.snapshot_names(run.id)[:MAX_SNAPSHOTS_SHOWN]
    if not names:
        return
    cols = st.columns(min(4, len(names)))
    for i, name in enumerate(names):
        snap = store.latest_snapshot(run.id, name)
        if snap is None:
            continue
        step, arr = snap
        if arr.ndim == 1:
            arr = arr[None, :]
        with cols[i % len(cols)]:
            fig = heatmap_live(arr.astype(float), title=f"{name} (step {step})", height=260)
            st.plotly_chart(fig, key=f"{key}-s-{name}")


def draw_generic(store: RunStore, run: Run) -> None:
    key = f"gen-{run.id}"
    draw_curves(store, run, key=key)
    draw_snapshots(store, run, key=key)
    if run.result:
        scalars = {k: v for k, v in run.result.items() if isinstance(v, (int, float, str, bool)) or v is None}
        if scalars:
            st.dataframe(pd.DataFrame({"value": pd.Series(scalars, dtype=object).astype(str)}), width="stretch")
        with st.expander("Full result (JSON)"):
            st.code(json.dumps(run.result, indent=2, default=float)[:20000], language="json")
