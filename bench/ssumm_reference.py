"""SSumM faithfulness: our summaries beside the authors' reference figures.

Runs :func:`engine.graphs.ssumm.ssumm_edges` on the benchmark graphs of ``shared/data/graphs`` and
prints, per (graph, ratio, error), our mean size (% of input), RE1 and RE2 over seeds next to the
means measured with the authors' Java release (``shared/reference/ssumm_reference.md``), with the
percentage differences. |V| counts the nodes that occur in the edge list, as the reference does.

    .venv/bin/python bench/ssumm_reference.py --graphs cora,citeseer --ratios 0.1,0.3 --seeds 3
    .venv/bin/python bench/ssumm_reference.py --errors l1 --skip-half-density   # + the opt-in L1 mode

``--skip-half-density`` adds, for L1 rows, the RE1 of this project's opt-in mode (never keep a
superedge of density exactly ½, same seeds) against our faithful default and the reference.

Without the shared data the script says so and exits 0.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.graphs.ssumm import ssumm_edges  # noqa: E402
from engine.paths import shared_data_dir  # noqa: E402

GRAPHS = ["ego_facebook", "sbm_2k", "caida", "cora", "citeseer", "minnesota_road", "ba_100k"]
FILES = {"cora": "cora.edges.txt", "citeseer": "citeseer.edges.txt"}


def load_edges(path: Path) -> tuple[np.ndarray, int]:
    """Edge list → (E, 2) indices over the nodes that occur in it, and |V|."""
    import pandas as pd

    raw = pd.read_csv(path, sep=r"\s+", header=None, comment="#", usecols=[0, 1],
                      dtype=np.int64, engine="c").to_numpy()
    ids, inv = np.unique(raw.ravel(), return_inverse=True)
    return inv.reshape(-1, 2).astype(np.int64), ids.size


def reference_table(path: Path) -> dict[tuple[str, float, str], dict[str, float]]:
    """Parse the results table of ssumm_reference.md."""
    out = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 14 or not re.match(r"^[0-9.]+$", cells[3] or "x"):
            continue
        try:
            out[(cells[0], float(cells[3]), cells[4].lower())] = {
                "size": float(cells[6]), "re1": float(cells[7].split("±")[0]),
                "re2": float(cells[8].split("±")[0]), "S": float(cells[9]), "P": float(cells[10]),
                "alg_s": float(cells[11]), "wall_s": float(cells[12])}
        except ValueError:
            continue
    return out


def pct(ours: float, ref: float) -> str:
    return f"{100.0 * (ours - ref) / ref:+6.1f}%" if ref else "   n/a"


def _skip_columns(edges: np.ndarray, n: int, ratio: float, seeds: int, re1: float, r: dict) -> str:
    """RE1 of the opt-in skip-½ mode (same seeds) vs our faithful mean and the reference mean."""
    skip = statistics.mean(ssumm_edges(edges, n, ratio=ratio, error="l1", seed=seed,
                                       skip_half_density=True).re1 for seed in range(seeds))
    return f" | {skip:>10.4e}{pct(skip, re1):>8}{pct(skip, r.get('re1', 0)):>8}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graphs", default=",".join(GRAPHS))
    ap.add_argument("--ratios", default="0.1,0.3,0.5")
    ap.add_argument("--errors", default="l1,l2")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--skip-half-density", action="store_true",
                    help="also run the opt-in L1 mode and print its RE1 beside the faithful one")
    args = ap.parse_args(argv)
    data = shared_data_dir()
    ref_md = (data.parent / "reference" / "ssumm_reference.md") if data else None
    if data is None or not (data / "graphs").is_dir():
        print("Benchmark data not found (set SPARSITY_LAB_DATA or put shared/data beside the "
              "checkout); nothing to compare.")
        return 0
    ref = reference_table(ref_md) if ref_md and ref_md.exists() else {}
    ssumm_edges(np.array([[0, 1], [1, 2]]), ratio=0.9, seed=0)     # compile / load the kernels
    hdr = (f"{'graph':<15}{'ratio':>6}{'err':>4} | {'size% ours':>10}{'ref':>8} | "
           f"{'RE1 ours':>10}{'ref':>11}{'diff':>8} | {'RE2 ours':>10}{'ref':>11}{'diff':>8} | "
           f"{'|S|':>6}{'ref':>7}{'|P|':>7}{'ref':>7} | {'s/run':>6}{'ref alg s':>10}"
           + (f" | {'RE1 skip½':>10}{'vs ours':>8}{'vs ref':>8}" if args.skip_half_density else ""))
    print(f"SSumM vs the authors' Java release: means over {args.seeds} seeds (ours) and the "
          "reference runs; times are noisy (shared machine).")
    print(hdr)
    print("-" * len(hdr))
    for g in args.graphs.split(","):
        path = data / "graphs" / FILES.get(g, f"{g}.txt")
        if not path.exists():
            print(f"{g:<15} (file {path.name} absent)")
            continue
        edges, n = load_edges(path)
        for ratio in [float(r) for r in args.ratios.split(",")]:
            for err in args.errors.split(","):
                runs = []
                for seed in range(args.seeds):
                    t = time.perf_counter()
                    s = ssumm_edges(edges, n, ratio=ratio, error=err, seed=seed)
                    runs.append((s, time.perf_counter() - t))
                size = statistics.mean(100 * s.size_bits / s.input_bits for s, _ in runs)
                within = all(s.size_bits <= s.target_bits for s, _ in runs)
                re1 = statistics.mean(s.re1 for s, _ in runs)
                re2 = statistics.mean(s.re2 for s, _ in runs)
                S = statistics.mean(s.n_supernodes for s, _ in runs)
                P = statistics.mean(s.n_superedges for s, _ in runs)
                secs = statistics.median(t for _, t in runs)
                r = ref.get((g, ratio, err), {})
                print(f"{g:<15}{ratio:>6}{err:>4} | {size:>9.3f}{'' if within else '!'}"
                      f"{r.get('size', float('nan')):>8.3f} | "
                      f"{re1:>10.4e} {r.get('re1', float('nan')):>10.4e}{pct(re1, r.get('re1', 0)):>8} | "
                      f"{re2:>10.4e} {r.get('re2', float('nan')):>10.4e}{pct(re2, r.get('re2', 0)):>8} | "
                      f"{S:>6.0f}{r.get('S', float('nan')):>7.0f}{P:>7.0f}{r.get('P', float('nan')):>7.0f} | "
                      f"{secs:>6.2f}{r.get('alg_s', float('nan')):>10.2f}"
                      + (_skip_columns(edges, n, ratio, args.seeds, re1, r) if args.skip_half_density and err == "l1"
                         else ""), flush=True)
    print("size%: summary bits / input bits ('!' = over budget in some run); diff: ours vs "
          "reference mean.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
