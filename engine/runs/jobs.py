"""The job runner: each run in its own ``spawn`` worker process, a bounded number at a time.

Processes (not threads) give a hard cancel, crash isolation and no GIL fight with the UI. The
runner only talks to workers through the run store, so a page reload re-attaches to a running
job, and runs started by the CLI show up in the app.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import threading
import time
import types
from dataclasses import dataclass
from typing import Any

from engine import registry
from engine.config import Config
from engine.runs.store import RunStore
from engine.runs.worker import worker_main

HARD_CANCEL_AFTER = 2.0  # seconds a worker gets to stop by itself before it is terminated
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


@dataclass
class _Job:
    process: Any
    cancel_at: float | None = None


class JobRunner:
    """Starts queued runs in worker processes and watches them.

    ``max_workers`` defaults to ``cpu_count - 1`` (at least 1). A background thread polls every
    ``poll_interval`` seconds: it starts queued runs, terminates runs whose cancel was ignored,
    and marks runs whose worker died as ``failed`` with a readable error.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        max_workers: int | None = None,
        poll_interval: float = 0.2,
        background: bool = True,
    ) -> None:
        self.store = RunStore(db_path)
        self.max_workers = max_workers or max(1, (os.cpu_count() or 2) - 1)
        self.threads_per_worker = max(1, (os.cpu_count() or 2) - 1)
        self.poll_interval = poll_interval
        self._ctx = mp.get_context("spawn")
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.recover_orphans()
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._loop, name="sparsity-lab-jobs", daemon=True)
            self._thread.start()

    # -- public --------------------------------------------------------------------------
    def submit(
        self, kind: str, config: Config | dict[str, Any], *, name: str | None = None, group: str | None = None
    ) -> int:
        """Validate the config (ConfigError before anything starts), queue the run, return its id."""
        if not isinstance(config, Config):
            config = registry.make_config(kind, config)
        else:
            registry.get(kind)  # unknown kind -> ConfigError
        data = config.to_dict()
        run_id = self.store.create_run(kind, data, seed=data.get("seed"), name=name, group=group)
        self.poll()
        return run_id

    def cancel(self, run_id: int) -> None:
        """Ask the run to stop (it checks every step); terminate it if it has not within 2 s."""
        self.store.request_cancel(run_id)
        with self._lock:
            job = self._jobs.get(run_id)
            if job is not None and job.cancel_at is None:
                job.cancel_at = time.monotonic()
        self.poll()

    def running(self) -> list[int]:
        with self._lock:
            return [rid for rid, job in self._jobs.items() if job.process.is_alive()]

    def wait(self, run_id: int, timeout: float = 60.0) -> str:
        """Block until the run ends; returns its status (for the CLI and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll()
            status = self.store.get_run(run_id).status
            if status not in ("queued", "running"):
                return status
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} still {status} after {timeout} s")

    def shutdown(self, *, kill: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
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
            self._start_queued()

    def recover_orphans(self) -> list[int]:
        """Mark runs left ``running`` by a process that no longer exists as failed."""
        failed = []
        with self._lock:
            mine = set(self._jobs)
        for run in self.store.list_runs(status=["running"]):
            if run.id not in mine and not pid_alive(run.pid):
                self.store.finish(
                    run.id, "failed",
                    error=f"The worker process (pid {run.pid}) is gone: it crashed, was killed, "
                    "or the app was stopped while the run was going.",
                )
                failed.append(run.id)
        return failed

    def _reap(self) -> None:
        for run_id, job in list(self._jobs.items()):
            if job.process.is_alive():
                continue
            job.process.join(timeout=0)
            code = job.process.exitcode
            run = self.store.get_run(run_id)
            if run.status in ("queued", "running"):
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
            if job.cancel_at is None and self.store.cancel_requested(run_id):
                job.cancel_at = now  # cancelled from another process (CLI, another app session)
            if job.cancel_at is not None and now - job.cancel_at > HARD_CANCEL_AFTER and job.process.is_alive():
                job.process.terminate()

    def _start_queued(self) -> None:
        free = self.max_workers - sum(job.process.is_alive() for job in self._jobs.values())
        if free <= 0:
            return
        for run in reversed(self.store.list_runs(status=["queued"])):  # oldest first
            if free <= 0:
                break
            if not self.store.mark_running(run.id, os.getpid()):
                continue  # taken by another runner or cancelled meanwhile
            proc = self._ctx.Process(
                target=worker_main, args=(str(self.store.path), run.id, self.threads_per_worker),
                name=f"sparsity-lab-run-{run.id}", daemon=True,
            )
            with bare_main():
                proc.start()
            self.store.set_pid(run.id, proc.pid)
            self._jobs[run.id] = _Job(proc)
            free -= 1
