"""Graphs → Summarize: shrink a graph to a bit budget with SSumM and watch it happen."""
import streamlit as st

from dashboard import jobs
from dashboard.components import backend_picker
from dashboard.components.common import explain, guard, plain
from dashboard.components.graphs_picker import pick_graph
from dashboard.components.graphs_view import draw_run
from dashboard.components.live import live
from dashboard.components.urlstate import Controls
from engine.graphs.experiments import SSumMConfig, SSumMSweepConfig

st.title("Summarize a graph (SSumM)")
explain("graphs_intro")

ctl = Controls()
choice = None
with guard("Cannot use this graph"):
    choice = pick_graph("gs", ctl)
if choice is None:
    st.stop()

c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
ratio = ctl.slider("Size budget (fraction of the input's bits)", 0.01, 0.99, 0.3, 0.01, key="gs-ratio", where=c1)
error = ctl.radio("Error to minimise", ["l1", "l2"], horizontal=True, key="gs-error", where=c2,
                  help="l1: RE1, the summed absolute error of the reconstruction; l2: RE2, its squared error.")
iterations = int(ctl.number_input("Iterations", 1, 100, 20, key="gs-iter", where=c3))
seed = int(ctl.number_input("Seed", 0, 2**31 - 1, 0, key="gs-seed", where=c4))
skip_half = ctl.checkbox(
    "Skip density-½ superedges (this project's L1 option, not the paper's)", False, key="gs-skip-half",
    disabled=error != "l1",
    help="In L1 a superedge of density exactly ½ lowers RE1 by nothing (½ and 0 give the same error on "
         "its block) yet costs bits; skipping it leaves those bits to merges. Off = the paper's rule. "
         "See 'How close is this to the authors' SSumM?' below for the measured effect.") and error == "l1"
ctl.link_box("graphs_summarize")

st.markdown(f"**{plain(choice.title)}** — {choice.nodes:,} nodes, {choice.edges:,} edges "
            f"(average degree {2 * choice.edges / max(choice.nodes, 1):.2f}). Input size "
            f"2·|E|·log2|V| = **{choice.input_bits:,.0f} bits**; budget k = {ratio:.2f} × that = "
            f"**{ratio * choice.input_bits:,.0f} bits**.")
for note in choice.notes:  # may quote the file (its first line): plain text
    st.info(plain(note), icon=":material/build:")
explain("graphs_bits", expanded=False, title="Bits, budget and why sparse graphs collapse")
explain("graphs_faithful", expanded=False, title="How close is this to the authors' SSumM?")

with st.expander("Where the ratio sweep runs", expanded=False):
    backend, address = backend_picker.show("gs", ctl)
    st.caption("With Ray each ratio is one task; the graph is loaded here once and sent with the tasks, so the "
               "workers need no copy of the file.")
go_one, go_sweep = st.columns(2)
with guard("Cannot start the run"):
    if go_one.button("Summarize", type="primary", icon=":material/play_arrow:", key="gs-start"):
        config = SSumMConfig(source=choice.source, ratio=ratio, error=error, iterations=iterations, seed=seed,
                             skip_half_density=skip_half)
        st.session_state["gs-run"] = jobs.start("ssumm", config, group="graphs-summarize",
                                                name=f"{choice.title} · {ratio:.2f} · {error.upper()}"
                                                     + (" · skip ½" if skip_half else ""))
    if go_sweep.button("Sweep ratios 0.1 … 0.9 (error vs size)", icon=":material/show_chart:", key="gs-sweep"):
        config = SSumMSweepConfig(source=choice.source, error=error, iterations=iterations, seed=seed,
                                  skip_half_density=skip_half, backend=backend, address=address)
        st.session_state["gs-sweep-run"] = jobs.start("ssumm-sweep", config, group="graphs-summarize",
                                                      name=f"{choice.title} · sweep · {error.upper()}"
                                                           + (" · skip ½" if skip_half else "")
                                                           + (f" · Ray ({address})" if backend == "ray" else ""))

with guard("showing the run"):
    for state_key, kind in (("gs-run", "ssumm"), ("gs-sweep-run", "ssumm-sweep")):
        jobs.page_run(state_key, kind, "graphs-summarize", match={"source": choice.source})
    if "gs-run" in st.session_state:
        st.subheader("Summary")
        live(st.session_state["gs-run"], draw_run, key="gs-live")
    if "gs-sweep-run" in st.session_state:
        st.subheader("Error vs size")
        explain("graphs_sweep", expanded=False, title="How to read the curve")
        live(st.session_state["gs-sweep-run"], draw_run, key="gs-sweep-live")
