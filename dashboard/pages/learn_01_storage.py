"""Learn 1: dense vs sparse, and what each storage format costs (COO, CSR, bitmask, N:M)."""
import pandas as pd
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from dashboard.components.figures import heatmap_static
from engine.learn import storage

les, ctl = learn_page.start("learn_01_storage.py")
c = st.columns(4)
sparsity = ctl.slider("Sparsity", 0.0, 0.95, 0.5, 0.05, key="sparsity", where=c[0])
nm = ctl.selectbox("N:M pattern", ["2:4", "1:4", "2:8", "1:8"], key="nm", where=c[1])
values = ctl.radio("Value type", ["fp32", "fp16"], key="values", where=c[2], horizontal=True)
seed = int(ctl.number_input("Seed", 0, 999, 0, 1, key="seed", where=c[3]))
n, m = (int(x) for x in nm.split(":"))
vbytes = 4 if values == "fp32" else 2

with guard("pruning the toy matrix"):
    w = storage.toy_weights(seed=seed)
    masks = {
        "unstructured (magnitude)": storage.unstructured_mask(w, sparsity),
        f"N:M ({nm})": storage.nm_mask(w, n, m),
        "structured (whole rows)": storage.structured_mask(w, sparsity),
    }
    cols = st.columns(3)
    sizes, rows = {}, []
    for col, (name, mask) in zip(cols, masks.items()):
        col.plotly_chart(heatmap_static(w * mask, title=name, colorscale="RdBu", zmin=-3, zmax=3, height=300),
                         key=f"l1-{name}")
        size = storage.storage_bytes(mask, value_bytes=vbytes, index_bytes=4, nm=(n, m))
        sizes[name] = size
        rows.append({"pattern": name, "kept": int(mask.sum()), "sparsity": f"{1 - mask.mean():.0%}",
                     **size})
    st.plotly_chart(figs.storage_bars(sizes), key="l1-bars")
    table = pd.DataFrame(rows)
    table["N:M"] = table["N:M"].astype("Int64")  # empty where the mask is not N:M
    st.dataframe(table, hide_index=True, key="l1-table")
    be = storage.csr_break_even_density(*w.shape, value_bytes=vbytes, index_bytes=4)
    st.caption(f"CSR takes fewer bytes than dense below {be:.1%} density for this 16×16 matrix "
               f"({values} values, 4-byte indices). A structured matrix needs no index at all: "
               "it is stored as the smaller dense matrix of its kept rows.")

learn_page.question(les)
learn_page.lab_link("sparse_train", {"st-method": "magnitude", "st-sparsity": sparsity},
                    label="Open in Train & prune (prune a real network)",
                    note="Its ledger shows the same formats' bytes for every layer of a trained model.")
learn_page.finish(les, ctl)
