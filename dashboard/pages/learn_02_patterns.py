"""Learn 2: unstructured, N:M and structured sparsity, and what each makes faster (measured here)."""
import pandas as pd
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.probe import probe

DENSITIES = [1.0, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01]

les, ctl = learn_page.start("learn_02_patterns.py")
c = st.columns(2)
features = ctl.selectbox("Layer width (in = out)", [256, 512, 1024], 1, key="features", where=c[0])
batch = ctl.selectbox("Batch size", [1, 16, 64, 256], 2, key="batch", where=c[1])


@st.cache_data(max_entries=16, show_spinner=False)
def _speed(features: int, batch: int) -> dict:
    # a child process: the speed meter is torch code; 0.3 s of timing per cell, one thread
    return probe("speed", {"in_features": features, "out_features": features, "batch": batch,
                           "densities": DENSITIES, "budget_s": 0.3}, timeout=120)


with guard("timing the layer"), st.spinner("Timing one layer on this server (a few seconds)…"):
    r = _speed(int(features), int(batch))
    rows = r["rows"]
    st.plotly_chart(figs.break_even(rows), key="l2-curve")
    table = pd.DataFrame([{"density": x["target_density"], "backend": x["backend"], "median ms": round(x["median_ms"], 4),
                           "speed-up": round(x["speedup_vs_dense"], 2),
                           "FLOP ratio": round(x["theoretical_flop_ratio"], 1)} for x in rows])
    st.dataframe(table, hide_index=True, key="l2-table")
    crossing = {b: min((x["target_density"] for x in rows if x["backend"] == b and x["speedup_vs_dense"] >= 1),
                       default=None, key=lambda d: -d) for b in sorted({x["backend"] for x in rows} - {"dense"})}
    for b, d in crossing.items():
        st.markdown(f"- **{b}** is at least as fast as dense from density **{d:.0%}** down" if d is not None
                    else f"- **{b}** never beats dense at these densities")
    st.caption("Structured sparsity is a smaller dense layer: at density d it multiplies by a d·out × in "
               "matrix, about 1/d fewer FLOPs, with dense-kernel efficiency. N:M has no CPU kernel: "
               "on this server a 2:4 matrix runs as a 50 % unstructured one; on NVIDIA Ampere or later "
               "GPUs, 2:4 sparse tensor cores run it at up to 2× dense. Timings are taken on a shared "
               "server and vary from run to run.")

learn_page.question(les)
learn_page.lab_link("sparse_train", {"st-method": "magnitude", "st-sparsity": 0.9},
                    label="Open in Train & prune (its speed meter times a whole trained model)")
learn_page.finish(les, ctl)
