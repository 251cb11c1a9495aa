"""Exports of a finished sparse run: weights (safetensors and a torch state_dict with masks), the
masks alone (npz) and a YAML recipe that reproduces the run from the command line."""
from __future__ import annotations

import io

import numpy as np
import torch
import yaml

from engine.sparse.config import SparseConfig


def recipe_yaml(config: SparseConfig) -> str:
    """A YAML recipe: the full config plus the equivalent CLI command.

    ``python -m engine run sparse --recipe recipe.yaml`` reads it back (any flag given too overrides it).

    >>> cfg = SparseConfig(method="nm-srste", method_params={"nm": "1:4"}, hidden=(64, 32), seed=2)
    >>> SparseConfig.from_dict(load_recipe(recipe_yaml(cfg))) == cfg
    True
    >>> "--method nm-srste" in recipe_yaml(cfg) and "--nm 1:4" in recipe_yaml(cfg)
    True
    """
    d = config.to_dict()
    d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
    flags = (f"--dataset {config.dataset} --model {config.model} --method {config.method} "
             f"--sparsity {config.sparsity} --seed {config.seed}")
    if config.nm:
        flags += f" --nm {config.nm}"
    doc = {
        "kind": "sparse",
        "command": f"python -m engine run sparse --recipe recipe.yaml  # or: python -m engine run sparse {flags}",
        "config": d,
    }
    return yaml.safe_dump(doc, sort_keys=False)


def load_recipe(text: str) -> dict:
    """The config dict of a recipe written by :func:`recipe_yaml` (ConfigError if malformed)."""
    from engine.errors import ConfigError

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"The recipe is not valid YAML: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise ConfigError("The recipe must be a YAML mapping with a 'config' section (as the app exports it).")
    return doc["config"]


def export_all(config: SparseConfig, model: torch.nn.Module, sparsifier, reporter) -> None:
    """Report the run's downloadable files as artifacts."""
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    masks = {k: v.clone() for k, v in sparsifier.masks().items()} if sparsifier.groups else {}
    try:
        from safetensors.torch import save

        tensors = dict(state)
        tensors.update({f"mask.{k}": m.to(torch.uint8) for k, m in masks.items()})
        reporter.artifact("model.safetensors", save(tensors, metadata={"config": config.to_json()}),
                          "application/octet-stream")
    except ImportError:  # pragma: no cover - safetensors is a project dependency
        pass
    buf = io.BytesIO()
    torch.save({"state_dict": state, "masks": masks, "config": config.to_dict()}, buf)
    reporter.artifact("model.pt", buf.getvalue(), "application/octet-stream")
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: m.numpy() for k, m in masks.items()})
    reporter.artifact("masks.npz", buf.getvalue(), "application/octet-stream")
    reporter.artifact("recipe.yaml", recipe_yaml(config).encode(), "application/x-yaml")
