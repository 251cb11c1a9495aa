import json
import multiprocessing as mp
import sqlite3
import threading
import time

import numpy as np
import pytest

from engine.errors import StoreError
from engine.runs.reporter import StoreReporter
from engine.runs.store import SCHEMA_VERSION, RunStore


def test_run_round_trip_keeps_config_metrics_snapshots_and_files(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {"steps": 3, "widths": [4, 2]}, seed=7, name="first")
    store.add_metrics(rid, [(0, "loss", 1.0), (1, "loss", 0.5), (1, "acc", 0.9)])
    mask = np.random.default_rng(0).random((16, 8)) > 0.5
    store.add_snapshot(rid, "mask/layer0", mask, 1)
    store.put_artifact(rid, "model.bin", b"\x00\x01", "application/octet-stream")
    store.finish(rid, "finished", result={"acc": 0.9})

    again = RunStore(tmp_db)  # a second connection sees the same
    run = again.get_run(rid)
    assert (run.kind, run.seed, run.status, run.name) == ("toy", 7, "finished", "first")
    assert run.config == {"steps": 3, "widths": [4, 2]} and run.result == {"acc": 0.9}
    df = again.metrics(rid, ["loss"])
    assert df["value"].tolist() == [1.0, 0.5]
    step, back = again.latest_snapshot(rid, "mask/layer0")
    assert step == 1 and back.dtype == mask.dtype and np.array_equal(back, mask)
    assert again.artifact(rid, "model.bin") == (b"\x00\x01", "application/octet-stream")


def test_finish_keeps_the_first_ending(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    store.finish(rid, "cancelled", error="user")
    store.finish(rid, "failed", error="late crash report")
    assert store.get_run(rid).status == "cancelled"


def test_export_csv_and_json(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {"a": 1})
    store.add_metrics(rid, [(0, "loss", 2.0), (1, "loss", 1.0)])
    csv = store.export_metrics_csv(rid).splitlines()
    assert csv[0] == "step,name,value" and csv[2] == "1,loss,1.0"
    doc = json.loads(store.export_json(rid))
    assert doc["metrics"]["loss"]["value"] == [2.0, 1.0] and doc["config"] == {"a": 1}


def test_delete_removes_everything(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    store.add_metrics(rid, [(0, "loss", 1.0)])
    store.delete_run(rid)
    assert store.list_runs() == [] and store.metrics(rid).empty
    with pytest.raises(StoreError, match="does not exist"):
        store.get_run(rid)


def test_schema_is_versioned_and_wal(tmp_db):
    RunStore(tmp_db)
    con = sqlite3.connect(tmp_db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert int(con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]) == SCHEMA_VERSION


def test_newer_schema_is_refused_clearly(tmp_db):
    RunStore(tmp_db)
    con = sqlite3.connect(tmp_db)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    with pytest.raises(StoreError, match="newer Sparsity Lab"):
        RunStore(tmp_db)


def test_not_a_database_gives_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is damaged.*move the file aside"):
        RunStore(bad)


def test_locked_store_gives_a_clear_error_and_loses_no_finished_run(tmp_db):
    store = RunStore(tmp_db, timeout=0.2)
    done = store.create_run("toy", {})
    store.finish(done, "finished", result={"x": 1})
    blocker = sqlite3.connect(tmp_db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            store.create_run("toy", {})
    finally:
        blocker.execute("ROLLBACK")
    assert RunStore(tmp_db).get_run(done).result == {"x": 1}


def _writer(path, rid, n):
    store = RunStore(path)
    rep = StoreReporter(store, rid, flush_interval=0.0)
    for i in range(n):
        rep.metric("loss", float(i), i)
        rep.snapshot("mask", np.eye(8) * i, i, force=True)
    rep.close()


def test_two_readers_while_a_run_writes(tmp_db):
    store = RunStore(tmp_db)
    rid = store.create_run("toy", {})
    n = 300
    proc = mp.get_context("spawn").Process(target=_writer, args=(str(tmp_db), rid, n))
    proc.start()
    seen: list[list[int]] = [[], []]
    errors: list[Exception] = []

    deadline = time.monotonic() + 60

    def read(k):
        reader = RunStore(tmp_db)
        try:
            while time.monotonic() < deadline:   # bounded: a writer that died must not leave a spinning thread
                alive = proc.is_alive()
                df = reader.metrics(rid)
                seen[k].append(len(df))
                # a reader never sees a half-written batch: values are 0..len-1 in order
                assert df["value"].tolist() == [float(i) for i in range(len(df))]
                if len(df) == n or not alive:
                    break
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=read, args=(k,), daemon=True) for k in range(2)]
    for t in threads:
        t.start()
    proc.join(60)
    for t in threads:
        t.join(60)
    assert proc.exitcode == 0, f"the writer process failed (exit code {proc.exitcode})"
    assert not errors, errors
    assert all(s[-1] == n for s in seen)
    assert all(s == sorted(s) for s in seen)  # monotone: readers saw progress, never a rollback


def test_full_disk_gives_a_clear_error_and_loses_no_finished_run(tmp_db):
    store = RunStore(tmp_db)
    done = store.create_run("toy", {})
    store.add_metrics(done, [(0, "loss", 1.0)])
    store.finish(done, "finished", result={"x": 1})
    con = store._con()
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.execute(f"PRAGMA max_page_count = {pages + 2}")  # the 'disk' is now nearly full
    rid = store.create_run("toy", {})
    noise = np.random.default_rng(0).random((300, 300))  # incompressible, far more than 2 pages
    with pytest.raises(StoreError, match="full"):
        store.add_snapshot(rid, "big", noise, 0)
    fresh = RunStore(tmp_db)
    assert fresh.get_run(done).result == {"x": 1} and fresh.metrics(done)["value"].tolist() == [1.0]
    assert fresh.snapshot_names(rid) == []  # the failed write left nothing half-written


def test_a_schema_1_store_is_migrated_in_place_and_keeps_its_runs(tmp_db):
    """Stores written before runs had owners (schema 1) open, gain the column, keep every run."""
    con = sqlite3.connect(tmp_db)
    con.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, name TEXT, grp TEXT,
            config TEXT NOT NULL, seed INTEGER, status TEXT NOT NULL, created_at REAL NOT NULL, started_at REAL,
            finished_at REAL, error TEXT, result TEXT, pid INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0,
            step INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0);
        INSERT INTO runs (kind, name, config, status, created_at) VALUES ('toy', 'old', '{"steps": 3}', 'finished', 1.0);
    """)
    con.commit()
    con.close()
    store = RunStore(tmp_db)
    (old,) = store.list_runs()
    assert (old.name, old.status, old.owner) == ("old", "finished", None)
    new = store.create_run("toy", {}, owner="abc")
    assert store.get_run(new).owner == "abc" and [r.id for r in store.list_runs(owner="abc")] == [new]
    version = sqlite3.connect(tmp_db).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION == 2
    RunStore(tmp_db)  # opening again is a no-op


def test_queue_position_what_is_ahead_and_estimates(tmp_db):
    from engine.runs.queue import queue_info

    store = RunStore(tmp_db)
    for secs in (8.0, 12.0):  # two past runs with these settings took 8 and 12 s
        rid = store.create_run("toy", {"steps": 50, "seed": 1})
        store.mark_running(rid, 1)
        store.finish(rid, "finished")
        with store._tx() as con:
            con.execute("UPDATE runs SET started_at=100, finished_at=? WHERE id=?", (100 + secs, rid))
    running = store.create_run("toy", {"steps": 50, "seed": 2}, name="theirs")
    store.mark_running(running, 1)
    first = store.create_run("toy", {"steps": 50, "seed": 3}, name="first in line")
    mine = store.create_run("toy", {"steps": 50, "seed": 4}, owner="me")
    info = queue_info(store, mine, workers=1)
    assert (info.position, info.queued) == (2, 2)
    assert [r.id for r in info.ahead] == [running, first]
    assert info.duration.seconds == 10.0 and "2 past runs with these settings" in info.duration.basis
    assert 10.0 <= info.start_in <= 20.0  # the running one's ≤ 10 s left + 10 s for the one in line
    assert queue_info(store, running) is None  # not queued


def test_with_no_finished_run_the_estimate_projects_a_run_going_now(tmp_db):
    from engine.runs.queue import estimate_duration

    store = RunStore(tmp_db)
    going = store.create_run("toy", {"epochs": 40, "seed": 0})
    store.mark_running(going, 1)
    with store._tx() as con:  # started 10 s ago, a quarter done: 40 s in all, 1 s per epoch
        con.execute("UPDATE runs SET started_at=?, step=25, total=100 WHERE id=?", (time.time() - 10, going))
    est = estimate_duration(store, "toy", {"epochs": 20, "seed": 1})
    assert est.seconds == pytest.approx(20.0, rel=0.05)
    assert "1 past run, 1 of them still going (projected) of this size, scaled to 20 epochs" == est.basis
