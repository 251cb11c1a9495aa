"""Time series → Learned adjacency: train StackVAE-G, watch its channel graph form, diagnose anomalies."""
import streamlit as st

from dashboard import jobs
from dashboard.components.anomaly_picker import (check_window, measured_results, pick_data, pick_model,
                                                 pick_variant, shape_of)
from dashboard.components.anomaly_view import draw_run
from dashboard.components.common import explain, guard, plain
from dashboard.components.live import live
from dashboard.components.urlstate import Controls
from engine.anomaly.experiments import StackVAEGConfig
from engine.anomaly.preflight import duration_text, measured_rate, preflight

GROUP = "anomaly-stackvaeg"

st.title("Learned adjacency: StackVAE-G")
explain("anomaly_intro")

ctl = Controls()
data = None
with guard("Cannot use this data"):
    data = pick_data("av", ctl)
if data is None:
    st.stop()
shape = None
with guard("Cannot read this data"):
    shape = shape_of(data)
model = pick_model("av", data, shape, ctl)
model["variant"] = pick_variant("av", ctl)
ctl.link_box("anomaly_stackvaeg")
explain("anomaly_model", expanded=False, title="The model, as the authors released it")

# Pre-flight: everything the page already knows is checked here, before a run is queued.
config, ready = None, False
with guard("This run cannot start"):
    if shape is not None:  # else the reason is already on the page
        check_window(data, model["window"])
        config = StackVAEGConfig(**data, **model)
        rate = measured_rate(measured_results(jobs.store().list_runs("stackvaeg")), config)
        plan = preflight(config, shape, rate)
        for note in plan.notes:
            st.caption(plain(note))
        windows = "every window" if config.train_stride == 1 else f"every {config.train_stride}th window"
        st.caption(f"Estimated duration: **{duration_text(plan.seconds)}** ({plan.train_rows:,} training rows, "
                   f"{plan.n_channels} channels, {config.epochs} epochs on {windows}; "
                   f"{plan.rate / plan.n_channels:,.0f} windows/s from {plan.rate_source}; longer while other runs "
                   "share the CPU).")
        ready = True

with guard("Cannot start the run"):
    if st.button("Train and evaluate", type="primary", icon=":material/play_arrow:", key="av-start",
                 disabled=not ready):
        what = {"synthetic": f"synthetic {data.get('n_channels')}ch", "smd": f"SMD {data.get('machine')}",
                "smap": f"SMAP {data.get('channel')}", "csv": "CSV"}[data["data"]]
        st.session_state["av-run"] = jobs.start("stackvaeg", config, group=GROUP,
                                                name=f"StackVAE-G · {what} · {model['epochs']} epochs"
                                                + (" · no graph loss (ablation)" if not model["graph_weight"] else "")
                                                + (f" · init std {model['node_init_std']:g}"
                                                   if model["node_init_std"] != 1.0 else "")
                                                + (" · graph-faithful variant" if model["variant"] == "graph" else ""))

with guard("showing the run"):
    if jobs.page_run("av-run", "stackvaeg", GROUP, match={"data": data["data"]}) is not None:
        st.subheader("Run")
        live(st.session_state["av-run"], draw_run, key="av-live")
