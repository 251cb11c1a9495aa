"""Forms of the sparse training lab: widgets -> keyword arguments of the engine's configs.

Each ``*_form(key)`` draws its widgets (session keys prefixed by ``key``) and returns a dict of
config fields; the page builds the config inside ``guard`` so a ConfigError becomes a message.
The method's widgets, labels and help are read from its class (``engine.sparse.schema``): one
widget per constructor parameter, keyed ``{key}-{method}.{parameter}`` (per method, so switching
methods shows each one's own defaults, e.g. GMP's layer-wise scope after magnitude's global one). Importing this module does not
import torch (``engine.sparse.config`` and the method classes don't).

Every widget is bound to the URL through :class:`dashboard.components.urlstate.Controls` (its key is
the query parameter: ``?st-method=rigl&st-sparsity=0.8&st-rigl.drop_fraction=0.5``), so a link
reopens the form as it was, and ``?hide=st-method,st-sparsity`` hides those widgets (teacher mode).
Choices are shown as their plain names (``rigl``, ``moons``, ``mlp``): Streamlit writes a choice's
displayed label into the URL, and plain names keep links short and writable by hand; the longer
description is drawn beside the widget.
"""
from __future__ import annotations

import streamlit as st

from dashboard.components.urlstate import Controls
from engine.errors import ConfigError
from engine.limits import help_text as plain_limit  # the size bounds of engine/limits.py, stated in the help
from engine.sparse import schema
from engine.sparse.config import DATASETS, IDX_DATASETS, SYNTHETIC_2D, SparseConfig
from engine.sparse.methods.registry import METHODS, method_class

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
SPARSITY_LEVELS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
TOP_PARAMS = ("nm", "scope")  # drawn next to the sparsity, not under Advanced


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
    return f"{name} — {method_class(name).title}"


def param_label(p: schema.Param) -> str:
    """The widget label: the setting's name and, when its comment starts with one, the paper's symbol.

    >>> param_label(schema.Param("zeta", 0.3, float, None, "ζ: fraction removed at each update"))
    'zeta (ζ)'
    >>> param_label(schema.Param("schedule", "mdgf", str, ("mdgf", "sdgf"), "MDGF: mask values decay; SDGF: ..."))
    'schedule'
    """
    name = p.name.replace("_", " ")
    symbol, sep, _ = p.help.partition(": ")
    looks_like_symbol = (sep and len(symbol) <= 6 and " " not in symbol and symbol not in (p.choices or ())
                         and (not symbol.isascii() or "_" in symbol or ":" in symbol or len(symbol) == 1))
    return f"{name} ({symbol})" if looks_like_symbol else name


def param_key(key: str, method: str, name: str) -> str:
    """Session key of a method parameter's widget.

    >>> param_key("st", "rigl", "update_every")
    'st-rigl.update_every'
    """
    return f"{key}-{method}.{name}"


def param_widget(container, key: str, method: str, p: schema.Param, ctl: Controls | None = None):
    """One widget for method parameter ``p`` (its type and choices decide which), value typed, bound to the URL."""
    ctl = ctl or Controls()
    label = param_label(p)
    wkey = param_key(key, method, p.name)
    if p.choices is not None:
        return ctl.radio(label, list(p.choices), index=list(p.choices).index(p.default), key=wkey, where=container,
                         horizontal=len(p.choices) <= 3, help=p.help)
    if p.kind is bool:
        return bool(ctl.checkbox(label, p.default, key=wkey, where=container, help=p.help))
    if p.kind is int:
        return int(ctl.number_input(label, min_value=0, value=int(p.default), step=1, key=wkey, where=container,
                                    help=p.help))
    if p.kind is float:
        fmt = "%.5f" if 0 < abs(p.default) < 0.01 else "%.3f"
        return float(ctl.number_input(label, min_value=0.0, value=float(p.default), format=fmt, key=wkey,
                                      where=container, help=p.help))
    return ctl.text_input(label, str(p.default), key=wkey, where=container, help=p.help)


def make_config(cls, values: dict):
    """``cls(**values)`` after parsing the comma-separated width fields; ConfigError on bad input."""
    values = dict(values)
    if isinstance(values.get("hidden"), str):
        values["hidden"] = parse_ints(values["hidden"], "Hidden widths")
    if isinstance(values.get("channels"), str):
        values["channels"] = parse_ints(values["channels"], "CNN channels")
    return cls.from_dict(values)


def data_fields(key: str, *, points: bool = True, default_path: str = "", ctl: Controls | None = None) -> dict:
    """Dataset, its options, and the model: fields shared by the three forms (``points``: the 2-D
    sets' size and noise, which only single runs take)."""
    ctl = ctl or Controls()
    c1, c2, c3 = st.columns([3, 2, 2])
    dataset = ctl.selectbox("Data", DATASETS, key=f"{key}-dataset", where=c1,
                            help="\n".join(f"- {v}" for v in DATASET_LABELS.values()))
    if ctl.shows(f"{key}-dataset"):
        c1.caption(DATASET_LABELS.get(dataset, dataset))
    model = ctl.radio("Model", ["mlp", "cnn"], horizontal=True, key=f"{key}-model", where=c2,
                      help="mlp: a multi-layer perceptron; cnn: a small CNN, which needs images (digits, MNIST); "
                           "the 2-D sets use the MLP.")
    if model == "mlp":
        sizes = ctl.text_input("Hidden widths", "256,256", key=f"{key}-hidden", where=c3,
                               help="Comma-separated widths of the hidden layers, e.g. 256,256 or 64. "
                                    + plain_limit("hidden"))
        out = {"hidden": sizes}
    else:
        out = {"channels": ctl.text_input("Channels per conv block", "16,32", key=f"{key}-channels", where=c3,
                                          help="Comma-separated channels of the conv blocks. " + plain_limit("channels"))}
    out.update(dataset=dataset, model=model)
    if dataset in IDX_DATASETS:
        out["data_path"] = ctl.text_input(
            "Folder with the four IDX files (train-images-idx3-ubyte, …; .gz accepted)", default_path,
            key=f"{key}-path", help="Nothing is downloaded: point to a folder you already have.").strip()
        out["max_train"] = int(ctl.number_input("Training images used (0 = all 60,000)", 0, 60000, D.max_train,
                                                1000, key=f"{key}-maxtrain"))
    if dataset == "csv":  # the user's own table: see dashboard/components/sparse_data_picker.py
        from dashboard.components.sparse_data_picker import pick_csv_table

        out.update(pick_csv_table(key, model))
    if dataset in SYNTHETIC_2D and points:
        a, b = st.columns(2)
        out["n_samples"] = int(ctl.number_input("Points", 20, 5000, D.n_samples, 100, key=f"{key}-n", where=a))
        out["noise"] = float(ctl.slider("Noise", 0.0, 0.5, D.noise, 0.01, key=f"{key}-noise", where=b))
    return out


def train_form(key: str = "st", ctl: Controls | None = None) -> dict:
    """The Train & prune form: fields of a :class:`SparseConfig` (the method's under ``method_params``)."""
    ctl = ctl or Controls()
    out = data_fields(key, ctl=ctl)
    methods = list(METHODS)
    c1, c2 = st.columns([3, 2])
    method = ctl.selectbox("Method", methods, index=methods.index("magnitude"), key=f"{key}-method", where=c1,
                           help="Each method's paper and settings: 'About … and its family' below the form.")
    cls = method_class(method)
    c2.markdown(f"**{method}** — {cls.title}  \n**Family:** {cls.family}")
    out["method"] = method
    specs = {p.name: p for p in schema.params_of(cls)}
    params: dict = {}
    c1, c2, c3, c4 = st.columns(4)
    if "nm" in specs:
        params["nm"] = ctl.text_input("N:M pattern", specs["nm"].default, key=param_key(key, method, "nm"),
                                      where=c1, help="Keep at most N of every M consecutive weights along a layer's input "
                                          "(2:4, 1:4, 2:8, 1:16 …). Sparsity is then 1 − N/M.")
    elif schema.uses_sparsity(cls):
        what = "Fraction of the hidden units removed (whole neurons / channels)" if cls.counts == "units" \
            else "Fraction of the prunable weights set to zero"
        out["sparsity"] = float(ctl.slider("Units removed" if cls.counts == "units" else "Sparsity", 0.0, 0.99,
                                           D.sparsity, 0.01, key=f"{key}-sparsity", where=c1, help=what + "."))
    else:
        out["sparsity"] = 0.0
    if "scope" in specs:
        params["scope"] = ctl.radio("Scope", list(specs["scope"].choices),
                                    index=list(specs["scope"].choices).index(specs["scope"].default),
                                    key=param_key(key, method, "scope"), where=c2, horizontal=True,
                                    help="layer = layer-wise. " + specs["scope"].help)
    out["epochs"] = int(ctl.number_input("Epochs", 1, 1000, 30, key=f"{key}-epochs", where=c3,
                                         help="Training epochs (IMP: per round)."))
    out["seed"] = int(ctl.number_input("Seed", 0, 2**31 - 1, 0, key=f"{key}-seed", where=c4))
    with st.expander("Advanced"):
        out.update(_advanced(key, cls, ctl))
        rest = [p for p in specs.values() if p.name not in TOP_PARAMS]
        if rest:
            st.markdown(f"**{method} settings** (defaults as in the paper; hover for the symbol)")
            cols = st.columns(4)
            for i, p in enumerate(rest):
                params[p.name] = param_widget(cols[i % 4], key, method, p, ctl)
    out["method_params"] = params
    return out


def method_card(name: str) -> str:
    """The method's explainer card, from its class (Markdown of the project's own text)."""
    return schema.describe(method_class(name))


def _advanced(key: str, cls, ctl: Controls) -> dict:
    """Training knobs (the method's own are drawn from its schema by ``train_form``)."""
    out: dict = {}
    a, b, c, d = st.columns(4)
    out["lr"] = float(ctl.number_input("Learning rate", 1e-5, 1.0, D.lr, format="%.4f", key=f"{key}-lr", where=a))
    out["optimizer"] = ctl.selectbox("Optimizer", ["adam", "sgd"], key=f"{key}-opt", where=b)
    out["batch_size"] = int(ctl.number_input("Batch size", 1, 4096, D.batch_size, key=f"{key}-bs", where=c))
    if cls.finetunes:
        out["finetune_epochs"] = int(ctl.number_input("Fine-tuning epochs", 0, 1000, D.finetune_epochs,
                                                      key=f"{key}-ft", where=d))
    return out


def sweep_form(key: str = "sc", ctl: Controls | None = None) -> dict:
    """The sweep form: fields of ``engine.sparse.sweep.SweepConfig``."""
    ctl = ctl or Controls()
    out = data_fields(key, points=False, ctl=ctl)
    methods = [m for m in METHODS if m != "dense"]
    out["methods"] = tuple(ctl.multiselect("Methods", methods, default=["magnitude"], key=f"{key}-methods",
                                           help="\n".join(f"- {method_label(m)}" for m in methods)))
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    out["sparsities"] = tuple(sorted(ctl.multiselect("Sparsity levels (fraction of weights zeroed)", SPARSITY_LEVELS,
                                                     default=[0.5, 0.7, 0.8, 0.9, 0.95, 0.98],
                                                     key=f"{key}-levels", where=c1)))
    n_seeds = int(ctl.number_input("Seeds", 1, 10, 1, key=f"{key}-seeds", where=c2,
                                   help="Seeds 0 … n−1 for every point."))
    out["seeds"] = tuple(range(n_seeds))
    out["epochs"] = int(ctl.number_input("Epochs", 1, 1000, 20, key=f"{key}-epochs", where=c3))
    out["finetune_epochs"] = int(ctl.number_input("Fine-tuning", 0, 1000, 5, key=f"{key}-ft", where=c4))
    a, b, c = st.columns(3)
    out["include_dense"] = ctl.checkbox("Dense baseline (one run per seed)", True, key=f"{key}-dense", where=a)
    chosen = [method_class(m) for m in out["methods"]]
    if any("scope" in {p.name for p in schema.params_of(c_)} for c_ in chosen):
        out["scope"] = ctl.radio("Scope (methods with one)", ["default", "global", "layer"], horizontal=True,
                                 key=f"{key}-scope", where=b,
                                 help="default: each method's own; global; layer: layer-wise.")
    if any(c_.family == "N:M" for c_ in chosen):
        out["nm"] = ctl.text_input("N:M pattern (N:M methods)", "2:4", key=f"{key}-nm", where=c)
    if any(c_.masks_at_init for c_ in chosen):
        out["sparse_init"] = ctl.radio(
            "Initial weights (methods that draw masks at init)", ["default", "dense", "fan-in"], horizontal=True,
            key=f"{key}-sinit", help="default: each method's default; dense: dense init; fan-in: rescaled to the "
                                     "sparse fan-in (Evci et al. 2022).")
    return out


def sensitivity_form(key: str = "ss", ctl: Controls | None = None) -> dict:
    """The sensitivity form: fields of ``engine.sparse.sweep.SensitivityConfig``."""
    ctl = ctl or Controls()
    out = data_fields(key, points=False, ctl=ctl)
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    out["sparsities"] = tuple(sorted(ctl.multiselect("Sparsity levels (fraction of weights zeroed)", SPARSITY_LEVELS,
                                                     default=list(SPARSITY_LEVELS), key=f"{key}-levels", where=c1)))
    out["epochs"] = int(ctl.number_input("Dense epochs", 1, 1000, 20, key=f"{key}-epochs", where=c2))
    out["finetune_epochs"] = int(ctl.number_input("Fine-tune per cell", 0, 100, 0, key=f"{key}-ft", where=c3,
                                                  help="Epochs of fine-tuning after pruning each cell (0: prune only)."))
    out["seed"] = int(ctl.number_input("Seed", 0, 2**31 - 1, 0, key=f"{key}-seed", where=c4))
    return out
