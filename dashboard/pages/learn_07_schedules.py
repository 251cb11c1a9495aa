"""Learn 7: the schedules sparse methods follow, sampled from the code the lab's runs use."""
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.probe import probe

les, ctl = learn_page.start("learn_07_schedules.py")
c = st.columns(6)
steps = int(ctl.number_input("Training steps", 100, 5000, 1000, 100, key="steps", where=c[0]))
sparsity = ctl.slider("Final sparsity", 0.5, 0.99, 0.9, 0.01, key="sparsity", where=c[1])
rounds = int(ctl.number_input("IMP rounds", 1, 20, 5, 1, key="rounds", where=c[2]))
alpha = ctl.slider("RigL drop fraction α", 0.05, 0.9, 0.3, 0.05, key="alpha", where=c[3])
dt = int(ctl.number_input("ΔT (steps between updates)", 1, 1000, 25, 5, key="dt", where=c[4]))
nm = ctl.selectbox("N:M target", ["2:4", "1:4", "2:8", "1:8"], key="nm", where=c[5])


@st.cache_data(max_entries=64, show_spinner=False)
def _schedules(params: dict) -> dict:
    return probe("schedules", params)  # a child process: the schedule code lives beside torch


with guard("sampling the schedules"), st.spinner("Sampling the methods' schedules…"):
    s = _schedules({"steps": steps, "sparsity": sparsity, "imp_rounds": rounds, "drop_fraction": alpha,
                    "update_every": dt, "nm": nm})
    x = s["steps"]
    g = s["gmp"]
    st.subheader("GMP: cubic sparsity")
    st.latex(r"s_t = s_f + (s_i - s_f)\left(1 - \frac{t - t_0}{n\,\Delta t}\right)^3")
    st.plotly_chart(figs.schedule_lines(x, {"cubic target s_t": g["target"], "sparsity of the masks": g["applied"]},
                                        title=f"GMP: t₀ = {g['begin']}, end = {g['end']}, Δt = {g['every']}",
                                        y_title="sparsity"), key="l7-gmp")
    left, right = st.columns(2)
    with left:
        st.subheader("IMP: rounds")
        st.latex(r"s_r = 1 - (1 - s)^{r/R}")
        rs = [r["round"] for r in s["imp"]]
        st.plotly_chart(figs.schedule_lines(rs, {"sparsity after round r": [r["sparsity"] for r in s["imp"]]},
                                            title=f"IMP: {rounds} rounds to {sparsity:.0%}", y_title="sparsity",
                                            shape="hv").update_xaxes(title="round r", dtick=1), key="l7-imp")
    with right:
        st.subheader("RigL: cosine drop fraction")
        st.latex(r"f(t) = \frac{\alpha}{2}\left(1 + \cos\frac{\pi t}{T_{end}}\right)")
        d = s["dst"]
        upd = d["rigl"]["updates"]
        st.plotly_chart(figs.schedule_lines(
            x, {"RigL f(t) (cosine)": d["rigl"]["fraction"], "SET original (constant α)": d["set"]["fraction"]},
            title=f"Drop fraction: ΔT = {dt}, T_end = {d['rigl']['end']}", y_title="fraction dropped",
            markers={"mask updates (RigL)": (upd, [d["rigl"]["fraction"][t] for t in upd])}), key="l7-rigl")
    left, right = st.columns(2)
    with left:
        st.subheader("SR-STE: λ_W")
        st.latex(r"\tilde g = g + \lambda_W\,(1 - M)\odot W")
        st.plotly_chart(figs.schedule_lines(x, {"λ_W": [s["srste"]["lambda"]] * len(x)},
                                            title=f"SR-STE: λ_W = {s['srste']['lambda']:g} at every step",
                                            y_title="λ_W").update_yaxes(range=[0, 2 * s["srste"]["lambda"] or 1],
                                                                       exponentformat="e"), key="l7-srste")
    with right:
        st.subheader("Progressive decay: MDGF and SDGF")
        st.latex(r"\beta = e^{-\mathrm{rate}\cdot p}")
        dd = s["decay"]
        st.plotly_chart(figs.schedule_lines(
            x, {"MDGF β (pruned weights' factor)": dd["mdgf"], "SDGF density of the pattern": dd["sdgf_density"]},
            title=f"{dd['nm']}: rate {dd['rate']:g}, dense {dd['dense_frac']:.0%}, fine-tune {dd['finetune_frac']:.0%}",
            y_title="value", shape="hv"), key="l7-decay")

learn_page.question(les)
learn_page.lab_link("sparse_train", {"st-method": "gmp", "st-sparsity": sparsity},
                    label="Open in Train & prune (watch a schedule run)")
learn_page.finish(les, ctl)
