"""What a waiting run needs to know: its place in the queue, what is ahead, and how long things take.

Estimates come from the store itself: the durations of past finished runs of the same kind and
size (the engine's own figures on this machine), and the projected durations of runs going now
(elapsed time × total steps / steps done), in three tiers, each said in ``basis``:

1. ``same settings``: runs with the same config except the seed (median duration);
2. ``same size``: runs with the same config except seed and epochs, scaled by epochs;
3. ``kind``: any run of the kind, median seconds per epoch times this run's epochs (rough).

With no past run of the kind there is no estimate (None), never a made-up one. A running run's
remaining time is its elapsed time scaled by its progress (``step / total``) when it has some.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from engine.runs.store import Run, RunStore

_IGNORED = ("seed",)  # settings that do not change a run's duration


@dataclass(frozen=True)
class Estimate:
    seconds: float
    basis: str  # how it was made, for the UI ("median of 3 past runs with these settings")


@dataclass(frozen=True)
class QueueInfo:
    position: int  # 1 = next to start
    queued: int  # runs waiting in all
    ahead: list[Run]  # runs that start or end before this one: running ones, then queued ones
    start_in: float | None  # seconds until it should start (None: unknown)
    duration: Estimate | None


def _key(config: dict, drop: tuple[str, ...]) -> str:
    import json

    return json.dumps({k: v for k, v in config.items() if k not in drop}, sort_keys=True)


def _epochs(config: dict) -> float | None:
    for name in ("epochs", "iterations", "steps"):
        v = config.get(name)
        if isinstance(v, (int, float)) and v > 0:
            return float(v)
    return None


def estimate_duration(store: RunStore, kind: str, config: dict, *, history: list[Run] | None = None) -> Estimate | None:
    """Seconds a run of ``kind`` with ``config`` should take here, from past finished runs (see module doc).

    >>> import tempfile, os
    >>> s = RunStore(os.path.join(tempfile.mkdtemp(), "t.db"))
    >>> for secs, epochs in ((10.0, 5), (12.0, 5), (40.0, 20)):
    ...     rid = s.create_run("toy", {"epochs": epochs, "seed": 0}); _ = s.mark_running(rid, 1)
    ...     s.finish(rid, "finished")
    ...     with s._tx() as con: _ = con.execute("UPDATE runs SET started_at=0, finished_at=? WHERE id=?", (secs, rid))
    >>> estimate_duration(s, "toy", {"epochs": 5, "seed": 3})
    Estimate(seconds=11.0, basis='median of 2 past runs with these settings')
    >>> estimate_duration(s, "toy", {"epochs": 10, "seed": 0, "width": 4}).basis
    'rough: median time per epoch of 3 past runs of kind toy'
    >>> estimate_duration(s, "other", {}) is None
    True
    """
    past = history if history is not None else store.list_runs(kind, status=["finished", "running"])
    timed = [(r, _projected(r)) for r in past if r.kind == kind]
    past = [r for r, secs in timed if secs is not None]
    secs_of = {r.id: secs for r, secs in timed}
    if not past:
        return None
    def runs(chosen: list[Run]) -> str:
        going = sum(r.status == "running" for r in chosen)
        n = len(chosen)
        return f"{n} past run{'s' * (n > 1)}" + (f", {going} of them still going (projected)" if going else "")

    same = [r for r in past if _key(r.config, _IGNORED) == _key(config, _IGNORED)]
    if same:
        return Estimate(float(statistics.median(secs_of[r.id] for r in same)),
                        f"median of {runs(same)} with these settings")
    epochs = _epochs(config)
    if epochs is None:
        return None
    drop = _IGNORED + ("epochs", "iterations", "steps")
    sized = [r for r in past if _epochs(r.config) and _key(r.config, drop) == _key(config, drop)]
    if sized:
        rate = statistics.median(secs_of[r.id] / _epochs(r.config) for r in sized)
        return Estimate(float(rate) * epochs, f"{runs(sized)} of this size, scaled to {epochs:g} epochs")
    rated = [r for r in past if _epochs(r.config)]
    if rated:
        rate = statistics.median(secs_of[r.id] / _epochs(r.config) for r in rated)
        return Estimate(float(rate) * epochs, f"rough: median time per epoch of {runs(rated)} of kind {kind}")
    return None


def _projected(run: Run) -> float | None:
    """A finished run's duration, or a running run's projected one (from its progress), else None."""
    if run.status == "finished":
        return run.seconds
    if run.status == "running" and run.total and run.step > 0 and run.seconds:
        return run.seconds * run.total / run.step
    return None


def remaining(run: Run, estimate: Estimate | None, now: float | None = None) -> float | None:
    """Seconds a running run still needs: from its progress if it has some, else from its estimate."""
    now = time.time() if now is None else now
    elapsed = max(0.0, now - run.started_at) if run.started_at else 0.0
    if run.total and run.step > 0 and elapsed > 0:
        return elapsed * (run.total - run.step) / run.step
    if estimate is not None:
        return max(0.0, estimate.seconds - elapsed)
    return None


def queue_info(store: RunStore, run_id: int, workers: int = 1) -> QueueInfo | None:
    """Where a queued run stands (None if it is not queued): position, what is ahead, when it should start.

    The start time simulates ``workers`` slots: each running run frees its slot when its remaining
    time is up, then the queued runs ahead take the first free slot, oldest first.
    """
    run = store.find_run(run_id)
    if run is None or run.status != "queued":
        return None
    active = store.list_runs(status=["queued", "running"])
    running = sorted((r for r in active if r.status == "running"), key=lambda r: r.id)
    queued = sorted((r for r in active if r.status == "queued"), key=lambda r: r.id)
    before = [r for r in queued if r.id < run_id]
    history: dict[str, list[Run]] = {}

    def est(r: Run) -> Estimate | None:
        if r.kind not in history:
            history[r.kind] = store.list_runs(r.kind, status=["finished", "running"])
        return estimate_duration(store, r.kind, r.config, history=history[r.kind])

    now = time.time()
    slots = [0.0] * max(1, workers)
    known = True
    for r in running:
        left = remaining(r, est(r), now)
        known &= left is not None
        i = slots.index(min(slots))
        slots[i] += left or 0.0
    for r in before:
        e = est(r)
        known &= e is not None
        i = slots.index(min(slots))
        slots[i] += e.seconds if e else 0.0
    return QueueInfo(position=len(before) + 1, queued=len(queued), ahead=running + before,
                     start_in=min(slots) if known else None, duration=est(run))
