"""Sparse training → Train & prune: pick data, model and method; watch masks, curves and the ledger live."""
import streamlit as st

from dashboard import jobs
from dashboard.components.common import explain, guard
from dashboard.components.live import live
from dashboard.components.sparse_form import make_config, train_form
from engine.sparse.config import SparseConfig
from engine.sparse.methods.registry import METHOD_INFO

GROUP = "sparse-train"

st.title("Train & prune")
explain("sparse_intro")

values = train_form("st")
explain("sparse_methods", expanded=False, title=f"About {values['method']} and its family")

with guard("Cannot start the run"):
    if st.button("Train", type="primary", icon=":material/play_arrow:", key="st-start"):
        config = make_config(SparseConfig, values)
        with st.spinner("Checking data and model…"):
            from engine.sparse.experiments import preflight

            preflight(config)  # reads the data and builds the model: bad input fails here, before the run
        level = config.nm if config.method.startswith("nm-") else f"{config.sparsity:.0%}"
        st.session_state["st-run"] = jobs.start(
            "sparse", config, group=GROUP, name=f"{config.method} {level} · {config.dataset} {config.model}")

with guard("showing the run"):
    if jobs.page_run("st-run", "sparse", GROUP, match={"method": values["method"]}) is not None:
        # imported here, not at the top: pandas and Plotly load after the form is on screen (cold start)
        from dashboard.components.sparse_view import draw_run

        run = jobs.store().get_run(st.session_state["st-run"])
        st.subheader(f"Run #{run.id}: {run.config.get('method')} — {METHOD_INFO.get(run.config.get('method'), ('', ''))[1]}")
        live(run.id, draw_run, key="st-live")
