"""Command line for StackVAE-G.

    python -m engine run stackvaeg --smd ../shared/data/SMD --machine machine-1-2 --epochs 20 --seed 0 --json result.json
    python -m engine run stackvaeg --smap ../shared/data/SMAP --channel P-1 --epochs 20
    python -m engine run stackvaeg --csv series.csv --label-column label
    python -m engine run stackvaeg --synthetic --channels 12 --groups 3 --epochs 30
    python -m engine run stackvaeg --synthetic --node-init-std 0.1 --epochs 30   # watch the graph form, then erode
    python -m engine run stackvaeg --synthetic --variant graph --epochs 30 --json r.json   # graph-faithful variant

``--variant released`` (default) is the authors' StackVAE-G; ``--variant graph`` is this project's
graph-faithful variant (leave-one-out graph loss, node-embedding start N(0, 0.1^2); see
engine/anomaly/stackvae_g.py). On data with a known graph the JSON carries ``graph_auroc``.

The JSON holds every protocol's metrics for the model and the baselines, the parameter count,
seconds per epoch and the learned adjacency; ``--scores FILE.npz`` also writes the score arrays.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import DataError


def _build(args: argparse.Namespace):
    from engine.anomaly.experiments import StackVAEGConfig

    chosen = [name for name in ("smd", "smap", "csv") if getattr(args, name)] + (["synthetic"] if args.synthetic else [])
    if len(chosen) > 1:
        raise DataError(f"Choose one data source, not {' and '.join('--' + c for c in chosen)}.")
    data = chosen[0] if chosen else "synthetic"
    path = {"smd": args.smd, "smap": args.smap}.get(data) or ""
    if path and not Path(path).is_dir():
        raise DataError(f"--{data} {path}: no such folder.")
    csv = str(Path(args.csv).expanduser().resolve()) if args.csv else ""
    return StackVAEGConfig(
        data=data, data_dir=str(Path(path).resolve()) if path else "", machine=args.machine, channel=args.channel,
        csv_path=csv, label_column=args.label_column, train_fraction=args.train_fraction,
        n_channels=args.channels, n_groups=args.groups, length=args.length, window=args.window,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, k=args.k, alpha=args.alpha,
        gamma=args.gamma, graph_weight=args.graph_weight, node_init_std=args.node_init_std,
        train_stride=args.train_stride, variant=args.variant, baselines=not args.no_baselines, seed=args.seed)


def _preflight(config) -> None:
    """Read the data as the run will (missing SMD files, a bad CSV, a window longer than a part: DataError)."""
    from engine.anomaly.preflight import preflight

    preflight(config)


def _after(args: argparse.Namespace, result: dict, store, run_id: int) -> None:
    if args.scores:
        found = store.artifact(run_id, "scores.npz")
        if found is None:
            raise DataError(f"Run #{run_id} has no scores to write to {args.scores} (cancelled early?).")
        Path(args.scores).write_bytes(found[0])


def register(subparsers, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("stackvaeg", parents=[common],
                              help="StackVAE-G anomaly detection with a learned channel graph")
    src = p.add_argument_group("data (default: --synthetic)")
    src.add_argument("--smd", metavar="DIR", help="SMD folder (train/, test/, test_label/, interpretation_label/)")
    src.add_argument("--machine", default="machine-1-2", help="SMD machine (default machine-1-2)")
    src.add_argument("--smap", metavar="DIR", help="SMAP folder (telemanom layout)")
    src.add_argument("--channel", default="P-1", help="SMAP channel (default P-1)")
    src.add_argument("--csv", metavar="FILE", help="CSV: one column per channel, optional label column")
    src.add_argument("--label-column", default="", help="CSV label column (default: autodetect)")
    src.add_argument("--train-fraction", type=float, default=0.5, help="CSV: leading share of rows for training")
    src.add_argument("--synthetic", action="store_true", help="generated groups of channels with a known graph")
    src.add_argument("--channels", type=int, default=12, help="synthetic: channels (default 12; 2 to 200)")
    src.add_argument("--groups", type=int, default=3, help="synthetic: groups (default 3)")
    src.add_argument("--length", type=int, default=1500, help="synthetic: rows in train and test (default 1500; 120 to 200,000)")
    m = p.add_argument_group("model (defaults: the authors' released setting, except epochs)")
    m.add_argument("--epochs", type=int, default=30, help="training epochs (released setting: 256; default 30; 1 to 2,000)")
    m.add_argument("--window", type=int, default=100, help="window length w (default 100; 2 to 2,000, at most the training part)")
    m.add_argument("--batch-size", type=int, default=64, help="(default 64; 1 to 4,096)")
    m.add_argument("--lr", type=float, default=1e-3)
    m.add_argument("--k", type=int, default=10, help="neighbours kept per channel (default 10)")
    m.add_argument("--alpha", type=float, default=3.0, help="graph saturation (default 3)")
    m.add_argument("--gamma", type=float, default=0.5, help="latent neighbour mixing (default 0.5)")
    m.add_argument("--train-stride", type=int, default=1, help="train on every s-th window (default 1)")
    m.add_argument("--graph-weight", type=float, default=1.0,
                   help="weight of the graph loss ||X - A~X||^2 (released: 1; 0 = ablation)")
    m.add_argument("--node-init-std", type=float, default=1.0,
                   help="std of the node embeddings' start (released: 1, PyTorch's N(0, 1))")
    m.add_argument("--variant", choices=("released", "graph"), default="released",
                   help="released = the authors' StackVAE-G (default); graph = this project's graph-faithful "
                        "variant: leave-one-out graph loss ||X - (A~ - diag)X||^2 renormalised, and a N(0, 0.1^2) "
                        "node-embedding start when --node-init-std is left at 1")
    m.add_argument("--no-baselines", action="store_true", help="skip random / PCA / Isolation Forest")
    m.add_argument("--seed", type=int, default=0)
    p.add_argument("--scores", metavar="FILE.npz", help="also write scores, channel scores and labels")
    p.set_defaults(kind="stackvaeg", build_config=_build, after=_after, preflight=_preflight)
