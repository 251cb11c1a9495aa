"""Draw a StackVAE-G run (kind ``stackvaeg``) from the run store: live and finished.

``draw_run(store, run)`` is what the page's live view polls and what the Runs page uses. While
training it shows the adjacency heatmap forming (ordered by learned clusters) and the loss curves;
once finished, the learned graph, the score over time, every protocol's metrics beside the
baselines, a per-segment diagnosis and the comparison with correlation and Lasso graphs.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.components import anomaly_figures as af
from dashboard.components.common import explain, guard, plain
from dashboard.components.figures import heatmap_live, line_chart
from engine.anomaly import export
from engine.anomaly.experiments import cluster_order, top_edges
from engine.anomaly.interpret import channel_contributions
from engine.anomaly.metrics import protocol_winners
from engine.runs.store import Run, RunStore

METHOD_ORDER = ("StackVAE-G", "Random", "PCA", "IsolationForest")
HOVER_MAX = 120  # the live heatmap is hoverable (named axes, colour bar) up to this many channels


def draw_run(store: RunStore, run: Run) -> None:
    key = f"av-{run.id}"
    result = run.result or {}
    if not result:
        draw_training(store, run, key)
        return
    with guard("drawing the run's summary"):
        draw_summary(result)
    tabs = st.tabs(["Learned graph", "Training", "Scores & metrics", "Diagnose a segment", "Compare graphs"])
    with tabs[0], guard("drawing the learned graph"):
        draw_graph(result, key, run.id)
    with tabs[1], guard("drawing the training curves"):
        draw_training(store, run, key)
    if "threshold" not in result:
        for tab in tabs[2:]:
            with tab:
                st.info("The run was cancelled before scoring: only the graph and the training curves were kept.")
        return
    arrays = {}
    with guard("reading the stored scores"):
        arrays = _arrays(store, run.id)
    axis = ("test time step", None)
    with guard("reading the time axis of the data"):
        axis = _axis(run.config, len(arrays.get("test_scores", [])))
    with tabs[2], guard("drawing the scores"):
        draw_scores(result, arrays, key, run.id, axis)
    with tabs[3], guard("drawing the segment diagnosis"):
        draw_segment(result, arrays, key, axis)
    with tabs[4], guard("drawing the graph comparison"):
        draw_comparison(result, key)


@st.cache_data(max_entries=8, show_spinner=False)
def _load_npz(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob)) as z:
        return {k: z[k] for k in z.files}


@st.cache_data(max_entries=8, show_spinner=False)
def _axis(config: dict, test_rows: int) -> tuple[str, np.ndarray | None]:
    """The test part's x axis: an uploaded file's timestamps or rows (engine.anomaly.export.time_axis)."""
    return export.time_axis(config, test_rows)


def _arrays(store: RunStore, run_id: int) -> dict[str, np.ndarray]:
    found = store.artifact(run_id, "scores.npz")
    return _load_npz(found[0]) if found else {}


def draw_training(store: RunStore, run: Run, key: str) -> None:
    """Live part: adjacency snapshot ordered by its own clusters, and the loss curves."""
    snap = store.latest_snapshot(run.id, "adjacency")
    df = store.metrics(run.id)
    if snap is None and df.empty:
        st.info("Preparing the data and the model; the adjacency appears after the first batches.")
        return
    left, right = st.columns(2)
    with left:
        if snap is not None:
            step, adj = snap
            order = cluster_order(adj)
            title = f"Learned adjacency Ã (batch {step}), ordered by learned clusters"
            names = (run.result or {}).get("data", {}).get("channel_names") or _channel_names(store, run, len(adj))
            if len(adj) <= HOVER_MAX:
                fig = af.adjacency_heatmap(adj, names, order, title=title, height=380)
            else:  # many channels: one light image (no hover) keeps the live view fast
                fig = heatmap_live(adj[np.ix_(order, order)], title=title, zmin=0.0, height=380)
            st.plotly_chart(fig, key=f"{key}-live-adj")
    with right:
        if not df.empty:
            auroc = df[df["name"] == "graph/auroc"]
            loss = df[df["name"].str.startswith("train/")].copy()
            loss["name"] = loss["name"].str.removeprefix("train/")
            if not loss.empty:
                st.plotly_chart(line_chart(loss, x="step", y="value", color="name", title="Loss per epoch (log)",
                                           height=320 if auroc.empty else 260)
                                .update_yaxes(type="log").update_xaxes(title="epoch"), key=f"{key}-loss")
            if not auroc.empty:
                st.plotly_chart(line_chart(auroc, x="step", y="value", height=200,
                                           title="Recovery of the true graph: AUROC of |Ã| per epoch")
                                .update_yaxes(range=[0.0, 1.02], title="AUROC").update_xaxes(title="epoch")
                                .add_hline(y=0.5, line_dash="dot", annotation_text="chance"),
                                key=f"{key}-auroc")
    explain("anomaly_training", expanded=False, title="How to read the forming graph and the losses")


def _channel_names(store: RunStore, run: Run, n: int) -> list[str]:
    """Channel names while training (the result is not written yet): from the data's own header
    where it is an uploaded CSV, else ch0, ch1, …"""
    if run.config.get("data") == "smd":  # engine.anomaly.datasets.load_smd's names
        return [f"dim{i + 1}" for i in range(n)]
    if run.config.get("data") == "smap":
        return ["telemetry"] + [f"command{i}" for i in range(1, n)]
    if run.config.get("data") == "csv":
        found = _csv_names(run.config.get("csv_path", ""), run.config.get("label_column", ""),
                           run.config.get("train_fraction", 0.5))
        if len(found) == n:
            return found
    return [f"ch{i:02d}" for i in range(n)]  # engine.anomaly.synthetic's names


@st.cache_data(max_entries=8, show_spinner=False)
def _csv_names(path: str, label_column: str, train_fraction: float) -> list[str]:
    from engine.anomaly.datasets import load_csv
    from engine.errors import DataError

    try:
        return load_csv(path, label_column=label_column or None, train_fraction=train_fraction).channel_names
    except (DataError, OSError):
        return []


def draw_summary(result: dict) -> None:
    d = result["data"]
    st.markdown(f"**{plain(d['name'])}** — {d['train_rows']:,} training rows, {d['test_rows']:,} test rows, "
                f"{d['n_channels']} channels. Source: {plain(d['source'])}.")
    c = st.columns(5)
    c[0].metric("Parameters", f"{result['n_params']:,}",
                help=f"{result['n_params_shared']:,} shared by all channels + {result['n_params_per_channel']} "
                     "per channel (its node embedding)")
    c[1].metric("Epochs", result["epochs_done"])
    c[2].metric("s / epoch", f"{result['seconds_per_epoch']:.2f}")
    c[3].metric("Training windows / s", f"{result['windows_per_second']:,.0f}")
    if "score_seconds" in result:
        c[4].metric("Scoring the test set", f"{result['score_seconds']:.1f} s")
    for note in d["notes"] + result.get("notes", []):
        st.info(plain(note), icon=":material/build:")


def draw_graph(result: dict, key: str, run_id: int = 0) -> None:
    adj = np.asarray(result.get("adjacency") or [], dtype=float)
    if adj.size == 0:
        st.info("The graph has too many channels to draw here.")
        return
    names = result["data"]["channel_names"]
    order = result["order"]
    syn = result.get("synthetic")
    if syn:
        st.markdown(f"On this synthetic series the true graph is known: **AUROC of |Ã| against it = "
                    f"{syn['adjacency_auroc']:.3f}** (1 = every true edge outweighs every false one, 0.5 = chance). "
                    "Node colours are the true groups.")
    most = min(10, len(names) - 1)  # a channel has at most n - 1 neighbours
    if most >= 2:
        k = st.slider("Neighbours drawn per channel", 1, most, min(3, most), key=f"{key}-k")
    else:  # one or two channels: nothing to choose (a slider needs min < max)
        k = max(most, 0)
        st.caption("One channel: there are no edges to draw." if most < 1 else
                   "Two channels: each has one possible neighbour, drawn below.")
    left, right = st.columns(2)
    left.plotly_chart(af.graph_figure(top_edges(adj, k), names, order, groups=syn["groups"] if syn else None,
                                      title=f"Learned graph: top-{k} neighbours, width = weight"), key=f"{key}-g")
    right.plotly_chart(af.adjacency_heatmap(adj, names, order, title="Ã ordered by learned clusters", height=460),
                       key=f"{key}-h")
    c = st.columns(3)
    c[0].download_button("Ã as CSV (named)", export.adjacency_csv(adj, names),
                         f"stackvaeg-run{run_id}-adjacency.csv", "text/csv", key=f"{key}-dl-adj-csv",
                         icon=":material/download:", help="Row i, column j: the weight channel i draws from channel j.")
    c[1].download_button("Ã as .npy", export.adjacency_npy(adj), f"stackvaeg-run{run_id}-adjacency.npy",
                         "application/octet-stream", key=f"{key}-dl-adj-npy", icon=":material/download:",
                         help="float64, rows and columns in the data's channel order (the CSV's header).")
    if k:
        c[2].download_button(f"Top-{k} edges (CSV)", export.edge_list(adj, names, k).to_csv(index=False),
                             f"stackvaeg-run{run_id}-top{k}-edges.csv", "text/csv", key=f"{key}-dl-edges",
                             icon=":material/download:", help="channel, neighbour, rank, weight: the edges drawn.")
    explain("anomaly_graph", expanded=False, title="What the learned graph means")


def _metrics_table(result: dict) -> pd.DataFrame:
    rows = {}
    for name in METHOD_ORDER:
        m = result.get("metrics", {}).get(name)
        if m is None:
            continue
        rows[name] = {
            "P (POT)": m["pot"]["point"]["precision"], "R (POT)": m["pot"]["point"]["recall"],
            "F1 (POT)": m["pot"]["point"]["f1"], "PA-F1 (POT)": m["pot"]["pa"]["f1"],
            "best F1": m["best_f1"]["f1"], "best F1 + PA": m["best_f1_pa"]["f1"],
            "PA%K AUC": m["pa_k"]["auc"], "AUROC": m["auroc"], "AUPRC": m["auprc"],
            "HitRate@100": m.get("hitrate@100"), "HitRate@150": m.get("hitrate@150"),
        }
    return pd.DataFrame(rows).T.astype(float)


def draw_scores(result: dict, arrays: dict, key: str, run_id: int = 0,
                axis: tuple[str, np.ndarray | None] = ("test time step", None)) -> None:
    if not arrays:
        st.info("The score arrays of this run are not stored.")
        return
    labels = arrays["labels"] if arrays["labels"].size else None
    st.plotly_chart(af.score_figure(arrays["test_scores"], labels, result["threshold"], axis=axis[1],
                                    axis_title=axis[0],
                                    title="StackVAE-G anomaly score on the test part (red: labelled anomalies)"),
                    key=f"{key}-score")
    st.download_button("Scores per step (CSV)",
                       export.scores_csv(arrays["test_scores"], labels, result["threshold"], axis=axis[1],
                                         axis_name=axis[0].replace(" ", "_")),
                       f"stackvaeg-run{run_id}-scores.csv", "text/csv", key=f"{key}-dl-scores",
                       icon=":material/download:", help="One row per test time step: score, label, above the POT threshold.")
    if "metrics" in result:
        st.markdown("**Every protocol, beside the baselines** (P/R/F1 at the POT threshold fitted on training "
                    "scores; *best F1* picks the best threshold with hindsight):")
        table = _metrics_table(result).map(lambda v: "–" if pd.isna(v) else f"{v:.3f}")
        st.dataframe(table, width="stretch")
        wins = protocol_winners(result["metrics"])
        if wins:
            st.markdown("**Who wins on this run, per protocol** (random excluded): " + "; ".join(
                f"{w['protocol']}: **{w['winner']}** {w['value']:.3f}"
                + (f" (then {w['runner_up']} {w['runner_up_value']:.3f})" if w["runner_up"] else "")
                + (f", random {w['random']:.3f}" if w["random"] is not None else "") for w in wins) + ".")
            st.caption("Without point adjustment (F1 at POT, best F1, AUROC, AUPRC) the learned model is often only "
                       "level with PCA, e.g. on SMD; point adjustment counts a whole labelled segment as found when "
                       "one step of it is flagged, which is why random scores reach PA-F1 ≈ 0.7–0.8 here. Read the "
                       "PA columns beside random's, not on their own.")
        pa_k = pd.DataFrame({name: result["metrics"][name]["pa_k"]["f1"] for name in result["metrics"]},
                            index=result["metrics"]["StackVAE-G"]["pa_k"]["ks"])
        long = pa_k.rename_axis("K").reset_index().melt(id_vars="K", var_name="method", value_name="F1")
        st.plotly_chart(line_chart(long, x="K", y="F1", color="method", title="PA%K: F1 at the POT threshold vs K",
                                   height=280), key=f"{key}-pak")
    explain("anomaly_metrics", expanded=False, title="Why several protocols, and why random looks good under PA")


def draw_segment(result: dict, arrays: dict, key: str,
                 axis: tuple[str, np.ndarray | None] = ("test time step", None)) -> None:
    faults = result.get("faults") or []
    if not faults or not arrays:
        st.info("No labelled anomaly segment to diagnose.")
        return
    names = result["data"]["channel_names"]
    labels = [f"{f['start']}–{f['end']}" + (f" (true: {f['true_kind']} fault)" if f["true_kind"] else "")
              for f in faults]
    i = st.selectbox("Segment", range(len(faults)), format_func=labels.__getitem__, key=f"{key}-seg")
    f = faults[i]
    shares = channel_contributions(arrays["channel_scores"], f["start"], f["end"])
    verdict = {"sensor": "**sensor fault** — one channel stands out while its graph neighbours stay normal",
               "system": "**system fault** — the top channel's graph neighbours are elevated too",
               "none": "**nothing stands out** — no channel is 3× above its usual error"}[f["kind"]]
    st.markdown(f"Verdict: {verdict}. Top channel **{plain(names[f['top_channel']])}** at {f['top_ratio']:.1f}× "
                f"its median training error; {f['elevated_fraction']:.0%} of its neighbours "
                f"({plain(', '.join(names[j] for j in f['neighbours'])) or 'none'}) are elevated."
                + (f" The generator injected a **{f['true_kind']}** fault." if f["true_kind"] else ""))
    left, right = st.columns(2)
    left.plotly_chart(af.contribution_figure(shares, names, truth=f["channels"], neighbours=f["neighbours"],
                                             title="Share of the segment's score per channel"), key=f"{key}-contrib")
    left.caption("Red: the labelled channels of this anomaly. Orange: the top channel's graph neighbours.")
    pad = max(50, f["end"] - f["start"])
    a, b = max(0, f["start"] - pad), min(len(arrays["test_scores"]), f["end"] + pad)
    lab = arrays["labels"][a:b] if arrays["labels"].size else None
    sub = axis[1][a:b] if axis[1] is not None and len(axis[1]) == len(arrays["test_scores"]) else None
    right.plotly_chart(af.score_figure(arrays["test_scores"][a:b], lab, result["threshold"],
                                       segment=(f["start"] - a, f["end"] - a), axis=sub if sub is not None
                                       else np.arange(a, b), axis_title=axis[0],
                                       title="Score around the segment"), key=f"{key}-zoom")
    if "fault_accuracy" in result:
        st.caption(f"Sensor/system verdicts agree with the generator on {result['fault_accuracy']:.0%} of the "
                   "synthetic anomalies.")
    explain("anomaly_faults", expanded=False, title="The sensor-vs-system rule")


def draw_comparison(result: dict, key: str) -> None:
    graphs = result.get("graphs") or {}
    adj = result.get("adjacency")
    if not graphs or adj is None:
        st.info("No comparison graphs for this run (one channel, or too many channels to draw).")
        return
    names = result["data"]["channel_names"]
    syn = result.get("synthetic") or {}
    order = result["order"]
    if syn and st.radio("Order channels by", ["learned clusters", "true groups"], horizontal=True,
                        key=f"{key}-cmp-order") == "true groups":
        order = [int(i) for i in np.argsort(syn["groups"], kind="stable")]
    panels = [("StackVAE-G Ã", adj, syn.get("adjacency_auroc")),
              ("|correlation|, top-k", graphs["correlation"], syn.get("correlation_auroc")),
              ("Lasso |coefficients|", graphs["lasso"], syn.get("lasso_auroc"))]
    if "glasso" in graphs:  # runs recorded before the graphical lasso was added have none
        panels.append(("Graphical lasso |partial corr.|", graphs["glasso"], syn.get("glasso_auroc")))
    cols = st.columns(len(panels))
    for col, (name, mat, auc) in zip(cols, panels):
        title = name + (f" — AUROC {auc:.3f}" if auc is not None else "")
        col.plotly_chart(af.adjacency_heatmap(np.asarray(mat, dtype=float), names, order, title=title, height=380),
                         key=f"{key}-cmp-{name}")
    explain("anomaly_compare", expanded=False, title="Learned graph vs correlation and Lasso")
