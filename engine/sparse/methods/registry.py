"""The registry of sparsity methods: name -> class, one line per method (lazily imported, torch-free).

Adding a method: write its class (one file in ``engine/sparse/methods/``, a ``MaskSparsifier``
subclass whose keyword-only constructor is its schema and whose attributes are its metadata), add
its line to ``REGISTRY`` and its defining-property check to ``tests/engine/sparse/test_conformance.py``.
Everything else (CLI flags, the form, labels, ledger targets, sweep axes) is read from the class.
"""
from __future__ import annotations

import importlib
from typing import Any

REGISTRY: dict[str, tuple[str, str]] = {  # name -> (module in engine.sparse.methods, class)
    "dense": ("magnitude", "DenseBaseline"),
    "magnitude": ("magnitude", "MagnitudeSparsifier"),
    "gmp": ("magnitude", "GradualMagnitudeSparsifier"),
    "imp": ("lottery", "IMPSparsifier"),
    "random-uniform": ("pai", "RandomUniform"),
    "random-erk": ("pai", "RandomERK"),
    "snip": ("pai", "SNIPSparsifier"),
    "grasp": ("pai", "GraSPSparsifier"),
    "synflow": ("pai", "SynFlowSparsifier"),
    "set": ("dst", "SETSparsifier"),
    "rigl": ("dst", "RigLSparsifier"),
    "nm-srste": ("nm_methods", "SRSTESparsifier"),
    "nm-bdwp": ("nm_methods", "BDWPSparsifier"),
    "nm-decay": ("nm_methods", "DecayingNMSparsifier"),
    "structured": ("structured", "StructuredSparsifier"),
    "wgsef": ("wgsef", "WGSEFSparsifier"),
    "soup": ("soup", "SoupSparsifier"),
    "post-magnitude": ("posttrain", "PostMagnitudeSparsifier"),
    "wanda": ("posttrain", "WandaSparsifier"),
    "sparsegpt": ("posttrain", "SparseGPTSparsifier"),
    "sift-wide": ("sift", "SparseWideSparsifier"),
    "sift-factorized": ("sift", "SparseFactorizedSparsifier"),
    "random-search": ("random_search", "RandomSearchSparsifier"),
    "random-search-nodes": ("random_search", "RandomNodeSearchSparsifier"),
    "monarch": ("monarch", "MonarchSparsifier"),
}
METHODS = tuple(REGISTRY)


def method_class(name: str) -> type:
    """The class of method ``name`` (ConfigError for an unknown name).

    >>> method_class("rigl").family, method_class("structured").counts
    ('dynamic sparse training', 'units')
    """
    if name not in REGISTRY:
        from engine.errors import ConfigError

        raise ConfigError(f"Unknown method '{name}'. Choose one of: {', '.join(METHODS)}.")
    module, cls = REGISTRY[name]
    return getattr(importlib.import_module(f"engine.sparse.methods.{module}"), cls)


def methods() -> list[type]:
    """Every registered method class, in registry order."""
    return [method_class(n) for n in METHODS]


def __getattr__(attr: str) -> Any:
    # derived tables, computed from the classes on first use
    if attr == "NM_METHODS":
        return tuple(c.name for c in methods() if c.family == "N:M")
    if attr == "METHOD_INFO":  # name -> (module, title): the old table's shape
        return {n: (REGISTRY[n][0], method_class(n).title) for n in METHODS}
    raise AttributeError(attr)


def make_sparsifier(config) -> Any:
    """The sparsifier of ``config.method`` built with ``config.method_params`` and ``config.sparsity``.

    >>> from engine.sparse.config import SparseConfig
    >>> sp = make_sparsifier(SparseConfig(method="rigl", sparsity=0.9, method_params={"sparse_init": "fan-in"}))
    >>> type(sp).__name__, sp.sparsity_level, sp.sparse_init
    ('RigLSparsifier', 0.9, 'fan-in')
    """
    from engine.sparse import schema

    cls = method_class(config.method)
    kwargs = dict(config.method_params)
    if schema.uses_sparsity(cls):
        kwargs["sparsity"] = config.sparsity
    sparsifier = cls(**kwargs)
    sparsifier.seed = config.seed
    return sparsifier
