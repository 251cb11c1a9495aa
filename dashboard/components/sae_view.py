"""Drawing of a sparse-autoencoder run (kind ``sae``): curves, L0 histogram, feature densities and
each feature's top-activating digits. Everything drawn is computed by ``engine.sparse.sae``."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.runs.store import Run, RunStore


def _curve(df, names: list[str], title: str) -> go.Figure | None:
    if df is None or len(df) == 0:
        return None
    fig = go.Figure()
    for name in names:
        part = df[df["name"] == name]
        if len(part):
            fig.add_scatter(x=part["step"], y=part["value"], mode="lines+markers", name=name.split("/")[-1])
    fig.update_layout(title=title, height=280, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step")
    return fig


def l0_figure(hist: list[int], k: int) -> go.Figure:
    """Histogram of active features per test sample (L0), with k marked."""
    fig = go.Figure(go.Bar(x=list(range(len(hist))), y=hist, name="samples"))
    fig.add_vline(x=k, line_dash="dash", annotation_text=f"k = {k}")
    fig.update_layout(title="L0 per sample (test split)", height=280, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="active features", yaxis_title="samples")
    return fig


def density_figure(density: list[float], k: int) -> go.Figure:
    """Feature densities sorted, log-log (a Zipf law is a straight line), with the under-used threshold."""
    d = np.sort(np.asarray(density, dtype=float))[::-1]
    ranks = np.arange(1, len(d) + 1)
    fig = go.Figure(go.Scatter(x=ranks[d > 0], y=d[d > 0], mode="markers", name="used features"))
    fig.add_hline(y=0.1 * k / len(d), line_dash="dot", annotation_text="under-used below 10 % of k/F")
    fig.update_layout(title=f"Feature density by rank ({int((d == 0).sum())} dead, not shown)", height=280,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_type="log", yaxis_type="log",
                      xaxis_title="rank", yaxis_title="fraction of samples active")
    return fig


def draw_sae(store: RunStore, run: Run) -> None:
    """The live and final view of one SAE run."""
    res = run.result or {}
    df = store.metrics(run.id)
    cols = st.columns(2)
    fig = _curve(df, ["sae/nmse_train"], "Reconstruction error (NMSE, training batches)")
    if fig is not None:
        cols[0].plotly_chart(fig, use_container_width=True)
    fig = _curve(df, ["sae/dead_features", "sae/starved_features"], "Dead and starved features per epoch")
    if fig is not None:
        cols[1].plotly_chart(fig, use_container_width=True)
    if not res:
        st.caption("The lab model trains first, then the SAE: curves appear after the SAE's first epoch.")
        return
    m = st.columns(5)
    m[0].metric("Test NMSE", f"{res['nmse']:.3f}")
    m[1].metric("L0 mean", f"{res['l0_mean']:.2f}", help=f"min {res['l0_min']}, max {res['l0_max']}")
    m[2].metric("Dead features", f"{res['dead_features']} / {res['width']}")
    m[3].metric("Under-used", res["underused_features"])
    m[4].metric("Lab model accuracy", f"{res['model_test_accuracy']:.1%}")
    cols = st.columns(2)
    cols[0].plotly_chart(l0_figure(res["l0_hist"], res["k"]), use_container_width=True)
    cols[1].plotly_chart(density_figure(res["density"], res["k"]), use_container_width=True)
    snap = store.latest_snapshot(run.id, "sae/top_digits")
    if snap is not None:
        st.markdown("**Top-activating digits** of the 16 most used features (one row per feature, strongest first)")
        tiles = snap[1]
        fig = go.Figure(go.Heatmap(z=tiles, colorscale="gray_r", showscale=False, hoverinfo="skip"))
        fig.update_layout(height=5 * tiles.shape[0] + 20, width=5 * tiles.shape[1] + 20,
                          margin=dict(l=10, r=10, t=10, b=10), xaxis_visible=False, yaxis_visible=False,
                          yaxis_autorange="reversed", yaxis_scaleanchor="x")
        left, right = st.columns([1, 1])
        left.plotly_chart(fig, use_container_width=False)
        rows = [{"feature": f["feature"], "density": f["density"],
                 "top digits (labels)": " ".join(map(str, f["top_labels"]))} for f in res["features"][:16]]
        right.dataframe(rows, hide_index=True, use_container_width=True, height=38 + 35 * len(rows))


draw_run = draw_sae  # the Runs page viewer (dashboard/components/run_view.py VIEWERS["sae"])
