"""Plotly figure builders of the sparse training lab (pure functions: no Streamlit, no torch).

Inputs are what the experiments report: metric frames (step, name, value), mask / weight /
boundary snapshots (numpy arrays), ledger rows and sweep rows (dicts).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.components.figures import MARGIN, heatmap_live

KEPT = "#1f3b73"  # colour of a kept weight in mask heatmaps
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f")


def short(fqn: str) -> str:
    """``layers.0.weight`` -> ``layers.0`` (the label used on axes)."""
    return fqn[:-7] if fqn.endswith(".weight") else fqn


def curves(df: pd.DataFrame, names: list[str], *, title: str, y_title: str = "", height: int = 300,
           y_range: tuple[float, float] | None = None) -> go.Figure:
    """Lines of the metrics ``names`` against the training step."""
    fig = go.Figure()
    for i, name in enumerate(names):
        sub = df[df["name"] == name].sort_values("step")
        if sub.empty:
            continue
        fig.add_trace(go.Scatter(x=sub["step"], y=sub["value"], mode="lines", name=name,
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_layout(title=title, margin=MARGIN, height=height, xaxis_title="training step", yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.25), uirevision=title)
    if y_range:
        fig.update_yaxes(range=list(y_range))
    return fig


def mask_figure(mask: np.ndarray, *, title: str, height: int = 260) -> go.Figure:
    """A layer's binary mask (rows = output units, columns = inputs): dark = kept weight, white = pruned.

    Sent as one PNG (``binary_string``); above 256 px per side pixels are block means (grey = density).
    """
    fig = heatmap_live(np.asarray(mask, dtype=float), title=title, zmin=0.0, zmax=1.0, colorscale="Blues",
                       height=height)
    fig.update_layout(title_font_size=13)
    return fig


def nm_zoom(mask: np.ndarray, m: int, *, title: str, height: int = 300) -> go.Figure:
    """A small corner of an N:M mask at full resolution, with a line between every group of ``m`` inputs."""
    z = np.asarray(mask, dtype=float)
    fig = go.Figure(go.Heatmap(z=z, colorscale=[[0, "white"], [1, KEPT]], zmin=0, zmax=1, showscale=False,
                               xgap=1, ygap=1, hovertemplate="unit %{y}, input %{x}: %{z}<extra></extra>"))
    for x in range(m, z.shape[1], m):
        fig.add_vline(x=x - 0.5, line_color="#d62728", line_width=2)
    fig.update_layout(title=title, title_font_size=13, margin=MARGIN, height=height, yaxis_autorange="reversed",
                      xaxis_title="input", yaxis_title="unit")
    return fig


def weight_histogram(weights: np.ndarray, *, title: str, bins: int = 60, height: int = 240) -> go.Figure:
    """Histogram of a layer's non-zero weights (log counts); pruned (exact zero) weights are left out."""
    w = np.asarray(weights, dtype=float).ravel()
    nz = w[w != 0]
    fig = go.Figure()
    if nz.size:
        counts, edges = np.histogram(nz, bins=bins)
        fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges),
                             marker_color=KEPT, hovertemplate="w ≈ %{x:.3f}: %{y} weights<extra></extra>"))
    fig.update_layout(title=title, title_font_size=13, margin=MARGIN, height=height, bargap=0,
                      xaxis_title="weight value", yaxis_title="count (log)", yaxis_type="log", showlegend=False)
    return fig


def sparsity_bars(layers: list[str], sparsity: list[float], targets: list[float | None], *,
                  requested: float | None, height: int | None = None) -> go.Figure:
    """Per-layer sparsity (bars) against each layer's target (diamonds) and the requested sparsity (dashed)."""
    labels = [short(n) for n in layers]
    fig = go.Figure(go.Bar(x=sparsity, y=labels, orientation="h", name="reached", marker_color=KEPT,
                           text=[f"{s:.1%}" for s in sparsity], textposition="auto",
                           hovertemplate="%{y}: %{x:.2%} pruned<extra></extra>"))
    if any(t is not None for t in targets):
        fig.add_trace(go.Scatter(x=[t if t is not None else np.nan for t in targets], y=labels, mode="markers",
                                 name="layer target", marker=dict(symbol="diamond", size=12, color="#ff7f0e")))
    if requested is not None:
        fig.add_vline(x=requested, line_dash="dash", line_color="#d62728",
                      annotation_text=f"requested {requested:.0%}", annotation_position="bottom left")
    fig.update_layout(title="Sparsity per layer (fraction of weights pruned)", title_font_size=13, margin=MARGIN,
                      height=height or 140 + 45 * len(labels), xaxis=dict(range=[0, 1.02], tickformat=".0%"),
                      yaxis_autorange="reversed", legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0),
                      uirevision="bars")
    fig.update_layout(margin=dict(MARGIN, t=70))
    return fig


def extent(points: np.ndarray) -> tuple[float, float, float, float]:
    """The decision grid's extent, as ``engine.sparse.train.grid_extent`` computes it from the training points."""
    lo, hi = points[:, :2].min(0), points[:, :2].max(0)
    pad = 0.1 * (hi - lo)
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def boundary_figure(grid: np.ndarray, points: np.ndarray, *, title: str, height: int = 380) -> go.Figure:
    """The model's output over the plane (P(class 1), or the predicted class) with the training points."""
    x0, x1, y0, y1 = extent(points)
    n = grid.shape[0]
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    binary = len(np.unique(points[:, 2])) <= 2
    fig = go.Figure(go.Heatmap(z=grid, x=xs, y=ys, colorscale="RdBu", zmin=0, zmax=1 if binary else grid.max(),
                               opacity=0.75, showscale=False,
                               hovertemplate="P(class 1) = %{z:.2f}<extra></extra>" if binary else None))
    for c in np.unique(points[:, 2]):
        sel = points[:, 2] == c
        fig.add_trace(go.Scatter(x=points[sel, 0], y=points[sel, 1], mode="markers", name=f"class {int(c)}",
                                 marker=dict(size=5, color="#b2182b" if c == 0 else "#2166ac",
                                             line=dict(width=0.5, color="white"))))
    fig.update_layout(title=title, margin=MARGIN, height=height, xaxis=dict(range=[x0, x1], showgrid=False),
                      yaxis=dict(range=[y0, y1], showgrid=False, scaleanchor="x"), legend=dict(orientation="h"),
                      uirevision="boundary")
    return fig


def speed_figure(rows: list[dict]) -> go.Figure:
    """Measured latency per backend and batch size (bars), the text giving the speed-up against dense."""
    df = pd.DataFrame(rows)
    fig = go.Figure()
    for i, (backend, sub) in enumerate(df.groupby("backend", sort=False)):
        fig.add_trace(go.Bar(x=[f"batch {b}" for b in sub["batch"]], y=sub["median_ms"], name=backend,
                             marker_color=PALETTE[i % len(PALETTE)],
                             text=[f"{s:.2f}× dense" for s in sub["speedup_vs_dense"]], textposition="outside"))
    fig.update_layout(title="Measured inference latency (median, lower is faster)", barmode="group",
                      margin=MARGIN, height=340, yaxis_title="ms per batch",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def sweep_frame(rows: list[dict]) -> pd.DataFrame:
    """Sweep rows -> mean, std and count of test accuracy per (method, requested sparsity)."""
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    g = df.groupby(["method", "requested_sparsity"], as_index=False).agg(
        mean=("test_accuracy", "mean"), std=("test_accuracy", "std"), n=("test_accuracy", "size"),
        sparsity=("sparsity", "mean"))
    g["std"] = g["std"].fillna(0.0)
    return g.sort_values(["method", "requested_sparsity"])


def accuracy_sparsity(rows: list[dict], *, height: int = 440) -> go.Figure:
    """Test accuracy against sparsity: mean per method (line), ± one std across seeds (band), every run
    (dots); the dense baseline as a horizontal line with its own band."""
    fig = go.Figure()
    agg = sweep_frame(rows)
    df = pd.DataFrame(rows)
    if not agg.empty:
        dense = agg[agg["method"] == "dense"]
        if not dense.empty:
            m = float(dense["mean"].mean())
            s = float(np.nan_to_num(df[df["method"] == "dense"]["test_accuracy"].std()))  # NaN for one seed
            if s > 0:
                fig.add_hrect(y0=m - s, y1=m + s, fillcolor="grey", opacity=0.15, line_width=0)
            fig.add_hline(y=m, line_dash="dash", line_color="black",
                          annotation_text=f"dense {m:.1%}", annotation_position="bottom left")
        for i, (method, sub) in enumerate((k, v) for k, v in agg.groupby("method", sort=False) if k != "dense"):
            color = PALETTE[i % len(PALETTE)]
            x = sub["requested_sparsity"]
            if (sub["n"] > 1).any():
                fig.add_trace(go.Scatter(x=list(x) + list(x)[::-1],
                                         y=list(sub["mean"] + sub["std"]) + list(sub["mean"] - sub["std"])[::-1],
                                         fill="toself", fillcolor=color, opacity=0.15, line_width=0,
                                         hoverinfo="skip", showlegend=False))
            fig.add_trace(go.Scatter(x=x, y=sub["mean"], mode="lines+markers", name=method, line=dict(color=color),
                                     customdata=np.stack([sub["std"], sub["n"]], 1),
                                     hovertemplate=f"{method}<br>sparsity %{{x:.3f}}<br>accuracy %{{y:.2%}}"
                                                   " ± %{customdata[0]:.2%} (%{customdata[1]} seeds)<extra></extra>"))
            runs = df[df["method"] == method]
            fig.add_trace(go.Scatter(x=runs["requested_sparsity"], y=runs["test_accuracy"], mode="markers",
                                     marker=dict(color=color, size=5, opacity=0.5), showlegend=False,
                                     hovertemplate=f"{method} seed %{{text}}: %{{y:.2%}}<extra></extra>",
                                     text=runs["seed"]))
    fig.update_layout(title="Test accuracy vs sparsity", margin=MARGIN, height=height,
                      xaxis=dict(title="sparsity (fraction of weights removed)", tickformat=".0%"),
                      yaxis=dict(title="test accuracy", tickformat=".0%", rangemode="tozero"),
                      legend=dict(orientation="h", y=-0.2), uirevision="sweep")
    if not df.empty:
        fig.update_yaxes(range=[0, min(1.0, float(df["test_accuracy"].max())) + 0.05])
    return fig


def sensitivity_heatmap(grid: np.ndarray, layers: list[str], sparsities: list[float], *,
                        dense: float | None = None, height: int | None = None) -> go.Figure:
    """Layer × sparsity validation accuracy (hoverable); NaN cells are not measured yet."""
    z = np.asarray(grid, dtype=float)
    text = [["" if np.isnan(v) else f"{v:.1%}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=[f"{s:.0%}" if s * 100 == int(s * 100) else f"{s:.1%}" for s in sparsities],
                               y=[short(n) for n in layers], text=text, texttemplate="%{text}", textfont_size=11,
                               colorscale="RdYlGn", zmin=0, zmax=max(dense or 0, np.nanmax(z) if np.isfinite(z).any() else 1),
                               colorbar=dict(title="val acc", tickformat=".0%"),
                               hovertemplate="%{y} pruned to %{x}: accuracy %{z:.2%}<extra></extra>"))
    fig.update_layout(title="Validation accuracy when only this layer is pruned", margin=MARGIN,
                      height=height or 140 + 50 * len(layers), xaxis=dict(title="sparsity of that one layer",
                                                                           type="category"),
                      yaxis=dict(autorange="reversed", type="category"))
    return fig


def sensitivity_lines(grid: np.ndarray, layers: list[str], sparsities: list[float], *,
                      dense: float | None) -> go.Figure:
    """The same grid as one curve per layer (the classic sensitivity plot), with the dense accuracy."""
    fig = go.Figure()
    for i, name in enumerate(layers):
        fig.add_trace(go.Scatter(x=sparsities, y=grid[i], mode="lines+markers", name=short(name),
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    if dense is not None:
        fig.add_hline(y=dense, line_dash="dash", annotation_text=f"dense {dense:.1%}", annotation_position="bottom left")
    fig.update_layout(title="Accuracy vs one layer's sparsity", margin=MARGIN, height=360,
                      xaxis=dict(title="sparsity of that one layer", tickformat=".0%"),
                      yaxis=dict(title="validation accuracy", tickformat=".0%"), legend=dict(orientation="h", y=-0.25))
    return fig
