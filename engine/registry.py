"""Where each experiment kind lives, imported lazily (the app must not import torch at start).

Each area's ``experiments`` module exposes ``EXPERIMENTS: dict[str, tuple[ConfigClass, run_fn]]``
with ``run_fn(config, reporter) -> dict`` (a JSON-serialisable result).
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from engine.config import Config
from engine.errors import ConfigError

# kind -> module that defines it. Add a line when an area adds a kind.
KINDS: dict[str, str] = {
    "sparse": "engine.sparse.experiments",
    "sweep": "engine.sparse.experiments",
    "sensitivity": "engine.sparse.experiments",
    "ssumm": "engine.graphs.experiments",
    "ssumm-sweep": "engine.graphs.experiments",
    "gnn": "engine.graphs.gnn_experiments",
    "gnn-sweep": "engine.graphs.gnn_experiments",
    "fastrp": "engine.graphs.gnn_experiments",
    "stackvaeg": "engine.anomaly.experiments",
    "sae": "engine.sparse.sae",
    "quickselection": "engine.sparse.quickselection",
    "toy": "engine.runs.toy",  # exercises the pipeline in tests; not shown in the app
}

_extra: dict[str, tuple[type[Config], Callable[..., dict]]] = {}


def register(kind: str, config_cls: type[Config], fn: Callable[..., dict]) -> None:
    """Register a kind at run time (tests register toy experiments this way)."""
    _extra[kind] = (config_cls, fn)


def check_kind(kind: str) -> None:
    """ConfigError for an unknown kind, without importing its experiment module (no torch in the app)."""
    if kind not in _extra and kind not in KINDS:
        raise ConfigError(f"Unknown experiment '{kind}'. Known: {', '.join(sorted(KINDS))}")


def get(kind: str) -> tuple[type[Config], Callable[..., dict]]:
    """The (config class, run function) of ``kind``; ConfigError for an unknown kind."""
    if kind in _extra:
        return _extra[kind]
    module = KINDS.get(kind)
    if module is None:
        raise ConfigError(f"Unknown experiment '{kind}'. Known: {', '.join(sorted(KINDS))}")
    try:
        return importlib.import_module(module).EXPERIMENTS[kind]
    except (ImportError, KeyError) as err:
        raise ConfigError(f"Experiment '{kind}' is not available: {err}") from None


def make_config(kind: str, data: dict[str, Any]) -> Config:
    """Build and validate the config of ``kind`` from a plain dict (a form or stored JSON)."""
    config_cls, _ = get(kind)
    return config_cls.from_dict(data)
