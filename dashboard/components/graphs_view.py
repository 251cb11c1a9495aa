"""Draw an SSumM run (kinds ``ssumm`` and ``ssumm-sweep``) from the run store: live and finished.

``draw_run(store, run)`` is what :func:`dashboard.components.live.live` polls and what the Runs page
uses for these kinds. It reads only what the experiment reported (metrics, snapshots, files).
"""
from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.components import graphs_figures as gf
from dashboard.components.common import explain, guard, plain
from dashboard.components.figures import heatmap_static
from engine.runs.store import Run, RunStore

# Above these sizes nothing is drawn node by node in the browser (the experiment agrees: it then
# stores no edge list for drawing).
DRAW_MAX_NODES = 2_000
DRAW_MAX_EDGES = 20_000
EXPORTS = (("summary.txt", "Summary (authors' format)"), ("summary.graphml", "GraphML"),
           ("summary.json", "JSON"))


def draw_run(store: RunStore, run: Run) -> None:
    if run.kind == "ssumm-sweep":
        draw_sweep(store, run)
    else:
        draw_ssumm(store, run)


def _wide(store: RunStore, run_id: int) -> pd.DataFrame:
    df = store.metrics(run_id)
    if df.empty:
        return pd.DataFrame()
    return df.pivot_table(index="step", columns="name", values="value", aggfunc="last").sort_index()


def _plural(k: int, word: str) -> str:
    return f"{k:,} {word}{'s' if k != 1 else ''}"


def _bits(x: float) -> str:
    return f"{x / 8192:,.1f} KiB" if x >= 8192 * 10 else f"{x:,.0f} bits"


def draw_ssumm(store: RunStore, run: Run) -> None:
    key = f"gv-{run.id}"
    df = store.metrics(run.id)
    if df.empty and not run.result:
        st.info("Loading the graph; the first iteration appears here as soon as it is done.")
        return
    if not df.empty:
        wide = _wide(store, run.id)
        last = wide.iloc[-1]
        if run.active and "size_bits" in last:
            st.caption(f"Iteration {int(wide.index[-1])}: {int(last.get('supernodes', 0)):,} supernodes, "
                       f"{int(last.get('superedges', 0)):,} superedges, size {_bits(last['size_bits'])} "
                       f"for a budget of {_bits(last.get('target_bits', float('nan')))}.")
        st.plotly_chart(gf.progress_figure(df), key=f"{key}-progress")
        explain("graphs_progress", expanded=False, title="How to read these curves")
    if run.active or not run.result:
        return
    _draw_result(store, run, key)


def _draw_result(store: RunStore, run: Run, key: str) -> None:
    r = run.result
    c = st.columns(4)
    c[0].metric("Nodes |V|", f"{r['nodes']:,}")
    c[1].metric("Edges |E|", f"{r['edges']:,}")
    c[2].metric("Supernodes |S|", f"{r['supernodes']:,}")
    c[3].metric("Superedges |P|", f"{r['superedges']:,}")
    pct = r["size_bits"] / r["input_bits"] if r["input_bits"] else float("nan")
    c = st.columns(4)
    c[0].metric("Size / input", f"{pct:.1%}", f"budget {r['ratio']:.0%}", delta_color="off",
                help="Summary bits as a share of the input's 2·|E|·log2|V| bits; the budget is the ratio you chose.")
    c[1].metric("Size", _bits(r["size_bits"]), f"budget {_bits(r['target_bits'])}", delta_color="off",
                help=f"{r['size_bits']:,.0f} bits; input {r['input_bits']:,.0f} bits")
    c[2].metric("RE1", f"{r['re1']:.3g}", help="Σ|A − Â| / (|V|(|V|−1))")
    c[3].metric("RE2", f"{r['re2']:.3g}", help="√Σ(A − Â)² / (|V|(|V|−1))")
    explain("graphs_quantities", expanded=False, title="What do these numbers mean?")
    for note in r.get("notes", []):
        (st.warning if "budget" in note or "Cancelled" in note else st.info)(plain(note))

    snap = store.latest_snapshot(run.id, "supernode_of")
    sup = store.latest_snapshot(run.id, "superedges")
    if snap is None or sup is None:
        return
    sn, table = snap[1].astype(np.int64), sup[1]
    members = np.bincount(sn, minlength=int(r["supernodes"]))
    groups = store.latest_snapshot(run.id, "groups")
    colour_by = "supernode"
    if groups is not None and r.get("drawable", True):
        kind = r.get("group_kind") or "group"
        colour_by = st.radio("Colour the input's nodes by", ["supernode", f"{kind} (ground truth)"],
                             horizontal=True, key=f"{key}-colour")
    left, right = st.columns(2)
    with left, guard("drawing the input graph"):
        _draw_input(store, run, sn, members, table, None if colour_by == "supernode" else groups[1], key)
    with right, guard("drawing the summary graph"):
        _draw_summary(table, members, key)
    explain("graphs_drawings", expanded=False, title="About these two drawings")
    if not r.get("drawable", True) or r["nodes"] > DRAW_MAX_NODES or r["edges"] > DRAW_MAX_EDGES:
        _explore_large(store, run, sn, table, key)

    with guard("drawing the adjacency heatmaps"):
        _draw_heatmaps(store, run, members, key)
    _downloads(store, run, key)


def _draw_heatmaps(store: RunStore, run: Run, members: np.ndarray, key: str) -> None:
    r = run.result
    orig = store.latest_snapshot(run.id, "adjacency_original")
    recon = store.latest_snapshot(run.id, "adjacency_reconstructed")
    if orig is not None and recon is not None:
        hi = float(max(orig[1].max(), recon[1].max(), 1e-9))
        side = orig[1].shape[0]
        a, b = st.columns(2)
        fig_a = heatmap_static(orig[1], title="Input adjacency A, nodes ordered by supernode",
                               colorscale="Blues", zmin=0, zmax=hi, max_side=256, height=430)
        fig_r = heatmap_static(recon[1], title="Reconstruction Â from the summary",
                               colorscale="Blues", zmin=0, zmax=hi, max_side=256, height=430)
        a.plotly_chart(gf.add_block_lines(fig_a, members, side), key=f"{key}-adj-a")
        b.plotly_chart(gf.add_block_lines(fig_r, members, side), key=f"{key}-adj-r")
        notes = []
        if 1 < members.size <= 60:
            notes.append("Thin red lines separate the supernodes.")
        if side < r["nodes"]:
            notes.append(f"Both block-averaged to {side}×{side} pixels: each pixel is the mean over about "
                         f"{(r['nodes'] / side) ** 2:,.0f} node pairs.")
        if notes:
            st.caption(" ".join(notes))
        explain("graphs_heatmaps", expanded=False, title="About the two heatmaps")


def _member_ids(store: RunStore, run: Run, sn: np.ndarray) -> list:
    """Original node ids (from the stored summary), or 0..n-1 when it is missing."""
    found = store.artifact(run.id, "summary.json")
    if found is not None:
        data = json.loads(found[0])
    else:
        text = store.artifact(run.id, "summary.txt")
        if text is None:
            return list(range(sn.size))
        from engine.graphs.experiments import summary_json

        data = summary_json(text[0].decode(), {})
    ids: list = [None] * sn.size
    order = np.argsort(sn, kind="stable")
    flat = [m for s in data["supernodes"] for m in s["members"]]
    for i, node_id in zip(order.tolist(), flat):
        ids[i] = node_id
    return ids


def _draw_input(store: RunStore, run: Run, sn: np.ndarray, members: np.ndarray, table: np.ndarray,
                groups: np.ndarray | None, key: str) -> None:
    r = run.result
    edges = store.latest_snapshot(run.id, "edges")
    if edges is None or r["nodes"] > DRAW_MAX_NODES or r["edges"] > DRAW_MAX_EDGES:
        st.info(f"The input has {r['nodes']:,} nodes and {r['edges']:,} edges: more than this page draws node "
                f"by node ({DRAW_MAX_NODES:,} nodes / {DRAW_MAX_EDGES:,} edges), so only the summary and its "
                "statistics are shown.")
        fig = px.histogram(x=members, nbins=40, log_y=True, title="Supernode sizes (members per supernode)")
        fig.update_layout(margin=gf.MARGIN, height=380, xaxis_title="members", yaxis_title="supernodes")
        st.plotly_chart(fig, key=f"{key}-hist")
        return
    e = edges[1]
    pos = gf.spring_layout(e, sn.size)
    ids = _member_ids(store, run, sn)
    linked = np.zeros(members.size, dtype=bool)
    linked[table[:, :2].astype(np.int64).ravel()] = True  # supernodes with at least one superedge
    if groups is None:
        colors = gf.group_colors(sn)
        for i in np.flatnonzero(~linked[sn]):
            colors[i] = gf.UNLINKED
        title = "Input graph, nodes coloured by supernode"
    else:
        colors = gf.group_colors(groups, grey_singletons=False)
        title = f"Input graph, coloured by {r.get('group_kind') or 'group'}"
    hover = [f"node {html.escape(str(ids[i]))}<br>supernode {sn[i]} ({_plural(int(members[sn[i]]), 'member')})"
             + ("" if linked[sn[i]] else "<br>no superedge: its pairs reconstruct as 0") for i in range(sn.size)]
    st.plotly_chart(gf.graph_figure(pos, e, colors, hover, title=title), key=f"{key}-input")
    if groups is None:
        st.caption("Grey: a node alone in its supernode. White: nodes whose supernode kept no superedge "
                   "(SSumM gathers those into one supernode; the summary says nothing about their edges).")


@st.cache_resource(show_spinner="Reading the input graph …", max_entries=2)
def _input_graph(source: str):
    """The run's input graph, read once per server for the large-graph views (the engine's loader)."""
    from engine.graphs.generators import load_source

    return load_source(source)


def _explore_large(store: RunStore, run: Run, sn: np.ndarray, table: np.ndarray, key: str) -> None:
    """Three windows onto a graph too large to draw whole: largest supernodes, one node's
    neighbourhood coloured by supernode, and A / Â at one pixel per node on the densest supernodes."""
    from engine.graphs.explore import dense_crop, largest_supernodes, neighbourhood

    st.subheader("Look inside a large graph")
    ids = _member_ids(store, run, sn)
    biggest = largest_supernodes(sn, table, ids, k=10)
    st.markdown("**The largest supernodes** (their members are original node ids):")
    st.dataframe(pd.DataFrame(biggest), hide_index=True, key=f"{key}-largest")
    if any(row["superedges"] == 0 and row["members"] > 1 for row in biggest):
        st.caption("A supernode with no superedge is where SSumM gathers the nodes whose blocks were all "
                   "dropped to fit the budget: the summary reconstructs every pair touching it as 0.")
    source = run.config.get("source", "")
    try:
        g = _input_graph(source)
    except Exception as err:  # noqa: BLE001 - the file may have moved since the run
        st.info(f"The input graph cannot be read again ({err}); only the summary is shown.")
        return
    if g.n_nodes != sn.size:
        st.info("The input graph changed since this run; its neighbourhood and crops are not shown.")
        return
    index = {str(x): i for i, x in enumerate(g.node_ids.tolist())}
    linked = [row["supernode"] for row in biggest if row["superedges"] > 0] or [int(sn[0])]
    degree = np.bincount(g.edges.ravel(), minlength=g.n_nodes)
    pool = np.flatnonzero(sn == linked[0])
    first = str(ids[int(pool[np.argmax(degree[pool])])])   # best-connected member of the largest linked one
    left, right = st.columns(2)
    with left:
        typed = st.text_input("Node id to look around (original id)", first, key=f"{key}-center")
        center = index.get(typed.strip())
        if center is None:
            st.warning(f"No node with id {typed.strip()[:40]!r} in this graph.", icon=":material/search_off:")
        else:
            nodes, e = neighbourhood(g.edges, g.n_nodes, center, radius=2, max_nodes=300)
            pos = gf.spring_layout(e, nodes.size)
            colors = gf.group_colors(sn[nodes])
            hover = [f"node {ids[i]}<br>supernode {sn[i]}" + (" (the chosen node)" if i == center else "")
                     for i in nodes.tolist()]
            st.plotly_chart(gf.graph_figure(pos, e, colors, hover, height=430,
                                            title=f"2 hops around node {ids[center]} · {nodes.size} nodes"),
                            key=f"{key}-ego")
            st.caption("Colours are supernodes: nodes that SSumM merged look alike here because they share "
                       "neighbours. At most 300 nodes are drawn, nearest first.")
    with right:
        nodes, A, R = dense_crop(g.edges, sn, table, max_nodes=300)
        labels = [f"node {ids[i]} (s{sn[i]})" for i in nodes.tolist()]
        tab_a, tab_r = st.tabs(["Input A", "Reconstruction Â"])
        for tab, mat, name in ((tab_a, A, "A"), (tab_r, R, "Â")):
            fig = heatmap_static(mat, x=labels, y=labels, colorscale="Blues", zmin=0, zmax=1, max_side=300,
                                 height=430, title=f"{name}: densest supernodes, 1 px per node")
            fig.update_xaxes(showticklabels=False)
            fig.update_yaxes(showticklabels=False)
            tab.plotly_chart(fig, key=f"{key}-crop-{name}")
        st.caption(f"{nodes.size} nodes of the densest supernodes (at least 2 members), ordered by supernode: "
                   "unlike the block-averaged maps above, each cell is one node pair; hover for the ids.")


def _draw_summary(table: np.ndarray, members: np.ndarray, key: str) -> None:
    S = members.size
    P = table[:, :2].astype(np.int64)
    density = table[:, 3] if table.shape[1] > 3 else np.zeros(len(table))
    if S > DRAW_MAX_NODES or len(P) > DRAW_MAX_EDGES:
        st.info(f"The summary has {S:,} supernodes and {len(P):,} superedges: too many to draw here. "
                "Download it below (GraphML opens in Gephi or Cytoscape).")
        return
    between = P[:, 0] != P[:, 1]
    pos = gf.spring_layout(P[between], S, weights=density[between])
    inside = np.zeros(S)
    inside[P[~between, 0]] = density[~between]
    degree = np.bincount(P[between].ravel(), minlength=S)
    hover = [f"supernode {s}: {_plural(int(members[s]), 'member')}<br>density inside {inside[s]:.2f}"
             f"<br>{_plural(int(degree[s]), 'superedge')} to others" for s in range(S)]
    st.plotly_chart(gf.summary_figure(pos, P, density, members, hover,
                                      title="Summary graph: size ∝ members, width ∝ density"),
                    key=f"{key}-summary")


def _downloads(store: RunStore, run: Run, key: str) -> None:
    """The summary's files: stored ones as they are; the others built from summary.txt on click."""
    from engine.graphs.experiments import MIME, export_file

    names = set(store.artifact_names(run.id))
    cols = st.columns(len(EXPORTS))
    for col, (name, label) in zip(cols, EXPORTS):
        if name in names:
            data = store.artifact(run.id, name)[0]
        elif "summary.txt" in names and run.result:
            def data(name=name) -> bytes:    # built only when the user clicks
                return export_file(name, store.artifact(run.id, "summary.txt")[0].decode(), run.result)
        else:
            continue
        col.download_button(f"Download {label}", data, f"ssumm-run{run.id}-{name}", MIME[name],
                            key=f"{key}-dl-{name}", icon=":material/download:")


def draw_sweep(store: RunStore, run: Run) -> None:
    key = f"gs-{run.id}"
    wide = _wide(store, run.id)
    if wide.empty or "size_fraction" not in wide:
        st.info("The first ratio is being summarized; each finished ratio adds a point here.")
        return
    rows = wide.reset_index(drop=True)
    st.plotly_chart(gf.sweep_figure(rows), key=f"{key}-curve")
    shown = rows[["ratio", "size_fraction", "re1", "re2", "supernodes", "superedges", "seconds"]].copy()
    shown["size_fraction"] = shown["size_fraction"].map("{:.1%}".format)
    shown[["supernodes", "superedges"]] = shown[["supernodes", "superedges"]].astype(int)
    st.dataframe(shown.rename(columns={"size_fraction": "size / input"}), hide_index=True, width="stretch")
    found = store.artifact(run.id, "sweep.csv")
    if found is not None:
        st.download_button("Download the curve (CSV)", found[0], f"ssumm-sweep-run{run.id}.csv", "text/csv",
                           key=f"{key}-dl", icon=":material/download:")
