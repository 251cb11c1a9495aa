"""Command line: the same experiments as the app, headless, written to the same run store.

    python -m engine run <kind> [options] [--json result.json]
    python -m engine runs                     # list stored runs
    python -m engine export <run id> --csv metrics.csv --json run.json

Each area adds its ``run`` sub-commands in ``engine/<area>/cli.py`` (``register(subparsers, common)``).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path

from engine.errors import ConfigError, DataError, SparsityLabError

AREA_CLIS = ("engine.sparse.cli", "engine.graphs.cli", "engine.graphs.gnn_cli", "engine.anomaly.cli", "engine.runs.toy_cli")


class ProgressBar:
    """A reporter that draws a tqdm progress bar on stderr (and ignores everything else)."""

    def __init__(self, desc: str, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar = None
        self.desc = desc

    def progress(self, step: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit="step", file=sys.stderr, dynamic_ncols=True)
        if self.bar.total != total:
            self.bar.total = total
        self.bar.update(step - self.bar.n)  # tqdm redraws at most every mininterval

    def metric(self, name, value, step) -> None:
        pass

    def snapshot(self, name, array, step, *, force=False) -> None:
        pass

    def log(self, text) -> None:
        pass

    def artifact(self, name, data, mime="application/octet-stream") -> None:
        pass

    def should_stop(self) -> bool:
        return False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH")
    common.add_argument("--db", metavar="PATH", help="run store file (default: SPARSITY_LAB_DB or the user data dir)")
    common.add_argument("--quiet", action="store_true", help="no progress bar")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Sparsity Lab experiments, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment and record it in the run store")
    kinds = run.add_subparsers(dest="kind_cmd", required=True, metavar="<experiment>")
    common = _common()
    for module in AREA_CLIS:
        try:
            mod = importlib.import_module(module)
        except ImportError as err:
            if err.name and module.startswith(err.name):  # area not present
                continue
            raise
        mod.register(kinds, common)
    runs = sub.add_parser("runs", help="list stored runs")
    runs.add_argument("--db", metavar="PATH")
    export = sub.add_parser("export", help="export a stored run")
    export.add_argument("run_id", type=int)
    export.add_argument("--db", metavar="PATH")
    export.add_argument("--csv", metavar="PATH", help="metrics as CSV")
    export.add_argument("--json", metavar="PATH", help="the whole run as JSON")
    return parser


def _store(path: str | None):
    from engine.runs.store import RunStore

    return RunStore(path)


def check_output(path: str | None, option: str) -> None:
    """Refuse, before the run, an output path that cannot be written (missing folder, a folder).

    Devices and full disks can only fail at the write itself: :func:`write_output` says so then,
    and the run stays in the store to export again.
    """
    if not path:
        return
    p = Path(path).expanduser()
    if p.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name (e.g. {p / 'result.json'}).")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: the folder {parent} does not exist; create it first.")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ConfigError(f"{option} {path}: no permission to write there.")


def write_output(path: str, data: str | bytes, option: str, run_id: int | None = None) -> None:
    """Write an output file; an OS error becomes a one-line message that says what is kept."""
    try:
        (Path(path).write_bytes if isinstance(data, bytes) else Path(path).write_text)(data)
    except OSError as err:
        kept = (f" The run is kept as #{run_id}: `python -m engine export {run_id} --json FILE` writes it again."
                if run_id is not None else "")
        raise DataError(f"Could not write {option} {path} ({err.strerror or err}).{kept}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from engine.runs.worker import execute_run

    for dest in ("json", *getattr(args, "outputs", ())):
        check_output(getattr(args, dest, None), "--" + dest.replace("_", "-"))
    config = args.build_config(args)  # ConfigError / DataError before anything starts
    preflight = getattr(args, "preflight", None)  # a kind's data checks (reads the input), before a run is recorded
    if preflight is not None:
        preflight(config)
    store = _store(args.db)
    data = config.to_dict()
    run_id = store.create_run(args.kind, data, seed=data.get("seed"), name=f"{args.kind} (CLI)")
    store.mark_running(run_id, os.getpid())
    bar = ProgressBar(f"run #{run_id} {args.kind}", enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        status = execute_run(store, run_id, extra_reporter=bar)
    except KeyboardInterrupt:
        store.finish(run_id, "cancelled", error="interrupted from the terminal")
        print(f"\nrun #{run_id} interrupted; what it reported is kept in {store.path}", file=sys.stderr)
        return 130
    finally:
        bar.close()
    run = store.get_run(run_id)
    if status != "finished":
        print(f"run #{run_id} {status}: {run.error}", file=sys.stderr)
        return 1
    result = dict(run.result or {})
    result.setdefault("seconds", time.perf_counter() - t0)
    result.setdefault("run_id", run_id)
    if getattr(args, "after", None):
        args.after(args, result, store, run_id)
    if args.json:
        write_output(args.json, json.dumps(result, indent=2, default=float), "--json", run_id)
    if not args.quiet:
        print(f"run #{run_id} finished in {result['seconds']:.1f} s (store: {store.path})", file=sys.stderr)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from engine.runs.jobs import mark_dead_owners

    store = _store(args.db)
    mark_dead_owners(store)  # a run whose process was killed (kill -9) shows as failed here too
    for run in store.list_runs():
        print(f"{run.id:>5}  {run.status:<9}  {run.kind:<12}  {run.name or ''}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = _store(args.db)
    store.get_run(args.run_id)
    check_output(args.csv, "--csv")
    check_output(args.json, "--json")
    if args.csv:
        write_output(args.csv, store.export_metrics_csv(args.run_id), "--csv")
    if args.json:
        write_output(args.json, store.export_json(args.run_id), "--json")
    if not (args.csv or args.json):
        print(store.export_json(args.run_id))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "runs":
            return cmd_runs(args)
        return cmd_export(args)
    except SparsityLabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:   # e.g. `python -m engine runs | head`: the reader has all it wanted
        try:
            sys.stdout = open(os.devnull, "w")   # no second error when Python flushes stdout at exit
        except OSError:
            pass
        return 0
