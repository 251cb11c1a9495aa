"""Drawing of a QuickSelection run: input-neuron strength on the image grid, the selected pixels,
and downstream accuracy against all features, random K and mutual information. Computed by
``engine.sparse.quickselection``."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.runs.store import Run, RunStore


def strength_figure(strength: np.ndarray, selected: np.ndarray | None) -> go.Figure:
    """Strength of each input pixel (heat map) with the selected pixels outlined."""
    h, w = strength.shape
    fig = go.Figure(go.Heatmap(z=strength, colorscale="Viridis", colorbar=dict(title="strength")))
    if selected is not None:
        ys, xs = np.nonzero(selected)
        fig.add_scatter(x=xs, y=ys, mode="markers", name="selected",
                        marker=dict(symbol="square-open", size=max(6, 360 // max(h, w)), color="red", line_width=2))
    fig.update_layout(title="Input-neuron strength Σ|w| (selected pixels outlined)", height=420,
                      margin=dict(l=10, r=10, t=40, b=10), yaxis_autorange="reversed", yaxis_scaleanchor="x")
    return fig


def accuracy_figure(acc: dict) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(acc), y=list(acc.values()), text=[f"{v:.1%}" for v in acc.values()]))
    fig.update_layout(title="Downstream accuracy (ExtraTrees, test split)", height=420, yaxis_range=[0, 1],
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def draw_quickselection(store: RunStore, run: Run) -> None:
    res = run.result or {}
    strength = store.latest_snapshot(run.id, "qs/strength")
    picked = store.latest_snapshot(run.id, "qs/selected")
    cols = st.columns(2)
    if strength is not None:
        cols[0].plotly_chart(strength_figure(strength[1], None if picked is None else picked[1]),
                             use_container_width=True)
    if res:
        cols[1].plotly_chart(accuracy_figure(res["accuracy"]), use_container_width=True)
        st.caption(f"Selected pixels (strongest first): {', '.join(map(str, res['selected']))}. "
                   f"Encoder density {res['er_density']:.3f} (Erdős–Rényi, kept constant by SET).")
    elif strength is None:
        st.caption("The strength map appears after the first epoch.")


draw_run = draw_quickselection  # the Runs page viewer (run_view.VIEWERS["quickselection"])
