"""Learn 4: static vs dynamic sparsity, seen like TensorFlow Playground (SET/RigL drop and regrow)."""
import pandas as pd
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.playground import METHODS, trajectory

les, ctl = learn_page.start("learn_04_dynamic.py")
c = st.columns([1, 1.4, 1.2, 1])
data = ctl.selectbox("Data", ["moons", "circles", "spirals"], key="data", where=c[0])
method = ctl.segmented_control("Method", list(METHODS), default="rigl", key="method", where=c[1])
sparsity = ctl.slider("Sparsity", 0.0, 0.9, 0.5, 0.05, key="sparsity", where=c[2])
hidden = ctl.selectbox("Hidden layers", ["4,4", "8,8", "8,8,8", "16,16"], 1, key="hidden", where=c[3])
c = st.columns(4)
dt = ctl.slider("ΔT (steps between updates)", 5, 100, 25, 5, key="dt", where=c[0])
alpha = ctl.slider("Drop fraction α", 0.05, 0.9, 0.3, 0.05, key="alpha", where=c[1])
decay = ctl.radio("Drop-fraction decay", ["cosine", "constant"], key="decay", where=c[2], horizontal=True)
seed = int(ctl.number_input("Seed", 0, 999, 0, 1, key="seed", where=c[3]))


@st.cache_data(max_entries=64, show_spinner=False)
def _run(method: str, data: str, sparsity: float, hidden: str, dt: int, alpha: float, decay: str, seed: int):
    return trajectory(method, dataset=data, sparsity=sparsity, hidden=tuple(int(h) for h in hidden.split(",")),
                      update_every=dt, alpha=alpha, decay=decay, seed=seed, grid=32)


@st.cache_resource(max_entries=64, show_spinner=False)
def _figure(method: str, data: str, sparsity: float, hidden: str, dt: int, alpha: float, decay: str, seed: int):
    # built once per setting for every student (building ~80 frames takes Plotly a large part of a second)
    return figs.playground(_run(method, data, sparsity, hidden, dt, alpha, decay, seed))


with guard("training the network"):
    runs = {m: _run(m, data, sparsity, hidden, dt, alpha, decay, seed) for m in METHODS}
    traj = runs[method]
    st.plotly_chart(_figure(method, data, sparsity, hidden, dt, alpha, decay, seed), key="l4-playground",
                    config={"displayModeBar": False})
    curves = {m.upper() if m != "static" else m: ([f.step for f in t.frames], [f.accuracy for f in t.frames])
              for m, t in runs.items()}
    left, right = st.columns([3, 2])
    left.plotly_chart(figs.accuracy_curves(curves), key="l4-acc")
    rows = [{"method": m, "final accuracy": f"{t.frames[-1].accuracy:.0%}", "mask updates": t.updates,
             "connections": int(sum(x.sum() for x in t.frames[-1].masks)),
             "connections moved": int(sum(int(g.sum()) for f in t.frames for g in f.grown))} for m, t in runs.items()]
    right.dataframe(pd.DataFrame(rows), hide_index=True, key="l4-table")

learn_page.question(les)
lab = "rigl" if method == "static" else method
lab_params = {"st-dataset": data, "st-model": "mlp", "st-hidden": hidden, "st-method": lab, "st-sparsity": sparsity,
              f"st-{lab}.update_every": dt, f"st-{lab}.{'zeta' if lab == 'set' else 'drop_fraction'}": alpha,
              f"st-{lab}.decay": decay}
if lab == "set":
    lab_params["st-set.update"] = "steps"  # the lab's SET updates once per epoch by default; here every ΔT steps
learn_page.lab_link("sparse_train", lab_params,
                    label="Open in Train & prune (torch, the full method)",
                    note="Opens the lab with this data, method and sparsity (the lab's run uses ERK densities and mini-batches).")
learn_page.finish(les, ctl)
