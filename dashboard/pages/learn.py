"""Learn: the course's contents, and the concepts behind every page with a toy to play with."""
import pandas as pd
import streamlit as st

from dashboard.components.common import explain
from dashboard.components.figures import heatmap_static
from dashboard.components.learn_lessons import LESSONS
from engine.learn import storage as demo

st.title("Sparsity, explained")
explain("learn_intro")

st.subheader("The course")
st.markdown("\n".join(f"- [{les.title}]({les.url_path})" for les in LESSONS))
st.caption("Each lesson: a short text, a demo that answers in seconds, a question with its answer folded, "
           "and a button to the full lab page. Every lesson's settings are in its link; a teacher builds "
           "links with fixed and hidden controls on [Teacher links](learn_teacher).")

st.subheader("Three ways to make the same matrix sparse")
c1, c2, c3 = st.columns(3)
sparsity = c1.slider("Sparsity (fraction of weights removed)", 0.0, 0.95, 0.5, 0.05, key="learn-sparsity")
nm = c2.selectbox("N:M pattern", ["2:4", "1:4", "2:8", "1:8"], key="learn-nm")
seed = c3.number_input("Seed", 0, 999, 0, key="learn-seed")
n, m = (int(x) for x in nm.split(":"))

w = demo.toy_weights(seed=int(seed))
masks = {
    "Unstructured (magnitude)": demo.unstructured_mask(w, sparsity),
    f"Semi-structured ({nm})": demo.nm_mask(w, n, m),
    "Structured (whole neurons)": demo.structured_mask(w, sparsity),
}
cols = st.columns(3)
rows = []
for col, (name, mask) in zip(cols, masks.items()):
    col.plotly_chart(heatmap_static(w * mask, title=name, colorscale="RdBu", zmin=-3, zmax=3, height=330),
                     key=f"learn-{name}")
    size = demo.storage_bytes(mask)
    rows.append({"pattern": name, "sparsity": f"{1 - mask.mean():.0%}", "dense bytes": size["dense"],
                 "CSR bytes": size["CSR"]})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
explain("learn_patterns")
explain("learn_concepts")
