"""Forms of the sparse training lab: widgets -> keyword arguments of the engine's configs.

Each ``*_form(key)`` draws its widgets (session keys prefixed by ``key``) and returns a dict of
config fields; the page builds the config inside ``guard`` so a ConfigError becomes a message.
Importing this module does not import torch (``engine.sparse.config`` and the method registry don't).
"""
from __future__ import annotations

import streamlit as st

from engine.errors import ConfigError
from engine.sparse.config import DATASETS, IDX_DATASETS, SYNTHETIC_2D, SparseConfig
from engine.sparse.methods.registry import METHOD_INFO, NM_METHODS

D = SparseConfig()  # defaults
DATASET_LABELS = {
    "digits": "digits — 8×8 handwritten digits (scikit-learn, bundled)",
    "moons": "moons — two half circles (2-D)",
    "circles": "circles — a ring around a disc (2-D)",
    "spirals": "spirals — two interleaved spirals (2-D)",
    "mnist": "MNIST — 28×28 digits, IDX files from a folder",
    "fashion-mnist": "Fashion-MNIST — 28×28 clothes, IDX files from a folder",
    "csv": "csv — your own table (upload a CSV of features and a label column)",
}
FAMILY = {
    "dense": "baseline", "magnitude": "prune after training", "gmp": "prune during training",
    "imp": "prune after training, iterated", "random-uniform": "prune at initialisation",
    "random-erk": "prune at initialisation", "snip": "prune at initialisation", "grasp": "prune at initialisation",
    "synflow": "prune at initialisation", "set": "dynamic sparse training", "rigl": "dynamic sparse training",
    "nm-srste": "N:M structured", "nm-bdwp": "N:M structured", "nm-decay": "N:M structured",
    "structured": "whole neurons / channels", "soup": "prune after training, averaged",
}
SCOPED = ("magnitude", "gmp", "imp", "soup")  # methods whose threshold can be global or per layer
FINETUNED = ("magnitude", "gmp", "structured", "soup")  # methods that add fine-tuning epochs
SPARSITY_LEVELS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """``"256, 128"`` -> ``(256, 128)``; ConfigError with a sentence otherwise."""
    try:
        values = tuple(int(t) for t in str(text).replace(" ", "").split(",") if t)
    except ValueError:
        raise ConfigError(f"{what} must be whole numbers separated by commas, e.g. 256,256 (got '{text}').") from None
    if not values:
        raise ConfigError(f"{what}: give at least one number, e.g. 256,256.")
    return values


def method_label(name: str) -> str:
    return f"{name} — {METHOD_INFO[name][1]}"


def make_config(cls, values: dict):
    """``cls(**values)`` after parsing the comma-separated width fields; ConfigError on bad input."""
    values = dict(values)
    if isinstance(values.get("hidden"), str):
        values["hidden"] = parse_ints(values["hidden"], "Hidden widths")
    if isinstance(values.get("channels"), str):
        values["channels"] = parse_ints(values["channels"], "CNN channels")
    return cls.from_dict(values)


def data_fields(key: str, *, points: bool = True, default_path: str = "") -> dict:
    """Dataset, its options, and the model: fields shared by the three forms (``points``: the 2-D
    sets' size and noise, which only single runs take)."""
    c1, c2, c3 = st.columns([3, 2, 2])
    dataset = c1.selectbox("Data", DATASETS, format_func=DATASET_LABELS.get, key=f"{key}-dataset")
    model = c2.radio("Model", ["mlp", "cnn"], horizontal=True, key=f"{key}-model",
                     format_func={"mlp": "MLP", "cnn": "small CNN"}.get,
                     help="The CNN needs images (digits, MNIST); the 2-D sets use the MLP.")
    if model == "mlp":
        sizes = c3.text_input("Hidden widths", "256,256", key=f"{key}-hidden",
                              help="Comma-separated widths of the hidden layers, e.g. 256,256 or 64.")
        out = {"hidden": sizes}
    else:
        out = {"channels": c3.text_input("Channels per conv block", "16,32", key=f"{key}-channels")}
    out.update(dataset=dataset, model=model)
    if dataset in IDX_DATASETS:
        out["data_path"] = st.text_input(
            "Folder with the four IDX files (train-images-idx3-ubyte, …; .gz accepted)", default_path,
            key=f"{key}-path", help="Nothing is downloaded: point to a folder you already have.").strip()
        out["max_train"] = int(st.number_input("Training images used (0 = all 60,000)", 0, 60000, D.max_train,
                                               1000, key=f"{key}-maxtrain"))
    if dataset == "csv":  # the user's own table: see dashboard/components/sparse_data_picker.py
        from dashboard.components.sparse_data_picker import pick_csv_table

        out.update(pick_csv_table(key, model))
    if dataset in SYNTHETIC_2D and points:
        a, b = st.columns(2)
        out["n_samples"] = int(a.number_input("Points", 20, 5000, D.n_samples, 100, key=f"{key}-n"))
        out["noise"] = float(b.slider("Noise", 0.0, 0.5, D.noise, 0.01, key=f"{key}-noise"))
    return out


def train_form(key: str = "st") -> dict:
    """The Train & prune form: fields of a :class:`SparseConfig`."""
    out = data_fields(key)
    methods = list(METHOD_INFO)
    c1, c2 = st.columns([3, 2])
    method = c1.selectbox("Method", methods, index=methods.index("magnitude"), format_func=method_label,
                          key=f"{key}-method")
    c2.markdown(f"**Family:** {FAMILY[method]}")
    out["method"] = method
    c1, c2, c3, c4 = st.columns(4)
    if method in NM_METHODS:
        out["nm"] = c1.text_input("N:M pattern", D.nm, key=f"{key}-nm",
                                  help="Keep at most N of every M consecutive weights along a layer's input "
                                       "(2:4, 1:4, 2:8, 1:16 …). Sparsity is then 1 − N/M.")
    elif method != "dense":
        out["sparsity"] = float(c1.slider("Sparsity", 0.0, 0.99, D.sparsity, 0.01, key=f"{key}-sparsity",
                                          help="Fraction of the prunable weights set to zero"
                                               + (" (structured: of the hidden units)." if method == "structured" else ".")))
    else:
        out["sparsity"] = 0.0
    if method in SCOPED:
        out["scope"] = c2.radio("Scope", ["global", "layer"], key=f"{key}-scope",
                                format_func={"global": "global", "layer": "layer-wise"}.get,
                                help="Global: one magnitude threshold for all layers. Layer-wise: every layer "
                                     "loses the same fraction.")
    out["epochs"] = int(c3.number_input("Epochs", 1, 1000, 30, key=f"{key}-epochs",
                                        help="Training epochs (IMP: per round)."))
    out["seed"] = int(c4.number_input("Seed", 0, 2**31 - 1, 0, key=f"{key}-seed"))
    with st.expander("Advanced"):
        out.update(_advanced(key, method))
    return out


# methods whose masks are drawn at initialisation (engine.sparse.config.SparseConfig.sparse_init applies)
SPARSE_FROM_INIT = ("random-uniform", "random-erk", "snip", "grasp", "synflow", "set", "rigl")


def _advanced(key: str, method: str) -> dict:
    """Training knobs and the method's own knobs (only those the chosen method reads)."""
    out: dict = {}
    a, b, c, d = st.columns(4)
    out["lr"] = float(a.number_input("Learning rate", 1e-5, 1.0, D.lr, format="%.4f", key=f"{key}-lr"))
    out["optimizer"] = b.selectbox("Optimizer", ["adam", "sgd"], key=f"{key}-opt")
    out["batch_size"] = int(c.number_input("Batch size", 1, 4096, D.batch_size, key=f"{key}-bs"))
    if method in FINETUNED:
        out["finetune_epochs"] = int(d.number_input("Fine-tuning epochs", 0, 1000, D.finetune_epochs,
                                                    key=f"{key}-ft"))
    a, b, c, d = st.columns(4)
    if method == "gmp":
        out["prune_begin"] = float(a.slider("Pruning begins (fraction of training)", 0.0, 0.9, D.prune_begin, 0.05,
                                            key=f"{key}-pb"))
        out["prune_end"] = float(b.slider("Pruning ends", 0.1, 1.0, D.prune_end, 0.05, key=f"{key}-pe"))
        out["prune_every"] = int(c.number_input("Steps between mask updates", 1, 1000, D.prune_every, key=f"{key}-pv"))
    elif method in ("imp", "soup"):
        out["imp_rounds"] = int(a.number_input("Prune–retrain rounds", 1, 20, D.imp_rounds, key=f"{key}-rounds"))
        if method == "imp":
            out["rewind"] = b.radio("Rewind to", ["early", "init"], key=f"{key}-rewind",
                                    format_func={"early": "an early step k", "init": "initialisation"}.get)
            out["rewind_step"] = int(c.number_input("Rewind step k", 0, 10000, D.rewind_step, key=f"{key}-rk"))
        else:
            out["soup_size"] = int(b.number_input("Ingredients per soup", 2, 10, D.soup_size, key=f"{key}-ss"))
            out["soup_vary"] = c.radio("Ingredients differ by", ["seed", "lr"], key=f"{key}-sv",
                                       format_func={"seed": "seed (batch order)", "lr": "learning rate"}.get)
    elif method in ("snip", "grasp"):
        out["pai_batches"] = int(a.number_input("Mini-batches scored", 1, 100, D.pai_batches, key=f"{key}-pai"))
    elif method == "synflow":
        out["synflow_iters"] = int(a.number_input("SynFlow iterations", 1, 1000, D.synflow_iters, key=f"{key}-sfi"))
    elif method in ("set", "rigl"):
        out["distribution"] = a.radio("Initial layer densities", ["erk", "uniform"], key=f"{key}-dist",
                                      format_func={"erk": "ERK", "uniform": "uniform"}.get)
        out["update_every"] = int(b.number_input("ΔT (steps between updates)", 1, 1000, D.update_every, key=f"{key}-dt"))
        out["drop_fraction"] = float(c.slider("Drop fraction α", 0.05, 0.95, D.drop_fraction, 0.05, key=f"{key}-df"))
        out["dst_end"] = float(d.slider("Stop updates at (fraction)", 0.1, 1.0, D.dst_end, 0.05, key=f"{key}-de"))
        out["drop_decay"] = a.radio("Drop fraction decay", ["cosine", "constant"], key=f"{key}-dd")
    elif method == "nm-srste":
        out["srste_decay"] = float(a.number_input("λ_W (SR-STE decay)", 0.0, 1.0, D.srste_decay, format="%.5f",
                                                  key=f"{key}-lw"))
    elif method == "nm-decay":
        out["nm_schedule"] = a.radio("Schedule", ["mdgf", "sdgf"], key=f"{key}-nms",
                                     format_func={"mdgf": "MDGF (mask values decay)",
                                                  "sdgf": "SDGF (patterns tighten stepwise)"}.get)
    elif method == "structured":
        out["group_lasso"] = float(a.number_input("Group-lasso λ (0 = off)", 0.0, 1.0, D.group_lasso, format="%.5f",
                                                  key=f"{key}-gl"))
    if method in SPARSE_FROM_INIT:
        out["sparse_init"] = st.radio(
            "Initial weights of the sparse network", ["dense", "fan-in"], key=f"{key}-sinit", horizontal=True,
            format_func={"dense": "dense init (as the paper)", "fan-in": "rescaled to each unit's sparse fan-in"}.get,
            help="Not part of this method's paper: an addition from Evci et al., 'Gradient Flow in Sparse Neural "
                 "Networks and How Lottery Tickets Win' (AAAI 2022). A unit that keeps 5 of 256 inputs gets weights "
                 "scaled for 5 inputs, so its signal does not vanish. It matters most at very high sparsity "
                 "(random uniform at 98 %: about 49 % → 68 % test accuracy on digits, bench/sparse_accuracy.py).")
    return out


def sweep_form(key: str = "sc") -> dict:
    """The sweep form: fields of ``engine.sparse.sweep.SweepConfig``."""
    out = data_fields(key, points=False)
    methods = [m for m in METHOD_INFO if m != "dense"]
    out["methods"] = tuple(st.multiselect("Methods", methods, default=["magnitude"], key=f"{key}-methods",
                                          format_func=method_label))
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    out["sparsities"] = tuple(sorted(c1.multiselect("Sparsity levels", SPARSITY_LEVELS,
                                                    default=[0.5, 0.7, 0.8, 0.9, 0.95, 0.98],
                                                    format_func=lambda s: f"{s:.0%}", key=f"{key}-levels")))
    n_seeds = int(c2.number_input("Seeds", 1, 10, 1, key=f"{key}-seeds", help="Seeds 0 … n−1 for every point."))
    out["seeds"] = tuple(range(n_seeds))
    out["epochs"] = int(c3.number_input("Epochs", 1, 1000, 20, key=f"{key}-epochs"))
    out["finetune_epochs"] = int(c4.number_input("Fine-tuning", 0, 1000, 5, key=f"{key}-ft"))
    a, b, c = st.columns(3)
    out["include_dense"] = a.checkbox("Dense baseline (one run per seed)", True, key=f"{key}-dense")
    out["scope"] = b.radio("Scope", ["global", "layer"], horizontal=True, key=f"{key}-scope",
                           format_func={"global": "global", "layer": "layer-wise"}.get)
    if any(m in NM_METHODS for m in out["methods"]):
        out["nm"] = c.text_input("N:M pattern (N:M methods)", "2:4", key=f"{key}-nm")
    return out


def sensitivity_form(key: str = "ss") -> dict:
    """The sensitivity form: fields of ``engine.sparse.sweep.SensitivityConfig``."""
    out = data_fields(key, points=False)
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    out["sparsities"] = tuple(sorted(c1.multiselect("Sparsity levels", SPARSITY_LEVELS, default=list(SPARSITY_LEVELS),
                                                    format_func=lambda s: f"{s:.0%}", key=f"{key}-levels")))
    out["epochs"] = int(c2.number_input("Dense epochs", 1, 1000, 20, key=f"{key}-epochs"))
    out["finetune_epochs"] = int(c3.number_input("Fine-tune per cell", 0, 100, 0, key=f"{key}-ft",
                                                 help="Epochs of fine-tuning after pruning each cell (0: prune only)."))
    out["seed"] = int(c4.number_input("Seed", 0, 2**31 - 1, 0, key=f"{key}-seed"))
    return out
