"""Command line for graph summarization (SSumM).

    python -m engine run ssumm graph.txt --ratio 0.3 --error l1 --seed 0 --out summary.txt --json result.json
    python -m engine run ssumm builtin:karate --ratio 0.5 --graphml summary.graphml
    python -m engine run ssumm-sweep graph.txt --ratios 0.1,0.3,0.5 --csv curve.csv

The graph is an edge-list file or a source string (``builtin:karate``, ``generator:sbm?blocks=4``,
``benchmark:ego_facebook``). ``--out`` writes the summary in the SSumM authors' text format.
"""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from engine.errors import ConfigError, DataError

_SOURCE_KINDS = ("builtin:", "generator:", "benchmark:", "path:")


def graph_source(text: str) -> str:
    """A CLI graph argument as a config source: a source string, or an existing file's absolute path."""
    if text.startswith(_SOURCE_KINDS):
        if text.startswith("path:"):
            return graph_source(text[len("path:"):])
        return text
    path = Path(text).expanduser()
    if not path.is_file():
        raise DataError(f"No edge-list file at {text}. Give a file path or a source such as "
                        "builtin:karate, generator:sbm or benchmark:ego_facebook.")
    return f"path:{path.resolve()}"


def _ratios(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"--ratios must be numbers separated by commas, e.g. 0.1,0.3,0.5; got '{text}'.") from None


def _build_ssumm(args: argparse.Namespace):
    from engine.graphs.experiments import SSumMConfig

    files = tuple(name for option, name in ((args.graphml, "summary.graphml"),
                                            (args.summary_json, "summary.json")) if option)
    return SSumMConfig(source=graph_source(args.graph), ratio=args.ratio, error=args.error,
                       iterations=args.iterations, seed=args.seed, files=files,
                       skip_half_density=args.skip_half_density)


def _after_ssumm(args: argparse.Namespace, result: dict, store, run_id: int) -> None:
    from engine.cli import write_output

    for option, name, flag in ((args.out, "summary.txt", "--out"), (args.graphml, "summary.graphml", "--graphml"),
                               (args.summary_json, "summary.json", "--summary-json")):
        if option:
            found = store.artifact(run_id, name)
            if found is None:
                raise DataError(f"Run #{run_id} has no {name} to write to {option}.")
            write_output(option, found[0], flag, run_id)


def _build_sweep(args: argparse.Namespace):
    from engine.graphs.experiments import SSumMSweepConfig

    return SSumMSweepConfig(source=graph_source(args.graph), ratios=_ratios(args.ratios), error=args.error,
                            iterations=args.iterations, seed=args.seed,
                            skip_half_density=args.skip_half_density, backend=args.backend, address=args.address)


def _after_sweep(args: argparse.Namespace, result: dict, store, run_id: int) -> None:
    from engine.cli import write_output

    if args.csv and result.get("rows"):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(result["rows"][0]))
        writer.writeheader()
        writer.writerows(result["rows"])
        write_output(args.csv, buf.getvalue(), "--csv", run_id)


def _shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("graph", help="edge-list file (SNAP text or CSV), or builtin:karate, generator:sbm, "
                                 "benchmark:<name>")
    p.add_argument("--error", choices=("l1", "l2"), default="l1", help="error the summary minimises (default l1)")
    p.add_argument("--iterations", type=int, default=20, help="merge iterations T (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-half-density", action="store_true",
                   help="L1 only, not the paper's: never keep a superedge of density exactly 1/2 (it costs "
                        "bits and lowers RE1 by nothing); the default is faithful to the paper")


def register(subparsers, common) -> None:
    p = subparsers.add_parser("ssumm", parents=[common], help="summarize a graph with SSumM (KDD 2020)")
    _shared(p)
    p.add_argument("--ratio", type=float, default=0.3, help="size budget as a fraction of the input's bits")
    p.add_argument("--out", metavar="PATH", help="write the summary in the SSumM authors' text format")
    p.add_argument("--graphml", metavar="PATH", help="write the summary graph as GraphML")
    p.add_argument("--summary-json", metavar="PATH", help="write supernodes and superedges as JSON")
    p.set_defaults(kind="ssumm", build_config=_build_ssumm, after=_after_ssumm,
                   outputs=("out", "graphml", "summary_json"))

    s = subparsers.add_parser("ssumm-sweep", parents=[common],
                              help="SSumM over several size ratios (error-vs-size curve)")
    _shared(s)
    s.add_argument("--ratios", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9",
                   help="comma-separated size ratios (default 0.1,…,0.9)")
    s.add_argument("--csv", metavar="PATH", help="write one row per ratio as CSV")
    s.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local: the ratios one after another here; ray: each ratio a Ray task (default local)")
    s.add_argument("--address", default="local",
                   help="Ray cluster: local (started for this sweep), auto, HOST:PORT or ray://HOST:PORT (default local)")
    s.set_defaults(kind="ssumm-sweep", build_config=_build_sweep, after=_after_sweep, outputs=("csv",))
