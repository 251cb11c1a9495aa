"""The graphs a user can summarize, named by a *source* string that a worker process can rebuild.

Source strings (stored in a run's config, so the run can be repeated):

- ``builtin:karate`` / ``builtin:lesmis`` / ``builtin:florentine`` — small social networks that
  ship with networkx;
- ``generator:sbm?blocks=4&size=25&p_in=0.3&p_out=0.02&seed=0`` — stochastic block model (block of
  each node kept for colouring), ``generator:ba?n=300&m=2&seed=0`` — Barabási–Albert,
  ``generator:ws?n=200&k=6&p=0.1&seed=0`` — Watts–Strogatz;
- ``benchmark:ego_facebook`` — an edge list in the shared data folder (optional; listed only when
  present);
- ``path:/some/file.txt`` — any edge-list file (uploads are saved to a file first).

>>> g = load_source("generator:sbm?blocks=2&size=5&p_in=1&p_out=0&seed=0")
>>> g.n_nodes, g.n_edges, g.groups.tolist()
(10, 20, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import numpy as np

from engine.errors import ConfigError, DataError
from engine.graphs.io import LoadedGraph, check_edge_file, from_networkx, read_edge_list
from engine.paths import shared_data_dir


@dataclass(frozen=True)
class Param:
    """One generator parameter: the page builds a number input from it."""

    name: str
    label: str
    default: float
    low: float
    high: float
    integer: bool = True
    help: str = ""


BUILTINS: dict[str, tuple[str, str]] = {
    "karate": ("Zachary's karate club", "34 members of a karate club, 78 friendships (Zachary 1977)."),
    "lesmis": ("Les Misérables", "77 characters of Hugo's novel; an edge when two appear in a chapter together."),
    "florentine": ("Florentine families", "15 Renaissance families of Florence linked by marriages."),
}

GENERATORS: dict[str, tuple[str, str, tuple[Param, ...]]] = {
    "sbm": ("Stochastic block model",
            "Blocks of nodes, dense inside, sparse between: the structure SSumM should find.",
            (Param("blocks", "Blocks", 4, 1, 50), Param("size", "Nodes per block", 25, 2, 2000),
             Param("p_in", "Edge probability inside a block", 0.3, 0.0, 1.0, False),
             Param("p_out", "Edge probability between blocks", 0.02, 0.0, 1.0, False),
             Param("seed", "Seed", 0, 0, 2**31 - 1))),
    "ba": ("Barabási–Albert",
           "Preferential attachment: a few hubs, many low-degree nodes (scale-free).",
           (Param("n", "Nodes", 300, 3, 200_000), Param("m", "Edges per new node", 2, 1, 50),
            Param("seed", "Seed", 0, 0, 2**31 - 1))),
    "ws": ("Watts–Strogatz",
           "A ring lattice with a fraction of edges rewired at random (small world).",
           (Param("n", "Nodes", 200, 5, 200_000), Param("k", "Neighbours on the ring", 6, 2, 100),
            Param("p", "Rewiring probability", 0.1, 0.0, 1.0, False),
            Param("seed", "Seed", 0, 0, 2**31 - 1))),
}

# Benchmark edge lists in the shared data folder: file stem -> (title, citation); group files optional.
BENCHMARKS: dict[str, tuple[str, str]] = {
    "ego_facebook": ("ego-Facebook (SNAP)", "McAuley & Leskovec 2012, SNAP"),
    "caida": ("CAIDA AS relationships (SNAP)", "Leskovec et al. 2005, SNAP / CAIDA"),
    "cora": ("Cora citations", "McCallum et al. 2000; Planetoid split (Yang et al. 2016)"),
    "citeseer": ("CiteSeer citations", "Giles et al. 1998; Planetoid split"),
    "minnesota_road": ("Minnesota road network", "PyGSP package data"),
    "sbm_2k": ("SBM, 2,000 nodes, 20 blocks", "generated: nx.stochastic_block_model([100]*20, 0.17, 0.0022, seed=42)"),
    "ba_100k": ("Barabási–Albert, 100k nodes", "generated: nx.barabasi_albert_graph(100000, 5, seed=42)"),
}
_GROUP_FILES = {"sbm_2k": ("sbm_2k.blocks.txt", "block"), "cora": ("cora.labels.txt", "class"),
                "citeseer": ("citeseer.labels.txt", "class")}


def make_source(kind: str, name: str, params: dict | None = None) -> str:
    """``make_source("generator", "ba", {"n": 50})`` -> ``"generator:ba?n=50"``."""
    query = f"?{urlencode(params)}" if params else ""
    return f"{kind}:{name}{query}"


def parse_source(source: str) -> tuple[str, str, dict[str, str]]:
    """Split a source string into (kind, name, params); ConfigError when malformed."""
    kind, sep, rest = source.partition(":")
    if not sep or not rest:
        raise ConfigError(f"Graph source '{source}' is not understood; use e.g. 'builtin:karate', "
                          "'generator:sbm?blocks=4', 'benchmark:cora' or 'path:/file.txt'.")
    if kind == "path":
        return kind, rest, {}
    name, _, query = rest.partition("?")
    return kind, name, dict(parse_qsl(query, keep_blank_values=True))


def check_source(source: str) -> None:
    """Validate a source string without building the graph (ConfigError with the reason)."""
    kind, name, params = parse_source(source)
    if kind == "builtin":
        if name not in BUILTINS:
            raise ConfigError(f"Unknown built-in graph '{name}'. Choose one of: {', '.join(BUILTINS)}.")
    elif kind == "generator":
        _generator_params(name, params)
    elif kind == "benchmark":
        if name not in BENCHMARKS:
            raise ConfigError(f"Unknown benchmark graph '{name}'. Known: {', '.join(BENCHMARKS)}.")
    elif kind == "path":
        check_edge_file(name)   # empty, binary or missing files are refused before any run starts
    else:
        raise ConfigError(f"Unknown graph source kind '{kind}' (builtin, generator, benchmark or path).")


def _generator_params(name: str, params: dict[str, str]) -> dict[str, float]:
    if name not in GENERATORS:
        raise ConfigError(f"Unknown generator '{name}'. Choose one of: {', '.join(GENERATORS)}.")
    spec = {p.name: p for p in GENERATORS[name][2]}
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ConfigError(f"Unknown parameter(s) for {GENERATORS[name][0]}: {', '.join(unknown)}.")
    values: dict[str, float] = {}
    for p in spec.values():
        raw = params.get(p.name, p.default)
        try:
            x = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{p.label} must be a number, got '{raw}'.") from None
        if p.integer and x != int(x):
            raise ConfigError(f"{p.label} must be a whole number, got {raw}.")
        if not p.low <= x <= p.high:
            raise ConfigError(f"{p.label} must be between {p.low:g} and {p.high:g}, got {x:g}.")
        values[p.name] = int(x) if p.integer else x
    if name == "ws" and values["k"] >= values["n"]:
        raise ConfigError("Watts–Strogatz needs fewer ring neighbours (k) than nodes (n).")
    if name == "ba" and values["m"] >= values["n"]:
        raise ConfigError("Barabási–Albert needs fewer edges per new node (m) than nodes (n).")
    return values


def load_source(source: str) -> LoadedGraph:
    """Build or read the graph named by ``source`` (see the module docstring)."""
    check_source(source)
    kind, name, params = parse_source(source)
    if kind == "benchmark":
        return load_benchmark(name)
    if kind == "path":
        return read_edge_list(Path(name))
    import networkx as nx   # only the built-in graphs and generators need it (≈ 0.1 s to import)

    if kind == "builtin":
        G = {"karate": nx.karate_club_graph, "lesmis": nx.les_miserables_graph,
             "florentine": nx.florentine_families_graph}[name]()
        if name == "karate":  # the club each member joined after the split: a known ground truth
            return from_networkx(G, name=BUILTINS[name][0], group_attr="club", group_kind="club")
        return from_networkx(G, name=BUILTINS[name][0])
    if kind == "generator":
        v = _generator_params(name, params)
        title = GENERATORS[name][0]
        if name == "sbm":
            sizes = [v["size"]] * v["blocks"]
            P = np.full((v["blocks"], v["blocks"]), v["p_out"])
            np.fill_diagonal(P, v["p_in"])
            G = nx.stochastic_block_model(sizes, P.tolist(), seed=v["seed"])
            g = from_networkx(G, name=title, group_attr="block", group_kind="block")
        elif name == "ba":
            g = from_networkx(nx.barabasi_albert_graph(v["n"], v["m"], seed=v["seed"]), name=title)
        else:
            g = from_networkx(nx.watts_strogatz_graph(v["n"], v["k"], v["p"], seed=v["seed"]), name=title)
        if g.n_edges == 0:
            raise DataError(f"The {title} with these parameters has no edges; raise the edge probabilities.")
        return g
    raise ConfigError(f"Unknown graph source '{source}'.")


def benchmark_dir() -> Path | None:
    """``<shared data>/graphs`` when present."""
    root = shared_data_dir()
    return root / "graphs" if root is not None and (root / "graphs").is_dir() else None


def benchmark_file(name: str) -> Path | None:
    folder = benchmark_dir()
    if folder is None:
        return None
    for candidate in (folder / f"{name}.txt", folder / f"{name}.edges.txt"):
        if candidate.is_file():
            return candidate
    return None


def available_benchmarks() -> dict[str, str]:
    """Benchmark graphs present in the shared data folder: name -> title (empty when absent)."""
    return {k: title for k, (title, _) in BENCHMARKS.items() if benchmark_file(k) is not None}


def load_benchmark(name: str) -> LoadedGraph:
    """Read a shared benchmark edge list, with its blocks/classes as groups when they exist."""
    path = benchmark_file(name)
    if path is None:
        raise DataError(f"Benchmark graph '{name}' is not available: the shared data folder "
                        "(SPARSITY_LAB_DATA, else ../shared/data) has no such file.")
    g = read_edge_list(path, name=BENCHMARKS[name][0])
    if name in _GROUP_FILES:
        file, kind = _GROUP_FILES[name]
        group_path = path.parent / file
        if group_path.is_file():
            table = np.loadtxt(group_path, dtype=np.int64, ndmin=2)
            lookup = dict(zip(table[:, 0].tolist(), table[:, 1].tolist()))
            g.groups = np.array([lookup.get(int(i), -1) for i in g.node_ids], dtype=np.int64)
            g.group_kind = kind
    return g


def describe_source(source: str) -> str:
    """A short human title for a source string (for run names and captions)."""
    try:
        kind, name, params = parse_source(source)
    except ConfigError:
        return source
    if kind == "builtin":
        return BUILTINS.get(name, (name,))[0]
    if kind == "generator":
        title = GENERATORS.get(name, (name,))[0]
        shown = ", ".join(f"{k}={v}" for k, v in params.items() if k != "seed")
        return f"{title} ({shown})" if shown else title
    if kind == "benchmark":
        return BENCHMARKS.get(name, (name,))[0]
    stem = Path(name).name
    return stem.split("-", 1)[1] if len(stem) > 17 and stem[16] == "-" else stem
