"""Command line of the sparse-autoencoder kind (activation sparsity, Ayonrinde 2024)::

    python -m engine run sae --variant topk --k 8 --width 256 --json sae.json
    python -m engine run sae --variant feature-choice --capacity zipf
    python -m engine run sae --variant mutual-choice --aux k
    python -m engine run quickselection --k-features 16 --json qs.json
"""
from __future__ import annotations


def register(subparsers, common, add_fields, values) -> None:
    """Add the ``sae`` sub-command (one flag per SAEConfig field, with ``engine.sparse.cli``'s helpers)."""
    from engine.sparse.sae import SAEConfig

    p = subparsers.add_parser("sae", parents=[common],
                              help="sparse autoencoder (TopK / Feature Choice / Mutual Choice) on a lab model's activations",
                              description="Activation sparsity: an SAE on the hidden activations of a small MLP "
                                          "trained on digits (Ayonrinde 2024).")
    add_fields(p, SAEConfig)
    p.set_defaults(kind="sae", build_config=lambda args: SAEConfig.from_dict(values(args, SAEConfig)), after=None)


def register_quickselection(subparsers, common, add_fields, values) -> None:
    """Add the ``quickselection`` sub-command (one flag per QuickSelectionConfig field)."""
    from engine.sparse.quickselection import QuickSelectionConfig

    p = subparsers.add_parser("quickselection", parents=[common],
                              help="QuickSelection: feature selection by input-neuron strength of a SET-trained sparse DAE",
                              description="Atashgahi et al. 2022: a sparse denoising autoencoder trained with SET; "
                                          "the K strongest input neurons are the selected features.")
    add_fields(p, QuickSelectionConfig)
    p.set_defaults(kind="quickselection", after=None,
                   build_config=lambda args: QuickSelectionConfig.from_dict(values(args, QuickSelectionConfig)))
