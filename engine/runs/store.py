"""The run store: one SQLite file (WAL mode) holding every run, its metrics, snapshots and files.

It is the only channel between experiments and whatever shows or keeps their results: workers
write, the app and the CLI read. WAL lets readers proceed while a run writes; every write is one
transaction, so a crash leaves either the whole batch or none of it.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from engine.errors import StoreError
from engine.paths import default_db_path

SCHEMA_VERSION = 2  # 2: runs.owner (the browser session that started the run)
STATUSES = ("queued", "running", "finished", "failed", "cancelled")
ACTIVE = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT,
    grp TEXT,
    config TEXT NOT NULL,
    seed INTEGER,
    status TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','cancelled')),
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    error TEXT,
    result TEXT,
    pid INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    step INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_grp ON runs(grp);
CREATE TABLE IF NOT EXISTS metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL, name TEXT NOT NULL, value REAL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run_id, name, step);
CREATE TABLE IF NOT EXISTS snapshots (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_run ON snapshots(run_id, name, step);
CREATE TABLE IF NOT EXISTS logs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    t REAL NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL, mime TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""


@dataclass
class Run:
    """One row of the runs table, decoded."""

    id: int
    kind: str
    name: str | None
    group: str | None
    config: dict[str, Any]
    seed: int | None
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    error: str | None
    result: dict[str, Any] | None
    pid: int | None
    cancel_requested: bool
    step: int
    total: int
    owner: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total) if self.total else 0.0

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at

    @property
    def label(self) -> str:
        return f"#{self.id} {self.name or self.kind}"


class RunNotFound(StoreError):
    """The run's row is gone (deleted from the Runs page, another session or the CLI)."""


def encode_array(array: np.ndarray) -> bytes:
    """One array as ``.npy`` bytes, zlib-compressed at level 1 (fast; masks shrink ~10×)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return zlib.compress(buf.getvalue(), 1)


def decode_array(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False)


def _friendly(err: sqlite3.Error, path: Path) -> StoreError:
    """A one-line StoreError saying what is wrong with the store and what to do about it.

    Corruption is tested first: SQLite's "database disk image is malformed" contains "disk" but
    has nothing to do with free space (SQLITE_FULL reads "database or disk is full").

    >>> str(_friendly(sqlite3.DatabaseError("database disk image is malformed"), Path("r.db")))[:36]
    'The run store r.db is damaged (SQLit'
    >>> "full" in str(_friendly(sqlite3.OperationalError("database or disk is full"), Path("r.db")))
    True
    """
    text = str(err).lower()
    if "malformed" in text or "not a database" in text or "encrypted" in text:
        msg = (
            f"The run store {path} is damaged (SQLite says: {err}). To recover, move the file aside "
            f"(for example: mv {path} {path}.broken) and start again: a new, empty store is created. "
            "Or set SPARSITY_LAB_DB to another file."
        )
    elif "locked" in text or "busy" in text:
        msg = f"The run store {path} is locked by another program; try again in a moment."
    elif "full" in text:
        msg = f"The disk holding the run store {path} is full; free some space. Finished runs are kept."
    elif "disk i/o" in text:
        msg = f"The disk holding the run store {path} failed to read or write it (disk I/O error); check the disk."
    elif "readonly" in text or "unable to open" in text:
        msg = f"The run store {path} cannot be written (check permissions or SPARSITY_LAB_DB)."
    else:
        msg = f"Run store error ({path}): {err}"
    return StoreError(msg)


class RunStore:
    """SQLite-backed store of runs. Safe to use from several threads and processes.

    >>> import tempfile, os
    >>> s = RunStore(os.path.join(tempfile.mkdtemp(), "t.db"))
    >>> rid = s.create_run("toy", {"a": 1}, seed=0)
    >>> s.add_metrics(rid, [(0, "loss", 2.0), (1, "loss", 1.5)])
    >>> s.metrics(rid)["value"].tolist()
    [2.0, 1.5]
    >>> s.get_run(rid).status
    'queued'
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.timeout = timeout
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"Cannot create the folder for the run store {self.path}: {err}") from None
        try:
            self._con().executescript(_SCHEMA)  # executescript commits by itself: no surrounding tx
        except sqlite3.Error as err:
            raise _friendly(err, self.path) from None
        with self._tx() as con:
            row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer Sparsity Lab (schema {row[0]}); "
                    "use a newer version or another SPARSITY_LAB_DB."
                )
            else:
                self._migrate(con, int(row[0]))

    @staticmethod
    def _migrate(con: sqlite3.Connection, version: int) -> None:
        """Bring an older store up to ``SCHEMA_VERSION`` in place (inside the opening transaction)."""
        cols = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
        if "owner" not in cols:  # 1 -> 2: runs of older stores have no owner (shown on the Runs page only)
            con.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
        con.execute("CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner, kind)")
        if version < SCHEMA_VERSION:
            con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))

    # -- connection handling -------------------------------------------------------------
    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=NORMAL")
                con.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as err:
                raise _friendly(err, self.path) from None
            self._local.con, self._local.pid = con, os.getpid()
        return con

    class _Tx:
        def __init__(self, store: "RunStore") -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.con = self.store._con()
            try:
                self.con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise _friendly(err, self.store.path) from None
            return self.con

        def __exit__(self, exc_type, exc, tb) -> bool:
            try:
                if exc_type is None:
                    self.con.execute("COMMIT")
                else:
                    self.con.execute("ROLLBACK")
            except sqlite3.Error as err:
                try:
                    self.con.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise _friendly(err, self.store.path) from None
            if isinstance(exc, sqlite3.Error):
                raise _friendly(exc, self.store.path) from None
            return False

    def _tx(self) -> "RunStore._Tx":
        return RunStore._Tx(self)

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self._con().execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as err:
            raise _friendly(err, self.path) from None

    # -- runs --------------------------------------------------------------------------
    def create_run(
        self,
        kind: str,
        config: dict[str, Any],
        *,
        seed: int | None = None,
        name: str | None = None,
        group: str | None = None,
        status: str = "queued",
        owner: str | None = None,
    ) -> int:
        return self.create_run_once(kind, config, seed=seed, name=name, group=group, status=status,
                                    owner=owner, once=False)[0]

    def create_run_once(
        self,
        kind: str,
        config: dict[str, Any],
        *,
        seed: int | None = None,
        name: str | None = None,
        group: str | None = None,
        status: str = "queued",
        owner: str | None = None,
        once: bool = True,
    ) -> tuple[int, bool]:
        """Record a run; with ``once``, an identical run (kind, config, owner) still queued or running
        is returned instead of a second one (a double-click queues one run). Returns (id, created).

        >>> import tempfile, os
        >>> s = RunStore(os.path.join(tempfile.mkdtemp(), "t.db"))
        >>> a = s.create_run_once("toy", {"a": 1}, owner="me"); b = s.create_run_once("toy", {"a": 1}, owner="me")
        >>> a, b, s.create_run_once("toy", {"a": 1}, owner="you")[1]
        ((1, True), (1, False), True)
        """
        text = json.dumps(config, sort_keys=True)
        with self._tx() as con:  # BEGIN IMMEDIATE: the check and the insert are one step for every process
            if once and owner is not None:
                row = con.execute(
                    "SELECT id FROM runs WHERE kind=? AND config=? AND owner=? AND status IN ('queued','running') "
                    "ORDER BY id DESC LIMIT 1", (kind, text, owner),
                ).fetchone()
                if row is not None:
                    return int(row[0]), False
            cur = con.execute(
                "INSERT INTO runs (kind, name, grp, config, seed, status, created_at, owner) VALUES (?,?,?,?,?,?,?,?)",
                (kind, name, group, text, seed, status, time.time(), owner),
            )
            return int(cur.lastrowid), True

    _COLS = (
        "id, kind, name, grp, config, seed, status, created_at, started_at, finished_at, error, "
        "result, pid, cancel_requested, step, total, owner"
    )

    @staticmethod
    def _run(row: tuple) -> Run:
        return Run(
            id=row[0], kind=row[1], name=row[2], group=row[3], config=json.loads(row[4]),
            seed=row[5], status=row[6], created_at=row[7], started_at=row[8], finished_at=row[9],
            error=row[10], result=json.loads(row[11]) if row[11] else None, pid=row[12],
            cancel_requested=bool(row[13]), step=row[14], total=row[15], owner=row[16],
        )

    def find_run(self, run_id: int) -> Run | None:
        """The run, or None if there is no such row (deleted meanwhile)."""
        rows = self._query(f"SELECT {self._COLS} FROM runs WHERE id=?", (run_id,))
        return self._run(rows[0]) if rows else None

    def get_run(self, run_id: int) -> Run:
        rows = self._query(f"SELECT {self._COLS} FROM runs WHERE id=?", (run_id,))
        if not rows:
            raise RunNotFound(f"Run #{run_id} does not exist (deleted?).")
        return self._run(rows[0])

    def list_runs(
        self,
        kind: str | None = None,
        *,
        group: str | None = None,
        status: Iterable[str] | None = None,
        owner: str | None = None,
    ) -> list[Run]:
        """Runs, newest first, optionally filtered (``owner``: the session that started them)."""
        where, args = [], []
        if owner is not None:
            where.append("owner=?")
            args.append(owner)
        if kind is not None:
            where.append("kind=?")
            args.append(kind)
        if group is not None:
            where.append("grp=?")
            args.append(group)
        if status is not None:
            status = list(status)
            where.append(f"status IN ({','.join('?' * len(status))})")
            args.extend(status)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return [self._run(r) for r in self._query(f"SELECT {self._COLS} FROM runs {clause} ORDER BY id DESC", args)]

    def mark_running(self, run_id: int, pid: int) -> bool:
        """queued -> running; False if the run is no longer queued (cancelled meanwhile)."""
        with self._tx() as con:
            cur = con.execute(
                "UPDATE runs SET status='running', pid=?, started_at=? WHERE id=? AND status='queued'",
                (pid, time.time(), run_id),
            )
            return cur.rowcount == 1

    def set_pid(self, run_id: int, pid: int) -> None:
        with self._tx() as con:
            con.execute("UPDATE runs SET pid=? WHERE id=?", (pid, run_id))

    def finish(self, run_id: int, status: str, *, result: dict | None = None, error: str | None = None) -> None:
        """Final status of a run; a run already ended keeps its first ending."""
        if status not in ("finished", "failed", "cancelled"):
            raise ValueError(status)
        with self._tx() as con:
            con.execute(
                "UPDATE runs SET status=?, result=COALESCE(?, result), error=?, finished_at=? "
                "WHERE id=? AND status IN ('queued','running')",
                (status, json.dumps(result) if result is not None else None, error, time.time(), run_id),
            )

    def request_cancel(self, run_id: int) -> None:
        """Ask a run to stop; a queued run is cancelled at once."""
        with self._tx() as con:
            con.execute("UPDATE runs SET cancel_requested=1 WHERE id=?", (run_id,))
            con.execute(
                "UPDATE runs SET status='cancelled', finished_at=?, error='cancelled before it started' "
                "WHERE id=? AND status='queued'",
                (time.time(), run_id),
            )

    def cancel_requested(self, run_id: int) -> bool:
        rows = self._query("SELECT cancel_requested FROM runs WHERE id=?", (run_id,))
        return bool(rows and rows[0][0])

    def delete_run(self, run_id: int) -> None:
        """Delete a run and everything it reported; refused (StoreError) while it is running.

        A worker writing to a vanished row would fail; cancel first (``JobRunner.delete`` does both).
        A queued run can go at once (the runner skips a row it cannot mark running).
        """
        with self._tx() as con:
            row = con.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is not None and row[0] == "running":
                raise StoreError(f"Run #{run_id} is still running: cancel it first, then delete it.")
            for table in ("metrics", "snapshots", "logs", "artifacts"):
                con.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
            con.execute("DELETE FROM runs WHERE id=?", (run_id,))

    # -- events --------------------------------------------------------------------------
    def write_events(
        self,
        run_id: int,
        *,
        metrics: list[tuple[int, str, float]] = (),
        snapshots: list[tuple[int, str, bytes]] = (),
        logs: list[tuple[float, str]] = (),
        progress: tuple[int, int] | None = None,
    ) -> None:
        """Write a batch of events in one transaction (what the store reporter flushes)."""
        with self._tx() as con:
            if metrics:
                con.executemany(
                    "INSERT INTO metrics (run_id, step, name, value) VALUES (?,?,?,?)",
                    [(run_id, s, n, v) for s, n, v in metrics],
                )
            if snapshots:
                con.executemany(
                    "INSERT INTO snapshots (run_id, step, name, data) VALUES (?,?,?,?)",
                    [(run_id, s, n, d) for s, n, d in snapshots],
                )
            if logs:
                con.executemany("INSERT INTO logs (run_id, t, text) VALUES (?,?,?)", [(run_id, t, x) for t, x in logs])
            if progress is not None:
                con.execute("UPDATE runs SET step=?, total=? WHERE id=?", (progress[0], progress[1], run_id))

    def add_metrics(self, run_id: int, rows: list[tuple[int, str, float]]) -> None:
        self.write_events(run_id, metrics=rows)

    def add_snapshot(self, run_id: int, name: str, array: np.ndarray, step: int) -> None:
        self.write_events(run_id, snapshots=[(step, name, encode_array(array))])

    def put_artifact(self, run_id: int, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
        with self._tx() as con:
            con.execute(
                "INSERT OR REPLACE INTO artifacts (run_id, name, mime, data) VALUES (?,?,?,?)",
                (run_id, name, mime, sqlite3.Binary(data)),
            )

    # -- reading -------------------------------------------------------------------------
    def metrics(self, run_id: int, names: Iterable[str] | None = None):
        """Metrics of a run as a DataFrame with columns step, name, value (in step order)."""
        import pandas as pd

        sql, args = "SELECT step, name, value FROM metrics WHERE run_id=?", [run_id]
        if names is not None:
            names = list(names)
            sql += f" AND name IN ({','.join('?' * len(names))})"
            args += names
        rows = self._query(sql + " ORDER BY rowid", args)
        return pd.DataFrame(rows, columns=["step", "name", "value"])

    def metric_names(self, run_id: int) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT name FROM metrics WHERE run_id=? ORDER BY name", (run_id,))]

    def has_reports(self, run_id: int) -> bool:
        """Whether the run has reported any metric or snapshot yet."""
        rows = self._query("SELECT EXISTS(SELECT 1 FROM snapshots WHERE run_id=?) OR "
                           "EXISTS(SELECT 1 FROM metrics WHERE run_id=?)", (run_id, run_id))
        return bool(rows[0][0])

    def snapshot_names(self, run_id: int) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT name FROM snapshots WHERE run_id=? ORDER BY name", (run_id,))]

    def latest_snapshot(self, run_id: int, name: str) -> tuple[int, np.ndarray] | None:
        rows = self._query(
            "SELECT step, data FROM snapshots WHERE run_id=? AND name=? ORDER BY rowid DESC LIMIT 1", (run_id, name)
        )
        return (rows[0][0], decode_array(rows[0][1])) if rows else None

    def snapshots(self, run_id: int, name: str) -> list[tuple[int, np.ndarray]]:
        rows = self._query("SELECT step, data FROM snapshots WHERE run_id=? AND name=? ORDER BY rowid", (run_id, name))
        return [(s, decode_array(d)) for s, d in rows]

    def artifact(self, run_id: int, name: str) -> tuple[bytes, str] | None:
        rows = self._query("SELECT data, mime FROM artifacts WHERE run_id=? AND name=?", (run_id, name))
        return (bytes(rows[0][0]), rows[0][1]) if rows else None

    def artifact_names(self, run_id: int) -> list[str]:
        return [r[0] for r in self._query("SELECT name FROM artifacts WHERE run_id=? ORDER BY name", (run_id,))]

    def logs(self, run_id: int) -> list[str]:
        return [r[0] for r in self._query("SELECT text FROM logs WHERE run_id=? ORDER BY rowid", (run_id,))]

    # -- export --------------------------------------------------------------------------
    def export_metrics_csv(self, run_id: int) -> str:
        """The run's metrics as CSV text (step, name, value)."""
        return self.metrics(run_id).to_csv(index=False)

    def export_json(self, run_id: int) -> str:
        """The whole run (record, metrics, logs, names of snapshots and files) as JSON text."""
        run = self.get_run(run_id)
        df = self.metrics(run_id)
        doc = {
            "id": run.id, "kind": run.kind, "name": run.name, "group": run.group, "config": run.config,
            "seed": run.seed, "status": run.status, "created_at": run.created_at, "started_at": run.started_at,
            "finished_at": run.finished_at, "error": run.error, "result": run.result,
            "metrics": {n: {"step": g["step"].tolist(), "value": g["value"].tolist()} for n, g in df.groupby("name")},
            "logs": self.logs(run_id),
            "snapshots": self.snapshot_names(run_id),
            "artifacts": self.artifact_names(run_id),
        }
        return json.dumps(doc, indent=2, default=float)
