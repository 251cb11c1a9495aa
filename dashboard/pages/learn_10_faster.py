"""Learn 10: is sparse faster? FLOPs vs measured latency of a pruned MLP on this server."""
import pandas as pd
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.probe import probe

les, ctl = learn_page.start("learn_10_faster.py")
c = st.columns(2)
density = ctl.select_slider("Density (fraction of weights kept)", [0.5, 0.2, 0.1, 0.05, 0.02, 0.01], 0.1,
                            key="density", where=c[0])
width = ctl.selectbox("Hidden width (64 → w → w → 10)", [128, 512, 1024], 1, key="width", where=c[1])


@st.cache_data(max_entries=32, show_spinner=False)
def _latency(density: float, width: int) -> dict:
    # a child process (torch); one thread, ~2 s of timing
    return probe("latency", {"density": density, "hidden": [width, width], "budget_s": 2.0}, timeout=120)


with guard("timing the network"), st.spinner("Timing the pruned network on this server (a few seconds)…"):
    r = _latency(float(density), int(width))
    f = r["flops"]
    a, b, cc = st.columns(3)
    a.metric("dense multiply-adds per sample", f"{f['dense_macs']:,}")
    b.metric("non-zero multiply-adds", f"{f['sparse_macs']:,}")
    cc.metric("FLOP ratio (what counting promises)", f"{f['ratio']:.1f}×")
    st.plotly_chart(figs.latency_vs_batch(r["rows"], f["ratio"]), key="l10-latency")
    st.dataframe(pd.DataFrame([{"backend": x["backend"], "batch": x["batch"], "median ms": round(x["median_ms"], 4),
                                "p90 ms": round(x["p90_ms"], 4), "speed-up": round(x["speedup_vs_dense"], 2),
                                "max |diff| vs dense": x["max_abs_diff"]} for x in r["rows"]]),
                 hide_index=True, key="l10-table")
    st.caption("Measured with the lab's speed meter (engine.sparse.speed) on a shared server, one thread: "
               "numbers vary between runs and with the other users' load.")

learn_page.question(les)
learn_page.lab_link("sparse_train", {"st-method": "magnitude", "st-sparsity": round(1 - float(density), 3)},
                    label="Open in Train & prune (time a trained sparse model in its speed meter)")
learn_page.finish(les, ctl)
