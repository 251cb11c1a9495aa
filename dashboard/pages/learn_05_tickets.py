"""Learn 5: lottery tickets — the winning ticket vs the same mask re-initialised vs a random mask."""
import pandas as pd
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.lottery import VARIANTS, lottery_study

les, ctl = learn_page.start("learn_05_tickets.py")
c = st.columns(4)
data = ctl.selectbox("Data", ["moons", "circles", "spirals"], key="data", where=c[0])
sparsity = ctl.slider("Sparsity of the hidden layers", 0.5, 0.98, 0.9, 0.01, key="sparsity", where=c[1])
rounds = int(ctl.number_input("IMP rounds", 1, 5, 3, 1, key="rounds", where=c[2]))
seed = int(ctl.number_input("Seed", 0, 999, 0, 1, key="seed", where=c[3]))


@st.cache_data(max_entries=32, show_spinner=False)
def _study(data: str, sparsity: float, rounds: int, seed: int) -> dict:
    return lottery_study(dataset=data, sparsity=sparsity, rounds=rounds, seed=seed)


with guard("finding the ticket"), st.spinner("Finding a ticket by IMP and training it beside its controls…"):
    r = _study(data, sparsity, rounds, seed)
    st.plotly_chart(figs.ticket_curves(r, VARIANTS), key="l5-curves")
    cols = st.columns(4)
    for col, name in zip(cols, VARIANTS):
        col.plotly_chart(figs.boundary(r, name), key=f"l5-{name}", config={"displayModeBar": False})
    st.dataframe(pd.DataFrame([{"network": n, "weights": sum(r[n]["kept"]), "per layer": str(r[n]["kept"]),
                                "final loss": round(r[n]["loss"][-1], 4), "final accuracy": f"{r[n]['accuracy'][-1]:.0%}"}
                               for n in VARIANTS]), hide_index=True, key="l5-table")
    st.caption("IMP rounds' sparsity of the hidden layers: " + ", ".join(f"{s:.1%}" for s in r["imp"]) +
               ". All four train the same 400 full-batch Adam steps.")

learn_page.question(les)
learn_page.lab_link("sparse_train", {"st-method": "imp", "st-sparsity": sparsity, "st-imp.rounds": rounds, "st-imp.rewind": "init"},
                    label="Open in Train & prune (IMP with rewinding on a real network)")
learn_page.finish(les, ctl)
