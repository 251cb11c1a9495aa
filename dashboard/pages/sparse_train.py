"""Sparse training → Train & prune: pick data, model and method; watch masks, curves and the ledger live."""
import streamlit as st

from dashboard import jobs
from dashboard.components.common import explain, guard, plain
from dashboard.components.live import live
from dashboard.components.sparse_form import make_config, method_card, train_form
from dashboard.components.urlstate import Controls
from engine.sparse.config import SparseConfig
from engine.sparse.methods.registry import METHODS, method_class

GROUP = "sparse-train"

st.title("Train & prune")
explain("sparse_intro")

ctl = Controls()
values = train_form("st", ctl)
ctl.link_box("sparse_train")
with st.expander(f"About {values['method']} and its family"):
    st.markdown(method_card(values["method"]))
    explain("sparse_methods")

start_col, plan_col = st.columns([1, 5], vertical_alignment="center")
with plan_col, guard("showing what the run will prune"):
    # the plan needs no torch (the pre-flight's shapes); drawing it also loads the browser's chart
    # code before the click, so the first live picture does not wait for it (bench/click_to_picture.py)
    from engine.errors import SparsityLabError
    from engine.sparse.ledger import plan

    try:
        layers = plan(make_config(SparseConfig, values))
    except SparsityLabError as err:
        layers = None
        st.warning(f"These settings cannot run: {plain(err)}", icon=":material/warning:")  # may quote a path
    if layers is not None:
        from dashboard.components.sparse_figures import plan_bars

        st.plotly_chart(plan_bars(layers), key="st-plan")

with guard("Cannot start the run"):
    checking = st.empty()  # the spinner's slot exists on every rerun: the run view below never shifts (no faded copies)
    if start_col.button("Train", type="primary", icon=":material/play_arrow:", key="st-start"):
        config = make_config(SparseConfig, values)
        with checking, st.spinner("Checking data and model…"):
            from engine.sparse.preflight import check

            check(config)  # data sizes and the method against the layers, without torch: fails here, before the run
        level = config.nm if config.method.startswith("nm-") else f"{config.sparsity:.0%}"
        st.session_state["st-run"] = jobs.start(
            "sparse", config, group=GROUP, name=f"{config.method} {level} · {config.dataset} {config.model}")

with guard("showing the run"):
    if jobs.page_run("st-run", "sparse", GROUP, match={"method": values["method"]}) is not None:
        # imported here, not at the top: pandas and Plotly load after the form is on screen (cold start)
        from dashboard.components.sparse_view import draw_run

        run = jobs.store().get_run(st.session_state["st-run"])
        name = run.config.get("method")
        st.subheader(f"Run #{run.id}: {name} — {method_class(name).title if name in METHODS else ''}")
        live(run.id, draw_run, key="st-live")
