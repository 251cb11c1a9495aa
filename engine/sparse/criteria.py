"""Scores that decide which weights survive, and the masks they give at a target sparsity.

``scores_to_masks`` keeps the top scores globally (one threshold across layers) or per layer
(each layer at the same sparsity). Pruned weights score ``-inf`` when ``monotone`` so they are never
re-admitted (gradual and iterative pruning only ever remove weights).
"""
from __future__ import annotations

from engine.sparse._lazy import torch
from engine.sparse.masks import global_topk_masks, keep_count, topk_mask


def scores_to_masks(
    scores: dict[str, torch.Tensor],
    sparsity: float | dict[str, float],
    scope: str = "global",
    current: dict[str, torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """Masks keeping the highest ``scores`` at ``sparsity``.

    ``scope="global"``: ``round((1-s) Σ n_l)`` weights across all layers; ``"layer"``:
    ``round((1-s_l) n_l)`` per layer (``sparsity`` may be a dict of per-layer targets). With
    ``current`` masks, already-pruned weights score -inf (never re-admitted).

    >>> import torch
    >>> s = {"a": torch.tensor([[1., 2.], [3., 4.]]), "b": torch.tensor([[10., 0.5]])}
    >>> {k: v.tolist() for k, v in scores_to_masks(s, 0.5, "global").items()}
    {'a': [[False, False], [True, True]], 'b': [[True, False]]}
    >>> {k: v.tolist() for k, v in scores_to_masks(s, 0.5, "layer").items()}
    {'a': [[False, False], [True, True]], 'b': [[True, False]]}
    """
    if current is not None:
        scores = {k: v.masked_fill(~current[k], float("-inf")) for k, v in scores.items()}
    if scope == "global":
        s = sparsity if isinstance(sparsity, float) else float(sum(sparsity.values()) / len(sparsity))
        total = sum(v.numel() for v in scores.values())
        return global_topk_masks(scores, keep_count(total, s))
    per = sparsity if isinstance(sparsity, dict) else {k: sparsity for k in scores}
    return {k: topk_mask(v, keep_count(v.numel(), per[k])) for k, v in scores.items()}


def magnitude_scores(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """|w| (Han et al. 2015, "Learning both Weights and Connections")."""
    return {k: w.detach().abs() for k, w in weights.items()}
