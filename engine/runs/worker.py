"""Runs one stored run to its end, in whatever process calls it (a spawn worker, or the CLI)."""
from __future__ import annotations

import importlib
import os
import traceback

from engine.errors import SparsityLabError
from engine.runs import threads as thread_policy
from engine.runs.reporter import StoreReporter, TeeReporter
from engine.runs.store import RunStore


def execute_run(store: RunStore, run_id: int, extra_reporter=None, *, workers: int = 1) -> str:
    """Execute a run already marked running; record its result and final status, which it returns.

    Torch gets the thread count :func:`engine.runs.threads.threads_for` gives this run's kind when
    ``workers`` runs share the machine. A user-facing error (bad data, NaN loss) ends the run
    ``failed`` with its message; any other exception ends it ``failed`` with the exception and the
    traceback in the run's log. What the run reported before the failure stays in the store.
    """
    from engine import registry

    run = store.get_run(run_id)
    thread_policy.apply(thread_policy.threads_for(run.kind, workers))
    reporter = StoreReporter(store, run_id)
    rep = TeeReporter(reporter, extra_reporter) if extra_reporter is not None else reporter
    try:
        config_cls, fn = registry.get(run.kind)
        config = config_cls.from_dict(run.config)
        result = fn(config, rep)
        reporter.flush()
        status = "cancelled" if rep.stop_requested else "finished"
        store.finish(run_id, status, result=result, error="cancelled by the user" if status == "cancelled" else None)
        return status
    except SparsityLabError as err:
        _safe_flush(reporter)
        store.finish(run_id, "failed", error=str(err))
        return "failed"
    except BaseException as err:  # a crash in the experiment: keep its story
        _safe_flush(reporter)
        reporter.log(traceback.format_exc())
        _safe_flush(reporter)
        store.finish(run_id, "failed", error=f"{type(err).__name__}: {err}")
        if isinstance(err, KeyboardInterrupt):
            raise
        return "failed"


def _safe_flush(reporter: StoreReporter) -> None:
    try:
        reporter.flush()
    except SparsityLabError:
        pass


def _run_in_this_process(db_path: str, run_id: int, workers: int) -> None:
    store = RunStore(db_path)
    store.set_pid(run_id, os.getpid())
    execute_run(store, run_id, workers=workers)


def worker_main(db_path: str, run_id: int, workers: int) -> None:
    """Entry point of a cold spawn worker process (the warm pool turned off)."""
    thread_policy.set_env(thread_policy.threads_for("default", workers))  # before torch loads
    _run_in_this_process(db_path, run_id, workers)


def warm_worker_main(conn, db_path: str, workers: int, preload: tuple[str, ...]) -> None:
    """Entry point of a warm worker: import and rehearse (``preload``), say "ready", then run ONE run and exit.

    The parent sends a run id on ``conn`` (or None: exit without running anything). Whatever a
    preload fails to import is left for the run itself to report.
    """
    thread_policy.set_env(thread_policy.threads_for("default", workers))  # before torch loads
    for name in preload:
        module, _, function = name.partition(":")
        try:
            mod = importlib.import_module(module)
            if function:
                getattr(mod, function)()
        except Exception:  # noqa: BLE001 - a missing optional area must not kill the worker
            pass
    thread_policy.apply(thread_policy.threads_for("default", workers))
    try:
        conn.send("ready")
    except OSError:  # the runner already sent the run and closed its end: the run is in the pipe
        pass
    try:
        run_id = conn.recv()
    except (EOFError, OSError):  # the runner went away
        return
    conn.close()
    if run_id is None:
        return
    _run_in_this_process(db_path, int(run_id), workers)
