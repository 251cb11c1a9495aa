"""Pure Plotly figure builders shared by all pages (no Streamlit calls here).

Live views use ``px.imshow(..., binary_string=True)``: the matrix travels as one small PNG, 5–40×
lighter than a ``go.Heatmap``; static views use a hoverable ``go.Heatmap``. Large matrices are
block-averaged for display, never sent whole.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

MARGIN = dict(l=10, r=10, t=40, b=10)


def downsample(array: np.ndarray, max_side: int) -> np.ndarray:
    """Block-average a 2-D array so that neither side exceeds ``max_side`` (NaN-aware).

    >>> downsample(np.arange(16.0).reshape(4, 4), 2).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    a = np.asarray(array, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim > 2:
        a = a.reshape(a.shape[0], -1)
    fy = int(np.ceil(a.shape[0] / max_side))
    fx = int(np.ceil(a.shape[1] / max_side))
    if fy <= 1 and fx <= 1:
        return a
    py, px_ = (-a.shape[0]) % fy, (-a.shape[1]) % fx
    a = np.pad(a, ((0, py), (0, px_)), constant_values=np.nan)
    blocks = a.reshape(a.shape[0] // fy, fy, a.shape[1] // fx, fx)
    with np.errstate(invalid="ignore"):
        return np.nanmean(blocks, axis=(1, 3))


@lru_cache(maxsize=8)
def _lut(scale: str) -> np.ndarray:
    from plotly.colors import sample_colorscale, unlabel_rgb

    colors = sample_colorscale(scale, list(np.linspace(0, 1, 256)))
    return np.array([unlabel_rgb(c) for c in colors], dtype=np.uint8)


def heatmap_live(
    array: np.ndarray,
    *,
    title: str = "",
    zmin: float | None = None,
    zmax: float | None = None,
    max_side: int = 256,
    colorscale: str = "Viridis",
    height: int | None = None,
) -> go.Figure:
    """A light heatmap for live views: colour-mapped to RGB, sent as one PNG (binary_string)."""
    a = downsample(array, max_side)
    lo = np.nanmin(a) if zmin is None else zmin
    hi = np.nanmax(a) if zmax is None else zmax
    if not np.isfinite(lo) or not np.isfinite(hi):
        lo, hi = 0.0, 1.0
    scaled = np.clip((np.nan_to_num(a, nan=lo) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    rgb = _lut(colorscale)[(scaled * 255).astype(np.uint8)]
    fig = px.imshow(rgb, binary_string=True, aspect="auto")
    fig.update_layout(title=title, margin=MARGIN, height=height, xaxis_visible=False, yaxis_visible=False)
    # plotly.js keeps an image's pixels square unless told otherwise: a 10×256 layer would be a hairline.
    fig.update_yaxes(scaleanchor=False)
    return fig


def heatmap_static(
    array: np.ndarray,
    *,
    title: str = "",
    x=None,
    y=None,
    max_side: int = 128,
    colorscale: str = "Viridis",
    zmin: float | None = None,
    zmax: float | None = None,
    height: int | None = None,
) -> go.Figure:
    """A hoverable heatmap for static views (block-averaged above ``max_side``)."""
    a = downsample(array, max_side)
    if a.shape != np.asarray(array).shape:
        x = y = None  # labels no longer match blocks
    fig = go.Figure(go.Heatmap(z=a, x=x, y=y, colorscale=colorscale, zmin=zmin, zmax=zmax))
    fig.update_layout(title=title, margin=MARGIN, height=height, yaxis_autorange="reversed")
    return fig


def line_chart(df, *, x: str, y: str, color: str | None = None, title: str = "", height: int | None = 320):
    """Lines of ``y`` against ``x`` (one per ``color``)."""
    fig = px.line(df, x=x, y=y, color=color, title=title)
    fig.update_layout(margin=MARGIN, height=height, legend_title_text="")
    return fig


def bars(labels, values, *, title: str = "", target: float | None = None, height: int | None = 300) -> go.Figure:
    """Horizontal bars (e.g. per-layer sparsity) with an optional target line."""
    fig = go.Figure(go.Bar(x=list(values), y=list(labels), orientation="h"))
    if target is not None:
        fig.add_vline(x=target, line_dash="dash", annotation_text="target")
    fig.update_layout(title=title, margin=MARGIN, height=height, yaxis_autorange="reversed")
    return fig


ALIGN = {"fraction": "fraction of training", "epoch": "epoch (n-th report)", "step": "optimiser step"}


def align_runs(series: dict, *, by: str = "fraction"):
    """One long frame (run, x, value) of several runs' metric, lined up by ``by``.

    ``series`` maps a run label to ``(frame with step and value, total steps, config)``. ``by``:
    "fraction" = step / total steps (the run's own length, or its last step if unknown), so runs
    of different lengths or batch sizes share 0–100 %; "epoch" = 1, 2, … the n-th value reported
    (metrics the engines report once per epoch, e.g. val/accuracy); "step" = the raw step.

    >>> import pandas as pd
    >>> f = pd.DataFrame({"step": [50, 100], "value": [0.5, 0.9]})
    >>> g = pd.DataFrame({"step": [10, 20, 30, 40], "value": [0.4, 0.6, 0.7, 0.8]})
    >>> a = align_runs({"a": (f, 100, {}), "b": (g, 40, {})}, by="fraction")
    >>> a[a["run"] == "b"]["x"].tolist(), align_runs({"a": (f, 100, {})}, by="epoch")["x"].tolist()
    ([0.25, 0.5, 0.75, 1.0], [1, 2])
    """
    import pandas as pd

    if by not in ALIGN:
        raise ValueError(f"by must be one of {', '.join(ALIGN)}")
    parts = []
    for label, (frame, total, _config) in series.items():
        f = frame.sort_values("step")
        if f.empty:
            continue
        if by == "fraction":
            length = total if total else f["step"].max()
            x = f["step"] / max(length, 1)
        elif by == "epoch":
            x = pd.Series(range(1, len(f) + 1), index=f.index)
        else:
            x = f["step"]
        parts.append(pd.DataFrame({"run": label, "x": x.to_numpy(), "value": f["value"].to_numpy()}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["run", "x", "value"])
