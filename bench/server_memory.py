"""The app server's peak memory while it checks the largest input each form allows, vs a refused input.

What the server does when a form's button is clicked: build the config (``engine.limits`` bounds),
run the page's pre-flight (sparse: ``engine.sparse.preflight.check``; StackVAE-G: the data's shape
and ``engine.anomaly.preflight.preflight``), then record the run (a JSON row). Training happens in a
worker process, never in the server. Each case runs in a fresh child process after the server's
imports, and reports the growth of its peak resident memory (``ru_maxrss``) and the peak of Python
and numpy allocations (``tracemalloc``) during the check. A refused input must allocate nothing.

    python bench/server_memory.py

Figures depend on the machine's load (other agents share its 2 cores); memory figures do not.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> (kind, largest allowed settings, refused settings)
CASES: dict[str, tuple[str, dict, dict]] = {
    "sparse (Train & prune)": ("sparse", dict(hidden=(8192, 8192), epochs=3000, batch_size=4096),
                               dict(hidden=(10_000_000, 10_000_000))),
    "sparse, 2-D points": ("sparse", dict(dataset="moons", n_samples=1_000_000, hidden=(256, 256), epochs=20),
                           dict(dataset="moons", n_samples=10**9)),
    "sparse CNN": ("sparse", dict(model="cnn", channels=(512, 512, 512), epochs=200),
                   dict(model="cnn", channels=(100_000,))),
    "sweep (Compare)": ("sweep", dict(methods=("magnitude", "rigl"), sparsities=tuple(0.5 + i / 100 for i in range(40)),
                                      seeds=(0, 1, 2), hidden=(1024, 1024), epochs=200),
                        dict(epochs=10**9)),
    "sensitivity": ("sensitivity", dict(hidden=(4096, 4096), epochs=1000), dict(epochs=10**9)),
    "SAE": ("sae", dict(width=8192, model_hidden=1024, epochs=50), dict(width=10**8)),
    "QuickSelection": ("quickselection", dict(hidden_units=8192, epochs=200), dict(hidden_units=10**7)),
    "StackVAE-G synthetic": ("stackvaeg", dict(n_channels=200, n_groups=20, length=200_000, window=2000, epochs=2000,
                                               hidden=2048, latent=1024, node_dim=1024),
                             dict(n_channels=100_000)),
    "GNN": ("gnn", dict(hidden=1024, epochs=2000), dict(hidden=10**7)),
    "FastRP": ("fastrp", dict(dim=1024), dict(dim=10**7)),
}


# the config classes the pages import (not the experiment modules: those import torch)
CONFIGS = {"sparse": "engine.sparse.config:SparseConfig", "sweep": "engine.sparse.sweep:SweepConfig",
           "sensitivity": "engine.sparse.sweep:SensitivityConfig", "sae": "engine.sparse.sae:SAEConfig",
           "quickselection": "engine.sparse.quickselection:QuickSelectionConfig",
           "stackvaeg": "engine.anomaly.experiments:StackVAEGConfig", "gnn": "engine.graphs.gnn_experiments:GNNConfig",
           "fastrp": "engine.graphs.gnn_experiments:FastRPConfig"}


def _config_class(kind: str):
    import importlib

    module, name = CONFIGS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def _server_check(kind: str, data: dict) -> str:
    """What the app server runs for this form; returns 'accepted' or the refusal's message."""
    from engine.errors import SparsityLabError

    try:
        config = _config_class(kind).from_dict(data)
        if kind == "sparse":
            from engine.sparse.preflight import check

            check(config)
        elif kind == "stackvaeg":
            from engine.anomaly.preflight import data_shape, preflight

            preflight(config, data_shape(config))
        return "accepted"
    except SparsityLabError as err:
        return "refused: " + str(err)[:70]


def _child(name: str, variant: str) -> None:
    import tracemalloc

    kind, allowed, refused = CASES[name]
    _config_class(kind)  # the server's imports, before the baseline
    import engine.anomaly.preflight  # noqa: F401
    import engine.sparse.preflight  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    outcome = _server_check(kind, allowed if variant == "allowed" else refused)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "rss_mb": (after - before) / 1024, "alloc_mb": peak / 2**20,
                      "seconds": seconds, "torch": "torch" in sys.modules}))


def main() -> None:
    env = dict(os.environ, SPARSITY_LAB_DB=str(Path(tempfile.mkdtemp()) / "runs.db"), PYTHONPATH=str(ROOT))
    print(f"{'form':<24} {'input':<8} {'outcome':<44} {'peak RSS +MB':>12} {'alloc MB':>9} {'s':>6} torch")
    for name in CASES:
        for variant in ("allowed", "refused"):
            out = subprocess.run([sys.executable, __file__, "--child", name, variant], capture_output=True,
                                 text=True, env=env, cwd=ROOT)
            if out.returncode != 0:
                print(f"{name:<24} {variant:<8} child failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{name:<24} {variant:<8} {r['outcome'][:44]:<44} {r['rss_mb']:>12.1f} {r['alloc_mb']:>9.2f} "
                  f"{r['seconds']:>6.2f} {'yes' if r['torch'] else 'no'}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
