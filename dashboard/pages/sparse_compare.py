"""Sparse training → Accuracy vs sparsity: queue a sweep of runs and draw the curves as they finish."""
import time

import streamlit as st

from dashboard import jobs
from dashboard.components import backend_picker
from dashboard.components.common import explain, guard
from dashboard.components.live import live
from dashboard.components.sparse_form import make_config, sweep_form
from dashboard.components.sparse_view import draw_group, draw_run
from dashboard.components.urlstate import Controls
from engine.sparse.sweep import SweepConfig, sweep_configs

PREFIX = "sweep:"
RAY_GROUP = "sweep-ray"  # sweeps run as one `sweep` run whose points are Ray tasks

st.title("Accuracy vs sparsity")
explain("sparse_compare", expanded=False, title="How to read the curves")

ctl = Controls()
values = sweep_form("sc", ctl)
values["backend"], values["address"] = backend_picker.show("sc", ctl)
ctl.link_box("sparse_compare")
with guard("Cannot start the sweep"):
    config = make_config(SweepConfig, values)
    runs = sweep_configs(config)
    on_ray = config.backend == "ray"
    st.caption(f"{len(runs)} runs ({len(config.methods)} method(s) × {len(config.sparsities)} level(s) × "
               f"{len(config.seeds)} seed(s){' + dense' if config.include_dense else ''}), "
               + ("each a Ray task, side by side on the cluster's CPUs." if on_ray else "run one after another."))
    if on_ray and st.button(f"Run {len(runs)} points on Ray", type="primary", icon=":material/play_arrow:",
                            key="sc-start-ray"):
        st.session_state["sc-ray-run"] = jobs.start(
            "sweep", config, group=RAY_GROUP,
            name=f"{'+'.join(config.methods)} · {config.dataset} · {len(runs)} points on Ray ({config.address})")
    if not on_ray and st.button(f"Queue {len(runs)} runs", type="primary", icon=":material/play_arrow:",
                                key="sc-start"):
        group = f"{PREFIX}{time.strftime('%Y-%m-%d %H:%M:%S')} {'+'.join(config.methods)} · {config.dataset}"
        for c in runs:
            level = c.nm if c.method.startswith("nm-") else f"{c.sparsity:.0%}"
            jobs.start("sparse", c, group=group, name=f"{c.method} {level} · seed {c.seed}")
        st.session_state["sc-group"] = group

with guard("showing the Ray sweep"):
    if jobs.page_run("sc-ray-run", "sweep", RAY_GROUP) is not None:
        st.subheader(f"Ray sweep · run #{st.session_state['sc-ray-run']}")
        live(st.session_state["sc-ray-run"], draw_run, key="sc-ray-live", interval=1.0)

with guard("showing the sweep"):
    store = jobs.store()
    groups = list(dict.fromkeys(r.group for r in jobs.my_runs("sparse") if (r.group or "").startswith(PREFIX)))
    if not groups:
        if "sc-ray-run" not in st.session_state:
            st.info("No sweep yet: choose methods and levels above and queue the runs.")
        st.stop()
    if st.session_state.get("sc-group") not in groups:
        st.session_state["sc-group"] = groups[0]
    group = st.selectbox("Sweep", groups, key="sc-group", format_func=lambda g: g[len(PREFIX):])
    draw_group(store, group, key="sc-view")
    if st.toggle("Accuracy vs training FLOPs", key="sc-flops",
                 help="Each finished run's training-FLOPs estimate on a log axis (the comparison axis of Sparse-IFT)."):
        from dashboard.components.sparse_figures import accuracy_train_flops
        from dashboard.components.sparse_view import sweep_rows_from_group

        st.plotly_chart(accuracy_train_flops(sweep_rows_from_group(store.list_runs("sparse", group=group))),
                        key="sc-flops-fig")
