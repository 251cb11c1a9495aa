"""Sparse training → Sparse autoencoders: TopK / Feature Choice / Mutual Choice SAEs on a lab model's activations."""
import streamlit as st

from dashboard import jobs
from dashboard.components.common import explain, guard
from dashboard.components.live import live
from dashboard.components.urlstate import Controls
from engine.sparse.sae import VARIANTS, SAEConfig

GROUP = "sparse-sae"
LABELS = {"topk": "TopK (k per sample)", "feature-choice": "Feature Choice (m per feature)",
          "mutual-choice": "Mutual Choice (k·B per batch)"}

st.title("Sparse autoencoders")
st.info("This page is about **activation** sparsity: the SAE's codes are sparse; no weight is pruned.",
        icon=":material/info:")
explain("sae_intro", expanded=False)

ctl = Controls()
c = st.columns(4)
variant = ctl.selectbox("Variant", VARIANTS, key="sae-variant", where=c[0],
                        help="\n".join(f"- {k}: {v}" for k, v in LABELS.items()))
if ctl.shows("sae-variant"):
    c[0].caption(LABELS.get(variant, variant))
width = ctl.number_input("Features F", min_value=2, max_value=4096, value=256, step=32, key="sae-width", where=c[1])
k = ctl.number_input("k (active per sample, on average)", min_value=1, max_value=4096, value=8, key="sae-k", where=c[2])
epochs = ctl.number_input("SAE epochs", min_value=1, max_value=500, value=30, key="sae-epochs", where=c[3])
c = st.columns(4)
aux = ctl.selectbox("Auxiliary loss", ("zipf", "k", "none"), key="sae-aux", where=c[0],
                    help="zipf: dead and under-used features (below the fitted Zipf law); k: dead only (Gao et al.)")
capacity = ctl.selectbox("Feature Choice capacities", ("uniform", "zipf"), key="sae-capacity", where=c[1],
                         disabled=variant != "feature-choice")
seed = ctl.number_input("Seed", min_value=0, max_value=2**32 - 1, value=0, key="sae-seed", where=c[2])
model_epochs = ctl.number_input("Lab model epochs", min_value=1, max_value=200, value=20, key="sae-model-epochs",
                                where=c[3])
ctl.link_box("sparse_sae")

with guard("Cannot start the run"):
    if st.button("Train SAE", type="primary", icon=":material/play_arrow:", key="sae-start"):
        config = SAEConfig(variant=variant, width=int(width), k=int(k), epochs=int(epochs), aux=aux,
                           capacity=capacity, seed=int(seed), model_epochs=int(model_epochs))
        st.session_state["sae-run"] = jobs.start("sae", config, group=GROUP,
                                                 name=f"SAE {variant} k={config.k} F={config.width}")

with guard("showing the run"):
    if jobs.page_run("sae-run", "sae", GROUP) is not None:
        from dashboard.components.sae_view import draw_sae

        run = jobs.store().get_run(st.session_state["sae-run"])
        st.subheader(f"Run #{run.id}: SAE {run.config.get('variant')}")
        live(run.id, draw_sae, key="sae-live")
