"""Evaluate engine functions that live in torch modules, in a child process, so the app server
never imports torch for a lesson (lessons 2, 7 and 10).

``python -m engine.learn.probe NAME '{json params}'`` prints one JSON object. :func:`probe` runs it
with a timeout and returns the parsed result; the app caches it (``st.cache_data``), so the same
settings are computed once per server, not once per student.

* ``schedules``: every schedule the sparse lab's methods follow, sampled at every step of a run,
  from the methods' own objects and functions (GMP: ``GradualMagnitudeSparsifier``; IMP:
  ``lottery.round_sparsity``; RigL/SET: ``RigLSparsifier.drop_fraction`` and ``is_update_step``;
  SR-STE: the ``λ_W`` of ``SRSTESparsifier``; progressive decay: ``nm.decay_factor`` and
  ``nm.sdgf_pattern`` with ``DecayingNM``'s defaults).
* ``timelines``: each method's density over its whole recipe (lesson 3).
* ``latency``: FLOPs and measured latency per batch size of a pruned MLP (lesson 10).
* ``speed``: ``engine.sparse.speed.measure_speed`` of one ``Linear`` layer pruned at each density
  (unstructured: dense and the CSR backends), and of the smaller dense layer that removing whole
  output neurons at that density leaves (structured; its speed-up is against the full layer).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import OrderedDict

from engine.errors import SparsityLabError


def _defaults(cls) -> dict:
    """A method class's parameter defaults (its keyword-only constructor: the paper's values)."""
    import inspect

    return {k: v.default for k, v in inspect.signature(cls.__init__).parameters.items()
            if v.kind is inspect.Parameter.KEYWORD_ONLY}


def schedules(params: dict) -> dict:
    """Series of every schedule over ``steps`` steps (defaults: the method classes' own defaults)."""
    from engine.sparse import nm
    from engine.sparse.methods.dst import RigLSparsifier, SETSparsifier
    from engine.sparse.methods.lottery import IMPSparsifier, round_sparsity
    from engine.sparse.methods.magnitude import GradualMagnitudeSparsifier
    from engine.sparse.methods.nm_methods import DecayingNMSparsifier, SRSTESparsifier

    steps = int(params.get("steps", 1000))
    sparsity = float(params.get("sparsity", 0.9))
    steps_axis = list(range(steps + 1))

    g = _defaults(GradualMagnitudeSparsifier)
    gmp = GradualMagnitudeSparsifier(sparsity=sparsity, begin=float(params.get("prune_begin", g["begin"])),
                                     end=float(params.get("prune_end", g["end"])),
                                     every=int(params.get("prune_every", g["every"])))
    gmp.begin_step = int(gmp.begin * steps)  # as GradualMagnitudeSparsifier.run does
    gmp.end_step = max(gmp.begin_step + 1, int(gmp.end * steps))
    gmp_target = [gmp.target(t) for t in steps_axis]
    gmp_applied, current = [], gmp.initial  # the sparsity the masks have: changed only at prune steps
    for t in steps_axis:
        if t and gmp.begin_step <= t <= gmp.end_step and ((t - gmp.begin_step) % gmp.every == 0 or t == gmp.end_step):
            current = gmp.target(t)
        gmp_applied.append(current)

    rounds = int(params.get("imp_rounds", _defaults(IMPSparsifier)["rounds"]))
    imp = [{"round": r, "sparsity": round_sparsity(sparsity, rounds, r)} for r in range(rounds + 1)]
    imp[0]["sparsity"] = 0.0

    r = _defaults(RigLSparsifier)
    every = int(params.get("update_every", r["update_every"]))
    alpha = float(params.get("drop_fraction", r["drop_fraction"]))
    dst = {}
    for sp, alpha_of in (
        (RigLSparsifier(sparsity=sparsity, update_every=every, drop_fraction=alpha,
                        end=float(params.get("dst_end", r["end"])), decay=params.get("drop_decay", "cosine")),
         lambda sp: sp.drop_fraction),
        # SET evolves every epoch with a constant ζ (Mocanu et al.); here every ΔT steps, like RigL, to compare
        (SETSparsifier(sparsity=sparsity, zeta=alpha, update="steps", update_every=every, decay="constant"),
         lambda sp: sp.zeta),
    ):
        sp.end_step = max(1, int(sp.end * steps))  # as on_train_begin does
        dst[sp.name] = {"fraction": [sp.drop_fraction_at(t, alpha_of(sp)) for t in steps_axis],
                        "updates": [t for t in steps_axis if sp.is_update_step(t)], "end": sp.end_step,
                        "decay": sp.decay}

    srste_default = _defaults(SRSTESparsifier)["decay"]
    lam = float(params.get("srste_decay", srste_default))

    d = _defaults(DecayingNMSparsifier)
    kw = {"kind": d["curve"], "rate": d["rate"], "dense_frac": d["dense_frac"], "finetune_frac": d["finetune_frac"]}
    n, m = nm.parse_nm(str(params.get("nm", d["nm"])))
    mdgf = [nm.decay_factor(t, steps, **kw) for t in steps_axis]
    sdgf = [nm.sdgf_pattern(t, steps, n, m, dense_frac=kw["dense_frac"], finetune_frac=kw["finetune_frac"])
            for t in steps_axis]
    return {
        "steps": steps_axis, "sparsity": sparsity,
        "gmp": {"target": gmp_target, "applied": gmp_applied, "begin": gmp.begin_step, "end": gmp.end_step,
                "every": gmp.every},
        "imp": imp,
        "dst": dst,
        "srste": {"lambda": lam, "default": srste_default},
        "decay": {"mdgf": mdgf, "sdgf_density": [1.0 if p is None else p[0] / p[1] for p in sdgf],
                  "sdgf_label": ["dense" if p is None else f"{p[0]}:{p[1]}" for p in sdgf],
                  "nm": f"{n}:{m}", **kw},
    }


def speed(params: dict) -> dict:
    """``measure_speed`` of one ``Linear(in, out)`` at each density (magnitude-pruned random weights)."""
    import torch
    from torch import nn

    from engine.sparse.speed import measure_speed

    torch.manual_seed(int(params.get("seed", 0)))
    fan_in, fan_out = int(params.get("in_features", 512)), int(params.get("out_features", 512))
    batch = int(params.get("batch", 64))
    rows = []
    for density in params.get("densities", [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]):
        layer = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            w = layer.weight
            k = max(1, int(round(density * w.numel())))
            keep = torch.zeros(w.numel(), dtype=torch.bool)
            keep[torch.topk(w.abs().reshape(-1), k).indices] = True
            w.mul_(keep.reshape(w.shape))
        budget = float(params.get("budget_s", 0.3))
        measured = measure_speed(nn.Sequential(layer), (fan_in,), batch_sizes=(batch,), budget_s=budget, threads=1)
        rows += [{**row, "target_density": density} for row in measured]
        # structured: the same density as whole output neurons removed = a smaller dense layer
        dense_ms = next(row["median_ms"] for row in measured if row["backend"] == "dense")
        small = nn.Linear(fan_in, max(1, int(round(density * fan_out))))
        (srow,) = measure_speed(nn.Sequential(small), (fan_in,), batch_sizes=(batch,), backends=("dense",),
                                budget_s=budget / 3, threads=1)
        rows.append({**srow, "backend": "structured", "target_density": density,
                     "speedup_vs_dense": dense_ms / srow["median_ms"],
                     "theoretical_flop_ratio": fan_out / small.out_features, "density": small.out_features / fan_out})
    return {"rows": rows, "in_features": fan_in, "out_features": fan_out, "batch": batch}


def timelines(params: dict) -> dict:
    """Density of the weights at every step of each method's recipe, and when its mask is decided.

    Lengths come from each method's ``total_epochs`` (the lab's progress bar); the phases follow
    the methods' ``run``: one-shot magnitude trains ``epochs`` dense, prunes, fine-tunes; GMP
    follows its schedule (as :func:`schedules`) then fine-tunes; IMP trains ``rounds`` rounds,
    pruning after each, then trains the ticket; SNIP fixes its mask before step 0; SET and RigL
    keep the density constant from step 0 and move the mask every ΔT steps until ``T_end``.
    """
    from engine.sparse.methods.dst import RigLSparsifier, SETSparsifier
    from engine.sparse.methods.lottery import IMPSparsifier, round_sparsity
    from engine.sparse.methods.magnitude import GradualMagnitudeSparsifier, MagnitudeSparsifier
    from engine.sparse.methods.pai import SNIPSparsifier

    s = float(params.get("sparsity", 0.9))
    epochs, finetune = int(params.get("epochs", 10)), int(params.get("finetune_epochs", 3))
    per_epoch = int(params.get("steps_per_epoch", 20))
    rounds = int(params.get("imp_rounds", _defaults(IMPSparsifier)["rounds"]))
    out = []

    def row(name, method, decided, family, density, marks=()):
        out.append({"method": name, "decided": decided, "family": family, "density": density,
                    "marks": list(marks), "total_epochs": method.total_epochs(epochs, finetune)})

    m = MagnitudeSparsifier(sparsity=s)
    row("magnitude (one-shot)", m, "after training", "dense-to-sparse (pruning)",
        [1.0] * (epochs * per_epoch) + [1 - s] * (finetune * per_epoch), [epochs * per_epoch])
    g = GradualMagnitudeSparsifier(sparsity=s)
    n = epochs * per_epoch
    g.begin_step = int(g.begin * n)
    g.end_step = max(g.begin_step + 1, int(g.end * n))
    dens, cur, marks = [], g.initial, []
    for t in range(n):
        if t and g.begin_step <= t <= g.end_step and ((t - g.begin_step) % g.every == 0 or t == g.end_step):
            cur = g.target(t)
            marks.append(t)
        dens.append(1 - cur)
    row("GMP (gradual)", g, "during training", "dense-to-sparse (pruning)", dens + [1 - s] * (finetune * per_epoch), marks)
    imp = IMPSparsifier(sparsity=s, rounds=rounds)
    dens = []
    for r in range(rounds + 1):
        dens += [1 - (0.0 if r == 0 else round_sparsity(s, rounds, r))] * n
    row(f"IMP ({rounds} rounds + ticket)", imp, "after each round (rewind)", "dense-to-sparse (pruning)", dens,
        [n * r for r in range(1, rounds + 1)])
    snip = SNIPSparsifier(sparsity=s)
    row("SNIP (at init)", snip, "before training", "sparse training (static mask)",
        [1 - s] * (snip.total_epochs(epochs, finetune) * per_epoch), [0])
    for sp, label in ((SETSparsifier(sparsity=s), "SET"), (RigLSparsifier(sparsity=s), "RigL")):
        total = sp.total_epochs(epochs, finetune) * per_epoch
        sp.end_step = max(1, int(sp.end * total))
        if getattr(sp, "update_when", "steps") == "epoch":   # SET (Mocanu et al.): after every epoch but the last
            updates = [e * per_epoch for e in range(1, total // per_epoch)]
        else:
            updates = [t for t in range(total) if sp.is_update_step(t)]
        row(f"{label} (dynamic)", sp, "throughout (mask moves)", "sparse-to-sparse (dynamic)", [1 - s] * total, updates)
    return {"rows": out, "steps_per_epoch": per_epoch, "epochs": epochs, "finetune_epochs": finetune, "sparsity": s}


def latency(params: dict) -> dict:
    """FLOPs (``count_flops``) and measured latency (``measure_speed``) of an MLP pruned by global magnitude.

    The MLP is ``in → hidden… → out`` (ReLU), weights PyTorch-initialised (seeded), then every
    Linear weight below the global magnitude threshold for ``density`` is set to 0.
    """
    import torch
    from torch import nn

    from engine.sparse.speed import count_flops, measure_speed

    torch.manual_seed(int(params.get("seed", 0)))
    sizes = [int(params.get("in_features", 64)), *[int(h) for h in params.get("hidden", [512, 512])],
             int(params.get("out_features", 10))]
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    density = float(params.get("density", 0.1))
    with torch.no_grad():
        weights = [m.weight for m in model if isinstance(m, nn.Linear)]
        flat = torch.cat([w.abs().reshape(-1) for w in weights])
        k = max(1, int(round(density * flat.numel())))
        threshold = torch.topk(flat, k).values.min()
        for w in weights:
            w.mul_(w.abs() >= threshold)
    batches = tuple(int(b) for b in params.get("batches", [1, 8, 64, 256]))
    rows = measure_speed(model, (sizes[0],), batch_sizes=batches, budget_s=float(params.get("budget_s", 2.0)), threads=1)
    return {"flops": count_flops(model, (sizes[0],)), "rows": rows, "sizes": sizes, "density": density}


PROBES = {"schedules": schedules, "speed": speed, "timelines": timelines, "latency": latency}


_LOCK = threading.Lock()
_MEMO: OrderedDict[str, dict] = OrderedDict()
MEMO_SIZE = 64


def probe(name: str, params: dict, *, timeout: float = 60.0) -> dict:
    """Run probe ``name`` in a child process (torch stays out of the caller) and return its JSON.

    One probe runs at a time per process and results are remembered (the last 64 settings): when a
    class of 30 opens the same lesson at once, the server starts one child process, not 30.
    """
    if name not in PROBES:
        raise SparsityLabError(f"Unknown probe '{name}'.")
    key = name + json.dumps(params, sort_keys=True)
    with _LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
        result = _run(name, params, timeout)
        _MEMO[key] = result
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
        return result


def _run(name: str, params: dict, timeout: float) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        out = subprocess.run([sys.executable, "-m", "engine.learn.probe", name, json.dumps(params)],
                             capture_output=True, text=True, timeout=timeout, env=env,
                             cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    except subprocess.TimeoutExpired:
        raise SparsityLabError(f"Computing '{name}' took longer than {timeout:.0f} s; try smaller settings.") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise SparsityLabError(f"Computing '{name}' failed: {last}")
    return json.loads(out.stdout)


def main(argv: list[str]) -> int:
    name, params = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    try:
        result = PROBES[name](params)
    except SparsityLabError as err:  # ConfigError and friends: a readable message for the page
        print(str(err), file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
