"""Sparsity methods, each a sparsifier object (see ``engine.sparse.masks.MaskSparsifier``).

``METHODS`` maps the CLI / UI method name to a factory ``make(config) -> sparsifier``.
"""
from __future__ import annotations

from engine.sparse.methods.registry import METHODS, METHOD_INFO, make_sparsifier

__all__ = ["METHODS", "METHOD_INFO", "make_sparsifier"]
