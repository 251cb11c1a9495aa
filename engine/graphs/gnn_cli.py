"""Command line for learning on sparsified graphs (GCN + edge sparsifiers) and FastRP.

    python -m engine run gnn --graph cora --sparsifier teddy --graph-sparsity 0.5 --weight-sparsity 0.9 --seed 0 --json r.json
    python -m engine run gnn-sweep --graph cora --sparsifiers teddy,ugs,random --graph-sparsities 0.3,0.5 --weight-sparsities 0.5,0.8 --seeds 0,1
    python -m engine run fastrp --graph cora --dim 128 --json r.json

``--graph``: ``cora``, ``citeseer`` (shared data), ``karate``, ``csbm`` (built in), a source string
(``generator:csbm?blocks=3``), or an edge-list file with ``--labels`` (and ``--features`` for a GCN).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import ConfigError, DataError

SHORT = {"cora": "benchmark:cora", "citeseer": "benchmark:citeseer", "karate": "builtin:karate",
         "csbm": "generator:csbm"}


def node_source(text: str) -> str:
    """A CLI ``--graph`` as a node-data source string."""
    if text in SHORT:
        return SHORT[text]
    if text.startswith(("benchmark:", "builtin:", "generator:")):
        return text
    if text.startswith("path:"):
        text = text[len("path:"):]
    path = Path(text).expanduser()
    if not path.is_file():
        raise DataError(f"No graph '{text}': give cora, citeseer, karate, csbm, a source string or an edge-list file.")
    return f"path:{path.resolve()}"


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"--{what} must be numbers separated by commas, got '{text}'.") from None


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"--{what} must be whole numbers separated by commas, got '{text}'.") from None


def _file(p: str | None) -> str:
    return str(Path(p).expanduser().resolve()) if p else ""


def _build_gnn(args):
    from engine.graphs.gnn_experiments import GNNConfig

    return GNNConfig(graph=node_source(args.graph), labels=_file(args.labels), features=_file(args.features),
                     sparsifier=args.sparsifier, graph_sparsity=args.graph_sparsity,
                     weight_sparsity=args.weight_sparsity, seed=args.seed, epochs=args.epochs,
                     patience=args.patience, hidden=args.hidden, distill=args.distill)


def _build_sweep(args):
    from engine.graphs.gnn_experiments import GNNSweepConfig

    return GNNSweepConfig(graph=node_source(args.graph), labels=_file(args.labels), features=_file(args.features),
                          sparsifiers=tuple(s for s in args.sparsifiers.split(",") if s),
                          graph_sparsities=_floats(args.graph_sparsities, "graph-sparsities"),
                          weight_sparsities=_floats(args.weight_sparsities, "weight-sparsities"),
                          seeds=_ints(args.seeds, "seeds"), epochs=args.epochs)


def _build_fastrp(args):
    from engine.graphs.gnn_experiments import FastRPConfig

    return FastRPConfig(graph=node_source(args.graph), labels=_file(args.labels), dim=args.dim,
                        weights=_floats(args.weights, "weights"), beta=args.beta, seed=args.seed,
                        compare_spectral=args.spectral)


def _graph_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--graph", default="csbm", help="cora, citeseer, karate, csbm (default), a source string or an edge list")
    p.add_argument("--labels", metavar="PATH", help="label file (node<TAB>label) for an edge-list graph")


def register(subparsers, common) -> None:
    from engine.graphs.gnn_experiments import SPARSIFIERS

    g = subparsers.add_parser("gnn", parents=[common], help="train a GCN on a sparsified graph (TEDDY, UGS, …)")
    _graph_args(g)
    g.add_argument("--features", metavar="PATH", help="node features (.npz, scipy sparse) for an edge-list graph")
    g.add_argument("--sparsifier", choices=SPARSIFIERS, default="teddy")
    g.add_argument("--graph-sparsity", type=float, default=0.5, help="share of edges removed (default 0.5)")
    g.add_argument("--weight-sparsity", type=float, default=0.5, help="share of GCN weights zeroed (default 0.5)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--epochs", type=int, default=200)
    g.add_argument("--patience", type=int, default=10, help="early-stopping window on the val loss; 0 = off")
    g.add_argument("--hidden", type=int, default=16)
    g.add_argument("--distill", type=float, default=10.0, help="TEDDY's distillation weight λ")
    g.set_defaults(kind="gnn", build_config=_build_gnn)

    s = subparsers.add_parser("gnn-sweep", parents=[common], help="GCN accuracy over sparsifiers × sparsities × seeds")
    _graph_args(s)
    s.add_argument("--features", metavar="PATH")
    s.add_argument("--sparsifiers", default="teddy,random")
    s.add_argument("--graph-sparsities", default="0.2,0.5,0.8")
    s.add_argument("--weight-sparsities", default="0.2,0.5,0.8", help="paired with --graph-sparsities")
    s.add_argument("--seeds", default="0,1")
    s.add_argument("--epochs", type=int, default=200)
    s.set_defaults(kind="gnn-sweep", build_config=_build_sweep)

    f = subparsers.add_parser("fastrp", parents=[common], help="FastRP node embeddings + logistic regression")
    _graph_args(f)
    f.add_argument("--dim", type=int, default=128)
    f.add_argument("--weights", default="0,0,1,2", help="α_1..α_k (default 0,0,1,2)")
    f.add_argument("--beta", type=float, default=0.5, help="degree normalisation β (default 0.5)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--spectral", action="store_true", help="also time and score a spectral embedding")
    f.set_defaults(kind="fastrp", build_config=_build_fastrp)
