"""Time series → Learned adjacency: train StackVAE-G, watch its channel graph form, diagnose anomalies."""
import streamlit as st

from dashboard import jobs
from dashboard.components.anomaly_picker import check_window, pick_data, pick_model
from dashboard.components.anomaly_view import draw_run
from dashboard.components.common import explain, guard
from dashboard.components.live import live
from engine.anomaly.experiments import StackVAEGConfig

GROUP = "anomaly-stackvaeg"

st.title("Learned adjacency: StackVAE-G")
explain("anomaly_intro")

data = None
with guard("Cannot use this data"):
    data = pick_data("av")
if data is None:
    st.stop()
model = pick_model("av", data)
explain("anomaly_model", expanded=False, title="The model, as the authors released it")

with guard("Cannot start the run"):
    if st.button("Train and evaluate", type="primary", icon=":material/play_arrow:", key="av-start"):
        check_window(data, model["window"])
        config = StackVAEGConfig(**data, **model)
        what = {"synthetic": f"synthetic {data.get('n_channels')}ch", "smd": f"SMD {data.get('machine')}",
                "smap": f"SMAP {data.get('channel')}", "csv": "CSV"}[data["data"]]
        st.session_state["av-run"] = jobs.start("stackvaeg", config, group=GROUP,
                                                name=f"StackVAE-G · {what} · {model['epochs']} epochs"
                                                + (" · no graph loss (ablation)" if not model["graph_weight"] else "")
                                                + (f" · init std {model['node_init_std']:g}"
                                                   if model["node_init_std"] != 1.0 else ""))

with guard("showing the run"):
    if jobs.page_run("av-run", "stackvaeg", GROUP, match={"data": data["data"]}) is not None:
        st.subheader("Run")
        live(st.session_state["av-run"], draw_run, key="av-live")
