"""Time series → Inspect an adjacency: any model's learned graph, clustered, thresholded, compared."""
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import jobs
from dashboard.components import anomaly_inspect as fig
from dashboard.components.common import guard, plain
from engine.anomaly import adjacency as J

MAX_DRAWN = 400  # heatmap side drawn; larger matrices are block-averaged for display only
MAX_GRAPH = 300  # channels drawn as a node-link graph
MAX_GRAPH_EDGES = 3000

st.title("Inspect an adjacency")
st.caption("Open the graph a model learned — GDN, MTGNN, StackVAE-G or your own — as a square matrix: row i, "
           "column j holds the weight of channel j for channel i. Negative weights are kept and drawn in red on a "
           "scale centred on 0; clustering, thresholds, top-k, degrees and the comparison use |weight|.")


@st.cache_data(max_entries=8, show_spinner="Reading the matrix…")
def _read(blob: bytes, filename: str, names_blob: bytes | None) -> J.Adjacency:
    return J.read_matrix(blob, filename, names_blob)


@st.cache_data(max_entries=8, show_spinner="Finding communities…")
def _communities(a: np.ndarray, method: str, n_clusters: int | None) -> np.ndarray:
    return J.communities(a, method, n_clusters=n_clusters)


@st.cache_data(max_entries=8, show_spinner="Summarising…")
def _summary(a: np.ndarray) -> dict:
    return J.summary(a)


def _upload(label: str, key: str) -> J.Adjacency | None:
    up = st.file_uploader(label, type=["csv", "txt", "npy"], key=key)
    names = None
    if up is not None and up.name.lower().endswith(".npy"):
        names = st.file_uploader("Channel names for the .npy (optional): one per line", type=["txt", "csv"],
                                 key=f"{key}-names")
    if up is None:
        return None
    return _read(up.getvalue(), up.name, names.getvalue() if names is not None else None)


def _from_run() -> tuple[J.Adjacency | None, np.ndarray | None]:
    runs = [r for r in jobs.my_runs("stackvaeg") if r.status == "finished"]
    if not runs:
        st.info("No finished StackVAE-G run in this session yet: train one on Time series → Learned adjacency, "
                "or upload a matrix.")
        return None, None
    run = st.selectbox("Run", runs, format_func=lambda r: f"#{r.id} · {plain(r.name or r.kind)}", key="ai-run")
    found = jobs.store().latest_snapshot(run.id, "adjacency")
    if found is None:
        st.info("This run kept no adjacency snapshot.")
        return None, None
    a = np.asarray(found[1], dtype=float)
    result = run.result or {}
    names = (result.get("data") or {}).get("channel_names") or [str(i) for i in range(len(a))]
    truth = (result.get("synthetic") or {}).get("true_graph")
    matrix, names = J.check_matrix(a, names[:len(a)], source=f"Run #{run.id}'s adjacency")
    return J.Adjacency(matrix, names), (np.asarray(truth, dtype=float) if truth is not None else None)


adj, truth = None, None
source = st.radio("Matrix", ["Upload a matrix", "A finished StackVAE-G run"], horizontal=True, key="ai-src")
with guard("Cannot use this matrix"):
    if source == "Upload a matrix":
        adj = _upload("Square matrix: CSV with a header of channel names, or .npy", "ai-up")
        if adj is None:
            st.info("Upload a matrix to continue (CSV: first line the channel names, then one row per channel).")
    else:
        adj, truth = _from_run()
if adj is None:
    st.stop()

a, names = adj.matrix, adj.names
n = len(a)
for note in adj.notes:
    st.caption(plain(note))

with guard("summarising the matrix"):
    s = _summary(a)
    c = st.columns(5)
    c[0].metric("Channels", f"{n:,}")
    c[1].metric("Nonzero off-diagonal", f"{s['density']:.1%}")
    c[2].metric("Symmetric", "yes" if s["symmetric"] else "no", delta=None if s["symmetric"] else
                f"asymmetry {s['asymmetry']:.2f}", delta_color="off", help="Asymmetry = max|A − Aᵀ| / max|A| (0 = symmetric).")
    c[3].metric("Self-loops", f"{s['self_loops']:,}", help=f"Total |weight| on the diagonal: {s['self_loop_weight']:.4g}")
    c[4].metric("Negative weights", f"{s['negative']:,}",
                help="Kept and drawn in red; clustering, thresholds and the comparison use |weight|.")
    st.caption(f"Weights from {s['min']:.4g} to {s['max']:.4g}"
               + ("; every row sums to 1 (row-normalised)." if s["row_sums_one"] else "."))

st.subheader("Communities and sparsity")
c = st.columns([2, 1, 2, 2])
method = c[0].radio("Communities", ["louvain", "spectral"], horizontal=True, key="ai-method",
                    format_func={"louvain": "Louvain (networkx)", "spectral": "Spectral clustering"}.__getitem__)
k_clusters = int(c[1].number_input("Clusters (0 = auto)", 0, 100, 0, key="ai-nc", disabled=method != "spectral",
                                   help="Spectral clustering only; 0 picks the largest eigengap."))
mode = c[2].radio("Keep edges by", ["top-k per row", "threshold on |weight|"], horizontal=True, key="ai-mode")
top = float(np.abs(a).max()) or 1.0  # slider keys carry the size and range: a new matrix starts them afresh
if mode == "top-k per row":
    top_k, threshold = int(c[3].slider("k", 1, max(1, min(n - 1, 100)), min(5, n - 1), key=f"ai-k-{n}")), None
else:
    threshold, top_k = float(c[3].slider("|weight| ≥", 0.0, top, top / 10, top / 200, key=f"ai-th-{n}-{top:.6g}", format="%.4g")), None
if n > J.DENSE_LIMIT:
    st.caption(f"{n:,} channels: communities are found on each channel's {J.SPARSE_K} strongest neighbours of the "
               "full matrix; every other number uses the full matrix.")

labels, order, keep = None, list(range(n)), None
with guard("finding communities"):
    labels = _communities(a, method, k_clusters or None)
    order = J.community_order(a, labels)
with guard("thresholding"):
    keep = J.keep_edges(a, threshold=threshold, top_k=top_k)
    st.caption(f"Kept **{int(keep.sum()):,}** edges: density **{J.density(keep):.2%}** of the {n * (n - 1):,} "
               f"off-diagonal pairs; **{0 if labels is None else len(np.unique(labels))}** communities.")

left, right = st.columns([3, 2])
with left, guard("drawing the matrix"):
    shown, block = J.block_average(a[np.ix_(order, order)], MAX_DRAWN)
    if block > 1:
        st.caption(f"Drawn as the mean of {block}×{block} blocks ({len(shown)}×{len(shown)}); computed on the full "
                   f"{n:,}×{n:,} matrix.")
    st.plotly_chart(fig.matrix_heatmap(shown, names, order, block, signed=s["negative"] > 0,
                                       title="Matrix ordered by community"), key="ai-heat")
with right, guard("drawing the graph"):
    if labels is None or keep is None:
        st.info("No graph to draw.")
    elif n > MAX_GRAPH:
        st.info(f"{n:,} channels are too many to draw as a graph (at most {MAX_GRAPH}); the matrix, the "
                "distributions and the exports cover all of them.")
    else:
        edges = J.edge_indices(a, keep, MAX_GRAPH_EDGES)
        pos = J.layout(keep, a)
        st.plotly_chart(fig.community_graph(pos, edges, names, labels,
                                            title=f"Kept edges by community ({len(edges):,})"),
                        key="ai-graph")

with guard("drawing the distributions"):
    if keep is not None:
        d = J.degrees(keep)
        c = st.columns(2)
        c[0].plotly_chart(fig.histogram(d["out"] + d["in"], title="Degree of the kept graph (in + out)",
                                        xlabel="degree"), key="ai-deg")
        c[1].plotly_chart(fig.histogram(J.off_diagonal_weights(a), title="Nonzero off-diagonal weights",
                                        xlabel="weight"), key="ai-w")

st.subheader("Compare with another matrix or a ground truth")
other = None
choices = ["Upload a second matrix"] + (["The run's true graph"] if truth is not None else [])
pick = st.radio("Compare with", choices, horizontal=True, key="ai-cmp-src")
with guard("Cannot compare"):
    if pick == "The run's true graph":
        other = truth
    else:
        second = _upload("Second matrix or 0/1 ground truth (same channels, same order)", "ai-up2")
        if second is not None:
            other = second.matrix
    if other is not None:
        kc = int(st.number_input("k for top-k edge sets", 1, max(1, n - 1), min(5, n - 1), key=f"ai-cmp-k-{n}"))
        r = J.compare(a, other, k=kc)
        c = st.columns(3)
        c[0].metric("AUROC of |A| vs the other", "–" if r["auroc"] is None else f"{r['auroc']:.3f}",
                    help="The other matrix as 0/1 truth; a weighted one is cut to its top-k per row first.")
        c[1].metric(f"Top-{kc} Jaccard", f"{r['jaccard']:.3f}")
        c[2].metric("Edges only here / only there", f"{len(r['only_a']):,} / {len(r['only_b']):,}")
        rows = ([(names[i], names[j], "this matrix only") for i, j in r["only_a"][:500]]
                + [(names[i], names[j], "the other only") for i, j in r["only_b"][:500]])
        if rows:
            st.dataframe(pd.DataFrame(rows, columns=["row channel", "column channel", "edge in"]), hide_index=True,
                         height=240, key="ai-cmp-table")
    else:
        st.caption("Upload a second matrix to compare.")

st.subheader("Export")
with guard("preparing the exports"):
    if labels is not None and keep is not None:
        c = st.columns(3)
        c[0].download_button("Ordered matrix (CSV)", J.ordered_csv(a, names, order) if n <= 2000 else "",
                             "adjacency_ordered.csv", "text/csv", key="ai-dl-m", disabled=n > 2000,
                             help="Up to 2,000 channels." if n > 2000 else None)
        c[1].download_button("Edge list (CSV)", J.edges_csv(J.edge_list(a, names, keep)), "edges.csv", "text/csv",
                             key="ai-dl-e")
        c[2].download_button("Communities (CSV)", J.communities_csv(names, labels), "communities.csv", "text/csv",
                             key="ai-dl-c")
