"""The lab pages' URL-bound controls, for the teacher page: which names a link can set and hide.

Each name is the widget's key (its query parameter, :mod:`dashboard.components.urlstate`); a
test (tests/dashboard/test_lab_links.py) opens every page and checks that each name listed here is
a control drawn there. Controls that appear only for some choices (a method's own settings, a
dataset's options) are drawn only then.
"""
from __future__ import annotations

LAB_PAGES: dict[str, tuple[str, dict[str, str]]] = {
    "sparse_train": ("Sparse training → Train & prune", {
        "st-dataset": "Data", "st-model": "Model (mlp / cnn)", "st-hidden": "Hidden widths (mlp)",
        "st-method": "Method", "st-sparsity": "Sparsity", "st-epochs": "Epochs", "st-seed": "Seed",
        "st-lr": "Learning rate (Advanced)", "st-opt": "Optimizer (Advanced)", "st-bs": "Batch size (Advanced)",
        "st-n": "Points (2-D sets)", "st-noise": "Noise (2-D sets)",
        "st-<method>.<parameter>": "A method's own setting, e.g. st-rigl.drop_fraction, st-imp.rounds, "
                                   "st-magnitude.scope (Advanced)"}),
    "sparse_compare": ("Sparse training → Accuracy vs sparsity", {
        "sc-dataset": "Data", "sc-model": "Model", "sc-hidden": "Hidden widths", "sc-methods": "Methods",
        "sc-levels": "Sparsity levels", "sc-seeds": "Seeds", "sc-epochs": "Epochs", "sc-ft": "Fine-tuning",
        "sc-dense": "Dense baseline"}),
    "sparse_sensitivity": ("Sparse training → Layer sensitivity", {
        "ss-dataset": "Data", "ss-model": "Model", "ss-hidden": "Hidden widths", "ss-levels": "Sparsity levels",
        "ss-epochs": "Dense epochs", "ss-ft": "Fine-tune per cell", "ss-seed": "Seed"}),
    "sparse_sae": ("Sparse training → Sparse autoencoders", {
        "sae-variant": "Variant", "sae-width": "Features F", "sae-k": "k", "sae-epochs": "SAE epochs",
        "sae-aux": "Auxiliary loss", "sae-capacity": "Feature Choice capacities", "sae-seed": "Seed",
        "sae-model-epochs": "Lab model epochs"}),
    "sparse_quickselection": ("Sparse training → Feature selection", {
        "qs-k": "K pixels", "qs-hidden": "Hidden units", "qs-epochs": "Epochs", "qs-seed": "Seed"}),
    "graphs_summarize": ("Graphs → Summarize", {
        "gs-kind": "Graph (Built-in / Generator / …)", "gs-builtin": "Built-in graph", "gs-ratio": "Size budget",
        "gs-error": "Error (l1 / l2)", "gs-iter": "Iterations", "gs-seed": "Seed",
        "gs-skip-half": "Skip density-½ superedges"}),
    "graphs_learn": ("Graphs → Sparsify for learning", {
        "gl-graph": "Graph", "gl-sparsifier": "Sparsifier", "gl-gs": "Graph sparsity", "gl-ws": "Weight sparsity",
        "gl-seed": "Seed"}),
    "anomaly_stackvaeg": ("Time series → Learned adjacency", {
        "av-src": "Data source", "av-n": "Channels (synthetic)", "av-g": "Groups (synthetic)",
        "av-len": "Rows (synthetic)", "av-ep": "Epochs", "av-w": "Window w", "av-k": "Neighbours k",
        "av-s": "Train on every s-th window", "av-seed": "Seed", "av-nograph": "Ablation: no graph loss",
        "av-init": "Node-embedding init std"}),
}
