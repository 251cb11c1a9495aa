"""Method names (CLI and UI) -> sparsifier factories built from a :class:`SparseConfig`."""
from __future__ import annotations

import importlib
from typing import Any, Callable

# name -> (module, one-line description with the paper)
METHOD_INFO: dict[str, tuple[str, str]] = {
    "dense": ("magnitude", "No pruning (the dense baseline)"),
    "magnitude": ("magnitude", "One-shot magnitude pruning + fine-tuning (Han et al. 2015)"),
    "gmp": ("magnitude", "Gradual magnitude pruning, cubic schedule (Zhu & Gupta 2017)"),
    "imp": ("lottery", "Iterative magnitude pruning with weight rewinding (Frankle & Carbin 2019; Frankle et al. 2020)"),
    "random-uniform": ("pai", "Random pruning at initialisation, same density per layer (Liu et al. 2022)"),
    "random-erk": ("pai", "Random pruning at initialisation, Erdős–Rényi layer densities (Liu et al. 2022)"),
    "snip": ("pai", "SNIP: connection sensitivity at initialisation (Lee et al. 2019)"),
    "grasp": ("pai", "GraSP: gradient-signal preservation at initialisation (Wang et al. 2020)"),
    "synflow": ("pai", "SynFlow: iterative synaptic-flow pruning, data-free (Tanaka et al. 2020)"),
    "set": ("dst", "SET: drop smallest, regrow at random, constant density (Mocanu et al. 2018)"),
    "rigl": ("dst", "RigL: drop smallest, regrow largest gradients, constant density (Evci et al. 2020)"),
    "nm-srste": ("nm_methods", "N:M with SR-STE, sparse-refined straight-through (Zhou et al. 2021)"),
    "nm-bdwp": ("nm_methods", "Bidirectional N:M pruning of weights and gradients, BDWP (Fang et al. 2023)"),
    "nm-decay": ("nm_methods", "N:M with progressive decaying masks (Bambhaniya et al. 2024)"),
    "structured": ("structured", "Neuron / channel pruning by norm, + group-lasso option (Li et al. 2017; Wen et al. 2016)"),
    "soup": ("soup", "Sparse model soups: average IMP retrainings sharing one mask (Zimmer et al. 2024)"),
}
METHODS = tuple(METHOD_INFO)
NM_METHODS = ("nm-srste", "nm-bdwp", "nm-decay")


def make_sparsifier(config) -> Any:
    """The sparsifier for ``config.method`` built with ``config``'s settings.

    >>> from engine.sparse.config import SparseConfig
    >>> sp = make_sparsifier(SparseConfig(method="rigl", sparsity=0.9, sparse_init="fan-in"))
    >>> type(sp).__name__, sp.sparsity_level, sp.sparse_init
    ('RigLSparsifier', 0.9, 'fan-in')
    """
    module = importlib.import_module(f"engine.sparse.methods.{METHOD_INFO[config.method][0]}")
    factory: Callable[[Any], Any] = module.FACTORIES[config.method]
    sparsifier = factory(config)
    sparsifier.sparse_init = getattr(config, "sparse_init", "dense")  # used by methods that mask at init
    return sparsifier
