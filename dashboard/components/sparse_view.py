"""Draw the sparse lab's runs from the run store, live and finished (kinds sparse, sweep, sensitivity).

``draw_run(store, run)`` is what the pages pass to :func:`dashboard.components.live.live` and what
the Runs page uses for these kinds; ``draw_group`` draws a sweep queued as separate ``sparse`` runs.
It reads only what the experiments reported: metrics, snapshots (``mask/<fqn>``, ``weight/<fqn>``,
``boundary``, ``data/points``, ``sensitivity``), files and the result dict. No torch here.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.components import sparse_figures as sf
from dashboard.components.common import explain, plain
from engine.runs.store import Run, RunStore
from engine.sparse.config import stored_config
from engine.sparse.ledger import ledger_from_masks
from engine.sparse.ledger import warnings as ledger_warnings
from engine.sparse.shapes import layer_names as _layer_names
from engine.sparse.sweep import partial_rows, rows_from_results

EXPORTS = (("model.safetensors", "Model (safetensors)"), ("model.pt", "Model + masks (state_dict)"),
           ("masks.npz", "Masks (npz)"), ("recipe.yaml", "YAML recipe"))
MAX_LAYERS_SHOWN = 6


def draw_run(store: RunStore, run: Run) -> None:
    if run.kind == "sweep":
        draw_sweep_run(store, run)
    elif run.kind == "sensitivity":
        draw_sensitivity(store, run)
    else:
        draw_sparse(store, run)


# --------------------------------------------------------------------------- one sparse run
def requested_sparsity(config: dict) -> float:
    """What the run aims at on its method's axis (engine: ``SparseConfig.requested``)."""
    c = stored_config(config)
    return c.requested if c is not None else float(config.get("sparsity", 0.0))


def live_ledger(config: dict, masks: dict[str, np.ndarray]) -> dict | None:
    """The ledger of the latest mask snapshots (engine: ``engine.sparse.ledger.ledger_from_masks``)."""
    c = stored_config(config)
    if c is None or not masks:
        return None
    return ledger_from_masks(masks, method=c.method, requested=c.requested, params=c.method_params)


def run_ledger(config: dict, res: dict, masks: dict[str, np.ndarray]) -> tuple[list[dict], dict | None]:
    """(ledger rows, ledger dict): the finished run's, else computed live; results stored before the
    ledger existed give their ``layers`` rows and no ledger dict."""
    led = res.get("ledger") or (None if res.get("layers") else live_ledger(config, masks))
    if led is not None:
        return led["layers"], led
    return res.get("layers") or [], None


_SLOW: dict[tuple, tuple[float, object]] = {}  # (what, run id, layer) -> (built at, figure)
_HOVER: dict[tuple, object] = {}  # (run id, layer, step, title) -> hoverable mask of a finished run
HISTOGRAMS_EVERY = 2.0  # s between live redraws of the weight histograms


def _slow_figure(what: str, run: Run, name: str, every: float, build):
    """While a run is going, rebuild this figure at most every ``every`` seconds.

    A browser redraws only the charts whose figure changed; holding the histograms steady between
    rebuilds lets the progress, curves and masks refresh more often on a 2-core machine that also
    trains the model (bench/live_refresh.py --run rigl: 1.17 → 1.7–2.0 redraws/s).
    """
    k = (what, run.id, name)
    now = time.monotonic()
    if not run.active or k not in _SLOW or now - _SLOW[k][0] >= every:
        if len(_SLOW) > 64:
            _SLOW.clear()
        _SLOW[k] = (now, build())
    return _SLOW[k][1]


def _latest(store: RunStore, run_id: int, prefix: str) -> dict[str, tuple[int, np.ndarray]]:
    out = {}
    for name in store.snapshot_names(run_id):
        if name.startswith(prefix):
            snap = store.latest_snapshot(run_id, name)
            if snap is not None:
                out[name[len(prefix):]] = snap
    return out


def draw_sparse(store: RunStore, run: Run) -> None:
    key = f"sv-{run.id}"
    cfg, res = run.config, run.result or {}
    df = store.metrics(run.id)
    masks = _latest(store, run.id, "mask/")
    if df.empty and not masks and not res:
        if run.active:
            st.info("Loading the data and building the model; the first curves appear after the first epoch.")
        return
    target = res.get("requested_sparsity", requested_sparsity(cfg))
    rows, ledger = run_ledger(cfg, res, {k: v[1] for k, v in masks.items()})
    final = None if run.active else _final_step(res, masks)
    # One container per section, always in this order: a section whose element count changes between
    # redraws (a warning more, a caption less) cannot shift the sections below it, so the browser
    # updates every chart in place instead of drawing a new one beside a faded old copy.
    head, note, curves, mask_box, ledger_box, weight_box, boundary_box, tail = (st.container() for _ in range(8))
    with head:
        _headline(run, df, res, rows, target, ledger)
    if final is not None:
        note.caption(f"Every figure below shows the finished run's final state (step {final:,}) unless its title "
                     "names another step.")
    if not df.empty:
        a, b = curves.columns(2)
        a.plotly_chart(sf.curves(df, ["train/loss"], title="Training loss", y_title="cross-entropy"), key=f"{key}-loss")
        acc = [n for n in ("train/accuracy", "val/accuracy", "soup/val_accuracy") if n in set(df["name"])]
        b.plotly_chart(sf.curves(df, acc, title="Accuracy", y_title="accuracy", y_range=(0, 1.02)), key=f"{key}-acc")
    if masks:
        with mask_box:
            _masks(store, run, masks, key, final)
    with ledger_box:
        if ledger:
            left, right = st.columns([3, 2])
            left.plotly_chart(ledger_bars(ledger), key=f"{key}-bars")
            with right:
                explain("sparse_ledger")
            ledger_table(ledger, res)
        elif rows:
            left, right = st.columns([3, 2])
            left.plotly_chart(sf.sparsity_bars([r["name"] for r in rows], [1 - r["density"] for r in rows],
                                               [None if r.get("target_density") is None else 1 - r["target_density"]
                                                for r in rows], requested=target), key=f"{key}-bars")
            with right:
                explain("sparse_ledger")
            _ledger(rows, res)
    with weight_box:
        _weights(store, run, key, final)
    with boundary_box:
        _boundary(store, run, key)
    if res and not run.active:
        with tail:
            _speed(res, key)
            _downloads(store, run, key)


def _final_step(res: dict, masks: dict[str, tuple[int, np.ndarray]]) -> int | None:
    """The step a finished run ended at (``result["steps"]``, else its last mask snapshot)."""
    if res.get("steps") is not None:
        return int(res["steps"])
    return max((s for s, _ in masks.values()), default=None)


def _step_note(step: int, final: int | None) -> str:
    """`` · step 120`` while live or when a figure's step differs from the final one; "" otherwise."""
    return "" if final is not None and step == final else f" · step {step:,}"


def compact_number(n: float) -> str:
    """A short label for a big count: 85,002 -> "85.0 k", 1,234,567 -> "1.23 M".

    >>> compact_number(85002), compact_number(1234567), compact_number(512)
    ('85.0 k', '1.23 M', '512')
    """
    n = float(n)
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            v = n / size
            return f"{v:.{2 if v < 10 else 1 if v < 100 else 0}f} {unit}"
    return f"{n:.0f}"


def _headline(run: Run, df: pd.DataFrame, res: dict, rows: list[dict], target: float,
              ledger: dict | None = None) -> None:
    last = df.sort_values("step").groupby("name")["value"].last() if not df.empty else pd.Series(dtype=float)
    kept = sum(r.get("kept", 0) for r in rows)
    total = sum(r.get("total", 0) for r in rows)
    reached = res.get("sparsity", 1 - kept / total if total else last.get("sparsity", float("nan")))
    # Three columns a row: the values stay whole at 1024 px (five in a row were cut to "90.0…").
    slots = iter(st.columns(3) + st.columns(3))  # filled in order, no gap
    if ledger and ledger.get("counts") == "units":
        units = ledger.get("total", {}).get("units") or sum(l.get("units") or 0 for l in ledger["layers"])
        removed = ledger.get("total", {}).get("units_removed")
        if removed is None:
            removed = sum(l.get("units_removed") or 0 for l in ledger["layers"])
        asked = ledger.get("requested", target)
        next(slots).metric("Units removed", f"{removed:,} of {units:,}",
                    f"{removed / max(units, 1):.0%} · asked {asked:.0%}" if asked is not None else None,
                    delta_color="off", help="Structured pruning removes whole units (neurons / channels); "
                                            "the output units are never removed.")
        next(slots).metric("Weight sparsity", f"{reached:.2%}", "what removing the units zeroes", delta_color="off",
                    help="Removing a unit zeroes its incoming row and its outgoing column, so the weight "
                         "sparsity is higher than the fraction of units removed.")
    else:
        asked = (ledger or {}).get("requested", target)
        next(slots).metric("Sparsity reached", f"{reached:.2%}", f"asked {asked:.0%}" if asked is not None else None,
                    delta_color="off", help=f"Fraction of the prunable weights that are zero: {reached:.4%}.")
    if "test_accuracy" in res:
        next(slots).metric("Test accuracy", f"{res['test_accuracy']:.2%}", f"val {res['val_accuracy']:.2%}", delta_color="off",
                    help=f"test {res['test_accuracy']:.4%}, validation {res['val_accuracy']:.4%}")
    elif "val/accuracy" in last:
        next(slots).metric("Val. accuracy", f"{last['val/accuracy']:.1%}", "latest epoch", delta_color="off")
    if total:
        next(slots).metric("Weights kept", compact_number(kept), f"of {compact_number(total)}", delta_color="off",
                    help=f"{kept:,} of {total:,} entries of the masked weight matrices (biases are never pruned).")
    if "params_total" in res:
        next(slots).metric("Parameters ≠ 0", compact_number(res["params_nonzero"]),
                    f"of {compact_number(res['params_total'])} (+ biases)", delta_color="off",
                    help=f"{res['params_nonzero']:,} of {res['params_total']:,}, biases included.")
    if res.get("flops_dense"):
        ratio = res["flops_dense"] / max(res["flops_sparse"], 1)
        next(slots).metric("FLOPs per example", compact_number(res["flops_sparse"]), f"{ratio:.1f}× fewer than dense",
                    delta_color="off", help=f"2 × multiply-accumulates of the prunable layers, scaled by their "
                                            f"density: {res['flops_sparse']:,}; dense: {res['flops_dense']:,}.")


def _masks(store: RunStore, run: Run, masks: dict[str, tuple[int, np.ndarray]], key: str,
           final: int | None = None) -> None:
    live_view = run.active or final is None
    st.markdown("**Masks** — one square per weight, true proportions: dark blue = kept, grey = pruned; rows are "
                "output units, columns inputs." + (" Hover a cell for its state and weight." if not live_view else
                                                  " Hover gives the row and column (values once the run is done)."))
    names = list(masks)[:MAX_LAYERS_SHOWN]
    cols = st.columns(min(3, len(names)))
    weights = {} if live_view else _latest(store, run.id, "weight/")
    for i, name in enumerate(names):
        step, m = masks[name]
        m2 = m.reshape(m.shape[0], -1)
        title = f"{sf.short(name)} · {m2.shape[0]}×{m2.shape[1]}<br><sup>{m2.mean():.1%} kept{_step_note(step, final)}</sup>"
        if live_view:
            fig = sf.mask_figure(m2, title=title)
        else:
            w = weights.get(name)
            if w is not None and w[0] != step:
                w = None  # weights of another step would misstate the values: hover gives the state only
            k = (run.id, name, step, title)
            if k not in _HOVER:  # a finished run's masks do not change: build the hoverable figure once
                if len(_HOVER) > 32:
                    _HOVER.clear()
                _HOVER[k] = sf.mask_hover_figure(m2, None if w is None else w[1], title=title)
            fig = _HOVER[k]
        cols[i % len(cols)].plotly_chart(fig, key=f"{key}-mask-{name}")
    nm = ((run.config.get("method_params") or {}).get("nm") or run.config.get("nm")
          if str(run.config.get("method", "")).startswith("nm-") else None)
    if nm:
        name = names[0]
        m = int(nm.split(":")[1])
        zoom = masks[name][1].reshape(masks[name][1].shape[0], -1)[:16, : 8 * m]
        st.plotly_chart(sf.nm_zoom(zoom, m, title=f"Zoom: {sf.short(name)}, first 16 units × {zoom.shape[1]} inputs — "
                                                  f"every group of {m} (between the lines) keeps {nm.split(':')[0]}"),
                        key=f"{key}-zoom")
    if len(masks) > MAX_LAYERS_SHOWN:
        st.caption(f"{len(masks) - MAX_LAYERS_SHOWN} more layers are in the masks download.")
    explain("sparse_masks", expanded=False, title="How to read the masks")


def ledger_bars(ledger: dict):
    """The engine ledger as bars: weight sparsity per layer; targets only where the method has them."""
    layers = ledger.get("layers", [])
    per_layer = bool(ledger.get("per_layer_targets"))
    units = ledger.get("counts") == "units"
    fig = sf.sparsity_bars([l["name"] for l in layers], [l.get("sparsity", 1 - l.get("density", 1)) for l in layers],
                           [l.get("target") if per_layer else None for l in layers],
                           requested=None if units else ledger.get("requested"))
    if units:
        fig.update_traces(selector=dict(name="reached"),
                          text=[f"{l.get('sparsity', 0):.1%} of weights" +
                                (f" · {l['units_removed']} of {l['units']} units removed" if l.get("units_removed") else "")
                                for l in layers])
    return fig


def ledger_table(ledger: dict, res: dict) -> None:
    """The engine ledger (``result["ledger"]``) as a table: no per-layer target unless the method has one;
    dead units both ways; units removed on purpose (structured) are reported, not flagged."""
    units = ledger.get("counts") == "units"
    per_layer = bool(ledger.get("per_layer_targets"))
    rows = []
    for l in ledger.get("layers", []):
        removed = l.get("units_removed") or 0
        dead_in, dead_out = l.get("dead_in") or 0, l.get("dead_out") or 0
        unplanned = max(dead_in, dead_out) - (removed if units else 0)
        row = {"layer": l["name"], "shape": "×".join(map(str, l.get("shape", []))),
               **({"kept": l["kept"], "of": l["total"]} if "kept" in l and "total" in l else {}),
               "density": l.get("density"), "sparsity": l.get("sparsity")}
        if per_layer:
            row["target"] = l.get("target")
        if units:
            row["units removed"] = f"{removed} of {l.get('units')}" if l.get("units") is not None else "–"
        row["no input"], row["no output"] = dead_in, dead_out
        row["flag"] = "collapsed" if l.get("density") == 0 else ("dead units" if unplanned > 0 else "ok")
        if "output_error" in l:  # post-training pruning: relative output error on the calibration set
            row["output error ‖WX−ŴX‖/‖WX‖"] = l["output_error"]
        rows.append(row)
    table = pd.DataFrame(rows)
    tot = ledger.get("total") or {}
    what = "units removed and the weight sparsity they cause" if units else "weights pruned"
    st.markdown(f"**Sparsity ledger** — {what}" + (f"; total weight sparsity {tot['sparsity']:.2%}"
                                                  if tot.get("sparsity") is not None else ""))
    if table.empty:
        return
    fmt = {c: "{:.2%}" for c in ("density", "sparsity", "target") if c in table}
    st.dataframe(table.style.apply(lambda r: ["background-color: #fde2e1" if r["flag"] != "ok" else ""] * len(r),
                                   axis=1).format(fmt, na_rep="–"),
                 hide_index=True, width="stretch")
    if not per_layer:
        st.caption("This method sets no per-layer target (its sparsity is "
                   + ("a fraction of units" if units else "global or derived") + "), so only reached values are shown.")
    for w in res.get("warnings", []):
        st.warning(w, icon=":material/warning:")


def _ledger(rows: list[dict], res: dict, led: dict | None = None) -> None:
    units = led is not None and led["counts"] == "units"
    table = pd.DataFrame([{
        "layer": r["name"], "shape": "×".join(map(str, r["shape"])), "kept": r["kept"], "of": r["total"],
        "density": r["density"],
        "target": r.get("target") if led is not None else (None if r.get("target_density") is None
                                                          else 1 - r["target_density"]),
        "dead in": r.get("dead_in", r.get("dead_neurons")),
        "dead out": r.get("dead_out"),
        **({"units removed": f"{r['units_removed']} of {r['units']}"} if units else {}),
        "flag": "collapsed" if r["collapsed"] else (
            "dead units" if (r.get("dead_in", r.get("dead_neurons", 0)) - (r.get("units_removed", 0) if units else 0)
                             or (r.get("dead_out") or 0) - (r.get("units_removed", 0) if units else 0)) else "ok"),
        **({"FLOPs": r["flops_sparse"]} if "flops_sparse" in r else {}),
    } for r in rows])

    if table["target"].isna().all():
        table = table.drop(columns="target")
    if table["dead out"].isna().all():
        table = table.drop(columns="dead out")
    fmt = {"density": "{:.2%}", **({"target": "{:.2%}"} if "target" in table else {})}

    def colour(row):
        bad = row["flag"] != "ok"
        return ["background-color: #fde2e1" if bad else ""] * len(row)

    st.markdown("**Sparsity ledger**" + ("" if res else " (live, from the latest masks)"))
    st.dataframe(table.style.apply(colour, axis=1).format(fmt, na_rep="–"), hide_index=True, width="stretch")
    if led is not None and not led["per_layer_targets"]:
        st.caption(f"{led['method']} sets only the total ({led['requested']:.0%} requested): its layers have no "
                   "target of their own.")
    if units:
        t = led["total"]
        st.caption(f"{t['units_removed']} of {t['units']} hidden units removed; weight sparsity that follows: "
                   f"{t['sparsity']:.2%}.")
    shown = res.get("warnings") if res.get("warnings") is not None else (
        ledger_warnings(led) if led is not None else
        [f"{r['name']}: {'collapsed' if r['collapsed'] else str(r['dead_neurons']) + ' dead units'}"
         for r in rows if r["collapsed"] or r["dead_neurons"]])
    for w in shown:
        st.warning(w, icon=":material/warning:")


def _weights(store: RunStore, run: Run, key: str, final: int | None = None) -> None:
    weights = _latest(store, run.id, "weight/")
    if not weights:
        return
    names = list(weights)[:MAX_LAYERS_SHOWN]
    st.markdown("**Weight histograms** — the values of the weights still in the network (pruned zeros left out).")
    if str(run.config.get("method", "")).startswith("nm-"):
        st.caption("N:M methods train the dense weights and apply the N:M mask in the forward pass, so these "
                   "histograms show dense weights; the exported model holds the exact N:M sparse ones.")
    cols = st.columns(min(3, len(names)))
    for i, name in enumerate(names):
        step, w = weights[name]
        fig = _slow_figure("hist", run, name, HISTOGRAMS_EVERY, lambda: sf.weight_histogram(
            w, title=f"{sf.short(name)}<br><sup>{int((w != 0).sum()):,} non-zero weights{_step_note(step, final)}</sup>"))
        cols[i % len(cols)].plotly_chart(fig, key=f"{key}-hist-{name}")


def _boundary(store: RunStore, run: Run, key: str) -> None:
    grid, pts = store.latest_snapshot(run.id, "boundary"), store.latest_snapshot(run.id, "data/points")
    if grid is None or pts is None:
        return
    left, right = st.columns([3, 2])
    left.plotly_chart(sf.boundary_figure(grid[1], pts[1], title=f"Decision boundary (epoch ending at step {grid[0]})"),
                      key=f"{key}-boundary")
    with right:
        explain("sparse_boundary")


def _speed(res: dict, key: str) -> None:
    rows = res.get("speed")
    if not rows:
        return
    st.markdown("**Speed meter** — the trained model's inference, the same function run on several kernels "
                "(compacted = a physically smaller dense model without the removed units)")
    left, right = st.columns(2)
    left.plotly_chart(sf.speed_figure(rows), key=f"{key}-speed")
    timed = [r for r in rows if r.get("median_ms") is not None]
    table = pd.DataFrame(timed)
    cols = [c for c in ("backend", "batch", "median_ms", "speedup_vs_dense", "theoretical_flop_ratio",
                        "params", "max_abs_diff") if c in table]
    table = table[cols].rename(columns={"median_ms": "ms", "speedup_vs_dense": "speed-up",
                                        "theoretical_flop_ratio": "ideal (FLOPs)", "max_abs_diff": "max |Δ|"})
    with right:
        st.dataframe(table.style.format({"ms": "{:.3f}", "speed-up": "{:.2f}×", "ideal (FLOPs)": "{:.1f}×",
                                         "max |Δ|": "{:.1e}", "params": "{:,}"}, na_rep="∞"),
                     hide_index=True, width="stretch")
        notes = dict.fromkeys(f"{r['backend']}: {r['note']}" for r in rows
                              if r.get("note") and r["backend"] in ("compacted", "n:m"))
        for n in notes:
            st.caption(n)
    explain("sparse_speed")


def _downloads(store: RunStore, run: Run, key: str) -> None:
    names = set(store.artifact_names(run.id))
    shown = [(n, label) for n, label in EXPORTS if n in names]
    if not shown:
        return
    st.markdown("**Exports**")
    cols = st.columns(len(shown))
    for col, (name, label) in zip(cols, shown):
        data, mime = store.artifact(run.id, name)
        col.download_button(label, data, f"sparse-run{run.id}-{name}", mime, key=f"{key}-dl-{name}",
                            icon=":material/download:")
    st.caption("The recipe re-runs this exact configuration: `python -m engine run sparse --recipe recipe.yaml`.")


# --------------------------------------------------------------------------- sweeps
def sweep_rows_from_group(runs: list[Run]) -> list[dict]:
    """One row per finished ``sparse`` run of a sweep group (engine: ``engine.sparse.sweep.rows_from_results``)."""
    return rows_from_results([(r.config, r.result or {}) for r in runs if r.status == "finished"])


def draw_rows(rows: list[dict], key: str, *, store: RunStore | None = None) -> None:
    """The accuracy–sparsity curves and the summary table of sweep rows; a click on a point opens it."""
    if not rows:
        st.info("The curves appear here as soon as the first run finishes.")
        return
    x_axis = st.radio("x axis", list(sf.X_AXES), format_func=sf.X_AXES.get, horizontal=True, key=f"{key}-xaxis",
                      help="A log density axis spreads out 90 / 95 / 98 / 99 % sparsity.")
    event = st.plotly_chart(sf.accuracy_sparsity(rows, x_axis=x_axis), key=f"{key}-curve", on_select="rerun",
                            selection_mode="points")
    agg = sf.sweep_frame(rows)
    table = pd.DataFrame({
        "method": agg["method"], "axis": agg["axis"], "requested": agg["control"],
        "reached (weights)": agg["sparsity"], "mean test acc": agg["mean"],
        "std": ["–" if n < 2 or not np.isfinite(v) else f"{100 * v:.2f} %" for v, n in zip(agg["std"], agg["n"])],
        "seeds": agg["n"]})
    st.dataframe(table.style.format({"requested": "{:.0%}", "reached (weights)": "{:.2%}", "mean test acc": "{:.2%}"}),
                 hide_index=True, width="stretch")
    st.caption("std is the spread across seeds; “–” means one seed (no spread measured).")
    _open_point(event, rows, store, key)


def _clicked(event) -> list[dict]:
    try:
        return list(event.selection.points) if event and event.selection else []
    except AttributeError:
        return []


def _open_point(event, rows: list[dict], store: RunStore | None, key: str) -> None:
    """What a clicked point opens: its run (one run, e.g. one seed), else the rows behind the point."""
    points = _clicked(event)
    if not points:
        st.caption("Click a point to open its run." if any(r.get("run_id") is not None for r in rows)
                   else "Click a point for the runs behind it (the points of this sweep ran inside it, not as runs of their own).")
        return
    custom = points[0].get("customdata") or []
    if len(custom) < 3:
        return
    run_id, method, control = custom[0], custom[1], custom[2]
    if store is not None and run_id is not None and int(run_id) >= 0:
        run = store.get_run(int(run_id))
        with st.container(border=True):
            st.markdown(f"**Opened: run #{run.id}**")
            st.text(run.label)
            draw_sparse(store, run)
        return
    picked = [r for r in rows if r.get("method") == method and abs(sf._control(r) - float(control)) < 1e-9]
    with st.container(border=True):
        st.markdown("**Point detail**")
        st.text(f"{method} at {float(control):.0%}: {len(picked)} run(s)")
        st.dataframe(pd.DataFrame(picked), hide_index=True, width="stretch")
        if store is not None and any(r.get("run_id") is not None for r in picked):
            ids = [int(r["run_id"]) for r in picked if r.get("run_id") is not None]
            rid = st.selectbox("Open a seed's run", ids, key=f"{key}-open",
                               format_func=lambda i: f"#{i} · seed {next(r.get('seed') for r in picked if r.get('run_id') == i)}")
            draw_sparse(store, store.get_run(rid))


def _with_run_ids(rows: list[dict], runs: list[Run]) -> list[dict]:
    """Attach ``run_id`` to sweep rows built from a group's runs (same order, finished runs only)."""
    if all("run_id" in r for r in rows):
        return rows
    done = [r for r in runs if r.status == "finished" and "test_accuracy" in (r.result or {})]
    if len(done) != len(rows):
        return rows
    return [{**row, "run_id": run.id} for row, run in zip(rows, done)]


def draw_group(store: RunStore, group: str, *, key: str, interval: float = 1.0) -> None:
    """A sweep queued as separate ``sparse`` runs sharing ``group``: counts, Cancel, curves as runs finish."""
    from dashboard import jobs

    first_active = any(r.active for r in store.list_runs("sparse", group=group))
    every = interval if first_active else None

    @st.fragment(run_every=every)
    def _view() -> None:
        runs = store.list_runs("sparse", group=group)
        counts = pd.Series([r.status for r in runs]).value_counts().to_dict()
        done = sum(counts.get(s, 0) for s in ("finished", "failed", "cancelled"))
        c1, c2 = st.columns([5, 1])
        c1.markdown(" · ".join(f"**{n}** {s}" for s, n in counts.items()) + f" — {len(runs)} runs")
        active = [r for r in runs if r.active]
        if active and c2.button("Cancel sweep", key=f"{key}-cancel", icon=":material/stop:"):
            for r in active:
                jobs.cancel(r.id)
        if active:
            st.progress(done / max(len(runs), 1), text=f"{done} of {len(runs)} runs done")
        for r in runs:
            if r.status == "failed":
                st.error(f"{plain(r.label)} failed: {plain(r.error)}")  # names and errors may quote user input
        draw_rows(_with_run_ids(sweep_rows_from_group(runs), runs), key, store=store)
        if every is not None and not active:
            st.rerun()

    _view()


def draw_sweep_run(store: RunStore, run: Run) -> None:
    """A ``sweep`` run (one process, e.g. from the CLI): its rows, or while it runs its per-run metrics."""
    key = f"sw-{run.id}"
    rows = (run.result or {}).get("rows")
    if rows is None:
        rows = _partial_sweep_rows(store, run)
    if run.config.get("backend") == "ray":
        total = len(sweep_configs_of(run.config))
        st.caption(f"{len(rows)} of {total} points finished on the Ray cluster ({plain(run.config.get('address'))})"
                   + (f", on {run.result['cluster_cpus']} CPUs." if (run.result or {}).get("cluster_cpus") else "."))
    for f in (run.result or {}).get("failed", []):  # a point whose task or Ray worker failed; the others went on
        st.error(f"Point {plain(f['method'])} {f['control']:g} seed {f['seed']} failed: {plain(f['error'])}")
    draw_rows(rows, key)


def sweep_configs_of(config: dict) -> list:
    """The points of a stored sweep config (none for an old or invalid one)."""
    from engine.sparse.sweep import SweepConfig, sweep_configs

    try:
        return sweep_configs(SweepConfig.from_dict(config))
    except Exception:  # noqa: BLE001 - an older config: count nothing rather than fail
        return []


def _partial_sweep_rows(store: RunStore, run: Run) -> list[dict]:
    """Rows of a running sweep from its metrics (engine: ``engine.sparse.sweep.partial_rows``)."""
    df = store.metrics(run.id)
    if df.empty:
        return []
    return partial_rows(run.config, list(zip(df["name"], df["step"], df["value"])))


# --------------------------------------------------------------------------- sensitivity
def layer_names(config: dict) -> list[str]:
    """The prunable weights of the config's model, in forward order (engine: ``engine.sparse.shapes.layer_names``)."""
    return _layer_names(config)


def draw_sensitivity(store: RunStore, run: Run) -> None:
    key = f"se-{run.id}"
    cfg, res = run.config, run.result or {}
    df = store.metrics(run.id)
    snap = store.latest_snapshot(run.id, "sensitivity")
    head, body = st.container(), st.container()  # fixed slots: the charts keep their place from step 1 to 2
    if snap is None:
        if df.empty:
            if run.active:
                head.info("Training the dense model; its curves appear after the first epoch.")
            return
        head.caption("Step 1 of 2: training the dense model. The layer × sparsity grid starts when it is done.")
        a, b = body.columns(2)
        a.plotly_chart(sf.curves(df, ["train/loss"], title="Dense training loss"), key=f"{key}-loss")
        b.plotly_chart(sf.curves(df, ["train/accuracy", "val/accuracy"], title="Dense accuracy", y_range=(0, 1.02)),
                       key=f"{key}-acc")
        return
    grid = snap[1]
    for f in res.get("failed", []):  # a layer whose Ray task failed: its row stays empty, the others are drawn
        head.error(f"Layer {plain(f['layer'])} failed: {plain(f['error'])}")
    layers = res.get("layers") or layer_names(cfg)
    if len(layers) != grid.shape[0]:
        layers = [f"layer {i}" for i in range(grid.shape[0])]
    sparsities = res.get("sparsities") or list(cfg.get("sparsities", []))
    dense_rows = df[df["name"] == "val/accuracy_dense"] if not df.empty else df
    dense = res.get("dense_accuracy", float(dense_rows["value"].iloc[-1]) if len(dense_rows) else None)
    if dense is not None:
        head.metric("Dense validation accuracy", f"{dense:.2%}", help="The model before any layer is pruned.")
    left, right = body.columns([3, 2])
    left.plotly_chart(sf.sensitivity_heatmap(grid, layers, sparsities, dense=dense), key=f"{key}-heat")
    right.plotly_chart(sf.sensitivity_lines(grid, layers, sparsities, dense=dense), key=f"{key}-lines")
    if res and not run.active:
        st.download_button("Grid (CSV)", pd.DataFrame(grid, index=layers, columns=sparsities).to_csv(),
                           f"sensitivity-run{run.id}.csv", "text/csv", key=f"{key}-csv")
