"""Sparse training → Layer sensitivity: prune one layer at a time over a grid of sparsities."""
import streamlit as st

from dashboard import jobs
from dashboard.components import backend_picker
from dashboard.components.common import explain, guard
from dashboard.components.live import live
from dashboard.components.sparse_form import make_config, sensitivity_form
from dashboard.components.sparse_view import draw_run
from dashboard.components.urlstate import Controls
from engine.sparse.sweep import SensitivityConfig

GROUP = "sparse-sensitivity"

st.title("Layer sensitivity")
explain("sparse_sensitivity")

ctl = Controls()
values = sensitivity_form("ss", ctl)
values["backend"], values["address"] = backend_picker.show("ss", ctl)
if values["backend"] == "ray":
    st.caption("The dense model trains in this run's worker; then each layer's row of the grid is one Ray task, "
               "sent the trained weights.")
ctl.link_box("sparse_sensitivity")
with guard("Cannot start the analysis"):
    if st.button("Analyse", type="primary", icon=":material/play_arrow:", key="ss-start"):
        config = make_config(SensitivityConfig, values)
        st.session_state["ss-run"] = jobs.start(
            "sensitivity", config, group=GROUP,
            name=f"sensitivity · {config.dataset} {config.model} · {len(config.sparsities)} levels")

with guard("showing the analysis"):
    if jobs.page_run("ss-run", "sensitivity", GROUP) is not None:
        st.subheader(f"Run #{st.session_state['ss-run']}")
        live(st.session_state["ss-run"], draw_run, key="ss-live")
