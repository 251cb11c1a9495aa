"""The sparsity ledger: per-layer density against the target, dead neurons, collapsed layers, FLOPs.

Global pruning ranks all layers together, so a layer can lose nearly everything (at 98 % global
magnitude pruning a 256×256 layer can keep a dozen weights). The ledger makes that visible: a layer
is *collapsed* when it keeps fewer weights than it has output units (it cannot feed every unit
even once), and a neuron is *dead* when its row of the mask (all inputs) is empty.
"""
from __future__ import annotations

import torch

from engine.sparse.masks import as_2d


def layer_row(name: str, mask: torch.Tensor, target_density: float | None, macs: int) -> dict:
    """One ledger row: shape, kept/total, density, target, dead output units, collapsed flag, FLOPs.

    >>> m = torch.zeros(4, 3, dtype=torch.bool); m[0, 0] = m[1, 2] = True
    >>> r = layer_row("l", m, 0.5, 12)
    >>> (r["kept"], r["density"], r["dead_neurons"], r["collapsed"], r["flops_sparse"])
    (2, 0.1667, 2, True, 4)
    """
    m2 = as_2d(mask)
    kept, total = int(mask.sum()), mask.numel()
    density = kept / max(total, 1)
    dead = int((m2.sum(1) == 0).sum())
    return {
        "name": name,
        "shape": list(mask.shape),
        "kept": kept,
        "total": total,
        "density": round(density, 4),
        "target_density": None if target_density is None else round(target_density, 4),
        "dead_neurons": dead,
        "collapsed": kept < m2.shape[0],
        "flops_dense": 2 * macs,
        "flops_sparse": int(round(2 * macs * density)),
    }


def ledger(masks: dict[str, torch.Tensor], targets: dict[str, float] | None, macs: dict[str, int]) -> list[dict]:
    """Ledger rows for every masked layer, in model order."""
    return [layer_row(k, m, None if targets is None else targets.get(k), macs.get(k, 0)) for k, m in masks.items()]


def warnings(rows: list[dict]) -> list[str]:
    """Plain-language warnings for collapsed layers and dead neurons."""
    out = []
    for r in rows:
        if r["collapsed"]:
            out.append(f"{r['name']} collapsed: it keeps {r['kept']} of {r['total']} weights, fewer than its "
                       f"{r['shape'][0]} output units.")
        elif r["dead_neurons"]:
            out.append(f"{r['name']}: {r['dead_neurons']} of {r['shape'][0]} units have no incoming weight (dead).")
    return out
