"""The job runner: each run in its own worker process, a bounded number at a time, from a warm pool.

Processes (not threads) give a hard cancel, crash isolation and no GIL fight with the UI. The
runner only talks to workers through the run store, so a page reload re-attaches to a running
job, and runs started by the CLI show up in the app.

**Warm pool.** A fresh ``spawn`` worker spends seconds importing torch and the engine before its
run can report anything. So the runner keeps ``warm`` workers started ahead of need (with the app
server): each has already imported torch and the experiment modules (``PRELOAD``) and waits on a
pipe for a run id. A warm worker takes ONE run and exits with it, and a fresh warm worker is
started in its place at once (also when an idle one dies), so runs stay isolated from each other
exactly as with a cold spawn. ``SPARSITY_LAB_WARM_POOL=0`` (or ``warm=0``) turns the pool off:
each run then spawns its own cold worker, as before.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import threading
import time
import types
from dataclasses import dataclass, field
from typing import Any

from engine import registry
from engine.config import Config
from engine.errors import StoreError
from engine.runs import threads as thread_policy
from engine.runs.store import RunStore
from engine.runs.worker import warm_worker_main, worker_main

HARD_CANCEL_AFTER = 2.0  # seconds a worker gets to stop by itself before it is terminated
#: What a warm worker prepares before it waits for its run (the heavy part of a cold start): modules
#: to import, and ``module:function`` rehearsals of first-use costs (see engine/runs/warmup.py).
PRELOAD = ("torch", "engine.sparse.experiments", "engine.sparse.train", "engine.anomaly.experiments",
           "engine.graphs.experiments", "sklearn.datasets", "engine.runs.warmup:torch_basics",
           "engine.runs.warmup:sparse_default")
_MAIN_SWAP = threading.Lock()


@contextlib.contextmanager
def bare_main():
    """Let a ``spawn`` child start with an empty ``__main__``.

    ``spawn`` re-runs the parent's ``__main__`` file in the child. Under Streamlit that file is the
    app script (Streamlit installs it as ``__main__``): the worker would build the app's own job
    runner and take queued runs. The worker's entry point is importable by name, so it needs none.
    """
    with _MAIN_SWAP:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def pid_alive(pid: int | None) -> bool:
    """True if a process with this pid exists and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): trust kill(0)


def mark_dead_owners(store: RunStore, exclude: set[int] | frozenset[int] = frozenset()) -> list[int]:
    """Mark runs left ``running`` by a process that no longer exists as failed; returns their ids.

    Any reader can call it (the app's runner on every poll, ``python -m engine runs``): a run whose
    worker or CLI process was killed (even with ``kill -9``) is reported dead wherever one looks.
    """
    failed = []
    for run in store.list_runs(status=["running"]):
        if run.id not in exclude and not pid_alive(run.pid):
            store.finish(
                run.id, "failed",
                error=f"The worker process (pid {run.pid}) is gone: it crashed, was killed, "
                "or the app was stopped while the run was going.",
            )
            failed.append(run.id)
    return failed


@dataclass
class _Job:
    process: Any
    cancel_at: float | None = None
    warm: bool = False  # taken by a warm worker (reports within ~0.05 s), not a cold spawn


@dataclass
class _Warm:
    """An idle warm worker: its process and the parent's end of its pipe."""

    process: Any
    conn: Any
    born: float = field(default_factory=time.monotonic)
    ready: bool = False

    def poll_ready(self) -> bool:
        try:
            while not self.ready and self.conn.poll():
                self.ready = self.conn.recv() == "ready"
        except (EOFError, OSError):
            pass
        return self.ready


def _pool_size(warm: int | None, workers: int) -> int:
    if warm is None:
        env = os.environ.get("SPARSITY_LAB_WARM_POOL", "").strip()
        warm = int(env) if env.isdigit() else workers
    return max(0, min(int(warm), workers))


class JobRunner:
    """Starts queued runs in worker processes and watches them.

    ``max_workers`` defaults to ``cores - 1`` (at least 1, at most the cores; see
    :mod:`engine.runs.threads`, which also gives each run its thread count so that
    ``workers × threads ≤ cores``). ``warm`` is the number of pre-warmed idle workers (default:
    ``max_workers``; ``SPARSITY_LAB_WARM_POOL`` overrides, 0 turns the pool off), started
    ``warm_delay`` seconds after the runner unless a run is queued first. A background
    thread polls every ``poll_interval`` seconds: it keeps the pool full, starts queued runs,
    terminates runs whose cancel was ignored, and marks runs whose worker died as ``failed`` with
    a readable error. A run whose row vanishes (deleted) is dropped and its worker stopped; the
    runner goes on with the others.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        max_workers: int | None = None,
        poll_interval: float = 0.2,
        background: bool = True,
        warm: int | None = None,
        preload: tuple[str, ...] = PRELOAD,
        warm_delay: float = 0.0,
    ) -> None:
        self.store = RunStore(db_path)
        self.max_workers = thread_policy.max_workers(max_workers)
        self.warm = _pool_size(warm, self.max_workers)
        self.preload = tuple(preload)
        self._warm_at = time.monotonic() + warm_delay  # let the app paint its first page before warming
        self.poll_interval = poll_interval
        self._ctx = mp.get_context("spawn")
        self._jobs: dict[int, _Job] = {}
        self._pool: list[_Warm] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.recover_orphans()
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._loop, name="sparsity-lab-jobs", daemon=True)
            self._thread.start()

    # -- public --------------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        config: Config | dict[str, Any],
        *,
        name: str | None = None,
        group: str | None = None,
        owner: str | None = None,
    ) -> int:
        """Validate the config (ConfigError before anything starts), queue the run, return its id.

        With an ``owner`` (the browser session), an identical run of that owner still queued or
        running is returned instead of queueing a second one (see :meth:`submit_once`).
        """
        return self.submit_once(kind, config, name=name, group=group, owner=owner)[0]

    def submit_once(
        self,
        kind: str,
        config: Config | dict[str, Any],
        *,
        name: str | None = None,
        group: str | None = None,
        owner: str | None = None,
    ) -> tuple[int, bool]:
        """Like :meth:`submit`; also says whether a new run was queued (False: an identical one was)."""
        if not isinstance(config, Config):
            config = registry.make_config(kind, config)
        else:
            registry.check_kind(kind)  # unknown kind -> ConfigError, without importing the experiment
        data = config.to_dict()
        run_id, created = self.store.create_run_once(kind, data, seed=data.get("seed"), name=name, group=group,
                                                     owner=owner)
        self.poll()
        return run_id, created

    def await_first_report(self, run_id: int, timeout: float = 0.5) -> bool:
        """Wait up to ``timeout`` s for a running run's first metric or snapshot; True once it has one.

        A warm worker reports within ~0.05 s of the submit (``bench/click_to_picture.py``), so the page
        that started the run can draw its first picture in the same rerun instead of one poll later.
        A queued run (no free worker) and a cold spawn (seconds of imports first) return at once.
        """
        with self._lock:
            job = self._jobs.get(run_id)
        if job is None or not job.warm:
            return False
        deadline = time.monotonic() + timeout
        while True:
            if self.store.has_reports(run_id):  # (a short run may already have finished)
                return True
            run = self.store.find_run(run_id)
            if run is None or run.status != "running" or time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def cancel(self, run_id: int) -> None:
        """Ask the run to stop (it checks every step); terminate it if it has not within 2 s."""
        self.store.request_cancel(run_id)
        with self._lock:
            job = self._jobs.get(run_id)
            if job is not None and job.cancel_at is None:
                job.cancel_at = time.monotonic()
        self.poll()

    def delete(self, run_id: int, timeout: float = HARD_CANCEL_AFTER + 3.0) -> None:
        """Delete a run; a queued or running one is cancelled first (and terminated if it must be).

        Raises StoreError if the run is still active after ``timeout`` seconds (then nothing is deleted).
        """
        run = self.store.find_run(run_id)
        if run is None:
            return
        if run.active:
            self.cancel(run_id)
            deadline = time.monotonic() + timeout
            while (run := self.store.find_run(run_id)) is not None and run.active:
                if time.monotonic() > deadline:
                    raise StoreError(f"Run #{run_id} did not stop within {timeout:.0f} s; it was not deleted.")
                self.poll()
                mark_dead_owners(self.store, exclude=set(self.running()))  # e.g. a dead CLI run
                time.sleep(0.05)
            if run is None:
                return
        self.store.delete_run(run_id)

    def running(self) -> list[int]:
        with self._lock:
            return [rid for rid, job in self._jobs.items() if job.process.is_alive()]

    def pool(self) -> dict[str, int]:
        """How many warm workers are idle and how many of them have finished importing."""
        with self._lock:
            alive = [w for w in self._pool if w.process.is_alive()]
            return {"idle": len(alive), "ready": sum(w.poll_ready() for w in alive), "size": self.warm}

    def wait(self, run_id: int, timeout: float = 60.0) -> str:
        """Block until the run ends; returns its status (for the CLI and tests)."""
        deadline = time.monotonic() + timeout
        status = "queued"
        while time.monotonic() < deadline:
            self.poll()
            status = self.store.get_run(run_id).status
            if status not in ("queued", "running"):
                return status
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} still {status} after {timeout} s")

    def wait_warm(self, timeout: float = 60.0) -> bool:
        """Block until the pool is full and every warm worker has imported its modules (tests, bench)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                self._fill_pool()
            p = self.pool()
            if p["ready"] >= p["size"]:
                return True
            time.sleep(0.05)
        return False

    def shutdown(self, *, kill: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            for w in self._pool:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)  # "no run for you": the idle worker exits
            for w in self._pool:
                w.process.join(timeout=1)
                if w.process.is_alive():
                    w.process.terminate()
                    w.process.join(timeout=1)
            self._pool.clear()
            for job in self._jobs.values():
                if kill and job.process.is_alive():
                    job.process.terminate()
                job.process.join(timeout=2)
        self.poll()

    # -- polling -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - the loop must survive a locked store
                pass

    def poll(self) -> None:
        with self._lock:
            self._reap()
            self._enforce_cancels()
            if not self._stop.is_set():
                self._start_queued()

    def recover_orphans(self) -> list[int]:
        """Mark runs left ``running`` by a process that no longer exists as failed."""
        with self._lock:
            mine = set(self._jobs)
        return mark_dead_owners(self.store, exclude=mine)

    def _reap(self) -> None:
        for run_id, job in list(self._jobs.items()):
            if job.process.is_alive():
                continue
            job.process.join(timeout=0)
            code = job.process.exitcode
            run = self.store.find_run(run_id)  # None: deleted meanwhile; nothing to record
            if run is not None and run.status in ("queued", "running"):
                if job.cancel_at is not None:
                    self.store.finish(run_id, "cancelled", error="cancelled by the user (worker terminated)")
                else:
                    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    self.store.finish(
                        run_id, "failed",
                        error=f"The worker process ended unexpectedly ({how}); what it reported is kept.",
                    )
            del self._jobs[run_id]
        self.recover_orphans()

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        for run_id, job in self._jobs.items():
            if not job.process.is_alive():
                continue
            if job.cancel_at is None:
                run = self.store.find_run(run_id)
                if run is None:  # its row was deleted: nobody can see the run any more, stop it now
                    job.process.terminate()
                    job.cancel_at = now
                    continue
                if run.cancel_requested:
                    job.cancel_at = now  # cancelled from another process (CLI, another app session)
            if job.cancel_at is not None and now - job.cancel_at > HARD_CANCEL_AFTER:
                job.process.terminate()

    # -- the warm pool -------------------------------------------------------------------
    def _spawn(self, target, args, name: str):
        proc = self._ctx.Process(target=target, args=args, name=name, daemon=True)
        with bare_main():
            proc.start()
        return proc

    def _fill_pool(self) -> None:
        for w in [w for w in self._pool if not w.process.is_alive()]:  # crashed while idle: replace it
            w.process.join(timeout=0)
            self._pool.remove(w)
        while len(self._pool) < self.warm:
            parent, child = self._ctx.Pipe(duplex=True)
            proc = self._spawn(warm_worker_main, (child, str(self.store.path), self.max_workers, self.preload),
                               "sparsity-lab-warm")
            child.close()
            self._pool.append(_Warm(proc, parent))

    def _take_warm(self) -> _Warm | None:
        """An idle warm worker (a ready one first), removed from the pool; None if the pool is off or empty."""
        alive = [w for w in self._pool if w.process.is_alive()]
        if not alive:
            return None
        alive.sort(key=lambda w: (not w.poll_ready(), w.born))
        w = alive[0]
        self._pool.remove(w)
        return w

    def _start_queued(self) -> None:
        queued = self.store.list_runs(status=["queued"])
        if self.warm and (queued or time.monotonic() >= self._warm_at):
            self._fill_pool()
        free = self.max_workers - sum(job.process.is_alive() for job in self._jobs.values())
        if free <= 0:
            return
        for run in reversed(queued):  # oldest first
            if free <= 0:
                break
            if not self.store.mark_running(run.id, os.getpid()):
                continue  # taken by another runner or cancelled meanwhile
            proc = None
            while proc is None and (w := self._take_warm()) is not None:
                try:
                    w.conn.send(run.id)
                    proc = w.process
                except (OSError, ValueError):  # it died just now: try the next one
                    w.process.terminate()
                w.conn.close()
            warm = proc is not None
            if proc is None:  # no warm worker: a cold spawn, as without the pool
                proc = self._spawn(worker_main, (str(self.store.path), run.id, self.max_workers),
                                   f"sparsity-lab-run-{run.id}")
            self.store.set_pid(run.id, proc.pid)
            self._jobs[run.id] = _Job(proc, warm=warm)
            free -= 1
            if self.warm:
                self._fill_pool()  # a fresh warm worker in place of the one just taken
