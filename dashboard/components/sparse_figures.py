"""Plotly figure builders of the sparse training lab (pure functions: no Streamlit, no torch).

Inputs are what the experiments report: metric frames (step, name, value), mask / weight /
boundary snapshots (numpy arrays), ledger rows and sweep rows (dicts).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.components.figures import MARGIN, downsample, heatmap_live

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


PRUNED = "#e6e6e6"  # colour of a pruned weight: light grey, distinct from any kept one and from the page
# Mask colours say kept or pruned, never |w|: exact 0 (all pruned) is grey, any kept share is at
# least a clear mid-blue, so a block holding one kept weight is never drawn as pale as a pruned one.
MASK_SCALE = [[0.0, PRUNED], [1e-6, "#9ecae1"], [1.0, KEPT]]
MASK_HOVER_CELLS = 256 * 256  # above this many cells the hoverable mask is block-averaged


def _mask_height(rows: int, cols: int, height: int | None, width: int = 360) -> int:
    """A figure height that keeps the mask's true aspect ratio in a column about ``width`` px wide."""
    if height is not None:
        return height
    return int(70 + min(420, max(60, width * rows / max(cols, 1))))


def _mask_title(title: str) -> dict:
    """A small left-aligned title in the top margin (two lines: name and shape, then kept share)."""
    return dict(text=title, font_size=12, x=0, xref="paper", xanchor="left", y=1, yref="paper", yanchor="bottom",
                pad=dict(b=6), automargin=True)


def mask_figure(mask: np.ndarray, *, title: str, height: int | None = None, max_side: int = 256) -> go.Figure:
    """A layer's binary mask (rows = output units, columns = inputs): dark blue = kept, grey = pruned.

    The live view: one PNG (``binary_string``), pixels square (the true aspect ratio), hover gives
    the row and column (the PNG carries no values; ``mask_hover_figure`` does, once a run is
    finished). Above ``max_side`` px per side pixels are block shares of kept weights (any share
    > 0 is at least mid-blue; only an all-pruned block is grey).
    """
    m = np.asarray(mask, dtype=float)
    m = m.reshape(m.shape[0], -1) if m.ndim > 1 else m[None, :]
    fig = px.imshow(mask_rgb(downsample(m, max_side)), binary_string=True)
    fy, fx = _block(m.shape, max_side)
    fig.update_traces(x0=0, dx=fx, y0=0, dy=fy,
                      hovertemplate="row %{y}, col %{x}<extra></extra>" if fx == fy == 1 else
                      "rows %{y}…, cols %{x}… (block)<extra></extra>")
    _mask_axes(fig, m.shape, title, height)
    return fig


def mask_hover_figure(mask: np.ndarray, weights: np.ndarray | None, *, title: str, height: int | None = None,
                      max_cells: int = MASK_HOVER_CELLS) -> go.Figure:
    """The finished run's mask as a hoverable heatmap: "row 77, col 18: kept, w = −0.12".

    Square cells (true aspect ratio). Above ``max_cells`` cells it is block-averaged and hover
    gives the block's kept count instead. ``weights`` (same shape) are the trained values.
    """
    m = np.asarray(mask, dtype=float)
    m = m.reshape(m.shape[0], -1) if m.ndim > 1 else m[None, :]
    w = None if weights is None else np.asarray(weights, dtype=float).reshape(m.shape[0], -1)
    if w is not None and w.shape != m.shape:
        w = None
    if m.size <= max_cells:
        # Two numeric traces (kept / pruned cells, NaN elsewhere): the hover names the state without
        # a string per cell, so the figure travels as typed arrays (about 10 bytes a cell).
        kept = m > 0
        wv = (w if w is not None else np.zeros_like(m)).astype(np.float32)
        k_hover = ("row %{y}, col %{x}: kept, w = %{customdata:.3g}<extra></extra>" if w is not None
                   else "row %{y}, col %{x}: kept<extra></extra>")
        traces = [go.Heatmap(z=np.where(kept, 1.0, np.nan).astype(np.float32), customdata=wv, zmin=0, zmax=1,
                             colorscale=[[0, KEPT], [1, KEPT]], showscale=False, hoverongaps=False,
                             hovertemplate=k_hover, name="kept"),
                  go.Heatmap(z=np.where(kept, np.nan, 0.0).astype(np.float32), zmin=0, zmax=1, colorscale=[[0, PRUNED], [1, PRUNED]],
                             showscale=False, hoverongaps=False, name="pruned",
                             hovertemplate="row %{y}, col %{x}: pruned<extra></extra>")]
    else:
        side = int(np.sqrt(max_cells))
        fy, fx = _block(m.shape, side)
        z = downsample(m, side).astype(np.float32)
        counts = np.rint(z * fy * fx).astype(np.float32)
        traces = [go.Heatmap(z=z, x0=0, dx=fx, y0=0, dy=fy, zmin=0, zmax=1, colorscale=_mask_colorscale(),
                             showscale=False, customdata=counts,
                             hovertemplate=f"block from row %{{y}}, col %{{x}} ({fy}×{fx}): %{{customdata:.0f}} "
                                           f"of {fy * fx} kept<extra></extra>")]
    fig = go.Figure(traces)
    _mask_axes(fig, m.shape, title, height)
    return fig


def mask_rgb(share: np.ndarray) -> np.ndarray:
    """Kept share per pixel (0–1) -> RGB: 0 grey (``PRUNED``); (0, 1] from mid-blue to ``KEPT`` (``MASK_SCALE``).

    >>> mask_rgb(np.array([[0.0, 0.01, 1.0]]))[0].tolist()
    [[230, 230, 230], [157, 201, 224], [31, 59, 115]]
    """
    a = np.nan_to_num(np.asarray(share, dtype=float), nan=0.0)
    lo, hi = np.array([0x9e, 0xca, 0xe1], float), np.array([0x1f, 0x3b, 0x73], float)
    rgb = lo + (hi - lo) * a[..., None]
    rgb[a <= 0] = 230.0  # PRUNED
    return np.rint(rgb).astype(np.uint8)


def _mask_colorscale() -> list:
    return MASK_SCALE


def _block(shape: tuple[int, int], max_side: int) -> tuple[int, int]:
    return int(np.ceil(shape[0] / max_side)), int(np.ceil(shape[1] / max_side))


def _mask_axes(fig: go.Figure, shape: tuple[int, int], title: str, height: int | None) -> None:
    rows, cols = shape
    fig.update_layout(title=_mask_title(title), margin=dict(l=36, r=8, t=60, b=28),
                      height=_mask_height(rows, cols, height), plot_bgcolor="white")
    frame = dict(visible=True, showgrid=False, zeroline=False, showline=False, title=None, tickfont_size=10,
                 nticks=5, constrain="domain")
    fig.update_xaxes(range=[-0.5, cols - 0.5], **frame)
    fig.update_yaxes(range=[rows - 0.5, -0.5], scaleanchor="x", scaleratio=1, **frame)


def nm_zoom(mask: np.ndarray, m: int, *, title: str, height: int = 300) -> go.Figure:
    """A small corner of an N:M mask at full resolution, with a line between every group of ``m`` inputs."""
    z = np.asarray(mask, dtype=float)
    fig = go.Figure(go.Heatmap(z=z, colorscale=[[0, PRUNED], [1, KEPT]], zmin=0, zmax=1, showscale=False,
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
    fig.update_layout(title=_mask_title(title), margin=dict(MARGIN, t=56), height=height, bargap=0,
                      xaxis_title="weight value", yaxis_title="count (log)", showlegend=False)
    fig.update_yaxes(**log_ticks(counts.max() if nz.size else 1))
    return fig


def log_ticks(top: float) -> dict:
    """A log axis with clean ticks: 1, 10, 100, 1k, … (one per power of ten, no 2s and 5s).

    >>> log_ticks(2500)["tickvals"], log_ticks(2500)["ticktext"]
    ([1, 10, 100, 1000], ['1', '10', '100', '1k'])
    """
    n = int(np.floor(np.log10(max(float(top), 1.0)))) + 1  # powers of ten up to top
    vals = [10 ** k for k in range(n)]
    names = {0: "", 3: "k", 6: "M", 9: "G"}
    text = [f"{10 ** (k % 3)}{names[k - k % 3]}" for k in range(n)]
    return dict(type="log", tickvals=vals, ticktext=text)


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


def plan_bars(plan: dict, *, height: int | None = None) -> go.Figure:
    """Before the run: each layer's size (grey) and what the method keeps of it (blue) where it sets a
    per-layer target; a global criterion gets the size only, and the note says why."""
    units = plan["counts"] == "units"
    labels = [short(r["name"]) for r in plan["layers"]]
    size = [r["units"] if units else r["weights"] for r in plan["layers"]]
    what = "units" if units else "weights"
    shape = ["×".join(map(str, r["shape"])) for r in plan["layers"]]
    fig = go.Figure(go.Bar(x=size, y=labels, orientation="h", name=f"{what} now", marker_color="#c9ced6",
                           customdata=shape, hovertemplate="%{y} (%{customdata}): %{x:,} " + what + "<extra></extra>"))
    targets = [r["target"] for r in plan["layers"]]
    if any(t is not None for t in targets):
        kept = [None if t is None else round(n * (1 - t)) for n, t in zip(size, targets)]
        text = [("kept: the classes" if units else "") if t is None else f"keeps {1 - t:.0%}" for t in targets]
        fig.add_trace(go.Bar(x=kept, y=labels, orientation="h", name="the method keeps", marker_color=KEPT,
                             text=text, textposition="outside", cliponaxis=False,
                             hovertemplate="%{y}: keeps %{x:,} " + what + "<extra></extra>"))
        note = "the method's target per layer"
    else:
        note = (f"a global criterion decides each layer's share of the {plan['requested']:.0%} during the run"
                if plan["method"] != "dense" else "dense: nothing is pruned")
    fig.update_layout(title=f"Layers to prune: {plan['weights']:,} weights — {note}", title_font_size=12,
                      barmode="overlay", margin=dict(MARGIN, t=28, b=4), height=height or 62 + 26 * len(labels),
                      xaxis=dict(rangemode="tozero", tickformat="~s"), yaxis_autorange="reversed",
                      legend=dict(orientation="v", x=1.0, xanchor="left", y=1), showlegend=len(fig.data) > 1,
                      uirevision="plan")
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
    """Measured latency per backend and batch size (bars), the text giving the speed-up against dense.

    Untimed rows (``median_ms`` None: the N:M row, which needs sparse tensor cores) are left out; the
    page prints their note.
    """
    df = pd.DataFrame([r for r in rows if r.get("median_ms") is not None])
    if df.empty:
        return go.Figure().update_layout(title="No timed backend", height=200, margin=MARGIN)
    fig = go.Figure()
    for i, (backend, sub) in enumerate(df.groupby("backend", sort=False)):
        fig.add_trace(go.Bar(x=[f"batch {b}" for b in sub["batch"]], y=sub["median_ms"], name=backend,
                             marker_color=PALETTE[i % len(PALETTE)],
                             text=[f"{s:.2f}× dense" for s in sub["speedup_vs_dense"]], textposition="outside"))
    fig.update_layout(title="Measured inference latency (median, lower is faster)", barmode="group",
                      margin=MARGIN, height=340, yaxis_title="ms per batch",
                      legend=dict(orientation="h", y=-0.2))
    return fig


SPARSITY_TICKS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999)
X_AXES = {"sparsity": "weight sparsity (linear)", "density": "density, log scale (1 − sparsity)"}


def _control(row: dict) -> float:
    """The value a row's method was asked for: ``control`` (new rows) or ``requested_sparsity`` (older rows)."""
    for k in ("control", "requested_sparsity", "sparsity"):
        if row.get(k) is not None:
            return float(row[k])
    return float("nan")


def sweep_frame(rows: list[dict]) -> pd.DataFrame:
    """Sweep rows -> one point per (method, requested value): mean, std (NaN for one seed) and count of
    test accuracy, the mean weight sparsity reached, the axis the method controls, and the run ids.

    Rows carry ``method``, ``control`` (requested value; older rows: ``requested_sparsity``),
    ``axis`` ("weight sparsity" or "units removed"; older rows: weight sparsity), ``sparsity``
    (reached), ``test_accuracy``, ``seed`` and optionally ``run_id``.

    >>> f = sweep_frame([{"method": "m", "control": 0.9, "sparsity": 0.9, "test_accuracy": a, "seed": s}
    ...                  for s, a in ((0, 0.9), (1, 0.94))] + [{"method": "s", "requested_sparsity": 0.5,
    ...                  "sparsity": 0.7, "test_accuracy": 0.8, "seed": 0, "axis": "units removed"}])
    >>> [(r.method, r.n, round(r["mean"], 2), None if np.isnan(r["std"]) else round(r["std"], 4), r.axis)
    ...  for _, r in f.iterrows()]
    [('m', 2, 0.92, 0.0283, 'weight sparsity'), ('s', 1, 0.8, None, 'units removed')]
    """
    if not rows:
        return pd.DataFrame()
    from engine.sparse.sweep import summarize_rows   # the engine's points (numpy only)

    rows = [{**r, "control": _control(r)} for r in rows]
    ids: dict[tuple[str, float], list[int]] = {}
    for r in rows:
        if r.get("run_id") is not None:
            ids.setdefault((r["method"], float(r["control"])), []).append(int(r["run_id"]))
    g = pd.DataFrame(summarize_rows(rows))
    g["sparsity"] = g["sparsity"].fillna(g["control"])
    g["run_ids"] = [ids.get((m, float(c)), []) for m, c in zip(g["method"], g["control"])]
    g.loc[g["n"] < 2, "std"] = np.nan  # one seed has no spread: shown as "–", never as 0
    return g[["method", "control", "mean", "std", "n", "sparsity", "axis", "run_ids"]]


def fmt_std(std: float | None, n: int) -> str:
    """The spread as the table and hover print it: "–" for one seed (no spread measured).

    >>> fmt_std(float("nan"), 1), fmt_std(0.0123, 3)
    ('–', '± 1.23 % (3 seeds)')
    """
    if n < 2 or std is None or not np.isfinite(std):
        return "–"
    return f"± {100 * std:.2f} % ({n} seeds)"


def sparsity_ticks(sparsities, *, density: bool) -> tuple[list[float], list[str]]:
    """Clean tick positions for the x axis: 50 %, 90 %, 95 %, 98 %, 99 % … (as density on a log axis).

    >>> sparsity_ticks([0.5, 0.98], density=True)
    ([0.5, 0.2, 0.1, 0.05, 0.02], ['50 %', '80 %', '90 %', '95 %', '98 %'])
    """
    vals = [float(v) for v in sparsities if v is not None and np.isfinite(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 0.99)
    # within the data's range, compared as densities with 5 % slack (89.99 % reached still gets its 90 % tick)
    ticks = [t for t in SPARSITY_TICKS if (1 - hi) / 1.05 <= 1 - t <= (1 - lo) * 1.05
             or (t == 0.0 and not density and lo < 0.25)]
    if density:
        ticks = [t for t in ticks if t > 0 or lo <= 0]
    text = [f"{100 * t:g} %" for t in ticks]
    return ([round(1 - t, 6) for t in ticks] if density else ticks), text


def y_range(values, *, pad: float = 0.15, floor: float = 0.0, ceil: float = 1.0) -> list[float]:
    """An accuracy axis fitted to the points (not 0–100 % when they lie between 86 and 99 %).

    >>> [round(v, 2) for v in y_range([0.86, 0.99])]
    [0.84, 1.0]
    """
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return [floor, ceil]
    lo, hi = float(v.min()), float(v.max())
    span = max(hi - lo, 0.02)
    top = min(ceil, hi + pad * span)
    return [max(floor, lo - pad * span), max(top, hi + 0.004)]  # a point at 100 % is not cut in half


def accuracy_sparsity(rows: list[dict], *, x_axis: str = "sparsity", height: int = 440) -> go.Figure:
    """Test accuracy against the weight sparsity each method reached: mean per method (line and markers),
    ± one std across seeds (error bars; none for one seed), every run (faint dots); the dense baseline
    as a dashed line with its band. ``x_axis`` = "sparsity" (linear) or "density" (log of 1 − sparsity,
    so 90 / 95 / 98 / 99 % spread out). The y axis is fitted to the points.

    Each point carries ``customdata`` = [run id or −1, method, requested value, std, n]: a click
    (Streamlit selection) tells the page which run to open. Methods that count units (structured)
    are drawn at the weight sparsity they reached; hover gives the units removed they were asked for.
    """
    if x_axis not in X_AXES:
        raise ValueError(f"x_axis must be one of {', '.join(X_AXES)}")
    density = x_axis == "density"
    fig = go.Figure()
    agg = sweep_frame(rows)
    df = pd.DataFrame(rows)
    ys: list[float] = []
    xs_all: list[float] = []

    def xv(sp):
        sp = np.asarray(sp, dtype=float)
        return np.maximum(1 - sp, 1e-4) if density else sp

    if not agg.empty:
        df["control"] = [_control(r) for r in rows]
        if "sparsity" not in df:
            df["sparsity"] = df["control"]
        df["sparsity"] = df["sparsity"].fillna(df["control"])
        if "run_id" not in df:
            df["run_id"] = None
        dense = agg[agg["method"] == "dense"]
        if not dense.empty:
            accs = df[df["method"] == "dense"]["test_accuracy"]
            m, sd = float(accs.mean()), float(accs.std()) if len(accs) > 1 else float("nan")
            if np.isfinite(sd) and sd > 0:
                fig.add_hrect(y0=m - sd, y1=m + sd, fillcolor="grey", opacity=0.15, line_width=0)
                ys += [m - sd, m + sd]
            ys.append(m)
            fig.add_hline(y=m, line_dash="dash", line_color="black",
                          annotation_text=f"dense {m:.1%} ({fmt_std(sd, len(accs))})" if len(accs) > 1
                          else f"dense {m:.1%} (1 seed)", annotation_position="top right")
        for i, (method, sub) in enumerate((k, v) for k, v in agg.groupby("method", sort=False) if k != "dense"):
            color = PALETTE[i % len(PALETTE)]
            units = (sub["axis"] == "units removed").any()
            x = xv(sub["sparsity"])
            xs_all += list(sub["sparsity"])
            std = sub["std"].to_numpy(dtype=float)
            ys += list(sub["mean"] + np.nan_to_num(std)) + list(sub["mean"] - np.nan_to_num(std))
            asked = "units removed" if units else "requested"
            custom = [[(r.run_ids[0] if len(r.run_ids) == 1 else -1), method, r.control, fmt_std(r["std"], r.n),
                       int(r.n)] for _, r in sub.iterrows()]
            fig.add_trace(go.Scatter(
                x=x, y=sub["mean"], mode="lines+markers", name=method + (" (units removed)" if units else ""),
                line=dict(color=color), marker=dict(size=9),
                error_y=dict(type="data", array=np.nan_to_num(std), visible=bool(np.isfinite(std).any()),
                             color=color, thickness=1.5, width=4),
                customdata=custom,
                hovertemplate=f"<b>{method}</b><br>{asked} %{{customdata[2]:.1%}}<br>weight sparsity reached "
                              f"{'%{x:.2%}' if not density else '%{text}'}<br>test accuracy %{{y:.2%}} "
                              "%{customdata[3]}<br>(click: open)<extra></extra>",
                text=[f"{s:.2%}" for s in sub["sparsity"]]))
            runs = df[df["method"] == method]
            if (sub["n"] > 1).any():
                fig.add_trace(go.Scatter(
                    x=xv(runs["sparsity"]), y=runs["test_accuracy"], mode="markers",
                    marker=dict(color=color, size=5, opacity=0.45), showlegend=False,
                    customdata=[[(-1 if rid is None or (isinstance(rid, float) and np.isnan(rid)) else int(rid)),
                                 method, c, f"seed {sd_}", 1]
                                for rid, c, sd_ in zip(runs["run_id"], runs["control"], runs.get("seed", [None] * len(runs)))],
                    hovertemplate=f"{method} %{{customdata[3]}}: %{{y:.2%}} (click: open)<extra></extra>"))
            ys += list(runs["test_accuracy"])
    title_x = X_AXES[x_axis]
    ticks, labels = sparsity_ticks(xs_all or [0.5, 0.99], density=density)
    xaxis = dict(title="weight sparsity reached" + (" (log density axis)" if density else ""),
                 tickvals=ticks, ticktext=labels)
    if density:
        xaxis.update(type="log", autorange="reversed")
    else:  # the points' own span, at least 10 % of sparsity wide: one point alone (or none yet) keeps readable ticks
        lo_x, hi_x = (float(np.nanmin(xs_all)), float(np.nanmax(xs_all))) if xs_all else (0.5, 0.99)
        if hi_x - lo_x < 0.1:
            mid = (lo_x + hi_x) / 2
            lo_x, hi_x = mid - 0.05, mid + 0.05
        pad = 0.06 * (hi_x - lo_x)
        xaxis.update(range=[lo_x - pad, hi_x + pad])
    yr = y_range(ys)
    fig.update_layout(title="Test accuracy vs sparsity", margin=MARGIN, height=height, xaxis=xaxis,
                      yaxis=dict(title="test accuracy", tickformat=".1%" if yr[1] - yr[0] < 0.05 else ".0%", range=yr),
                      legend=dict(orientation="h", y=-0.22), uirevision=f"sweep-{title_x}",
                      clickmode="event+select")
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


def accuracy_train_flops(rows: list[dict], *, height: int = 420) -> go.Figure:
    """Test accuracy against training FLOPs (each run's ``train_flops`` estimate, log axis): mean per
    (method, level) joined per method, every run as a dot. Rows without ``train_flops`` (runs stored
    before it existed) are left out; the title says how many."""
    df = pd.DataFrame(rows)
    fig = go.Figure()
    missing = 0
    if not df.empty:
        if "train_flops" not in df:
            df["train_flops"] = np.nan
        missing = int(df["train_flops"].isna().sum())
        df = df.dropna(subset=["train_flops"])
    if not df.empty:
        g = df.groupby(["method", "requested_sparsity"], as_index=False).agg(
            acc=("test_accuracy", "mean"), flops=("train_flops", "mean"), n=("test_accuracy", "size"))
        for i, (method, sub) in enumerate(g.groupby("method", sort=False)):
            color = PALETTE[i % len(PALETTE)]
            sub = sub.sort_values("flops")
            fig.add_trace(go.Scatter(x=sub["flops"], y=sub["acc"], mode="lines+markers", name=method,
                                     line=dict(color=color), text=sub["requested_sparsity"],
                                     hovertemplate=f"{method} at %{{text:.0%}}<br>training FLOPs %{{x:.3s}}"
                                                   "<br>accuracy %{y:.2%}<extra></extra>"))
            runs = df[df["method"] == method]
            fig.add_trace(go.Scatter(x=runs["train_flops"], y=runs["test_accuracy"], mode="markers",
                                     marker=dict(color=color, size=5, opacity=0.5), showlegend=False,
                                     hoverinfo="skip"))
    note = f" ({missing} older run(s) without a FLOPs estimate left out)" if missing else ""
    fig.update_layout(title="Test accuracy vs training FLOPs" + note, margin=MARGIN, height=height,
                      xaxis=dict(title="training FLOPs (estimate: 3 × masked forward FLOPs × examples)", type="log"),
                      yaxis=dict(title="test accuracy", tickformat=".0%"), legend=dict(orientation="h", y=-0.2),
                      uirevision="sweep-flops")
    return fig
