"""SSumM speed and scale: seconds, seconds per million edges and peak memory.

Each measurement runs in a fresh subprocess (so ``ru_maxrss`` is that run's peak) on
Barabási–Albert graphs with m = 5 (|E| ≈ 5|V|): 100k and 2M edges generated here with a numba
port of the classic "repeated nodes" construction (same model as networkx's
``barabasi_albert_graph``, another random stream), and ``shared/data/graphs/ba_100k.txt`` (500k
edges, networkx-generated) when present, else a generated graph of that size. The kernels' compile
time (empty numba cache) and cache-load time are measured separately. The machine is shared, so
every figure is the median of ``--repeats`` runs; CPU seconds (user + system of the run) are
printed beside the wall time because they depend less on what else the machine is doing, and the
1-minute load average is printed at the end of each row.

    .venv/bin/python bench/ssumm_scale.py                  # 100k, 500k, 2M edges, ratio 0.3, L1
    .venv/bin/python bench/ssumm_scale.py --sizes 100k,500k --repeats 5
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"100k": 20_000, "500k": 100_000, "2M": 400_000}    # edges → nodes (m = 5)


def barabasi_albert(n: int, m: int, seed: int) -> np.ndarray:
    """(E, 2) edges of a BA graph: each new node links to m distinct nodes chosen ∝ degree."""
    from numba import njit

    @njit(cache=False)
    def build(n, m, seed):
        np.random.seed(seed)
        edges = np.empty(((n - m) * m, 2), np.int64)
        repeated = np.empty(2 * (n - m) * m + m, np.int64)
        nrep = 0
        targets = np.arange(m)
        chosen = np.empty(m, np.int64)
        e = 0
        for src in range(m, n):
            for t in range(m):
                edges[e, 0] = targets[t]
                edges[e, 1] = src
                e += 1
                repeated[nrep] = targets[t]
                repeated[nrep + 1] = src
                nrep += 2
            k = 0
            while k < m:    # m distinct nodes, uniform over the repeated list (∝ degree)
                x = repeated[np.random.randint(nrep)]
                dup = False
                for q in range(k):
                    if chosen[q] == x:
                        dup = True
                if not dup:
                    chosen[k] = x
                    k += 1
            targets = chosen.copy()
        return edges

    return build(n, m, seed)


def load(size: str) -> tuple[np.ndarray, int, str]:
    from engine.paths import shared_data_dir

    data = shared_data_dir()
    path = data / "graphs" / "ba_100k.txt" if data else None
    if size == "500k" and path is not None and path.exists():
        import pandas as pd

        e = pd.read_csv(path, sep="\t", header=None, dtype=np.int64).to_numpy()
        return e, int(e.max()) + 1, "ba_100k.txt (networkx BA, seed 42)"
    n = SIZES[size]
    return barabasi_albert(n, 5, seed=42), n, f"generated BA n={n}, m=5"


def one(size: str, ratio: float, error: str, seed: int) -> dict:
    """A single measured run (called in a subprocess)."""
    from engine.graphs.ssumm import ssumm_edges

    edges, n, source = load(size)
    ssumm_edges(np.array([[0, 1], [1, 2]]), ratio=0.9, seed=0)    # load compiled kernels
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    s = ssumm_edges(edges, n, ratio=ratio, error=error, seed=seed)
    secs = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"size": size, "source": source, "nodes": s.n_nodes, "edges": s.n_edges, "seconds": secs, "cpu_seconds": cpu,
            "size_pct": 100 * s.size_bits / s.input_bits, "re1": s.re1, "re2": s.re2,
            "iterations": len(s.history), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def compile_times() -> tuple[float, float]:
    """(seconds with an empty numba cache, seconds loading the cache) for a first tiny call."""
    code = ("import time,numpy as np;t=time.perf_counter();from engine.graphs.ssumm import ssumm_edges;"
            "ssumm_edges(np.array([[0,1],[1,2],[0,2],[2,3]]),ratio=0.5,seed=0);"
            "print(time.perf_counter()-t)")
    with tempfile.TemporaryDirectory() as tmp:
        cold = float(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True,
                                             env={**os.environ, "NUMBA_CACHE_DIR": tmp}))
    subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True)   # fill the cache
    warm = float(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True))
    return cold, warm


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k,500k,2M")
    ap.add_argument("--ratio", type=float, default=0.3)
    ap.add_argument("--error", default="l1")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.ratio, args.error, args.seed)))
        return 0
    cold, warm = compile_times()
    print(f"numba kernels: first call {cold:.1f} s with an empty cache (compile), {warm:.1f} s "
          "from the cache (cache=True); excluded from the times below.")
    print(f"SSumM ratio {args.ratio}, {args.error.upper()}: median of {args.repeats} runs "
          "(seeds 0..), each in a fresh process; shared 2-core machine, so times are noisy.")
    hdr = (f"{'graph':<42}{'|V|':>9}{'|E|':>10}{'s (median)':>11}{'min':>7}{'max':>7}"
           f"{'s / M edges':>12}{'CPU s':>7}{'CPU s/M':>8}{'iters':>6}{'peak RSS MB':>12}{'size %':>8}"
           f"{'RE1':>11}{'load 1m':>8}")
    print(hdr)
    print("-" * len(hdr))
    for size in args.sizes.split(","):
        runs = []
        for r in range(args.repeats):
            out = subprocess.check_output(
                [sys.executable, __file__, "--one", size, "--ratio", str(args.ratio), "--error",
                 args.error, "--seed", str(r)], cwd=ROOT, text=True)
            runs.append(json.loads(out.strip().splitlines()[-1]))
        t = [x["seconds"] for x in runs]
        med = statistics.median(t)
        x = runs[0]
        cpu = statistics.median(y["cpu_seconds"] for y in runs)
        print(f"{x['source']:<42}{x['nodes']:>9}{x['edges']:>10}{med:>11.2f}{min(t):>7.2f}"
              f"{max(t):>7.2f}{med / (x['edges'] / 1e6):>12.2f}{cpu:>7.2f}{cpu / (x['edges'] / 1e6):>8.2f}"
              f"{statistics.median(y['iterations'] for y in runs):>6.0f}"
              f"{statistics.median(y['peak_rss_mb'] for y in runs):>12.0f}"
              f"{statistics.median(y['size_pct'] for y in runs):>8.2f}"
              f"{statistics.median(y['re1'] for y in runs):>11.3e}{os.getloadavg()[0]:>8.2f}", flush=True)
    print("Reference (authors' Java, ba_100k, ratio 0.3 L1): 19.28 s algorithm, 23.16 s wall, "
          "1011 MB peak RSS (medians, same kind of machine).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
