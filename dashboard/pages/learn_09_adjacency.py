"""Learn 9: learned adjacency — how a top-k graph is formed from embeddings, read as "which sensors move together"."""
import streamlit as st

from dashboard.components import learn_figures as figs
from dashboard.components import learn_page
from dashboard.components.common import guard
from engine.learn.adjacency import EMBEDDINGS, adjacency_lesson

les, ctl = learn_page.start("learn_09_adjacency.py")
c = st.columns(5)
embedding = ctl.radio("Embeddings", list(EMBEDDINGS), key="embedding", where=c[0], horizontal=True)
k = int(ctl.slider("k (neighbours per row)", 1, 11, 4, 1, key="k", where=c[1]))
alpha = ctl.slider("α", 0.5, 10.0, 3.0, 0.5, key="alpha", where=c[2])
noise = ctl.slider("Sensor noise", 0.0, 2.0, 0.15, 0.05, key="noise", where=c[3])
seed = int(ctl.number_input("Seed", 0, 999, 0, 1, key="seed", where=c[4]))

with guard("forming the graph"):
    r = adjacency_lesson(embedding=embedding, k=k, alpha=alpha, noise=noise, seed=seed)
    st.plotly_chart(figs.adjacency_panels(r), key="l9-panels")
    st.metric("AUROC of Ã against the true groups", f"{r['auroc']:.3f}",
              help="1.0: every same-group pair scores above every other pair; 0.5: no better than chance.")
    st.plotly_chart(figs.channel_series(r), key="l9-series")

learn_page.question(les)
learn_page.lab_link("anomaly_stackvaeg", {"av-k": k, "av-seed": seed},
                    label="Open in Learned adjacency (StackVAE-G) (train the embeddings for real)")
learn_page.finish(les, ctl)
