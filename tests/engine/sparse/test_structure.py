"""Structure of engine/sparse: no import cycle (counting function-level imports), method classes and
the pre-flight readable without torch, old stored configs still readable."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from engine.errors import ConfigError
from engine.sparse.config import SparseConfig, stored_config
from engine.sparse.methods.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[3]
PKG = ROOT / "engine" / "sparse"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph() -> nx.DiGraph:
    """engine.sparse modules -> the engine.sparse modules they import, at any depth (module level,
    inside functions, ``from engine.sparse import nm``) plus the registry's lazy table."""
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                if t in modules and t != name and t.startswith("engine.sparse"):
                    g.add_edge(name, t)
    for module, _ in REGISTRY.values():
        g.add_edge("engine.sparse.methods.registry", f"engine.sparse.methods.{module}")
    return g


def test_engine_sparse_has_no_import_cycle():
    g = import_graph()
    assert g.number_of_edges() > 30  # the parser sees the imports
    assert ("engine.sparse.experiments", "engine.sparse.sweep") in g.edges  # and function-level ones
    assert ("engine.sparse.sweep", "engine.sparse.build") in g.edges
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], cycles[:3]


def test_method_classes_config_ledger_and_preflight_import_without_torch():
    code = """
import sys
from engine.sparse.methods.registry import methods
from engine.sparse import schema
from engine.sparse.config import SparseConfig
from engine.sparse.ledger import ledger_from_masks
from engine.sparse.preflight import check
from engine.sparse.sweep import partial_rows, rows_from_results
import numpy as np
cards = [schema.describe(c) for c in methods()]
shapes = check(SparseConfig(method="nm-srste", hidden=(32, 32)))
led = ledger_from_masks({k: np.ones(v) for k, v in shapes.items()}, method="rigl", requested=0.9)
try:
    check(SparseConfig(method="nm-bdwp", hidden=(6,), method_params={"nm": "2:4"}))
    refused = False
except Exception as err:
    refused = "not a multiple of 4" in str(err)
print(json.dumps({"torch": "torch" in sys.modules, "refused": refused, "n": len(cards)}))
"""
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"torch": False, "refused": True, "n": len(REGISTRY)}


@pytest.mark.parametrize("model, extra", [("mlp", {"hidden": (48, 24)}), ("cnn", {"channels": (8, 16)})])
@pytest.mark.parametrize("dataset", ["digits", "moons"])
def test_torch_free_shapes_equal_the_built_models(model, extra, dataset):
    from engine.sparse.build import build
    from engine.sparse.models import prunable
    from engine.sparse.preflight import check

    if model == "cnn" and dataset == "moons":
        pytest.skip("the CNN needs images")
    config = SparseConfig(dataset=dataset, model=model, n_samples=40, **extra)
    _, built, _ = build(config)
    assert check(config) == {k: tuple(v.shape) for k, v in prunable(built).items()}


def test_old_flat_configs_of_stored_runs_are_read_into_method_params():
    old = {"dataset": "digits", "method": "soup", "sparsity": 0.9, "scope": "global", "distribution": "erk",
           "sparse_init": "dense", "prune_begin": 0.1, "imp_rounds": 4, "soup_size": 3, "soup_vary": "seed",
           "nm": "2:4", "srste_decay": 0.0002, "drop_decay": "cosine", "epochs": 3, "speed_meter": True}
    c = stored_config(old)
    assert c.method_params == {"scope": "global", "rounds": 4, "size": 3, "vary": "batch-order", "soup": "uniform"}
    srste = SparseConfig.from_dict({**old, "method": "nm-srste", "nm": "1:4", "srste_decay": 0.001})
    assert srste.method_params == {"nm": "1:4", "decay": 0.001} and srste.requested == 0.75
    full_old_set = {**old, "method": "set", "drop_decay": "cosine", "drop_fraction": 0.3, "dst_end": 0.75,
                    "update_every": 25}
    p = stored_config(full_old_set).method_params  # what that run did: RigL's SET baseline
    assert (p["update"], p["drop"], p["regrow_init"], p["decay"], p["zeta"], p["end"]) == (
        "steps", "magnitude", "zero", "cosine", 0.3, 0.75)
    gmp = SparseConfig.from_dict({"method": "gmp", "prune_begin": 0.2, "prune_every": 5})
    assert (gmp.method_params["begin"], gmp.method_params["every"], gmp.method_params["scope"]) == (0.2, 5, "layer")


def test_settings_a_method_does_not_have_are_refused_with_its_list():
    with pytest.raises(ConfigError, match="rigl has no setting 'rounds'"):
        SparseConfig(method="rigl", method_params={"rounds": 3})
    with pytest.raises(ConfigError, match="takes: .*drop_fraction"):
        SparseConfig.from_dict({"method": "rigl", "zeta": 0.3})
    with pytest.raises(ConfigError, match="must be one of layer, global"):
        SparseConfig(method="gmp", method_params={"scope": "everything"})


def test_prepare_refuses_per_layer_settings_it_would_ignore():
    from engine.sparse.methods.registry import method_class
    from engine.sparse.models import MLP

    sp = method_class("magnitude")(sparsity=0.5)
    with pytest.raises(ConfigError, match="only 'tensor_fqn'"):
        sp.prepare(MLP(4, (8,), 2), [{"tensor_fqn": "layers.0.weight", "sparsity_level": 0.5}])


def test_plan_gives_each_layer_the_method_target_before_the_run():
    from engine.sparse.config import SparseConfig
    from engine.sparse.ledger import plan

    erk = plan(SparseConfig(method="rigl", sparsity=0.9))
    targets = [r["target"] for r in erk["layers"]]
    assert erk["per_layer_targets"] and len(set(targets)) > 1  # ERK: each layer its own density
    kept = sum(r["weights"] * (1 - r["target"]) for r in erk["layers"])
    assert abs(kept / erk["weights"] - 0.1) < 0.01  # ... and 10 % of the weights in all
    units = plan(SparseConfig(method="structured", sparsity=0.5))
    assert units["counts"] == "units" and [r["target"] for r in units["layers"]] == [0.5, 0.5, None]
    assert plan(SparseConfig(dataset="csv", data_path="/nonexistent.csv")) is None
