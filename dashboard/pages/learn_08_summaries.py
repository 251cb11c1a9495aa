"""Learn 8: graph summarisation as compression — SSumM on the karate club, node by node and supernode by supernode."""
import pandas as pd
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.graphsum import summarize_karate, tradeoff

les, ctl = learn_page.start("learn_08_summaries.py")
c = st.columns(3)
ratio = ctl.slider("Budget (fraction of the input's bits)", 0.1, 0.9, 0.4, 0.05, key="ratio", where=c[0])
error = ctl.radio("Error to minimise", ["l1", "l2"], key="error", where=c[1], horizontal=True)
seed = int(ctl.number_input("Seed", 0, 999, 0, 1, key="seed", where=c[2]))


@st.cache_data(max_entries=64, show_spinner=False)
def _summary(ratio: float, error: str, seed: int) -> dict:
    return summarize_karate(ratio, error=error, seed=seed)


@st.cache_data(max_entries=16, show_spinner=False)
def _tradeoff(error: str, seed: int) -> dict:
    return tradeoff(error=error, seed=seed)


with guard("summarising the graph"), st.spinner("Summarising (SSumM)…"):
    r = _summary(ratio, error, seed)
    st.plotly_chart(figs.karate_graphs(r), key="l8-graphs")
    left, right = st.columns([3, 2])
    left.plotly_chart(figs.mdl_tradeoff(_tradeoff(error, seed), ratio), key="l8-tradeoff")
    right.dataframe(pd.DataFrame([
        {"quantity": "input bits 2|E|·log2|V|", "value": round(r["input_bits"], 1)},
        {"quantity": "budget k", "value": round(r["target_bits"], 1)},
        {"quantity": "summary bits", "value": round(r["size_bits"], 1)},
        {"quantity": "supernodes |S|", "value": r["n_supernodes"]},
        {"quantity": "superedges |P|", "value": r["n_superedges"]},
        {"quantity": "RE1 (mean |A − Â|)", "value": round(r["re1"], 5)},
    ]), hide_index=True, key="l8-table")

learn_page.question(les)
learn_page.lab_link("graphs_summarize", {"gs-ratio": ratio, "gs-error": error, "gs-seed": seed},
                    label="Open in Summarize (SSumM) (real graphs, sweeps, live progress)")
learn_page.finish(les, ctl)
