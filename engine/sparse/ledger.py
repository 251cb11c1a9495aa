"""The sparsity ledger: per-layer density against the method's targets, dead units both ways, units
removed, collapsed layers, FLOPs. Numpy only (no torch), so the dashboard computes the same ledger
live from mask snapshots that a finished run reports (``result["ledger"]``).

* Targets only where the method defines them (``per_layer_targets`` of its class, and for scoped
  methods only with ``scope="layer"``): a global threshold sets only the total, so its layers have
  ``target = None`` and the total carries the request.
* A hidden unit is *dead in* when its row of the mask is empty (no incoming weight: its output is a
  constant) and *dead out* when its column in the next layer is empty (nothing reads it); a unit
  with neither is *removed* (what structured pruning does on purpose). The output layer's units are
  the classes: they have no outgoing weights to count.
* A layer is *collapsed* when it keeps fewer weights than it has output units.
* ``counts="units"`` (structured pruning): the request is a fraction of hidden units; the ledger
  reports the units removed *and* the weight sparsity that follows, and warns only about units dead
  in one direction beyond the ones removed on purpose.
"""
from __future__ import annotations

import numpy as np


def _as_2d(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m) != 0
    return m.reshape(m.shape[0], -1)


def _dead_out(unit_count: int, consumer: np.ndarray | None) -> np.ndarray:
    """Units (of a layer with ``unit_count`` outputs) that no weight of the next layer reads."""
    if consumer is None:
        return np.zeros(unit_count, dtype=bool)
    c2 = _as_2d(consumer)
    if c2.shape[1] % unit_count:
        return np.zeros(unit_count, dtype=bool)  # the next layer does not read these units one by one
    return ~c2.reshape(c2.shape[0], unit_count, -1).any(axis=(0, 2))


def ledger_from_masks(masks: dict[str, np.ndarray], *, method: str, requested: float, params: dict | None = None,
                      macs: dict[str, int] | None = None) -> dict:
    """The ledger of ``masks`` (fqn -> mask, model order) for a run of ``method`` asking ``requested``.

    ``params`` are the method's settings (default: its class defaults); ``macs`` the dense
    multiply-accumulates per example of each layer (adds ``flops_dense`` / ``flops_sparse``).

    >>> m0 = np.ones((4, 3)); m0[1] = 0                  # unit 1 of layer 0 has no input
    >>> m1 = np.ones((2, 4)); m1[:, 1] = 0; m1[:, 2] = 0  # units 1 and 2 of layer 0 have no output
    >>> led = ledger_from_masks({"a": m0, "b": m1}, method="magnitude", requested=0.5)
    >>> [(r["dead_in"], r["dead_out"], r["units_removed"], r["target"]) for r in led["layers"]]
    [(1, 2, 1, None), (0, 0, 0, None)]
    >>> led["total"]["sparsity"], led["per_layer_targets"]
    (0.35, False)
    >>> ledger_from_masks({"a": m0, "b": m1}, method="gmp", requested=0.5)["layers"][0]["target"]
    0.5
    """
    from engine.sparse import schema
    from engine.sparse.methods.registry import method_class

    cls = method_class(method)
    params = schema.resolve(cls, cls.upgrade(dict(params or {})))
    names = list(masks)
    shapes = {k: tuple(np.asarray(masks[k]).shape) for k in names}
    per_layer = bool(cls.has_layer_targets(params))
    targets = (cls.layer_targets(shapes, requested, params) or {}) if per_layer else {}
    layers = []
    for i, name in enumerate(names):
        m2 = _as_2d(masks[name])
        units = m2.shape[0]
        kept, total = int(m2.sum()), int(m2.size)
        density = kept / max(total, 1)
        last = i == len(names) - 1
        dead_in = ~m2.any(axis=1)
        dead_out = _dead_out(units, None if last else masks[names[i + 1]])
        target = targets.get(name)
        row = {
            "name": name, "shape": list(shapes[name]), "kept": kept, "total": total,
            "density": round(density, 4), "sparsity": round(1.0 - density, 4),
            "target": None if target is None else round(float(target), 4),
            "dead_in": int(dead_in.sum()), "dead_out": int(dead_out.sum()),
            "units": int(units), "units_removed": 0 if last else int((dead_in & dead_out).sum()),
            "collapsed": kept < units,
        }
        # the old keys, kept for stored results and the JSON contract
        row["target_density"] = None if target is None or cls.counts == "units" else round(1.0 - float(target), 4)
        row["dead_neurons"] = row["dead_in"]
        if macs is not None:
            row["flops_dense"] = 2 * int(macs.get(name, 0))
            row["flops_sparse"] = int(round(2 * int(macs.get(name, 0)) * density))
        layers.append(row)
    kept = sum(r["kept"] for r in layers)
    total = sum(r["total"] for r in layers)
    hidden_units = sum(r["units"] for r in layers[:-1])
    removed = sum(r["units_removed"] for r in layers)
    return {
        "method": method, "counts": cls.counts, "axis": cls.axis(), "per_layer_targets": per_layer,
        "requested": round(float(requested), 6),
        "layers": layers,
        "total": {"sparsity": round(1.0 - kept / max(total, 1), 6), "density": round(kept / max(total, 1), 6),
                  "kept": kept, "weights": total,
                  "dead_in": sum(r["dead_in"] for r in layers), "dead_out": sum(r["dead_out"] for r in layers),
                  "units": hidden_units, "units_removed": removed,
                  "units_removed_fraction": round(removed / hidden_units, 6) if hidden_units else 0.0},
    }


def warnings(ledger: dict) -> list[str]:
    """Plain-language warnings: collapsed layers, and units dead in one direction (not removed on purpose).

    >>> led = ledger_from_masks({"a": np.eye(3), "b": np.zeros((2, 3))}, method="magnitude", requested=0.5)
    >>> warnings(led)
    ['b collapsed: it keeps 0 of 6 weights, fewer than its 2 output units.', 'a: 3 of 3 units have no outgoing weight (nothing reads them).']
    """
    out = []
    for r in ledger["layers"]:
        if r["collapsed"]:
            out.append(f"{r['name']} collapsed: it keeps {r['kept']} of {r['total']} weights, fewer than its "
                       f"{r['units']} output units.")
    for r in ledger["layers"]:
        no_in, no_out = r["dead_in"] - r["units_removed"], r["dead_out"] - r["units_removed"]
        if ledger["counts"] != "units":  # unstructured: every disconnected unit is news
            no_in, no_out = r["dead_in"], r["dead_out"]
        if no_in and not r["collapsed"]:
            out.append(f"{r['name']}: {no_in} of {r['units']} units have no incoming weight (dead).")
        if no_out:
            out.append(f"{r['name']}: {no_out} of {r['units']} units have no outgoing weight (nothing reads them).")
    return out


def plan(config) -> dict | None:
    """What a run of ``config`` will prune, before it runs: each layer's shape and the method's target.

    From the torch-free pre-flight (:func:`engine.sparse.preflight.check`, which raises the same
    ``ConfigError`` / ``DataError`` the run would); ``None`` when only reading the data tells the
    shapes (CSV). ``target`` is on the method's axis (fraction of weights, or of units for
    structured pruning); ``None`` where a global criterion decides each layer's share during the run.

    >>> from engine.sparse.config import SparseConfig
    >>> p = plan(SparseConfig(method="gmp", sparsity=0.8))
    >>> [(r["name"], r["shape"], r["weights"], r["target"]) for r in p["layers"]]
    [('layers.0.weight', [256, 64], 16384, 0.8), ('layers.1.weight', [256, 256], 65536, 0.8), ('layers.2.weight', [10, 256], 2560, 0.8)]
    >>> p["weights"], plan(SparseConfig(method="magnitude"))["layers"][0]["target"] is None
    (84480, True)
    """
    from engine.sparse.preflight import check

    if config.dataset == "csv":
        return None  # the width of a CSV is known once it is read: the run's own check tells
    shapes = check(config)
    if shapes is None:
        return None
    cls = config.method_class
    params = config.method_params
    per_layer = config.method != "dense" and bool(cls.has_layer_targets(params))
    targets = (cls.layer_targets(shapes, config.requested, params) or {}) if per_layer else {}
    layers = []
    for name, shape in shapes.items():
        weights = int(np.prod(shape))
        target = targets.get(name)
        layers.append({"name": name, "shape": list(shape), "weights": weights, "units": int(shape[0]),
                       "target": None if target is None else round(float(target), 4)})
    return {"method": config.method, "counts": cls.counts, "axis": cls.axis(), "per_layer_targets": per_layer,
            "requested": round(float(config.requested), 6), "layers": layers,
            "weights": sum(r["weights"] for r in layers)}
