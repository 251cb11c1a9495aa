"""Sparsity methods, one class each (``engine.sparse.masks.MaskSparsifier`` subclasses).

``engine.sparse.methods.registry`` maps the CLI / UI names to the classes. This package's
``__init__`` imports nothing, so importing one method module loads only what it needs.
"""
