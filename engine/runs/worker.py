"""Runs one stored run to its end, in whatever process calls it (a spawn worker, or the CLI)."""
from __future__ import annotations

import os
import traceback

from engine.errors import SparsityLabError
from engine.runs.reporter import StoreReporter, TeeReporter
from engine.runs.store import RunStore


def execute_run(store: RunStore, run_id: int, extra_reporter=None) -> str:
    """Execute a run already marked running; record its result and final status, which it returns.

    A user-facing error (bad data, NaN loss) ends the run ``failed`` with its message; any other
    exception ends it ``failed`` with the exception and the traceback in the run's log. What the
    run reported before the failure stays in the store.
    """
    from engine import registry

    run = store.get_run(run_id)
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


def worker_main(db_path: str, run_id: int, threads: int) -> None:
    """Entry point of a spawn worker process."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch  # noqa: F401  (only to cap its threads before the experiment imports it)

        torch.set_num_threads(threads)
    except ImportError:
        pass
    store = RunStore(db_path)
    store.set_pid(run_id, os.getpid())
    execute_run(store, run_id)
