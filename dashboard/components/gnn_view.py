"""Draw the runs of Graphs → Sparsify for learning (kinds ``gnn``, ``gnn-sweep``, ``fastrp``) from the store.

Only what the experiment reported is drawn: per-epoch metrics, the ``kept`` edge mask, ``edges``,
``labels``, ``degrees``, ``edge_score`` and ``embedding_2d`` snapshots, and the result.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard.components import graphs_figures as gf
from dashboard.components.common import explain
from engine.runs.store import Run, RunStore

CURVES = {"val_accuracy": "val accuracy", "test_accuracy": "test accuracy",
          "teacher_val_accuracy": "teacher val accuracy (TEDDY's dense GCN)"}


def draw_run(store: RunStore, run: Run) -> None:
    if run.kind == "gnn-sweep":
        draw_sweep(store, run)
    elif run.kind == "fastrp":
        draw_fastrp(store, run)
    else:
        draw_gnn(store, run)


def _wide(store: RunStore, run_id: int) -> pd.DataFrame:
    df = store.metrics(run_id)
    if df.empty:
        return pd.DataFrame()
    return df.pivot_table(index="step", columns="name", values="value", aggfunc="last").sort_index()


def curves_figure(wide: pd.DataFrame) -> go.Figure:
    """Accuracy (and train loss) per training step."""
    fig = go.Figure()
    for col, label in CURVES.items():
        if col in wide:
            s = wide[col].dropna()
            fig.add_trace(go.Scatter(x=s.index, y=s.values, mode="lines", name=label,
                                     line=dict(dash="dot" if "teacher" in col else "solid")))
    fig.update_layout(height=320, margin=gf.MARGIN, xaxis_title="training step (epoch; TEDDY: teacher, then "
                      "student; UGS: all rounds, then the ticket)", yaxis_title="accuracy", yaxis_range=[0, 1],
                      legend=dict(orientation="h"))
    return fig


def edges_figure(pos: np.ndarray, edges: np.ndarray, kept: np.ndarray, labels: np.ndarray | None) -> go.Figure:
    """Kept edges dark, removed edges faded; nodes coloured by class."""
    keep = kept.astype(bool)
    xs_k, ys_k = gf._segments(pos, edges[keep])
    xs_r, ys_r = gf._segments(pos, edges[~keep])
    colors = gf.group_colors(labels, grey_singletons=False) if labels is not None else "#555"
    n = len(pos)
    fig = go.Figure([
        go.Scattergl(x=xs_r, y=ys_r, mode="lines", line=dict(width=0.5, color="rgba(220,60,60,0.35)"),
                     hoverinfo="skip", name=f"removed ({int((~keep).sum()):,})"),
        go.Scattergl(x=xs_k, y=ys_k, mode="lines", line=dict(width=0.7, color="rgba(40,40,40,0.55)"),
                     hoverinfo="skip", name=f"kept ({int(keep.sum()):,})"),
        go.Scattergl(x=pos[:, 0], y=pos[:, 1], mode="markers", hoverinfo="text",
                     text=[f"node {i}" + (f", class {labels[i]}" if labels is not None else "") for i in range(n)],
                     marker=dict(size=7 if n <= 500 else 4, color=colors, line=dict(width=0.4, color="#777")),
                     name="nodes (colour = class)"),
    ])
    gf._blank(fig, "Kept edges (dark) and removed edges (faded red)", 520)
    fig.update_layout(showlegend=True, legend=dict(orientation="h"))
    return fig


def score_figure(edges: np.ndarray, degrees: np.ndarray, kept: np.ndarray, score: np.ndarray | None) -> go.Figure:
    """Edges by endpoint degree d_i·d_j: histogram of kept vs removed (and the score, when there is one)."""
    e = edges.astype(np.int64)
    prod = degrees[e[:, 0]].astype(float) * degrees[e[:, 1]]
    df = pd.DataFrame({"log10 endpoint degree product d_i·d_j": np.log10(np.maximum(prod, 1)),
                       "edge": np.where(kept.astype(bool), "kept", "removed")})
    if score is not None:
        df["score"] = score
        fig = px.scatter(df, x="log10 endpoint degree product d_i·d_j", y="score", color="edge", log_y=True,
                         color_discrete_map={"kept": "#333", "removed": "#d33"}, opacity=0.5,
                         title="Edge score vs endpoint degree (each dot an edge)")
    else:
        fig = px.histogram(df, x="log10 endpoint degree product d_i·d_j", color="edge", barmode="overlay", nbins=40,
                           color_discrete_map={"kept": "#333", "removed": "#d33"},
                           title="Kept and removed edges by endpoint degree")
    fig.update_layout(height=360, margin=gf.MARGIN)
    return fig


@st.cache_data(show_spinner=False, max_entries=8)
def _layout(edges: np.ndarray, n: int) -> np.ndarray:
    return gf.spring_layout(edges, n)


def draw_gnn(store: RunStore, run: Run) -> None:
    key = f"gnnv-{run.id}"
    wide = _wide(store, run.id)
    if wide.empty and not run.result:
        st.info("Loading the graph; the first epoch appears here in a moment.")
        return
    if not wide.empty:
        st.plotly_chart(curves_figure(wide), key=f"{key}-curves")
        explain("gnn_training", expanded=False, title="How to read these curves")
    r = run.result or {}
    if r:
        c = st.columns(4)
        c[0].metric("Test accuracy", f"{r['test_accuracy']:.1%}",
                    help="Model when training stops (Kipf & Welling's protocol).")
        c[1].metric("Graph sparsity reached", f"{r['graph_sparsity']:.1%}", f"{r['kept_edges']:,} of {r['edges']:,} edges kept",
                    delta_color="off")
        c[2].metric("Weight sparsity reached", f"{r['weight_sparsity']:.1%}",
                    f"{r['weights_nonzero']:,} of {r['weights_total']:,} weights", delta_color="off")
        c[3].metric("Wall time", f"{r['seconds']:.1f} s")
        for note in r.get("notes", []):
            st.info(note)
    kept = store.latest_snapshot(run.id, "kept")
    edges = store.latest_snapshot(run.id, "edges")
    degrees = store.latest_snapshot(run.id, "degrees")
    if kept is None:
        return
    left, right = st.columns([3, 2])
    with left:
        if edges is None:
            st.caption("The graph has more than 2,000 nodes: it is not drawn node by node.")
        else:
            labels = store.latest_snapshot(run.id, "labels")
            e = edges[1].astype(np.int64)
            n = int(e.max()) + 1 if labels is None else len(labels[1])
            pos = _layout(e, n)
            st.plotly_chart(edges_figure(pos, e, kept[1], None if labels is None else labels[1]), key=f"{key}-graph")
            explain("gnn_drawing", expanded=False, title="About the drawing")
    with right:
        if degrees is not None and edges is not None and len(edges[1]) == len(kept[1]):
            score = store.latest_snapshot(run.id, "edge_score")
            st.plotly_chart(score_figure(edges[1], degrees[1], kept[1], None if score is None else score[1]),
                            key=f"{key}-score")
            explain("gnn_scores", expanded=False, title="Which edges does the method remove?")


def sweep_figure(rows: pd.DataFrame, x: str) -> go.Figure:
    g = rows.groupby(["sparsifier", x])["test_accuracy"].agg(["mean", "std", "count"]).reset_index()
    fig = go.Figure()
    for m, part in g.groupby("sparsifier"):
        fig.add_trace(go.Scatter(x=part[x], y=part["mean"], mode="lines+markers", name=str(m),
                                 error_y=dict(type="data", array=part["std"].fillna(0).values, visible=True)))
    fig.update_layout(height=340, margin=gf.MARGIN, xaxis_title=x.replace("_", " "),
                      yaxis_title="test accuracy (mean ± std over seeds)", legend=dict(orientation="h"))
    return fig


def draw_sweep(store: RunStore, run: Run) -> None:
    key = f"gnns-{run.id}"
    rows = pd.DataFrame((run.result or {}).get("rows", []))
    if rows.empty:
        df = store.metrics(run.id)
        if df.empty:
            st.info("The first run of the sweep appears here when it ends.")
            return
        parts = df["name"].str.split("/", n=1, expand=True)
        df = df.assign(sparsifier=parts[0], metric=parts[1])
        rows = df.pivot_table(index=["step", "sparsifier"], columns="metric", values="value").reset_index()
    a, b = st.columns(2)
    a.plotly_chart(sweep_figure(rows, "graph_sparsity"), key=f"{key}-g")
    b.plotly_chart(sweep_figure(rows, "weight_sparsity"), key=f"{key}-w")
    explain("gnn_sweep", expanded=False, title="How to read the sweep")


def draw_fastrp(store: RunStore, run: Run) -> None:
    key = f"frp-{run.id}"
    r = run.result or {}
    emb = store.latest_snapshot(run.id, "embedding_2d")
    if not r and emb is None:
        st.info("Embedding the graph …")
        return
    if r:
        c = st.columns(4)
        c[0].metric("Micro-F1", f"{r['micro_f1']:.3f}")
        c[1].metric("Macro-F1", f"{r['macro_f1']:.3f}")
        c[2].metric("FastRP time", f"{r['embedding_seconds']:.3f} s")
        if "spectral_seconds" in r:
            c[3].metric("Spectral embedding", f"{r['spectral_micro_f1']:.3f} micro-F1",
                        f"{r['spectral_seconds']:.2f} s", delta_color="off")
    if emb is not None:
        labels = store.latest_snapshot(run.id, "labels")
        xy = emb[1]
        lab = labels[1].astype(str) if labels is not None else np.zeros(len(xy)).astype(str)
        fig = px.scatter(x=xy[:, 0], y=xy[:, 1], color=lab, opacity=0.7,
                         labels={"x": "PC 1", "y": "PC 2", "color": "class"},
                         title="FastRP embedding, first two principal components")
        fig.update_traces(marker=dict(size=5))
        fig.update_layout(height=460, margin=gf.MARGIN)
        st.plotly_chart(fig, key=f"{key}-emb")
        explain("gnn_fastrp", expanded=False, title="About FastRP")
