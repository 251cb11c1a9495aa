"""Sparse training lab: pruning and sparse-training methods as sparsifier objects, run live.

Importing this package is cheap (no torch); ``engine.sparse.experiments`` holds the experiments.
"""
