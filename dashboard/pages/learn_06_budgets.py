"""Learn 6: layer-wise budgets (uniform, ERK, global magnitude) and layer collapse at high sparsity."""
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.budgets import DISTRIBUTIONS, budget_study

SPARSITIES = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
LABELS = {"uniform": "uniform", "erk": "ERK", "global": "global magnitude"}

les, ctl = learn_page.start("learn_06_budgets.py")
c = st.columns(3)
data = ctl.selectbox("Data", ["moons", "circles", "spirals"], key="data", where=c[0])
sparsity = ctl.select_slider("Overall sparsity", SPARSITIES, 0.9, key="sparsity", where=c[1])
seed = int(ctl.number_input("Seed", 0, 999, 0, 1, key="seed", where=c[2]))


@st.cache_data(max_entries=32, show_spinner=False)
def _study(data: str, seed: int) -> dict:
    return budget_study(dataset=data, sparsities=SPARSITIES, seed=seed)


with guard("pruning the network"), st.spinner("Training and pruning (numpy, ~2 s)…"):
    r = _study(data, seed)
    names = [f"layer {l + 1} ({a}×{b})" for l, (a, b) in enumerate(r["shapes"])]
    i = SPARSITIES.index(sparsity)
    st.plotly_chart(figs.budget_bars(names, {LABELS[d]: r[d]["densities"][i] for d in DISTRIBUTIONS},
                                     title=f"Per-layer density at {sparsity:.1%} overall sparsity"), key="l6-bars")
    lines = st.columns(2)
    for col, dist in zip(lines, ("global", "uniform")):
        col.plotly_chart(figs.collapse_lines(SPARSITIES, r[dist]["kept"], names, r[dist]["collapsed"],
                                             title=f"{LABELS[dist]}: weights kept per layer"), key=f"l6-{dist}")
    st.plotly_chart(figs.accuracy_vs_sparsity(SPARSITIES, {LABELS[d]: r[d]["accuracy"] for d in DISTRIBUTIONS}),
                    key="l6-acc")
    collapsed = [LABELS[d] for d in DISTRIBUTIONS if r[d]["collapsed"][i]]
    if collapsed:
        st.warning(f"At {sparsity:.1%}: layer collapse under {', '.join(collapsed)} — no path of kept weights "
                   "joins the input to the output, so the prediction is the same for every point.")
    st.caption(f"Dense network: {r['dense_accuracy']:.0%} training accuracy. Accuracies after 50 fine-tune steps.")

learn_page.question(les)
learn_page.lab_link("sparse_train", {"st-method": "magnitude", "st-sparsity": sparsity, "st-magnitude.scope": "global"},
                    label="Open in Train & prune (global vs layer-wise magnitude on a real network)")
learn_page.finish(les, ctl)
