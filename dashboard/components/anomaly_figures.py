"""Figure builders for the StackVAE-G page: learned graph, score over time, channel contributions.

Plotly only, light work (at most a few hundred channels, scores downsampled for drawing).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

MARGIN = dict(l=10, r=10, t=40, b=10)
GROUP_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf")
MAX_POINTS = 4000  # score curves are drawn from at most this many points (max per bucket)


def graph_figure(edges: list[tuple[int, int, float]], names: list[str], order: list[int], *,
                 groups: list[int] | None = None, title: str = "") -> go.Figure:
    """Channels on a circle in learned-cluster ``order``; one line per (i, j, weight) edge with its
    width proportional to the weight; nodes coloured by the true group when known."""
    n = len(names)
    pos = np.zeros((n, 2))
    for rank, i in enumerate(order):
        angle = 2 * np.pi * rank / max(n, 1)
        pos[i] = (np.cos(angle), np.sin(angle))
    fig = go.Figure()
    top = max((w for _, _, w in edges), default=1.0) or 1.0
    for i, j, w in edges:
        fig.add_trace(go.Scatter(x=[pos[i, 0], pos[j, 0]], y=[pos[i, 1], pos[j, 1]], mode="lines",
                                 line=dict(width=0.5 + 6 * w / top, color="rgba(90,90,90,0.55)"),
                                 hoverinfo="text", text=f"{names[i]} ← {names[j]}: {w:.3f}", showlegend=False))
    colors = [GROUP_COLORS[g % len(GROUP_COLORS)] for g in groups] if groups is not None else "#1f77b4"
    fig.add_trace(go.Scatter(x=pos[:, 0], y=pos[:, 1], mode="markers+text" if n <= 40 else "markers",
                             text=names, textposition="top center", marker=dict(size=12, color=colors),
                             hoverinfo="text", showlegend=False))
    fig.update_layout(title=title, margin=MARGIN, height=420, xaxis_visible=False, yaxis_visible=False,
                      yaxis_scaleanchor="x", plot_bgcolor="white")
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
                 segment: tuple[int, int] | None = None, title: str = "Anomaly score") -> go.Figure:
    """Score over time (log scale), labelled anomalies shaded, the POT threshold as a line."""
    x, y = _thin(np.asarray(scores, dtype=float))
    fig = go.Figure(go.Scatter(x=x, y=np.maximum(y, 1e-9), mode="lines", name="score", line=dict(width=1)))
    if labels is not None and len(labels):
        lab = np.asarray(labels).astype(int)
        edges = np.flatnonzero(np.diff(np.r_[0, lab, 0]))
        for a, b in zip(edges[::2], edges[1::2]):
            fig.add_vrect(x0=a, x1=b, fillcolor="red", opacity=0.15, line_width=0)
    if threshold is not None and np.isfinite(threshold):
        fig.add_hline(y=threshold, line_dash="dash", line_color="black", annotation_text="POT threshold")
    if segment is not None:
        fig.add_vrect(x0=segment[0], x1=segment[1], line=dict(color="black", width=2), fillcolor="rgba(0,0,0,0)")
    pos = y[np.isfinite(y) & (y > 0)]
    top = max(float(pos.max()) if pos.size else 1.0, float(threshold or 0))
    low = float(np.quantile(pos, 0.01)) if pos.size else 1e-3
    fig.update_layout(title=title, margin=MARGIN, height=300, xaxis_title="time step", showlegend=False,
                      yaxis=dict(type="log", range=[np.log10(low) - 0.2, np.log10(top) + 0.2], title="score (log)"))
    return fig


def contribution_figure(shares: np.ndarray, names: list[str], *, truth: list[int] = (),
                        neighbours: list[int] = (), top: int = 15, title: str = "") -> go.Figure:
    """The ``top`` channels' share of the segment's score; ground-truth channels in red, the top
    channel's graph neighbours in orange."""
    idx = np.argsort(-np.asarray(shares))[:top]
    colors = ["#d62728" if i in truth else "#ff7f0e" if i in neighbours else "#1f77b4" for i in idx]
    fig = go.Figure(go.Bar(x=[float(shares[i]) for i in idx], y=[names[i] for i in idx], orientation="h",
                           marker_color=colors))
    fig.update_layout(title=title, margin=MARGIN, height=60 + 22 * len(idx), yaxis_autorange="reversed",
                      xaxis_title="share of the segment's score")
    return fig
