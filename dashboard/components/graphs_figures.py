"""Figure builders of the Graphs pages: node-link drawings, live SSumM curves, the sweep curve.

Node-link figures use one ``Scattergl`` for the nodes and one line trace (``None`` between
segments) per edge-width class, so a 20,000-edge graph stays a handful of traces. Layouts come
from networkx ``spring_layout`` with a fixed seed, computed once per graph (``st.cache_data``).
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import qualitative
from plotly.subplots import make_subplots

MARGIN = dict(l=10, r=10, t=40, b=10)
PALETTE = qualitative.Dark24 + qualitative.Light24
SINGLETON = "#c8c8c8"  # nodes alone in their supernode
UNLINKED = "#ffffff"  # nodes of a supernode without any superedge


@st.cache_data(show_spinner="Computing the layout…", max_entries=16)
def spring_layout(edges: np.ndarray, n: int, weights: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Positions (n, 2) from a seeded force-directed layout; cached per graph."""
    G = nx.Graph()
    G.add_nodes_from(range(n))
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if weights is None:
        G.add_edges_from(e.tolist())
    else:
        G.add_weighted_edges_from((int(a), int(b), float(w)) for (a, b), w in zip(e, weights) if a != b)
    if n <= 300:
        pos = nx.spring_layout(G, seed=seed, iterations=50)
    else:  # networkx's sparse force layout is slow (~0.1-0.4 s per iteration at 1-2k nodes on 2 cores):
        # start from the spectral layout (fast, already shows clusters) and refine it briefly
        start = nx.spectral_layout(G) if G.number_of_edges() else None
        pos = nx.spring_layout(G, pos=start, seed=seed, iterations=15)
    return np.array([pos[i] for i in range(n)], dtype=float).reshape(n, 2)


def _segments(pos: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of all edges as one polyline broken by NaN (Plotly's 'None' separator)."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    xs = np.column_stack([pos[e[:, 0], 0], pos[e[:, 1], 0], np.full(len(e), np.nan)]).ravel()
    ys = np.column_stack([pos[e[:, 0], 1], pos[e[:, 1], 1], np.full(len(e), np.nan)]).ravel()
    return xs, ys


def _blank(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=title, margin=MARGIN, height=height, showlegend=False, plot_bgcolor="white",
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def group_colors(labels: np.ndarray, *, grey_singletons: bool = True) -> list[str]:
    """One palette colour per label; labels that occur once are grey (they are not grouped)."""
    labels = np.asarray(labels)
    codes, uniques = pd.factorize(labels)
    counts = np.bincount(codes, minlength=len(uniques))
    colors = np.array([PALETTE[i % len(PALETTE)] for i in range(len(uniques))], dtype=object)
    out = colors[codes]
    if grey_singletons:
        out[counts[codes] == 1] = SINGLETON
    return out.tolist()


def graph_figure(pos: np.ndarray, edges: np.ndarray, colors: list[str], hover: list[str], *,
                 title: str = "", height: int = 520) -> go.Figure:
    """The input graph: thin grey edges, nodes coloured (e.g. by supernode)."""
    xs, ys = _segments(pos, edges)
    n, m = len(pos), len(edges)
    size = 9 if n <= 100 else 6 if n <= 500 else 4
    alpha = 0.5 if m <= 500 else 0.3 if m <= 3000 else 0.15  # many edges: lighter, or they hide the nodes
    fig = go.Figure([
        go.Scattergl(x=xs, y=ys, mode="lines", line=dict(width=0.6, color=f"rgba(120,120,120,{alpha})"),
                     hoverinfo="skip"),
        go.Scattergl(x=pos[:, 0], y=pos[:, 1], mode="markers", text=hover, hoverinfo="text",
                     marker=dict(size=size, color=colors, line=dict(width=0.7, color="#777"))),
    ])
    return _blank(fig, title, height)


def summary_figure(pos: np.ndarray, superedges: np.ndarray, density: np.ndarray, members: np.ndarray,
                   hover: list[str], *, title: str = "", height: int = 520, classes: int = 5) -> go.Figure:
    """The summary graph: marker area ∝ members, superedge width ∝ density, self-density as colour."""
    P = np.asarray(superedges, dtype=np.int64).reshape(-1, 2)
    d = np.asarray(density, dtype=float)
    between = P[:, 0] != P[:, 1]
    inside = np.zeros(len(pos))
    inside[P[~between, 0]] = d[~between]
    traces = []
    if between.any():
        dmax = d[between].max()
        bins = np.minimum((d[between] / dmax * classes).astype(int), classes - 1) if dmax > 0 else np.zeros(
            between.sum(), dtype=int)
        for c in range(classes):
            sel = P[between][bins == c]
            if len(sel):
                xs, ys = _segments(pos, sel)
                traces.append(go.Scattergl(x=xs, y=ys, mode="lines", hoverinfo="skip",
                                           line=dict(width=0.5 + 5.5 * (c + 0.5) / classes,
                                                     color=f"rgba(47,111,221,{0.25 + 0.6 * (c + 1) / classes:.2f})")))
    m = np.asarray(members, dtype=float)
    area = 6 + 34 * np.sqrt(m / m.max()) if m.size else m
    traces.append(go.Scattergl(
        x=pos[:, 0], y=pos[:, 1], mode="markers", text=hover, hoverinfo="text",
        marker=dict(size=area, color=inside, colorscale="Oranges", cmin=0, cmax=1,
                    line=dict(width=0.8, color="#444"),
                    colorbar=dict(title=dict(text="density<br>inside", side="right"), thickness=10, len=0.6))))
    return _blank(go.Figure(traces), title, height)


def progress_figure(df: pd.DataFrame, *, height: int = 300) -> go.Figure:
    """Per iteration: summary size against the budget (left), RE1 and RE2 (right, own axes)."""
    wide = df.pivot_table(index="step", columns="name", values="value", aggfunc="last").sort_index()
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Size of the summary (bits)", "Reconstruction error"),
                        specs=[[{}, {"secondary_y": True}]], horizontal_spacing=0.12)
    x = wide.index.to_numpy()
    if "size_bits" in wide:
        fig.add_trace(go.Scatter(x=x, y=wide["size_bits"], name="size", mode="lines+markers",
                                 line=dict(color="#1f77b4")), 1, 1)
    if "target_bits" in wide:
        fig.add_trace(go.Scatter(x=x, y=wide["target_bits"], name="budget k", mode="lines",
                                 line=dict(dash="dash", color="#d62728")), 1, 1)
    if "re1" in wide:
        fig.add_trace(go.Scatter(x=x, y=wide["re1"], name="RE1", mode="lines+markers",
                                 line=dict(color="#2ca02c")), 1, 2)
    if "re2" in wide:
        fig.add_trace(go.Scatter(x=x, y=wide["re2"], name="RE2", mode="lines+markers",
                                 line=dict(dash="dot", color="#9467bd")),
                      1, 2, secondary_y=True)
    fig.update_xaxes(title_text="iteration (after a run: last point = final summary)")
    fig.update_yaxes(title_text="RE1", row=1, col=2, secondary_y=False)
    fig.update_yaxes(title_text="RE2", row=1, col=2, secondary_y=True, showgrid=False)
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10), height=height,
                      legend=dict(orientation="h", y=-0.25))
    return fig


def sweep_figure(rows: pd.DataFrame, *, height: int = 320) -> go.Figure:
    """Error against summary size (fraction of the input's bits), one point per ratio."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("RE1 vs size", "RE2 vs size"), horizontal_spacing=0.12)
    text = [f"ratio {r:g}" for r in rows["ratio"]]
    for col, name in ((1, "re1"), (2, "re2")):
        fig.add_trace(go.Scatter(x=rows["size_fraction"], y=rows[name], mode="lines+markers", name=name.upper(),
                                 text=text, hovertemplate="%{text}<br>size %{x:.1%}<br>%{y:.3g}<extra></extra>"),
                      1, col)
    fig.update_xaxes(title_text="summary size / input size", tickformat=".0%")
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10), height=height, showlegend=False)
    return fig


def add_block_lines(fig: go.Figure, members: np.ndarray, side: int, *, max_blocks: int = 60) -> go.Figure:
    """Thin lines between supernodes on an adjacency heatmap whose nodes are ordered by supernode.

    ``members``: nodes per supernode (in supernode order); ``side``: pixels per side of the image
    (it may be block-averaged from |V| nodes). Skipped above ``max_blocks`` supernodes (clutter).
    """
    m = np.asarray(members, dtype=np.int64)
    n = int(m.sum())
    if n == 0 or not 1 < m.size <= max_blocks:
        return fig
    edges = np.cumsum(m)[:-1] * side / n - 0.5  # pixel centres are at 0..side-1
    line = dict(color="rgba(214,39,40,0.45)", width=1)
    for b in edges:
        fig.add_shape(type="line", x0=b, x1=b, y0=-0.5, y1=side - 0.5, line=line, layer="above")
        fig.add_shape(type="line", x0=-0.5, x1=side - 0.5, y0=b, y1=b, line=line, layer="above")
    return fig
