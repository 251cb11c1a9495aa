"""Figure builders for the StackVAE-G page: learned graph, score over time, channel contributions.

Plotly only, light work (at most a few hundred channels, scores downsampled for drawing).
"""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

MARGIN = dict(l=10, r=10, t=40, b=10)
GROUP_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf")
MAX_POINTS = 4000  # score curves are drawn from at most this many points (max per bucket)
LABELLED_MAX = 60  # the ring graph writes every channel's name up to this many channels


def _esc(names) -> list[str]:
    """Channel names are user data: Plotly renders <a>, <b>, <br> in labels, so escape them."""
    return [html.escape(str(n)) for n in names]


def adjacency_heatmap(adjacency: np.ndarray, names: list[str], order: list[int] | None = None, *,
                      title: str = "", height: int = 420) -> go.Figure:
    """Ã as a heatmap with channel names on both axes (in ``order``), a colour bar, and hover
    "row ← column: weight". Row i holds the weights channel i draws from each channel j."""
    a = np.asarray(adjacency, dtype=float)
    order = list(range(len(a))) if order is None else list(order)
    shown = a[np.ix_(order, order)]
    label = _esc(names[i] for i in order)
    n = len(order)
    hover = np.array([[f"{label[r]} ← {label[c]}" for c in range(n)] for r in range(n)], dtype=object)
    def ticks(most: int) -> dict:  # every channel's name when they fit, else every k-th (hover names all)
        step = max(1, int(np.ceil(n / most)))
        return dict(tickmode="array", tickvals=list(range(0, n, step)), ticktext=label[::step], tickfont_size=10)

    fig = go.Figure(go.Heatmap(z=shown, customdata=hover, colorscale="Viridis", zmin=0.0,
                               zmax=float(np.nanmax(shown)) if shown.size and np.nanmax(shown) > 0 else 1.0,
                               colorbar=dict(title=dict(text="weight", side="right"), thickness=12),
                               hovertemplate="%{customdata}<br>weight %{z:.3f}<extra></extra>"))
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40, b=10), height=height,
                      xaxis=dict(title="from channel (column j)", tickangle=-90 if n > 12 else 0, **ticks(16)),
                      yaxis=dict(title="channel (row i)", autorange="reversed", **ticks(40)))
    return fig


def graph_figure(edges: list[tuple[int, int, float]], names: list[str], order: list[int], *,
                 groups: list[int] | None = None, title: str = "") -> go.Figure:
    """Channels on a circle in learned-cluster ``order``; one line per (i, j, weight) edge with its
    width proportional to the weight; nodes coloured by the true group when known. Names stand
    outside the circle along its radius (up to :data:`LABELLED_MAX` channels), so 38 SMD channels'
    labels do not overlap; beyond that, names are in the hover only."""
    n = len(names)
    label = _esc(names)
    pos = np.zeros((n, 2))
    angle = np.zeros(n)
    for rank, i in enumerate(order):
        angle[i] = 2 * np.pi * rank / max(n, 1)
        pos[i] = (np.cos(angle[i]), np.sin(angle[i]))
    fig = go.Figure()
    top = max((w for _, _, w in edges), default=1.0) or 1.0
    for i, j, w in edges:
        fig.add_trace(go.Scatter(x=[pos[i, 0], pos[j, 0]], y=[pos[i, 1], pos[j, 1]], mode="lines",
                                 line=dict(width=0.5 + 6 * w / top, color="rgba(90,90,90,0.55)"),
                                 hoverinfo="text", text=f"{label[i]} ← {label[j]}: {w:.3f}", showlegend=False))
    colors = [GROUP_COLORS[g % len(GROUP_COLORS)] for g in groups] if groups is not None else "#1f77b4"
    fig.add_trace(go.Scatter(x=pos[:, 0], y=pos[:, 1], mode="markers", text=label,
                             marker=dict(size=10 if n <= 40 else 7, color=colors), hoverinfo="text",
                             showlegend=False))
    if n <= LABELLED_MAX:
        for i in range(n):
            deg = float(np.degrees(angle[i])) % 360
            left = 90 < deg < 270  # text on the left half reads outward from the circle, never upside down
            fig.add_annotation(x=1.09 * pos[i, 0], y=1.09 * pos[i, 1], text=label[i], showarrow=False,
                               textangle=-(deg - 180 if left else deg), xanchor="right" if left else "left",
                               yanchor="middle", font=dict(size=11 if n <= 24 else 9))
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40, b=10), height=460, showlegend=False,
                      xaxis=dict(visible=False, range=[-1.55, 1.55]),
                      yaxis=dict(visible=False, range=[-1.4, 1.4], scaleanchor="x"), plot_bgcolor="rgba(0,0,0,0)")
    return fig


def _thin(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) with at most MAX_POINTS points: the max of each bucket keeps peaks visible."""
    n = len(y)
    if n <= MAX_POINTS:
        return np.arange(n), y
    size = int(np.ceil(n / MAX_POINTS))
    blocks = np.r_[y, np.full(-n % size, -np.inf)].reshape(-1, size)
    return np.arange(len(blocks)) * size, blocks.max(axis=1)


def score_figure(scores: np.ndarray, labels: np.ndarray | None, threshold: float | None, *,
                 segment: tuple[int, int] | None = None, title: str = "Anomaly score",
                 axis: np.ndarray | None = None, axis_title: str = "time step") -> go.Figure:
    """Score over time (log scale), labelled anomalies shaded, the POT threshold as a line.
    ``axis``: one x value per score (the uploaded file's rows or timestamps); default 0, 1, …"""
    idx, y = _thin(np.asarray(scores, dtype=float))
    ax = np.arange(len(scores)) if axis is None or len(axis) != len(scores) else np.asarray(axis)
    at = lambda i: ax[min(max(int(i), 0), len(ax) - 1)] if len(ax) else i  # noqa: E731
    fig = go.Figure(go.Scatter(x=ax[idx] if len(ax) else idx, y=np.maximum(y, 1e-9), mode="lines", name="score",
                               line=dict(width=1)))
    if labels is not None and len(labels):
        lab = np.asarray(labels).astype(int)
        edges = np.flatnonzero(np.diff(np.r_[0, lab, 0]))
        for a, b in zip(edges[::2], edges[1::2]):
            fig.add_vrect(x0=at(a), x1=at(b - 1), fillcolor="red", opacity=0.15, line_width=0)
    if threshold is not None and np.isfinite(threshold):
        fig.add_hline(y=threshold, line_dash="dash", line_color="black", annotation_text="POT threshold")
    if segment is not None:
        fig.add_vrect(x0=at(segment[0]), x1=at(segment[1] - 1), line=dict(color="black", width=2),
                      fillcolor="rgba(0,0,0,0)")
    pos = y[np.isfinite(y) & (y > 0)]
    top = max(float(pos.max()) if pos.size else 1.0, float(threshold or 0))
    low = float(np.quantile(pos, 0.01)) if pos.size else 1e-3
    fig.update_layout(title=title, margin=MARGIN, height=300, xaxis_title=html.escape(axis_title), showlegend=False,
                      yaxis=dict(type="log", range=[np.log10(low) - 0.2, np.log10(top) + 0.2], title="score (log)"))
    return fig


def contribution_figure(shares: np.ndarray, names: list[str], *, truth: list[int] = (),
                        neighbours: list[int] = (), top: int = 15, title: str = "") -> go.Figure:
    """The ``top`` channels' share of the segment's score; ground-truth channels in red, the top
    channel's graph neighbours in orange."""
    idx = np.argsort(-np.asarray(shares))[:top]
    colors = ["#d62728" if i in truth else "#ff7f0e" if i in neighbours else "#1f77b4" for i in idx]
    label = _esc(names)
    fig = go.Figure(go.Bar(x=[float(shares[i]) for i in idx], y=[label[i] for i in idx], orientation="h",
                           marker_color=colors))
    fig.update_layout(title=title, margin=MARGIN, height=60 + 22 * len(idx), yaxis_autorange="reversed",
                      xaxis_title="share of the segment's score")
    return fig
