import os
import signal
import time

import pytest

from engine.errors import ConfigError
from engine.runs.jobs import JobRunner, pid_alive
from engine.runs.store import RunStore


@pytest.fixture
def runner(tmp_db):
    r = JobRunner(tmp_db, max_workers=1, poll_interval=0.05)
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
