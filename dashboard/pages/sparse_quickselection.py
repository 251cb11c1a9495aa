"""Sparse training → Feature selection (QuickSelection): a SET-trained sparse DAE picks the K strongest input pixels."""
import streamlit as st

from dashboard import jobs
from dashboard.components.common import explain, guard
from dashboard.components.live import live
from dashboard.components.urlstate import Controls
from engine.sparse.quickselection import QuickSelectionConfig

GROUP = "sparse-quickselection"

st.title("Feature selection (QuickSelection)")
explain("qs_intro", expanded=False)

ctl = Controls()
c = st.columns(4)
k = ctl.number_input("K pixels to select", min_value=1, max_value=783, value=16, key="qs-k", where=c[0])
hidden = ctl.number_input("Hidden units", min_value=2, max_value=2000, value=200, step=50, key="qs-hidden", where=c[1])
epochs = ctl.number_input("Epochs", min_value=1, max_value=300, value=30, key="qs-epochs", where=c[2])
seed = ctl.number_input("Seed", min_value=0, max_value=2**32 - 1, value=0, key="qs-seed", where=c[3])
ctl.link_box("sparse_quickselection")

with guard("Cannot start the run"):
    if st.button("Select features", type="primary", icon=":material/play_arrow:", key="qs-start"):
        config = QuickSelectionConfig(k_features=int(k), hidden_units=int(hidden), epochs=int(epochs), seed=int(seed))
        st.session_state["qs-run"] = jobs.start("quickselection", config, group=GROUP,
                                                name=f"QuickSelection K={config.k_features}")

with guard("showing the run"):
    if jobs.page_run("qs-run", "quickselection", GROUP) is not None:
        from dashboard.components.qs_view import draw_quickselection

        run = jobs.store().get_run(st.session_state["qs-run"])
        st.subheader(f"Run #{run.id}: QuickSelection, K = {run.config.get('k_features')}")
        live(run.id, draw_quickselection, key="qs-live")
