import numpy as np

from engine.runs.reporter import MemoryReporter, StoreReporter
from engine.runs.store import RunStore
from engine.runs.toy import ToyConfig, run_toy


def test_memory_reporter_collects_and_simulates_cancel():
    rep = MemoryReporter(stop_after=3)
    out = run_toy(ToyConfig(steps=50), rep)
    assert out["steps_done"] == 4 and rep.stop_requested
    assert len(rep.values("loss")) == 3


def test_store_reporter_throttles_snapshots_but_always_keeps_forced_ones(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    rep = StoreReporter(store, rid, snapshot_interval=60.0)
    for i in range(100):
        rep.snapshot("mask", np.ones((4, 4)) * i, i)
    rep.snapshot("mask", np.ones((4, 4)) * 999, 999, force=True)
    rep.close()
    snaps = store.snapshots(rid, "mask")
    assert [s for s, _ in snaps] == [0, 999]


def test_store_reporter_batches_metrics_and_flushes_on_close(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    rep = StoreReporter(store, rid, flush_interval=60.0)
    for i in range(10):
        rep.metric("loss", i, i)
    assert store.metrics(rid).empty  # buffered
    rep.progress(10, 10)
    rep.close()
    assert len(store.metrics(rid)) == 10 and store.get_run(rid).step == 10


def test_store_reporter_sees_a_cancel_request(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    rep = StoreReporter(store, rid, stop_interval=0.0)
    assert not rep.should_stop()
    store.request_cancel(rid)
    assert rep.should_stop()


def test_the_first_picture_of_each_name_reaches_the_store_at_once(tmp_db):
    """Click → first live picture: the first snapshot is not held back by the flush interval."""
    import numpy as np

    from engine.runs.reporter import StoreReporter
    from engine.runs.store import RunStore

    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    rep = StoreReporter(store, rid, flush_interval=60.0, snapshot_interval=0.0)
    rep.metric("loss", 1.0, 0)
    rep.snapshot("mask", np.ones((2, 2)), 0)
    assert store.snapshot_names(rid) == ["mask"] and len(store.metrics(rid)) == 1
    rep.snapshot("mask", np.zeros((2, 2)), 1)  # later ones wait for the next flush, as before
    assert len(store.snapshots(rid, "mask")) == 1
    rep.flush()
    assert len(store.snapshots(rid, "mask")) == 2
