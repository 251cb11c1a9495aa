"""Command-line parsers of the sparse lab: ``python -m engine run sparse|sweep|sensitivity ...``.

Examples::

    python -m engine run sparse --dataset digits --model mlp --method rigl --sparsity 0.98 --seed 0 --json r.json
    python -m engine run sparse --method nm-srste --nm 2:4
    python -m engine run sparse --recipe recipe.yaml          # a recipe exported by the app
    python -m engine run sweep --methods magnitude,rigl --sparsities 0.5,0.9,0.98 --seeds 0,1 --json rows.json
    python -m engine run sensitivity --sparsities 0.5,0.9,0.99 --json sens.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from engine import limits
from engine.errors import ConfigError


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in str(text).replace(" ", "").split(",") if t)
    except ValueError:
        raise ConfigError(f"'{text}' must be whole numbers separated by commas, e.g. 256,256.") from None


def _floats(text: str) -> tuple[float, ...]:
    """``"0.5, 0.9"`` -> ``(0.5, 0.9)``.

    >>> _floats("0.5, 0.9,0.98")
    (0.5, 0.9, 0.98)
    """
    try:
        return tuple(float(t) for t in str(text).replace(" ", "").split(",") if t)
    except ValueError:
        raise ConfigError(f"'{text}' must be numbers separated by commas, e.g. 0.5,0.9,0.98.") from None


def _strs(text: str) -> tuple[str, ...]:
    return tuple(t for t in str(text).replace(" ", "").split(",") if t)


_LIST = {"hidden": _ints, "channels": _ints, "seeds": _ints, "sparsities": _floats, "methods": _strs}


def _add_fields(p: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag`` per config field (dashes for underscores); unset flags keep the default (None)."""
    for f in dataclasses.fields(cls):
        if f.name in skip or f.default is dataclasses.MISSING:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        bound = limits.help_text(f.name)  # the size bound of engine/limits.py, stated in --help
        bound = f"; {bound}" if bound else ""
        if f.name in _LIST:
            p.add_argument(flag, type=str, default=None, help=f"comma-separated (default {','.join(map(str, default))}){bound}")
        elif isinstance(default, bool):
            p.add_argument(flag, type=lambda t: t.lower() in ("1", "true", "yes"), default=None,
                           help=f"true/false (default {default})")
        else:
            p.add_argument(flag, type=type(default), default=None, help=f"(default {default}{bound})")


def _values(args: argparse.Namespace, cls) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        v = getattr(args, f.name, None)
        if v is not None:
            out[f.name] = _LIST[f.name](v) if f.name in _LIST else v
    return out


def method_flags() -> dict[str, str]:
    """``dest -> help`` of every method parameter's flag (the union over the registered classes),
    plus the flags of the old flat config (``--srste-decay``, ``--imp-rounds``, …), which still work.

    A flag the chosen method has no parameter for is refused with its list of settings (an old flat
    flag is ignored, as it was then)."""
    from engine.sparse import schema
    from engine.sparse.config import LEGACY_FIELDS
    from engine.sparse.methods.registry import methods

    out: dict[str, list[str]] = {}
    helps: dict[str, str] = {}
    for cls in methods():
        for prm in schema.params_of(cls):
            out.setdefault(prm.name, []).append(cls.name)
            helps.setdefault(prm.name, prm.help)
    flags = {k: f"{helps[k]} [{', '.join(v)}]" for k, v in out.items()}
    for k in LEGACY_FIELDS:
        flags.setdefault(k, "old flag of the flat config, read into the method's settings where it applies")
    return flags


def _method_values(args: argparse.Namespace) -> dict:
    out = {}
    for dest in method_flags():
        v = getattr(args, dest, None)
        if v is not None:
            out[dest] = v
    if getattr(args, "method_params", None):
        try:
            extra = json.loads(args.method_params)
        except json.JSONDecodeError as err:
            raise ConfigError(f"--method-params must be a JSON object, e.g. '{{\"rounds\": 3}}' ({err}).") from None
        if not isinstance(extra, dict):
            raise ConfigError("--method-params must be a JSON object, e.g. '{\"rounds\": 3}'.")
        out["method_params"] = extra
    return out


def build_sparse(args: argparse.Namespace):
    from engine.sparse.config import SparseConfig
    from engine.sparse.export import load_recipe

    values = {}
    if getattr(args, "recipe", None):
        path = Path(args.recipe)
        if not path.is_file():
            raise ConfigError(f"Recipe file {path} does not exist.")
        values.update(load_recipe(path.read_text()))
    values.update(_values(args, SparseConfig))
    values.update(_method_values(args))
    config = SparseConfig.from_dict(values)
    _preflight([config])
    return config


def _preflight(configs) -> None:
    """Data files and layer sizes are checked here, so bad input fails before a run is recorded."""
    from engine.sparse.build import preflight

    seen = set()
    for c in configs:
        key = (c.method, json.dumps(c.method_params, sort_keys=True))  # data and model are shared
        if key not in seen:
            seen.add(key)
            preflight(c)


def build_sweep(args: argparse.Namespace):
    from engine.sparse.sweep import SweepConfig, sweep_configs

    config = SweepConfig.from_dict(_values(args, SweepConfig))
    _preflight(sweep_configs(config))
    return config


def build_sensitivity(args: argparse.Namespace):
    from engine.sparse.sweep import SensitivityConfig

    config = SensitivityConfig.from_dict(_values(args, SensitivityConfig))
    _preflight([config.base()])
    return config


def _write_rows(args, result: dict, store, run_id) -> None:
    """``--csv PATH``: the sweep's rows as CSV (one row per run)."""
    if getattr(args, "csv", None) and result.get("rows") is not None:
        import csv

        rows = result["rows"]
        with open(args.csv, "w", newline="") as fh:
            if rows:
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)


def _write_model(args, result: dict, store, run_id) -> None:
    """``--out DIR``: the run's exported files (model, masks, recipe) into DIR."""
    if getattr(args, "out", None) and store is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in store.artifact_names(run_id):
            got = store.artifact(run_id, name)
            if got is not None:
                (out / name).write_bytes(got[0])


def register(subparsers, common) -> None:
    """Add the ``sparse``, ``sweep`` and ``sensitivity`` sub-commands."""
    from engine.sparse.config import SparseConfig
    from engine.sparse.methods.registry import methods as method_classes
    from engine.sparse.sweep import SensitivityConfig, SweepConfig

    methods = "; ".join(f"{c.name}: {c.title}" for c in method_classes())
    p = subparsers.add_parser("sparse", parents=[common], help="train and prune one model",
                              description=f"Methods — {methods}")
    p.add_argument("--recipe", default=None, help="YAML recipe exported by the app (flags override it)")
    p.add_argument("--out", default=None, help="folder to write the model, masks and recipe into")
    _add_fields(p, SparseConfig)
    p.add_argument("--method-params", default=None, help="the method's settings as a JSON object (flags override it)")
    for dest, text in method_flags().items():
        p.add_argument("--" + dest.replace("_", "-"), dest=dest, type=str, default=None, help=text.replace("%", "%%"))
    p.set_defaults(kind="sparse", build_config=build_sparse, after=_write_model)

    p = subparsers.add_parser("sweep", parents=[common], help="accuracy vs sparsity over methods and seeds")
    p.add_argument("--csv", default=None, help="also write the rows as CSV")
    _add_fields(p, SweepConfig)
    p.set_defaults(kind="sweep", build_config=build_sweep, after=_write_rows)

    p = subparsers.add_parser("sensitivity", parents=[common], help="prune one layer at a time")
    _add_fields(p, SensitivityConfig)
    p.set_defaults(kind="sensitivity", build_config=build_sensitivity, after=None)

    from engine.sparse.sae_cli import register as register_sae

    register_sae(subparsers, common, _add_fields, _values)
    from engine.sparse.sae_cli import register_quickselection

    register_quickselection(subparsers, common, _add_fields, _values)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (used by tests when engine/cli.py is absent): run in-process, print JSON."""
    from engine.runs.reporter import MemoryReporter
    from engine.registry import get

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", default=None)
    common.add_argument("--db", default=None)
    common.add_argument("--quiet", action="store_true")
    parser = argparse.ArgumentParser(prog="engine.sparse.cli")
    register(parser.add_subparsers(dest="cmd", required=True), common)
    args = parser.parse_args(argv)
    config = args.build_config(args)
    _, fn = get(args.kind)
    result = fn(config, MemoryReporter())
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
