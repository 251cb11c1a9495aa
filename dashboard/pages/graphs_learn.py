"""Graphs → Sparsify for learning: a GCN on a sparsified graph (TEDDY, UGS, FREEDOM, random), and FastRP."""
import streamlit as st

from dashboard import jobs
from dashboard.components.common import explain, guard
from dashboard.components.gnn_view import draw_run
from dashboard.components.live import live
from dashboard.components.urlstate import Controls
from engine.graphs.gnn_data import available_planetoid, describe_node_source
from engine.graphs.gnn_experiments import (SPARSIFIER_TITLES, FastRPConfig, GNNConfig, GNNSweepConfig, data_notes,
                                           load_checked)

GROUP = "graphs-learn"
st.title("Sparsify a graph for learning")
explain("gnn_intro")

graphs = {"generator:csbm": "Contextual SBM (built in: 4 classes × 100 nodes, bag-of-words features)",
          "builtin:karate": "Zachary's karate club (built in: 34 nodes, one-hot features)"}
graphs.update({f"benchmark:{k}": f"{t} (shared data, Planetoid split)" for k, t in available_planetoid().items()})
ctl = Controls()
c1, c2 = st.columns([3, 2])
source = ctl.selectbox("Graph", list(graphs), key="gl-graph", where=c1,
                       help="\n".join(f"- {k}: {v}" for k, v in graphs.items()))
if ctl.shows("gl-graph"):
    c1.caption(graphs[source])
sparsifier = ctl.selectbox("Sparsifier", list(SPARSIFIER_TITLES), index=2, key="gl-sparsifier", where=c2,
                           help="\n".join(f"- {k}: {v}" for k, v in SPARSIFIER_TITLES.items()))
if ctl.shows("gl-sparsifier"):
    c2.caption(SPARSIFIER_TITLES[sparsifier])
c1, c2, c3 = st.columns([2, 2, 1])
graph_sparsity = ctl.slider("Graph sparsity (share of edges removed)", 0.0, 0.95, 0.5, 0.05, key="gl-gs", where=c1,
                            disabled=sparsifier == "none")
weight_sparsity = ctl.slider("Weight sparsity (share of GCN weights zeroed)", 0.0, 0.98, 0.5, 0.02, key="gl-ws",
                             where=c2, disabled=sparsifier == "none")
seed = int(ctl.number_input("Seed", 0, 2**31 - 1, 0, key="gl-seed", where=c3))
ctl.link_box("graphs_learn")

data = None
with guard("Cannot use this graph"):
    data = load_checked(source)
if data is None:
    st.stop()
st.text(f"{data.name}: {data.n_nodes:,} nodes, {data.n_edges:,} edges, {data.n_classes} classes, "
        f"{len(data.train)} / {len(data.val)} / {len(data.test)} train / val / test nodes. Source: {data.citation}")
for note in data_notes(data):
    st.info(note, icon=":material/info:")
if sparsifier == "freedom":
    st.caption("FREEDOM prunes a user–item graph in recommendation; here its degree-sensitive sampling is used "
               "outside recommendation, once, as a sparsifier for node classification.")
explain("gnn_methods", expanded=False, title="The four sparsifiers, and what is simplified here")

go_one, go_sweep, go_frp = st.columns(3)
with guard("Cannot start the run"):
    if go_one.button("Train the GCN", type="primary", icon=":material/play_arrow:", key="gl-start"):
        config = GNNConfig(graph=source, sparsifier=sparsifier, graph_sparsity=graph_sparsity,
                           weight_sparsity=weight_sparsity, seed=seed)
        st.session_state["gl-run"] = jobs.start("gnn", config, group=GROUP, name=(
            f"{describe_node_source(source)} · {sparsifier} · graph {graph_sparsity:.2f} · weights {weight_sparsity:.2f}"))
    if go_sweep.button("Sweep: this sparsifier vs random, 3 levels × 3 seeds", icon=":material/show_chart:",
                       key="gl-sweep"):
        methods = tuple(dict.fromkeys([sparsifier if sparsifier != "none" else "teddy", "random"]))
        config = GNNSweepConfig(graph=source, sparsifiers=methods, graph_sparsities=(0.2, 0.5, 0.8),
                                weight_sparsities=(0.2, 0.5, 0.8), seeds=(0, 1, 2))
        st.session_state["gl-sweep-run"] = jobs.start("gnn-sweep", config, group=GROUP,
                                                      name=f"{describe_node_source(source)} · sweep · {', '.join(methods)}")
    if go_frp.button("FastRP embedding (+ spectral comparison)", icon=":material/scatter_plot:", key="gl-fastrp"):
        config = FastRPConfig(graph=source, seed=seed, compare_spectral=data.n_nodes <= 1000)
        st.session_state["gl-frp-run"] = jobs.start("fastrp", config, group=GROUP,
                                                    name=f"{describe_node_source(source)} · FastRP")

with guard("showing the run"):
    for state_key, kind in (("gl-run", "gnn"), ("gl-sweep-run", "gnn-sweep"), ("gl-frp-run", "fastrp")):
        jobs.page_run(state_key, kind, GROUP)
    if "gl-run" in st.session_state:
        st.subheader("Training on the sparsified graph")
        live(st.session_state["gl-run"], draw_run, key="gl-live")
    if "gl-sweep-run" in st.session_state:
        st.subheader("Accuracy vs graph sparsity and vs weight sparsity")
        live(st.session_state["gl-sweep-run"], draw_run, key="gl-sweep-live")
    if "gl-frp-run" in st.session_state:
        st.subheader("FastRP node embeddings")
        live(st.session_state["gl-frp-run"], draw_run, key="gl-frp-live")
