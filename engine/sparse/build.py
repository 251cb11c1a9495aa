"""Build a sparse run's seeded data, model and sparsifier from its config (imports torch).

``build(config)`` is shared by the experiments (``engine.sparse.experiments``) and the layer
sensitivity analysis (``engine.sparse.sweep``); ``preflight(config)`` runs every check that needs
no training on the real data and model. The torch-free pre-flight the app runs in its server is
``engine.sparse.preflight.check``.
"""
from __future__ import annotations


def build(config):
    """Seeded data, model and sparsifier of ``config`` (raises ConfigError / DataError before training)."""
    import torch

    from engine.sparse import data as data_mod
    from engine.sparse.methods.registry import make_sparsifier
    from engine.sparse.models import build_model

    torch.manual_seed(config.seed)
    data = data_mod.load(config.dataset, seed=config.seed, val_frac=config.val_frac, test_frac=config.test_frac,
                         n_samples=config.n_samples, noise=config.noise, data_path=config.data_path,
                         max_train=config.max_train, label_column=config.label_column)
    hidden, channels = config.hidden, config.channels
    widths = getattr(config.method_class, "widths", None)  # Sparse-IFT methods set the model's widths
    if widths is not None:
        hidden, channels = widths(config, n_in=data.n_features, n_out=data.n_classes, image_shape=data.image_shape)
    model = build_model(config.model, n_in=data.n_features, n_out=data.n_classes, hidden=hidden,
                        channels=channels, image_shape=data.image_shape)
    sparsifier = make_sparsifier(config)
    sparsifier.prepare(model, None if config.method != "dense" else [])
    return data, model, sparsifier


def preflight(config) -> None:
    """Check what can be checked without training, on the real data and model.

    Reads the data (an IDX file with a bad header, a wrong size or non-28×28 images raises
    DataError), builds the model and lets the method check its layers (a layer too small for the
    N:M pattern raises ConfigError). The CLI calls it before recording a run.
    """
    _, model, sparsifier = build(config)
    if config.method != "dense":
        sparsifier.check_model(model)
