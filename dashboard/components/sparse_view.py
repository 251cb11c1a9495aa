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
from dashboard.components.common import explain
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
    rows, led = run_ledger(cfg, res, {k: v[1] for k, v in masks.items()})
    _headline(run, df, res, rows, target)
    if not df.empty:
        a, b = st.columns(2)
        a.plotly_chart(sf.curves(df, ["train/loss"], title="Training loss", y_title="cross-entropy"), key=f"{key}-loss")
        acc = [n for n in ("train/accuracy", "val/accuracy", "soup/val_accuracy") if n in set(df["name"])]
        b.plotly_chart(sf.curves(df, acc, title="Accuracy", y_title="accuracy", y_range=(0, 1.02)), key=f"{key}-acc")
    if masks:
        _masks(store, run, masks, key)
    if rows:
        left, right = st.columns([3, 2])
        left.plotly_chart(sf.sparsity_bars([r["name"] for r in rows], [1 - r["density"] for r in rows],
                                           [None if r.get("target_density") is None else 1 - r["target_density"]
                                            for r in rows], requested=target), key=f"{key}-bars")
        with right:
            explain("sparse_ledger")
        _ledger(rows, res, led)
    _weights(store, run, key)
    _boundary(store, run, key)
    if res and not run.active:
        _speed(res, key)
        _downloads(store, run, key)


def _headline(run: Run, df: pd.DataFrame, res: dict, rows: list[dict], target: float) -> None:
    last = df.sort_values("step").groupby("name")["value"].last() if not df.empty else pd.Series(dtype=float)
    kept = sum(r["kept"] for r in rows)
    total = sum(r["total"] for r in rows)
    reached = res.get("sparsity", 1 - kept / total if total else last.get("sparsity", float("nan")))
    c = st.columns(5)
    c[0].metric("Sparsity reached", f"{reached:.2%}", f"requested {target:.0%}", delta_color="off")
    if "test_accuracy" in res:
        c[1].metric("Test accuracy", f"{res['test_accuracy']:.2%}", f"val {res['val_accuracy']:.2%}", delta_color="off")
    elif "val/accuracy" in last:
        c[1].metric("Validation accuracy", f"{last['val/accuracy']:.2%}", "latest epoch", delta_color="off")
    c[2].metric("Prunable weights kept", f"{kept:,}", f"of {total:,}", delta_color="off",
                help="Non-zero entries of the masked weight matrices (biases are never pruned).")
    if "params_total" in res:
        c[3].metric("Parameters ≠ 0", f"{res['params_nonzero']:,}", f"of {res['params_total']:,} (with biases)",
                    delta_color="off")
    if res.get("flops_dense"):
        ratio = res["flops_dense"] / max(res["flops_sparse"], 1)
        c[4].metric("FLOPs per example", f"{res['flops_sparse']:,}", f"{ratio:.1f}× fewer than dense",
                    delta_color="off", help=f"2 × multiply-accumulates of the prunable layers, scaled by their "
                                            f"density; dense: {res['flops_dense']:,}.")


def _masks(store: RunStore, run: Run, masks: dict[str, tuple[int, np.ndarray]], key: str) -> None:
    st.markdown("**Masks** — one pixel per weight: dark = kept, white = pruned; rows are output units, "
                "columns inputs.")
    names = list(masks)[:MAX_LAYERS_SHOWN]
    cols = st.columns(min(3, len(names)))
    for i, name in enumerate(names):
        step, m = masks[name]
        m2 = m.reshape(m.shape[0], -1)
        title = f"{sf.short(name)} {m2.shape[0]}×{m2.shape[1]} · {m2.mean():.1%} kept · step {step}"
        cols[i % len(cols)].plotly_chart(sf.mask_figure(m2, title=title), key=f"{key}-mask-{name}")
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


def _weights(store: RunStore, run: Run, key: str) -> None:
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
            w, title=f"{sf.short(name)}: {int((w != 0).sum()):,} non-zero weights · step {step}"))
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
    st.markdown("**Speed meter** — the trained model's inference, the same weights run three ways")
    left, right = st.columns(2)
    left.plotly_chart(sf.speed_figure(rows), key=f"{key}-speed")
    table = pd.DataFrame(rows)[["backend", "batch", "median_ms", "speedup_vs_dense", "theoretical_flop_ratio",
                                "max_abs_diff"]]
    table.columns = ["backend", "batch", "ms", "speed-up", "ideal (FLOPs)", "max |Δ|"]
    with right:
        st.dataframe(table.style.format({"ms": "{:.3f}", "speed-up": "{:.2f}×", "ideal (FLOPs)": "{:.1f}×",
                                         "max |Δ|": "{:.1e}"}, na_rep="∞"), hide_index=True, width="stretch")
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


def draw_rows(rows: list[dict], key: str) -> None:
    """The accuracy–sparsity curves and the summary table of sweep rows."""
    if not rows:
        st.info("The curves appear here as soon as the first run finishes.")
        return
    st.plotly_chart(sf.accuracy_sparsity(rows), key=f"{key}-curve")
    agg = sf.sweep_frame(rows)
    agg = agg.rename(columns={"requested_sparsity": "requested", "mean": "mean test acc", "std": "std",
                              "n": "seeds", "sparsity": "reached"})
    st.dataframe(agg.style.format({"requested": "{:.0%}", "reached": "{:.2%}", "mean test acc": "{:.2%}",
                                   "std": "{:.2%}"}), hide_index=True, width="stretch")


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
                st.error(f"{r.label} failed: {r.error}")
        draw_rows(sweep_rows_from_group(runs), key)
        if every is not None and not active:
            st.rerun()

    _view()


def draw_sweep_run(store: RunStore, run: Run) -> None:
    """A ``sweep`` run (one process, e.g. from the CLI): its rows, or while it runs its per-run metrics."""
    key = f"sw-{run.id}"
    rows = (run.result or {}).get("rows")
    if rows is None:
        rows = _partial_sweep_rows(store, run)
    draw_rows(rows, key)


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
    if snap is None:
        if df.empty:
            if run.active:
                st.info("Training the dense model; its curves appear after the first epoch.")
            return
        st.caption("Step 1 of 2: training the dense model. The layer × sparsity grid starts when it is done.")
        a, b = st.columns(2)
        a.plotly_chart(sf.curves(df, ["train/loss"], title="Dense training loss"), key=f"{key}-loss")
        b.plotly_chart(sf.curves(df, ["train/accuracy", "val/accuracy"], title="Dense accuracy", y_range=(0, 1.02)),
                       key=f"{key}-acc")
        return
    grid = snap[1]
    layers = res.get("layers") or layer_names(cfg)
    if len(layers) != grid.shape[0]:
        layers = [f"layer {i}" for i in range(grid.shape[0])]
    sparsities = res.get("sparsities") or list(cfg.get("sparsities", []))
    dense_rows = df[df["name"] == "val/accuracy_dense"] if not df.empty else df
    dense = res.get("dense_accuracy", float(dense_rows["value"].iloc[-1]) if len(dense_rows) else None)
    if dense is not None:
        st.metric("Dense validation accuracy", f"{dense:.2%}", help="The model before any layer is pruned.")
    left, right = st.columns([3, 2])
    left.plotly_chart(sf.sensitivity_heatmap(grid, layers, sparsities, dense=dense), key=f"{key}-heat")
    right.plotly_chart(sf.sensitivity_lines(grid, layers, sparsities, dense=dense), key=f"{key}-lines")
    if res and not run.active:
        st.download_button("Grid (CSV)", pd.DataFrame(grid, index=layers, columns=sparsities).to_csv(),
                           f"sensitivity-run{run.id}.csv", "text/csv", key=f"{key}-csv")
