"""Graph experiments: summarize a graph with SSumM, and sweep the size budget.

SSumM (Lee, Jo, Ko, Lim, Shin: "SSumM: Sparse Summarization of Massive Graphs", KDD 2020) groups
nodes into supernodes and keeps a sparse set of weighted superedges so that the summary fits a
budget of ``ratio · Size(G)`` bits while the reconstruction error (RE1 or RE2) stays small.

- kind ``ssumm``: one summary; reports per iteration ``size_bits``, ``target_bits``, ``re1``,
  ``re2``, ``supernodes``, ``superedges``, ``threshold`` and ``seconds``; final snapshots
  (``supernode_of``, ``superedges`` rows (A, B, weight, density), ``block_density`` when small,
  ``adjacency_original`` / ``adjacency_reconstructed`` ordered by supernode and block-averaged,
  ``edges`` and ``groups`` of small graphs for drawing) and the files ``summary.txt`` (the authors'
  format), ``summary.graphml`` and ``summary.json``.
- kind ``ssumm-sweep``: one summary per ratio (the error-vs-size curve), one metric row per ratio.
  ``backend="ray"`` runs each ratio as a Ray task (:func:`ssumm_point`; the loaded graph is sent
  with the tasks, so workers need no copy of the file), see :mod:`engine.runs.ray_backend`.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np

from engine.config import Config, require
from engine.errors import ConfigError, DataError
from engine.graphs.generators import check_source, describe_source, load_source
from engine.graphs.io import LoadedGraph
from engine.runs.ray_backend import check_backend

# Graphs above these sizes are never drawn node by node (the page shows the summary instead).
DRAW_MAX_NODES = 2_000
DRAW_MAX_EDGES = 20_000
BLOCK_MATRIX_MAX = 1_000  # supernodes up to which the dense block-density matrix is stored
IMAGE_SIDE = 256  # adjacency images are block-averaged to at most this many rows/columns
PER_ITERATION_METRICS = ("size_bits", "target_bits", "re1", "re2", "supernodes", "superedges",
                         "threshold", "merges", "seconds")


def _check_common(ratio, error, iterations, seed) -> None:
    require(isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and math.isfinite(ratio)
            and 0 < ratio <= 1,
            f"The size ratio is a fraction of the input's bits in (0, 1], got {ratio!r}.")
    require(error in ("l1", "l2"), f"error must be 'l1' or 'l2', got {error!r}.")
    require(isinstance(iterations, int) and 1 <= iterations <= 1000,
            f"iterations must be a whole number from 1 to 1000, got {iterations!r}.")
    require(seed is None or (isinstance(seed, int) and seed >= 0),
            f"seed must be a non-negative whole number, got {seed!r}.")


def _check_skip(skip: bool, error: str) -> None:
    require(isinstance(skip, bool), f"skip_half_density is true or false, got {skip!r}.")
    require(not skip or error == "l1",
            "Skipping density-½ superedges is an L1 option (in L2 such a superedge lowers the error); "
            "use error l1 or turn it off.")


@dataclass(frozen=True)
class SSumMConfig(Config):
    source: str = "builtin:karate"  # see engine.graphs.generators: builtin:/generator:/benchmark:/path:
    ratio: float = 0.3  # budget k = ratio · Size(G) bits, Size(G) = 2|E| log2|V|
    error: str = "l1"  # which reconstruction error the merges and sparsification minimise
    iterations: int = 20  # T in the paper (Algorithm 1); the authors use 20
    seed: int = 0
    # this project's option, L1 only: never keep a superedge of density exactly ½ (see ssumm)
    skip_half_density: bool = False
    # files written besides summary.txt (always): the page builds the others on download
    files: tuple[str, ...] = ()

    def validate(self) -> None:
        require(isinstance(self.source, str) and self.source != "", "Pick a graph to summarize.")
        check_source(self.source)
        _check_common(self.ratio, self.error, self.iterations, self.seed)
        _check_skip(self.skip_half_density, self.error)
        bad = [f for f in self.files if f not in FILES]
        require(not bad, f"Unknown summary file(s) {', '.join(map(str, bad))}; choose from {', '.join(FILES)}.")


@dataclass(frozen=True)
class SSumMSweepConfig(Config):
    source: str = "builtin:karate"
    ratios: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    error: str = "l1"
    iterations: int = 20
    seed: int = 0
    skip_half_density: bool = False  # as in SSumMConfig
    backend: str = "local"  # local: the ratios one after another here | ray: each ratio a Ray task
    address: str = "local"  # the Ray cluster: local (started for this sweep) | auto | HOST:PORT | ray://HOST:PORT

    def validate(self) -> None:
        check_backend(self.backend, self.address)
        require(isinstance(self.source, str) and self.source != "", "Pick a graph to summarize.")
        check_source(self.source)
        _check_skip(self.skip_half_density, self.error)
        require(len(self.ratios) >= 1, "Give at least one size ratio to sweep.")
        require(len(self.ratios) <= 50, "Sweep at most 50 ratios at once.")
        for r in self.ratios:
            _check_common(r, self.error, self.iterations, self.seed)


def _summarize(g: LoadedGraph, ratio: float, error: str, iterations: int, seed: int, reporter,
               on_iteration=None, skip_half_density: bool = False):
    from engine.graphs.ssumm import ssumm_edges

    return ssumm_edges(g.edges, g.n_nodes, ratio=ratio, error=error, iterations=iterations, seed=seed,
                       callback=on_iteration, should_stop=reporter.should_stop, node_ids=g.node_ids,
                       skip_half_density=skip_half_density)


def _load(source: str, reporter) -> LoadedGraph:
    reporter.log(f"Loading {describe_source(source)} …")
    g = load_source(source)
    reporter.log(f"{g.n_nodes} nodes, {g.n_edges} edges (average degree {g.average_degree:.2f}).")
    for note in g.notes:
        reporter.log(note)
    return g


def budget_notes(summary) -> list[str]:
    """Plain sentences when the budget shaped the summary drastically (what the user should know).

    SSumM always ends within the budget: its last step drops superedges, and supernodes left
    without any superedge are gathered into one, until the size fits (§3.4). With a budget that the
    membership term |V|·log2|S| alone nearly fills, that leaves few supernodes and few superedges.
    """
    size, target = float(summary.size_bits), float(summary.target_bits)
    n, s, p = int(summary.n_nodes), int(summary.n_supernodes), int(summary.n_superedges)
    if size > target + 1e-6:
        return [f"The summary takes {size:,.0f} bits, above the budget of {target:,.0f} bits: "
                "SSumM returned its best effort."]
    if p == 0 and summary.n_edges > 0:
        return [f"The budget of {target:,.0f} bits is too small for any superedge: the summary keeps "
                "none, so every node pair is reconstructed as 'no edge'. Try a larger ratio."]
    membership = n * math.log2(s) if s > 1 else 0.0
    if target > 0 and membership >= 2 / 3 * target:
        return [f"Most of the budget ({membership:,.0f} of {target:,.0f} bits) only says which "
                f"supernode each of the {n:,} nodes is in (|V|·log2|S|), leaving little for superedges: "
                f"the graph collapsed to {s:,} supernodes. Typical of sparse graphs at small ratios."]
    return []


def supernode_order(supernode_of: np.ndarray) -> np.ndarray:
    """Node order that lists each supernode's members together (stable: by supernode, then id)."""
    return np.argsort(np.asarray(supernode_of), kind="stable")


def adjacency_images(edges: np.ndarray, supernode_of: np.ndarray, superedges: np.ndarray,
                     density: np.ndarray, max_side: int = IMAGE_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """Original A and reconstruction Â, nodes ordered by supernode, block-averaged to ≤ max_side.

    Each cell is the mean of A (resp. Â) over its node pairs i ≠ j, so both images share a scale
    and a dense block in A shows as a flat block of the same mean in Â. O(|E| + |V| + |P|).

    >>> o, r = adjacency_images(np.array([[0, 1]]), np.array([0, 0]), np.array([[0, 0]]), np.array([1.0]))
    >>> o.tolist(), r.tolist()
    ([[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]])
    """
    import scipy.sparse as sp   # here, not at the top: a CLI run that draws nothing never loads it

    sn = np.asarray(supernode_of, dtype=np.int64)
    n = sn.size
    order = supernode_order(sn)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    c = min(n, max_side)
    cell = pos * c // n  # image row/column of each node
    count = np.bincount(cell, minlength=c).astype(float)
    pairs = np.outer(count, count) - np.diag(count)  # ordered pairs i != j in each cell
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    rows, cols = np.concatenate([cell[e[:, 0]], cell[e[:, 1]]]), np.concatenate([cell[e[:, 1]], cell[e[:, 0]]])
    original = np.bincount(rows * c + cols, minlength=c * c).reshape(c, c).astype(float)
    S = int(sn.max()) + 1 if n else 0
    M = sp.csr_matrix((np.ones(n), (sn, cell)), shape=(S, c))  # members of supernode s in cell k
    P = np.asarray(superedges, dtype=np.int64).reshape(-1, 2)
    d = np.asarray(density, dtype=float)
    off = P[:, 0] != P[:, 1]
    D = sp.csr_matrix((np.concatenate([d, d[off]]),
                       (np.concatenate([P[:, 0], P[off, 1]]), np.concatenate([P[:, 1], P[off, 0]]))),
                      shape=(S, S))
    recon = np.asarray((M.T @ D @ M).todense(), dtype=float)
    self_density = np.asarray(D.diagonal()).ravel()  # Â(i,i) is not a pair: remove it from diagonal cells
    recon[np.diag_indices(c)] -= np.bincount(cell, weights=self_density[sn], minlength=c)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(pairs > 0, original / pairs, 0.0).astype(np.float32),
                np.where(pairs > 0, recon / pairs, 0.0).clip(0, 1).astype(np.float32))


RESULT_SCALARS = ("graph", "nodes", "edges", "ratio", "error", "size_bits", "input_bits", "target_bits",
                  "re1", "re2")
FILES = ("summary.txt", "summary.json", "summary.graphml")   # what a run can write; summary.txt always
MIME = {"summary.txt": "text/plain", "summary.json": "application/json", "summary.graphml": "application/xml"}


def summary_json(text: str, result: dict) -> dict:
    r"""The summary as plain JSON, read from its text (the authors' format, ``Summary.to_text``).

    Supernodes with their members (original ids, numbers where every id is an integer), weighted
    superedges with their density (weight / node pairs of the block), and the run's figures taken
    from ``result``. Built on demand (the page's download button, ``--summary-json``), not by
    every run.

    >>> t = "<Subnode of each supernode>\n0\t1\t2\n1\t3\n<Superedge info>\n0\t0\t1\n0\t1\t1\n"
    >>> d = summary_json(t, {"graph": "g"})
    >>> d["supernodes"], [(e["source"], e["target"], e["density"]) for e in d["superedges"]]
    ([{'id': 0, 'members': [1, 2]}, {'id': 1, 'members': [3]}], [(0, 0, 1.0), (0, 1, 0.5)])
    """
    lines = text.splitlines()
    try:
        i_nodes, i_edges = lines.index("<Subnode of each supernode>"), lines.index("<Superedge info>")
    except ValueError:
        raise DataError("Not an SSumM summary (its two section lines are missing).") from None
    members = [ln.split("\t")[1:] for ln in lines[i_nodes + 1:i_edges] if ln]
    flat = [m for ms in members for m in ms]
    if all(m.lstrip("-").isdigit() for m in flat):
        members = [[int(m) for m in ms] for ms in members]
    size = np.array([len(ms) for ms in members], dtype=np.float64)
    edges = []
    for ln in lines[i_edges + 1:]:
        if ln:
            a, b, w = (int(x) for x in ln.split("\t")[:3])
            pairs = size[a] * (size[a] - 1) / 2.0 if a == b else size[a] * size[b]
            edges.append({"source": a, "target": b, "weight": float(w), "density": float(w / pairs)})
    out = {k: result[k] for k in RESULT_SCALARS if k in result}
    out["supernodes"] = [{"id": s, "members": m} for s, m in enumerate(members)]
    out["superedges"] = edges
    return out


def export_file(name: str, text: str, result: dict) -> bytes:
    """One of :data:`FILES` built from the summary's text and the run's result (see :func:`summary_json`)."""
    if name == "summary.txt":
        return text.encode()
    if name == "summary.json":
        return json.dumps(summary_json(text, result)).encode()
    if name == "summary.graphml":
        return summary_graphml(summary_json(text, result))
    raise ConfigError(f"Unknown summary file '{name}'; choose one of {', '.join(FILES)}.")


def summary_graphml(data: dict) -> bytes:
    """GraphML of the summary graph: supernodes (size, members), superedges (weight, density).

    Written directly (networkx's writer takes ~2 s per 20k superedges); ``networkx.read_graphml``
    reads it back.
    """
    out = ["<?xml version='1.0' encoding='utf-8'?>",
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
           'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
           '<key id="size" for="node" attr.name="size" attr.type="long"/>',
           '<key id="members" for="node" attr.name="members" attr.type="string"/>',
           '<key id="weight" for="edge" attr.name="weight" attr.type="long"/>',
           '<key id="density" for="edge" attr.name="density" attr.type="double"/>',
           f'<graph id="{escape(str(data["graph"]), {chr(34): "&quot;"})}" edgedefault="undirected">']
    out.extend(f'<node id="{s["id"]}"><data key="size">{len(s["members"])}</data>'
               f'<data key="members">{escape(" ".join(map(str, s["members"])))}</data></node>'
               for s in data["supernodes"])
    out.extend(f'<edge source="{e["source"]}" target="{e["target"]}"><data key="weight">{int(e["weight"])}</data>'
               f'<data key="density">{e["density"]!r}</data></edge>' for e in data["superedges"])
    out.append("</graph></graphml>\n")
    return "\n".join(out).encode("utf-8")


def _final_snapshots(reporter, g: LoadedGraph, summary, density: np.ndarray, step: int) -> None:
    sn = np.asarray(summary.supernode_of, dtype=np.int64)
    P = np.asarray(summary.superedges, dtype=np.int64).reshape(-1, 2)
    reporter.snapshot("supernode_of", sn, step, force=True)
    reporter.snapshot("superedges", np.column_stack([P, np.asarray(summary.weights, dtype=float), density]),
                      step, force=True)
    S = int(summary.n_supernodes)
    if S <= BLOCK_MATRIX_MAX:
        B = np.zeros((S, S), dtype=np.float32)
        B[P[:, 0], P[:, 1]] = density
        B[P[:, 1], P[:, 0]] = density
        reporter.snapshot("block_density", B, step, force=True)
    original, recon = adjacency_images(g.edges, sn, P, density)
    reporter.snapshot("adjacency_original", original, step, force=True)
    reporter.snapshot("adjacency_reconstructed", recon, step, force=True)
    if g.n_nodes <= DRAW_MAX_NODES and g.n_edges <= DRAW_MAX_EDGES:
        reporter.snapshot("edges", g.edges.astype(np.int32), step, force=True)
        if g.groups is not None:
            import pandas as pd

            reporter.snapshot("groups", pd.factorize(g.groups)[0].astype(np.int32), step, force=True)


def run_ssumm(config: SSumMConfig, reporter) -> dict:
    """Summarize one graph (SSumM, Algorithm 1 of the paper) and report it live."""
    g = _load(config.source, reporter)
    reporter.progress(0, config.iterations)
    last_step = [0]

    def on_iteration(info: dict) -> None:
        step = int(info["iteration"])
        last_step[0] = step
        for name in PER_ITERATION_METRICS:
            if name in info and info[name] is not None:
                reporter.metric(name, float(info[name]), step)
        reporter.progress(min(step, config.iterations), config.iterations)

    t0 = time.perf_counter()
    summary = _summarize(g, config.ratio, config.error, config.iterations, config.seed, reporter, on_iteration,
                         config.skip_half_density)
    seconds = time.perf_counter() - t0
    stopped = bool(getattr(reporter, "stop_requested", False))
    density = np.asarray(summary.densities, dtype=float)
    step = last_step[0] + 1  # one more point: the final summary, after the last sparsification
    final = {"size_bits": summary.size_bits, "target_bits": summary.target_bits, "re1": summary.re1,
             "re2": summary.re2, "supernodes": summary.n_supernodes, "superedges": summary.n_superedges}
    for name, value in final.items():
        reporter.metric(name, float(value), step)
    notes = list(g.notes) + budget_notes(summary)
    if stopped:
        notes.append(f"Cancelled after iteration {last_step[0]}: the summary was finished from there "
                     "(it fits the budget, with fewer merges than a full run).")
    for note in notes[len(g.notes):]:
        reporter.log(note)
    _final_snapshots(reporter, g, summary, density, step)
    text = summary.to_text()
    reporter.artifact("summary.txt", text.encode(), "text/plain")
    result = {
        "graph": g.name, "nodes": int(summary.n_nodes), "edges": int(summary.n_edges),
        "supernodes": int(summary.n_supernodes), "superedges": int(summary.n_superedges),
        "size_bits": float(summary.size_bits), "input_bits": float(summary.input_bits),
        "target_bits": float(summary.target_bits), "re1": float(summary.re1), "re2": float(summary.re2),
        "seconds": seconds, "ratio": float(summary.ratio), "error": str(summary.error),
        "within_budget": bool(float(summary.size_bits) <= float(summary.target_bits) + 1e-9),
        "drawable": bool(g.n_nodes <= DRAW_MAX_NODES and g.n_edges <= DRAW_MAX_EDGES),
        "group_kind": g.group_kind, "stopped_early": stopped, "notes": notes,
        "skip_half_density": bool(config.skip_half_density),
    }
    for name in config.files:
        if name != "summary.txt":
            reporter.artifact(name, export_file(name, text, result), MIME[name])
    reporter.progress(config.iterations, config.iterations)
    return result


SWEEP_METRICS = ("ratio", "size_bits", "size_fraction", "target_bits", "re1", "re2", "supernodes",
                 "superedges", "seconds")


class _Quiet:
    """The reporter of a ratio run as a Ray task: never stops (cancel is ``ray.cancel``), drops events."""

    stop_requested = False

    def should_stop(self) -> bool:
        return False


def _sweep_row(g: LoadedGraph, ratio: float, config: SSumMSweepConfig, reporter, on_iteration=None) -> dict:
    t0 = time.perf_counter()
    s = _summarize(g, float(ratio), config.error, config.iterations, config.seed, reporter, on_iteration,
                   config.skip_half_density)
    return {"ratio": float(ratio), "size_bits": float(s.size_bits),
            "size_fraction": float(s.size_bits) / float(s.input_bits), "target_bits": float(s.target_bits),
            "re1": float(s.re1), "re2": float(s.re2), "supernodes": int(s.n_supernodes),
            "superedges": int(s.n_superedges), "seconds": time.perf_counter() - t0}


def ssumm_point(payload: dict, graph: dict) -> dict:
    """One ratio of the sweep, as a Ray task runs it: ``payload`` holds the sweep's config dict and
    the ``ratio``; ``graph`` the loaded graph as plain arrays (loaded once by the driver, sent with
    the tasks: no engine class travels, so Ray Client's proxy can hold it)."""
    config = SSumMSweepConfig.from_dict(payload["config"])
    g = LoadedGraph(edges=graph["edges"], node_ids=graph["node_ids"], n_nodes=int(graph["n_nodes"]),
                    name=graph["name"])
    return _sweep_row(g, payload["ratio"], config, _Quiet())


def _report_sweep_row(reporter, row: dict, i: int) -> None:
    for name in SWEEP_METRICS:
        reporter.metric(name, row[name], i)
    reporter.log(f"ratio {row['ratio']:g}: {row['size_bits']:,.0f} bits, RE1 {row['re1']:.3g}, RE2 {row['re2']:.3g}")


def _sweep_ray(config: SSumMSweepConfig, g: LoadedGraph, reporter) -> tuple[list[dict], list[dict], bool]:
    from engine.runs.ray_backend import run_points

    done: dict[int, dict] = {}
    failed: list[dict] = []
    total = len(config.ratios) * config.iterations

    def on_result(i: int, row: dict) -> None:
        done[i] = row
        _report_sweep_row(reporter, row, i)
        reporter.progress((len(done) + len(failed)) * config.iterations, total)

    def on_error(i: int, reason: str) -> None:
        failed.append({"index": i, "ratio": float(config.ratios[i]), "error": reason})
        reporter.log(f"ratio {config.ratios[i]:g} failed: {reason}")

    out = run_points("engine.graphs.experiments:ssumm_point",
                     [{"config": config.to_dict(), "ratio": float(r)} for r in config.ratios],
                     shared={"edges": g.edges, "node_ids": g.node_ids, "n_nodes": g.n_nodes, "name": g.name},
                     address=config.address, on_result=on_result, on_error=on_error,
                     should_stop=reporter.should_stop, reporter=reporter,
                     on_start=lambda n: reporter.log(f"Ray cluster ({config.address}): {n} CPUs for "
                                                     f"{len(config.ratios)} ratios."))
    return [done[i] for i in sorted(done)], failed, out.cancelled > 0


def run_ssumm_sweep(config: SSumMSweepConfig, reporter) -> dict:
    """One SSumM summary per ratio: the error-vs-size curve (one metric row per ratio, step = index)."""
    g = _load(config.source, reporter)
    total = len(config.ratios) * config.iterations
    rows: list[dict] = []
    failed: list[dict] = []
    if config.backend == "ray":
        rows, failed, _ = _sweep_ray(config, g, reporter)
    for i, ratio in enumerate(config.ratios if config.backend == "local" else ()):
        if reporter.should_stop():
            break

        def on_iteration(info: dict, base=i * config.iterations) -> None:
            reporter.progress(base + min(int(info["iteration"]), config.iterations), total)

        row = _sweep_row(g, ratio, config, reporter, on_iteration)
        if getattr(reporter, "stop_requested", False):
            break  # this summary was cut short: not a point of the curve
        rows.append(row)
        _report_sweep_row(reporter, row, i)
        reporter.progress((i + 1) * config.iterations, total)
    if rows:
        import pandas as pd

        reporter.artifact("sweep.csv", pd.DataFrame(rows).to_csv(index=False).encode(), "text/csv")
    notes = list(g.notes)
    if len(rows) + len(failed) < len(config.ratios):
        notes.append(f"Cancelled: {len(rows)} of {len(config.ratios)} ratios done.")
    notes += [f"Ratio {f['ratio']:g} failed: {f['error']}" for f in failed]
    return {"graph": g.name, "nodes": g.n_nodes, "edges": g.n_edges,
            "input_bits": 2.0 * g.n_edges * math.log2(g.n_nodes) if g.n_nodes > 1 else 0.0,
            "error": config.error, "rows": rows, "notes": notes, "failed": failed, "backend": config.backend}


EXPERIMENTS = {
    "ssumm": (SSumMConfig, run_ssumm),
    "ssumm-sweep": (SSumMSweepConfig, run_ssumm_sweep),
}
