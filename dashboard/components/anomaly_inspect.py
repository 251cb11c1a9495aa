"""Figure builders of the "Inspect an adjacency" page (Plotly only; the numbers come from
:mod:`engine.anomaly.adjacency`)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.components.anomaly_figures import GROUP_COLORS
from dashboard.components.common import plain_label

MARGIN = dict(l=10, r=10, t=40, b=10)


def matrix_heatmap(shown: np.ndarray, names: list[str], order: list[int], block: int, *,
                   signed: bool, title: str = "", height: int = 520) -> go.Figure:
    """The (ordered, possibly block-averaged) matrix. Hover: the channel pair and its weight, or
    for a block the channels it spans and their mean weight. Signed matrices use a diverging scale
    centred on 0 (red negative, blue positive)."""
    n = len(shown)
    label = [plain_label(names[i]) for i in order]
    if block == 1:
        hover = np.array([[f"{label[r]} ← {label[c]}" for c in range(n)] for r in range(n)], dtype=object)
    else:
        span = [f"{label[b * block]} … {label[min(len(order), (b + 1) * block) - 1]}" for b in range(n)]
        hover = np.array([[f"block of rows {span[r]}<br>columns {span[c]} (mean of {block}×{block})"
                           for c in range(n)] for r in range(n)], dtype=object)
    top = float(np.nanmax(np.abs(shown))) if shown.size and np.nanmax(np.abs(shown)) > 0 else 1.0
    scale = dict(colorscale="RdBu", zmid=0.0, zmin=-top, zmax=top) if signed else dict(colorscale="Viridis", zmin=0.0, zmax=top)
    fig = go.Figure(go.Heatmap(z=shown, customdata=hover, **scale,
                               colorbar=dict(title=dict(text="weight", side="right"), thickness=12),
                               hovertemplate="%{customdata}<br>weight %{z:.4g}<extra></extra>"))
    step = max(1, int(np.ceil(n / 40)))
    ticks = dict(tickmode="array", tickvals=list(range(0, n, step)),
                 ticktext=(label[::step] if block == 1 else [label[b * block] for b in range(0, n, step)]),
                 tickfont_size=9)
    fig.update_layout(title=title, margin=MARGIN, height=height,
                      xaxis=dict(title="column j", tickangle=-90 if n > 12 else 0, **ticks),
                      yaxis=dict(title="row i", autorange="reversed", **ticks))
    return fig


def community_graph(pos: np.ndarray, edges: list[tuple[int, int, float]], names: list[str],
                    labels: np.ndarray, *, title: str = "") -> go.Figure:
    """Kept edges as lines (width ~ |w|), channels coloured by community; hover names the pair."""
    label = [plain_label(n) for n in names]
    fig = go.Figure()
    top = max((abs(w) for _, _, w in edges), default=1.0) or 1.0
    xs, ys = [], []
    for i, j, _ in edges:
        xs += [pos[i, 0], pos[j, 0], None]
        ys += [pos[i, 1], pos[j, 1], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=0.8, color="rgba(90,90,90,0.35)"),
                             hoverinfo="skip", showlegend=False))
    if len(edges) <= 400:  # hover per edge at its midpoint
        mid = np.array([(pos[i] + pos[j]) / 2 for i, j, _ in edges]).reshape(-1, 2)
        fig.add_trace(go.Scatter(x=mid[:, 0], y=mid[:, 1], mode="markers",
                                 marker=dict(size=[3 + 6 * abs(w) / top for *_, w in edges], color="rgba(90,90,90,0.4)"),
                                 text=[f"{label[i]} ← {label[j]}: {w:.4g}" for i, j, w in edges],
                                 hoverinfo="text", showlegend=False))
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        fig.add_trace(go.Scatter(x=pos[idx, 0], y=pos[idx, 1], mode="markers", name=f"community {c}",
                                 marker=dict(size=10 if len(names) <= 60 else 6, color=GROUP_COLORS[c % len(GROUP_COLORS)]),
                                 text=[f"{label[i]} (community {c})" for i in idx], hoverinfo="text"))
    fig.update_layout(title=title, margin=MARGIN, height=480, showlegend=len(np.unique(labels)) <= 12,
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"),
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig


def histogram(values: np.ndarray, *, title: str, xlabel: str) -> go.Figure:
    fig = go.Figure(go.Histogram(x=np.asarray(values), nbinsx=40, marker_color="#1f77b4"))
    fig.update_layout(title=title, margin=MARGIN, height=300, xaxis_title=xlabel, yaxis_title="count", bargap=0.05)
    return fig
