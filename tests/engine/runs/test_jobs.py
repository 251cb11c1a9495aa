import os
import signal
import time

import pytest

from engine.errors import ConfigError
from engine.runs.jobs import JobRunner, pid_alive
from engine.runs.store import RunStore


@pytest.fixture
def runner(tmp_db):
    """A one-slot runner with its warm pool (workers preload nothing heavy: toy runs need no torch)."""
    r = JobRunner(tmp_db, max_workers=1, poll_interval=0.05, preload=())
    yield r
    r.shutdown()


def _wait_status(store, rid, statuses, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = store.get_run(rid)
        if run.status in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {rid} stayed {store.get_run(rid).status}")


def _wait_metrics(store, rid, n, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(store.metrics(rid)) >= n:
            return
        time.sleep(0.05)
    raise AssertionError("no metrics arrived")


def test_a_run_executes_in_a_worker_process(runner):
    rid = runner.submit("toy", {"steps": 5})
    assert runner.wait(rid, 60) == "finished"
    run = runner.store.get_run(rid)
    assert run.result["steps_done"] == 5 and run.pid != os.getpid()
    assert runner.store.metrics(rid)["name"].unique().tolist() == ["loss"]
    assert runner.store.artifact(rid, "final.txt")[0].startswith(b"loss=")


def test_invalid_config_is_refused_before_anything_starts(runner):
    with pytest.raises(ConfigError, match="steps must be at least 1"):
        runner.submit("toy", {"steps": 0})
    with pytest.raises(ConfigError, match="Unknown experiment"):
        runner.submit("no-such-kind", {})
    with pytest.raises(ConfigError, match="Unknown setting"):
        runner.submit("toy", {"stepz": 3})
    assert runner.store.list_runs() == []


def test_cancel_stops_within_a_second_and_keeps_what_was_reported(runner):
    rid = runner.submit("toy", {"steps": 10_000, "step_seconds": 0.01})
    _wait_status(runner.store, rid, {"running"})
    _wait_metrics(runner.store, rid, 5)
    t0 = time.monotonic()
    runner.cancel(rid)
    run = _wait_status(runner.store, rid, {"cancelled", "finished", "failed"})
    assert run.status == "cancelled"
    assert time.monotonic() - t0 < 1.0
    assert len(runner.store.metrics(rid)) >= 5


def test_a_killed_worker_leaves_its_run_failed_with_a_readable_error(runner):
    rid = runner.submit("toy", {"steps": 10_000, "step_seconds": 0.01})
    _wait_metrics(runner.store, rid, 3)
    pid = runner.store.get_run(rid).pid
    os.kill(pid, signal.SIGKILL)
    run = _wait_status(runner.store, rid, {"failed", "cancelled", "finished"})
    assert run.status == "failed" and "killed by signal 9" in run.error
    assert len(runner.store.metrics(rid)) >= 3


def test_a_crashing_experiment_fails_with_its_error_and_keeps_history(runner):
    rid = runner.submit("toy", {"steps": 20, "crash_at": 5})
    assert runner.wait(rid, 60) == "failed"
    run = runner.store.get_run(rid)
    assert "toy crash at step 5" in run.error
    assert len(runner.store.metrics(rid)) == 5
    assert any("Traceback" in line for line in runner.store.logs(rid))


def test_a_diverging_run_stops_with_a_clear_status(runner):
    rid = runner.submit("toy", {"steps": 20, "nan_at": 4})
    assert runner.wait(rid, 60) == "failed"
    assert "NaN" in runner.store.get_run(rid).error
    assert len(runner.store.metrics(rid)) == 5  # the history up to and including the NaN


def test_runs_queue_beyond_max_workers(runner):
    ids = [runner.submit("toy", {"steps": 40, "step_seconds": 0.01}) for _ in range(3)]
    time.sleep(0.3)
    statuses = [runner.store.get_run(i).status for i in ids]
    assert statuses.count("running") <= 1 and "queued" in statuses
    for i in ids:
        assert runner.wait(i, 90) == "finished", runner.store.get_run(i).error



def test_workers_do_not_rerun_the_app_script_that_streamlit_installs_as_main(runner, tmp_path, monkeypatch):
    """Streamlit makes the app script ``__main__``; a spawn child must not execute it again."""
    import sys
    import types

    marker = tmp_path / "script-ran-in-a-worker"
    script = tmp_path / "app_script.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    ids = [runner.submit("toy", {"steps": 5}) for _ in range(2)]
    assert [runner.wait(i, 60) for i in ids] == ["finished", "finished"]
    assert not marker.exists()
    assert sys.modules["__main__"] is fake_main  # restored after each start

def test_orphaned_running_runs_are_marked_failed_on_start(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    store.mark_running(rid, pid=2**22 + 12345)  # no such process
    assert not pid_alive(2**22 + 12345)
    runner = JobRunner(tmp_db, background=False)
    run = store.get_run(rid)
    assert run.status == "failed" and "is gone" in run.error
    runner.shutdown()


def test_cancelling_a_queued_run_cancels_it_at_once(tmp_db):
    runner = JobRunner(tmp_db, max_workers=1, background=False)
    store = runner.store
    a = runner.submit("toy", {"steps": 400, "step_seconds": 0.01})
    b = runner.submit("toy", {"steps": 5})
    runner.cancel(b)
    assert store.get_run(b).status == "cancelled"
    runner.cancel(a)
    runner.wait(a, 30)
    runner.shutdown()



# -- the warm pool (#10 item 3) ------------------------------------------------------------
def _pool_pids(runner):
    with runner._lock:
        return [w.process.pid for w in runner._pool if w.process.is_alive()]


def test_a_run_goes_to_a_worker_started_before_it_and_warmed_with_torch(tmp_db):
    runner = JobRunner(tmp_db, max_workers=1, poll_interval=0.05, preload=("torch",))
    try:
        assert runner.wait_warm(120)
        (warm_pid,) = _pool_pids(runner)
        with open(f"/proc/{warm_pid}/maps") as fh:  # torch's shared library is loaded before any run
            assert "libtorch" in fh.read()
        rid = runner.submit("toy", {"steps": 5})
        assert runner.wait(rid, 60) == "finished"
        assert runner.store.get_run(rid).pid == warm_pid
    finally:
        runner.shutdown()


def test_each_worker_takes_one_run_then_is_replaced_by_a_fresh_one(runner):
    assert runner.wait_warm(60)
    first = _pool_pids(runner)
    a = runner.submit("toy", {"steps": 3})
    assert runner.wait(a, 60) == "finished"
    b = runner.submit("toy", {"steps": 4})
    assert runner.wait(b, 60) == "finished"
    pa, pb = runner.store.get_run(a).pid, runner.store.get_run(b).pid
    assert pa == first[0] and pb != pa  # a second run never reuses the first run's process
    deadline = time.monotonic() + 10
    while pid_alive(pa) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pa)  # the worker exited with its run
    assert runner.wait_warm(60) and set(_pool_pids(runner)).isdisjoint({pa, pb})


def test_an_idle_warm_worker_that_dies_is_replaced(runner):
    assert runner.wait_warm(60)
    (dead,) = _pool_pids(runner)
    os.kill(dead, signal.SIGKILL)
    time.sleep(0.3)
    assert runner.wait_warm(60)
    (fresh,) = _pool_pids(runner)
    assert fresh != dead
    rid = runner.submit("toy", {"steps": 3})
    assert runner.wait(rid, 60) == "finished"


def test_without_the_pool_each_run_spawns_its_own_worker(tmp_db, monkeypatch):
    monkeypatch.setenv("SPARSITY_LAB_WARM_POOL", "0")
    runner = JobRunner(tmp_db, max_workers=1, poll_interval=0.05)
    try:
        assert runner.warm == 0
        rid = runner.submit("toy", {"steps": 3})
        assert runner.wait(rid, 60) == "finished"
        assert _pool_pids(runner) == [] and runner.store.get_run(rid).pid != os.getpid()
    finally:
        runner.shutdown()


def test_a_cancel_that_is_ignored_terminates_the_warm_worker_after_two_seconds(runner, monkeypatch):
    rid = runner.submit("toy", {"steps": 3000, "step_seconds": 0.01})
    _wait_status(runner.store, rid, {"running"})
    _wait_metrics(runner.store, rid, 2)
    # the worker will never see the flag: make the store report no cancel to the worker's reporter,
    # by asking for the cancel only in the runner's own bookkeeping
    with runner._lock:
        runner._jobs[rid].cancel_at = time.monotonic()
    run = _wait_status(runner.store, rid, {"cancelled", "failed", "finished"}, timeout=10)
    assert run.status == "cancelled" and "terminated" in run.error


# -- deleting, vanished rows (#18 item 1) --------------------------------------------------
def test_deleting_a_running_run_cancels_it_first_and_later_runs_still_start(runner):
    rid = runner.submit("toy", {"steps": 10_000, "step_seconds": 0.01})
    _wait_metrics(runner.store, rid, 3)
    pid = runner.store.get_run(rid).pid
    runner.delete(rid)
    assert runner.store.find_run(rid) is None and runner.store.metrics(rid).empty
    assert not pid_alive(pid) or _gone_soon(pid)
    nxt = runner.submit("toy", {"steps": 3})
    assert runner.wait(nxt, 60) == "finished"


def _gone_soon(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not pid_alive(pid)


def test_the_store_refuses_to_delete_a_running_run(runner):
    from engine.errors import StoreError

    rid = runner.submit("toy", {"steps": 10_000, "step_seconds": 0.01})
    _wait_status(runner.store, rid, {"running"})
    with pytest.raises(StoreError, match="still running: cancel it first"):
        runner.store.delete_run(rid)
    runner.cancel(rid)
    runner.wait(rid, 30)


def test_the_runner_survives_a_running_runs_row_vanishing(runner):
    """The row of a running run is removed behind the runner's back (another process, an old app)."""
    rid = runner.submit("toy", {"steps": 10_000, "step_seconds": 0.01})
    _wait_metrics(runner.store, rid, 3)
    pid = runner.store.get_run(rid).pid
    with runner.store._tx() as con:
        for table in ("metrics", "snapshots", "logs", "artifacts", "runs"):
            con.execute(f"DELETE FROM {table} WHERE {'id' if table == 'runs' else 'run_id'}=?", (rid,))
    nxt = runner.submit("toy", {"steps": 3})
    assert runner.wait(nxt, 30) == "finished", runner.store.get_run(nxt)
    assert _gone_soon(pid)


# -- idempotent start (#10 item 4) ---------------------------------------------------------
def test_a_double_click_queues_one_run_per_session(tmp_db):
    runner = JobRunner(tmp_db, max_workers=1, background=False, warm=0)
    runner._start_queued = lambda: None  # keep everything queued
    a, created_a = runner.submit_once("toy", {"steps": 5}, owner="s1")
    b, created_b = runner.submit_once("toy", {"steps": 5}, owner="s1")
    c = runner.submit("toy", {"steps": 5}, owner="s2")
    d = runner.submit("toy", {"steps": 6}, owner="s1")
    assert (a, created_a, created_b) == (b, True, False) and len({a, c, d}) == 3
    runner.cancel(a)
    assert runner.submit("toy", {"steps": 5}, owner="s1") not in {a, c, d}  # once it ended, a new one
    assert [r.owner for r in runner.store.list_runs(owner="s1")] == ["s1"] * 3


# -- thread policy (#12 item 7) ------------------------------------------------------------
@pytest.mark.parametrize("cores", [1, 2, 3, 4, 16, 64])
def test_the_runner_never_oversubscribes_the_cores(cores, monkeypatch):
    from engine.runs import threads

    monkeypatch.setattr(threads, "cores", lambda: cores)
    for requested in (None, 1, 2, cores, 4 * cores):
        workers = threads.max_workers(requested)
        for kind in ("sparse", "sweep", "sensitivity", "ssumm", "ssumm-sweep", "stackvaeg", "toy", "new-kind"):
            assert 1 <= workers and workers * threads.threads_for(kind, workers) <= max(cores, 1) * 1
    monkeypatch.setenv("SPARSITY_LAB_THREADS", "64")
    workers = threads.max_workers(None)
    assert workers * threads.threads_for("sparse", workers) <= cores


def test_a_run_executes_with_the_policys_thread_count(tmp_db):
    torch = pytest.importorskip("torch")
    from engine.runs.threads import threads_for
    from engine.runs.worker import execute_run

    store = RunStore(tmp_db)
    rid = store.create_run("toy", {"steps": 2})
    store.mark_running(rid, os.getpid())
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert execute_run(store, rid) == "finished"
        assert torch.get_num_threads() == threads_for("toy", 1) == 1
    finally:
        torch.set_num_threads(before)


# -- the app server stays torch-free (#12 item 6, #10 item 3) ------------------------------
def test_queueing_a_run_imports_no_torch_in_the_calling_process(tmp_db):
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from engine.runs.jobs import JobRunner; from engine.sparse.config import SparseConfig\n"
            "r = JobRunner(background=False, warm=0); r._start_queued = lambda: None\n"
            "rid = r.submit('sparse', SparseConfig(), owner='s'); r.queue_view = None\n"
            "from engine.runs.queue import queue_info; queue_info(r.store, rid)\n"
            "print('torch' in sys.modules, r.store.get_run(rid).status)")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "queued"], out.stderr[-2000:]


def test_await_first_report_waits_only_for_a_warm_worker(tmp_path):
    import time as _time

    from engine.runs.jobs import JobRunner
    from engine.runs.toy import ToyConfig

    queued = JobRunner(tmp_path / "q.db", background=False, warm=0)
    queued._start_queued = lambda: None  # nothing starts: the run stays queued
    cold = JobRunner(tmp_path / "c.db", background=False, warm=0)
    warm = JobRunner(tmp_path / "w.db", background=False, warm=1, preload=())
    try:
        for runner in (queued, cold):  # queued, or a cold spawn still importing: no wait
            rid = runner.submit("toy", ToyConfig())
            t0 = _time.monotonic()
            assert runner.await_first_report(rid, timeout=2.0) is False
            assert _time.monotonic() - t0 < 0.3
        assert warm.wait_warm(60)
        rid = warm.submit("toy", ToyConfig())
        assert warm.await_first_report(rid, timeout=10.0) is True
        assert warm.store.has_reports(rid)
    finally:
        for runner in (queued, cold, warm):
            runner.shutdown()
