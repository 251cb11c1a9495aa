"""Learn 3: pruning vs sparse training, and when each method decides its mask (timelines from the methods' code)."""
import pandas as pd
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.probe import probe

les, ctl = learn_page.start("learn_03_when.py")
c = st.columns(4)
sparsity = ctl.slider("Sparsity", 0.5, 0.99, 0.9, 0.01, key="sparsity", where=c[0])
epochs = int(ctl.number_input("Epochs", 1, 50, 10, 1, key="epochs", where=c[1]))
finetune = int(ctl.number_input("Fine-tune epochs", 0, 20, 3, 1, key="finetune", where=c[2]))
rounds = int(ctl.number_input("IMP rounds", 1, 10, 5, 1, key="rounds", where=c[3]))


@st.cache_data(max_entries=64, show_spinner=False)
def _timelines(params: dict) -> dict:
    return probe("timelines", params)  # a child process: the methods are torch code


with guard("reading the methods' recipes"), st.spinner("Reading each method's recipe…"):
    r = _timelines({"sparsity": sparsity, "epochs": epochs, "finetune_epochs": finetune, "imp_rounds": rounds,
                    "steps_per_epoch": 20})
    st.plotly_chart(figs.timelines(r["rows"], r["steps_per_epoch"]), key="l3-timelines")
    st.dataframe(pd.DataFrame([{"method": x["method"], "family": x["family"], "mask decided": x["decided"],
                                "epochs in all": x["total_epochs"],
                                "mean density while training": round(sum(x["density"]) / len(x["density"]), 3)}
                               for x in r["rows"]]), hide_index=True, key="l3-table")
    st.caption("20 steps per epoch for the picture. Mean density while training is what memory and (with sparse "
               "kernels) compute cost during training, relative to dense.")

learn_page.question(les)
learn_page.lab_link("sparse_compare", {"sc-methods": ["magnitude", "gmp", "imp", "snip", "set", "rigl"], "sc-epochs": epochs,
                                        "sc-ft": finetune},
                    label="Open Accuracy vs sparsity (compare these methods on a real network)")
learn_page.finish(les, ctl)
