"""Plotly figures of the Learn lessons (pure builders: data in, figure out; no Streamlit calls)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MARGIN = dict(l=10, r=10, t=50, b=10)
POS, NEG, GROWN, DROPPED = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"


# -- lesson 1 -----------------------------------------------------------------------------------
def storage_bars(sizes: dict[str, dict[str, int | None]], *, height: int = 330) -> go.Figure:
    """Grouped bars: bytes of each storage format (x) for each pattern (colour); missing = not applicable."""
    fig = go.Figure()
    for pattern, row in sizes.items():
        formats = [f for f, v in row.items() if v is not None]
        fig.add_bar(name=pattern, x=formats, y=[row[f] for f in formats], text=[row[f] for f in formats],
                    textposition="outside")
    fig.update_layout(barmode="group", height=height, margin=MARGIN, yaxis_title="bytes",
                      title="Bytes to store the pruned matrix", legend=dict(orientation="h", y=-0.15))
    return fig


# -- lesson 2 -----------------------------------------------------------------------------------
def break_even(rows: Sequence[dict], *, height: int = 380) -> go.Figure:
    """Measured speed-up vs dense per backend against density, with the FLOP ratio and the break-even line."""
    fig = go.Figure()
    dens = sorted({r["target_density"] for r in rows}, reverse=True)
    flops = [next(r["theoretical_flop_ratio"] for r in rows if r["target_density"] == d and r["backend"] != "dense")
             for d in dens if any(r["target_density"] == d and r["backend"] != "dense" for r in rows)]
    fig.add_scatter(x=dens[: len(flops)], y=flops, name="FLOP ratio (dense / non-zero MACs)", mode="lines",
                    line=dict(dash="dot", color="grey"))
    for backend in sorted({r["backend"] for r in rows} - {"dense"}):
        pts = sorted((r["target_density"], r["speedup_vs_dense"]) for r in rows if r["backend"] == backend)
        fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], name=f"{backend} (measured)", mode="lines+markers")
    fig.add_hline(y=1.0, line=dict(color="black", width=1), annotation_text="break-even: as fast as dense")
    fig.update_layout(height=height, margin=MARGIN, title="Speed-up over the dense layer vs density",
                      xaxis=dict(title="density (fraction of weights kept)", type="log", autorange="reversed"),
                      yaxis=dict(title="speed-up (×)", type="log"), legend=dict(orientation="h", y=-0.25))
    return fig


# -- lesson 4 -----------------------------------------------------------------------------------
def _node_xy(sizes: Sequence[int]) -> list[np.ndarray]:
    """Node positions per layer: layer l at x = l, nodes centred vertically (Playground style)."""
    top = max(sizes)
    return [np.stack([np.full(n, float(l)), (np.arange(n) - (n - 1) / 2) * (top / max(n, 1)) ** 0.35], 1)
            for l, n in enumerate(sizes)]


def _segments(nodes: list[np.ndarray], select: list[np.ndarray]) -> tuple[list, list]:
    xs, ys = [], []
    for l, sel in enumerate(select):
        if sel is None or not len(sel):
            continue
        for i, j in zip(*np.nonzero(sel)):
            a, b = nodes[l][i], nodes[l + 1][j]
            xs += [a[0], b[0], None]
            ys += [a[1], b[1], None]
    return (xs, ys) if xs else ([None], [None])  # an empty trace would drop out of the legend


def _edge_data(nodes, frame) -> list[dict]:
    pos = [m & (w > 0) for m, w in zip(frame.masks, frame.weights)]
    neg = [m & (w <= 0) for m, w in zip(frame.masks, frame.weights)]
    out = []
    for sel in (pos, neg, frame.grown, frame.dropped):
        x, y = _segments(nodes, sel)
        out.append(dict(x=x, y=y))
    return out


def _title(traj, frame) -> str:
    n_active = sum(int(m.sum()) for m in frame.masks)
    total = sum(m.size for m in frame.masks)
    change = f" · mask update: {sum(int(g.sum()) for g in frame.grown)} moved" if frame.grown else ""
    return (f"{traj.method.upper()} · step {frame.step} · {n_active}/{total} connections "
            f"({n_active / total:.0%} dense) · loss {frame.loss:.3f} · accuracy {frame.accuracy:.0%}{change}")


def playground(traj, *, frame_ms: int = 120, height: int = 520) -> go.Figure:
    """The network (connections of every frame) beside its decision boundary, as one Plotly animation.

    Blue/orange: active weights > 0 / ≤ 0; green: just grown; red dotted: just dropped.
    Frames play in the browser (Play button or slider): the server sends the whole trajectory once.
    """
    nodes = _node_xy(traj.sizes)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.52, 0.48], horizontal_spacing=0.06,
                        subplot_titles=("network: connections", "decision boundary: p(class 1)"))
    first = traj.frames[0]
    styles = [dict(color=POS, width=1.6), dict(color=NEG, width=1.6), dict(color=GROWN, width=3.5),
              dict(color=DROPPED, width=2.5, dash="dot")]
    names = ["weight > 0", "weight ≤ 0", "just grown", "just dropped"]
    for data, style, name in zip(_edge_data(nodes, first), styles, names):
        fig.add_scatter(x=data["x"], y=data["y"], mode="lines", line=style, name=name, hoverinfo="skip",
                        row=1, col=1)
    allnodes = np.concatenate(nodes)
    fig.add_scatter(x=allnodes[:, 0], y=allnodes[:, 1], mode="markers", marker=dict(size=13, color="#444"),
                    name="units", hoverinfo="skip", showlegend=False, row=1, col=1)
    # p(class 1) in whole percent, as plain JSON integers (≤ 3 characters a cell instead of a float64's
    # 11 in base64): the payload falls 4-fold. (A uint8 typed array is not drawn by Plotly.js in frames.)
    z = lambda f: np.round(f.boundary * 100).astype(int).tolist()  # noqa: E731
    fig.add_heatmap(x=traj.grid, y=traj.grid, z=z(first), zmin=0, zmax=100, colorscale="RdBu", showscale=False,
                    hovertemplate="p(class 1) = %{z}%<extra></extra>", row=1, col=2)
    fig.add_scatter(x=traj.x[:, 0], y=traj.x[:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                    marker=dict(size=5, color=np.where(traj.y == 1, "#08306b", "#67000d"),
                                line=dict(width=0.5, color="white")), row=1, col=2)
    frames = []
    for k, f in enumerate(traj.frames):
        data = [go.Scatter(**d) for d in _edge_data(nodes, f)] + [go.Heatmap(z=z(f))]
        frames.append(go.Frame(name=str(k), data=data, traces=[0, 1, 2, 3, 5],
                               layout=go.Layout(title_text=_title(traj, f))))
    fig.frames = frames
    play = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=105, b=70), title=dict(text=_title(traj, first), font=dict(size=13)),
        legend=dict(orientation="h", y=1.16, x=0), plot_bgcolor="white",
        updatemenus=[dict(type="buttons", direction="left", x=0, y=-0.06, xanchor="left", yanchor="top",
                          showactive=False, buttons=[
                              dict(label="▶ Play", method="animate", args=[None, play]),
                              dict(label="❚❚ Pause", method="animate",
                                   args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])])],
        sliders=[dict(active=0, x=0.2, y=-0.04, len=0.8, pad=dict(t=0), currentvalue=dict(prefix="step ", xanchor="right"),
                      steps=[dict(label=str(f.step), method="animate",
                                  args=[[str(k)], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                                       transition=dict(duration=0))])
                             for k, f in enumerate(traj.frames)])],
    )
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, row=1, col=1)
    fig.update_xaxes(range=[traj.grid[0], traj.grid[-1]], constrain="domain", row=1, col=2)
    fig.update_yaxes(range=[traj.grid[0], traj.grid[-1]], scaleanchor="x2", row=1, col=2)
    return fig


def accuracy_curves(curves: dict[str, tuple[list[int], list[float]]], *, height: int = 280) -> go.Figure:
    fig = go.Figure()
    for name, (x, y) in curves.items():
        fig.add_scatter(x=x, y=y, name=name, mode="lines")
    fig.update_layout(height=height, margin=MARGIN, title="Training accuracy, same data, same sparsity",
                      xaxis_title="step", yaxis=dict(title="accuracy", range=[0.4, 1.02]))
    return fig


# -- lesson 6 -----------------------------------------------------------------------------------
def budget_bars(layer_names: Sequence[str], densities: dict[str, Sequence[float]], *, title: str,
                height: int = 340) -> go.Figure:
    fig = go.Figure()
    for dist, d in densities.items():
        fig.add_bar(name=dist, x=list(layer_names), y=list(d), text=[f"{v:.1%}" for v in d], textposition="outside")
    fig.update_layout(barmode="group", height=height, margin=MARGIN, title=title,
                      yaxis=dict(title="density of the layer", tickformat=".0%"), legend=dict(orientation="h", y=-0.2))
    return fig


def _cats(sparsities: Sequence[float]) -> list[str]:
    """Sparsities as evenly spaced categories (the interesting ones crowd near 1 on a linear axis)."""
    return [f"{s:.1%}" for s in sparsities]


def collapse_lines(sparsities: Sequence[float], kept: Sequence[Sequence[int]], layer_names: Sequence[str],
                   collapsed: Sequence[bool], *, title: str, height: int = 340) -> go.Figure:
    fig = go.Figure()
    cats = _cats(sparsities)
    for l, name in enumerate(layer_names):
        fig.add_scatter(x=cats, y=[max(k[l], 0.5) for k in kept], name=name, mode="lines+markers",
                        customdata=[k[l] for k in kept], hovertemplate="%{customdata} weights kept<extra>" + name + "</extra>")
    first = next((i for i, c in enumerate(collapsed) if c), None)
    if first is not None:
        fig.add_vline(x=first - 0.5, line=dict(color=DROPPED, dash="dash"), annotation_text="layer collapse")
    fig.update_layout(height=height, margin=MARGIN, title=title, xaxis_title="overall sparsity",
                      yaxis=dict(title="weights kept (0 drawn at ½)", type="log"), legend=dict(orientation="h", y=-0.25))
    return fig


def accuracy_vs_sparsity(sparsities: Sequence[float], accuracy: dict[str, Sequence[float]], *, height: int = 320) -> go.Figure:
    fig = go.Figure()
    for dist, acc in accuracy.items():
        fig.add_scatter(x=_cats(sparsities), y=list(acc), name=dist, mode="lines+markers")
    fig.add_hline(y=0.5, line=dict(color="grey", dash="dot"), annotation_text="chance")
    fig.update_layout(height=height, margin=MARGIN, title="Accuracy after pruning and a short fine-tune",
                      xaxis_title="overall sparsity", yaxis=dict(title="training accuracy", range=[0.3, 1.02]))
    return fig


# -- lesson 7 -----------------------------------------------------------------------------------
def schedule_lines(x: Sequence[float], series: dict[str, Sequence[float]], *, title: str, y_title: str,
                   shape: str = "linear", markers: dict[str, tuple[Sequence, Sequence]] | None = None,
                   height: int = 300) -> go.Figure:
    fig = go.Figure()
    for name, y in series.items():
        fig.add_scatter(x=list(x), y=list(y), name=name, mode="lines", line=dict(shape=shape))
    for name, (mx, my) in (markers or {}).items():
        fig.add_scatter(x=list(mx), y=list(my), name=name, mode="markers", marker=dict(size=7, symbol="x"))
    fig.update_layout(height=height, margin=MARGIN, title=title, xaxis_title="training step", yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.3))
    return fig


# -- lesson 5 -----------------------------------------------------------------------------------
def ticket_curves(study: dict, variants: Sequence[str], *, height: int = 330) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss", "training accuracy"))
    colors = ["#7f7f7f", GROWN, POS, NEG]
    for name, color in zip(variants, colors):
        c = study[name]
        fig.add_scatter(x=c["steps"], y=c["loss"], name=name, line=dict(color=color), row=1, col=1)
        fig.add_scatter(x=c["steps"], y=c["accuracy"], name=name, line=dict(color=color), showlegend=False, row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title="step")
    fig.update_layout(height=height, margin=MARGIN, legend=dict(orientation="h", y=-0.25))
    return fig


def boundary(study: dict, name: str, *, height: int = 260) -> go.Figure:
    """The decision boundary p(class 1) of one variant, with the data points."""
    c, g = study[name], study["grid"]
    fig = go.Figure(go.Heatmap(x=g, y=g, z=np.round(c["boundary"], 3), zmin=0, zmax=1, colorscale="RdBu",
                               showscale=False, zsmooth="best"))
    x, y = np.asarray(study["x"]), np.asarray(study["y"])
    fig.add_scatter(x=x[:, 0], y=x[:, 1], mode="markers", hoverinfo="skip", showlegend=False,
                    marker=dict(size=4, color=np.where(y == 1, "#08306b", "#67000d"), line=dict(width=0.5, color="white")))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=40, b=5),
                      title=dict(text=f"{name}: {c['accuracy'][-1]:.0%}", font=dict(size=13)))
    fig.update_xaxes(visible=False, range=[g[0], g[-1]])
    fig.update_yaxes(visible=False, range=[g[0], g[-1]], scaleanchor="x")
    return fig


# -- lesson 3 -----------------------------------------------------------------------------------
FAMILY_COLORS = {"dense-to-sparse (pruning)": NEG, "sparse training (static mask)": POS,
                 "sparse-to-sparse (dynamic)": GROWN}


def timelines(rows: Sequence[dict], steps_per_epoch: int, *, height_per_row: int = 120) -> go.Figure:
    """One timeline per method: the weights' density over its whole recipe (epochs), ticks where the mask changes."""
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.045,
                        subplot_titles=[f"{r['method']} — mask decided {r['decided']}" for r in rows])
    for i, r in enumerate(rows, start=1):
        x = [t / steps_per_epoch for t in range(len(r["density"]))]
        color = FAMILY_COLORS.get(r["family"], "#444")
        fig.add_scatter(x=x, y=r["density"], mode="lines", line=dict(shape="hv", color=color), fill="tozeroy",
                        name=r["family"], legendgroup=r["family"], showlegend=r["family"] not in
                        {q["family"] for q in rows[: i - 1]}, row=i, col=1)
        marks = r["marks"]
        fig.add_scatter(x=[t / steps_per_epoch for t in marks], y=[1.08] * len(marks), mode="markers",
                        marker=dict(symbol="triangle-down", size=7, color="black"), name="mask changes",
                        legendgroup="marks", showlegend=i == 1, row=i, col=1)
        fig.update_yaxes(range=[0, 1.18], tickvals=[0, 0.5, 1], tickformat=".0%", row=i, col=1)
    fig.update_xaxes(title="epoch", row=len(rows), col=1)
    fig.update_layout(height=height_per_row * len(rows) + 120, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.08), title="Density of the weights over each method's recipe")
    for a in fig.layout.annotations:
        a.font = dict(size=12)
    return fig


# -- lesson 8 -----------------------------------------------------------------------------------
def _palette(n: int) -> list[str]:
    from plotly.colors import qualitative

    base = qualitative.Dark24 + qualitative.Light24
    return [base[i % len(base)] for i in range(n)]


def karate_graphs(r: dict, *, height: int = 440) -> go.Figure:
    """Left: the input graph node by node, coloured by supernode. Right: the summary, supernode by supernode."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.04, subplot_titles=(
        f"input: 34 nodes, 78 edges — {r['input_bits']:.0f} bits",
        f"summary: {r['n_supernodes']} supernodes, {r['n_superedges']} superedges — {r['size_bits']:.0f} bits"))
    xy, colors = r["xy"], _palette(r["n_supernodes"])
    ex, ey = [], []
    for u, v in r["edges"]:
        ex += [xy[u, 0], xy[v, 0], None]
        ey += [xy[u, 1], xy[v, 1], None]
    fig.add_scatter(x=ex, y=ey, mode="lines", line=dict(color="#bbb", width=1), hoverinfo="skip", showlegend=False,
                    row=1, col=1)
    fig.add_scatter(x=xy[:, 0], y=xy[:, 1], mode="markers+text", text=[str(i) for i in range(len(xy))],
                    textfont=dict(size=8, color="white"), showlegend=False,
                    marker=dict(size=15, color=[colors[s] for s in r["supernode_of"]], line=dict(width=1, color="#333")),
                    hovertext=[f"node {i} → supernode {s}" for i, s in enumerate(r["supernode_of"])], hoverinfo="text",
                    row=1, col=1)
    c = r["centres"]
    for (a, b), d in zip(r["superedges"], r["densities"]):
        if a == b:
            continue
        fig.add_scatter(x=[c[a, 0], c[b, 0]], y=[c[a, 1], c[b, 1]], mode="lines", hoverinfo="skip",
                        line=dict(color="#555", width=1 + 5 * float(d)), opacity=0.4 + 0.6 * float(d),
                        showlegend=False, row=1, col=2)
    inside = {int(a): float(d) for (a, b), d in zip(r["superedges"], r["densities"]) if a == b}
    fig.add_scatter(x=c[:, 0], y=c[:, 1], mode="markers+text", showlegend=False,
                    text=[str(int(n)) for n in r["sizes"]], textfont=dict(size=9, color="white"),
                    marker=dict(size=[12 + 5 * np.sqrt(n) for n in r["sizes"]], color=colors,
                                line=dict(width=[3 if k in inside else 1 for k in range(len(c))], color="#111")),
                    hovertext=[f"supernode {k}: {int(n)} members" + (f", inside density {inside[k]:.2f}" if k in inside else "")
                               for k, n in enumerate(r["sizes"])], hoverinfo="text", row=1, col=2)
    for col in (1, 2):
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=40, b=5), plot_bgcolor="white")
    return fig


def mdl_tradeoff(t: dict, current: float, *, height: int = 320) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=t["ratio"], y=t["size_bits"], name="summary bits", mode="lines+markers")
    fig.add_scatter(x=t["ratio"], y=t["re1"], name="reconstruction error RE1", mode="lines+markers", secondary_y=True)
    fig.add_hline(y=t["input_bits"], line=dict(dash="dot", color="grey"), annotation_text="input bits")
    fig.add_vline(x=current, line=dict(color=DROPPED, dash="dash"))
    fig.update_layout(height=height, margin=MARGIN, title="The trade-off: budget (fraction of the input's bits) vs error",
                      xaxis_title="budget ratio k / Size(G)", legend=dict(orientation="h", y=-0.25))
    fig.update_yaxes(title="bits", secondary_y=False)
    fig.update_yaxes(title="RE1", secondary_y=True)
    return fig


# -- lesson 9 -----------------------------------------------------------------------------------
def adjacency_panels(r: dict, *, height: int = 360) -> go.Figure:
    """Similarity M Mᵀ, the top-k graph Ã and the true groups, channels ordered by group."""
    o = r["order"]
    labels = [f"s{i}" for i in o]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.05, subplot_titles=(
        "similarity M·Mᵀ", f"learned graph Ã (top-{r['k']} per row)", "true graph (same group)"))
    mats = [(r["similarity"][np.ix_(o, o)], "RdBu", -1, 1), (r["adjacency"][np.ix_(o, o)], "Blues", 0, None),
            (r["true_graph"][np.ix_(o, o)].astype(float), "Greys", 0, 1)]
    for col, (m, scale, lo, hi) in enumerate(mats, start=1):
        fig.add_heatmap(z=np.round(m, 3), x=labels, y=labels, colorscale=scale, zmin=lo, zmax=hi, showscale=False,
                        row=1, col=col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=40, b=5))
    return fig


def channel_series(r: dict, *, steps: int = 200, height: int = 300) -> go.Figure:
    fig = go.Figure()
    colors = _palette(int(r["groups"].max()) + 1)
    x = r["series"][:steps]
    for i in r["order"]:
        z = (x[:, i] - x[:, i].mean()) / (x[:, i].std() + 1e-12)
        fig.add_scatter(y=z, mode="lines", name=f"s{i} (group {r['groups'][i]})", line=dict(width=1, color=colors[r["groups"][i]]))
    fig.update_layout(height=height, margin=MARGIN, title="The sensors' series (standardised), coloured by true group",
                      xaxis_title="time step", showlegend=False)
    return fig


# -- lesson 10 ----------------------------------------------------------------------------------
def latency_vs_batch(rows: Sequence[dict], flop_ratio: float, *, height: int = 340) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("latency per batch (median)", "speed-up over dense vs FLOP ratio"))
    backends = sorted({r["backend"] for r in rows}, key=lambda b: (b != "dense", b))
    for backend, color in zip(backends, _palette(len(backends))):
        pts = sorted((r["batch"], r["median_ms"], r["speedup_vs_dense"]) for r in rows if r["backend"] == backend)
        fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], name=backend, mode="lines+markers",
                        line=dict(color=color), legendgroup=backend, row=1, col=1)
        fig.add_scatter(x=[p[0] for p in pts], y=[p[2] for p in pts], name=backend, mode="lines+markers",
                        line=dict(color=color), legendgroup=backend, showlegend=False, row=1, col=2)
    span = [min(r["batch"] for r in rows), max(r["batch"] for r in rows)]
    # lines as traces, not add_hline: a shape on a log axis of a subplot is placed in log units
    fig.add_scatter(x=span, y=[flop_ratio] * 2, mode="lines", line=dict(dash="dot", color="grey"),
                    name=f"FLOP ratio {flop_ratio:.1f}×", row=1, col=2)
    fig.add_scatter(x=span, y=[1.0, 1.0], mode="lines", line=dict(color="black", width=1), name="break-even",
                    row=1, col=2)
    fig.update_xaxes(type="log", title="batch size")
    fig.update_yaxes(type="log", title="ms", row=1, col=1)
    fig.update_yaxes(type="log", title="×", row=1, col=2)
    fig.update_layout(height=height, margin=MARGIN, legend=dict(orientation="h", y=-0.25))
    return fig
