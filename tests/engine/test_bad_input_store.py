"""#18 item 6: a damaged run store is reported as damaged (never as "the disk is full"), with the
way out: move the file aside and a new store is created."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from engine import cli
from engine.errors import StoreError
from engine.runs.store import RunStore


def _garbage(path: Path) -> Path:
    path.write_bytes(os.urandom(16384))
    return path


def _truncated(path: Path) -> Path:
    s = RunStore(path)
    for _ in range(200):
        s.create_run("toy", {"a": "x" * 500}, seed=0)
    con = s._con()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    s._local.con = None
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2 + 100)  # cut in the middle of a page
    return path


DAMAGE = {"garbage": _garbage, "truncated": _truncated}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damaged_store_is_named_damaged_with_the_recovery(tmp_path, how):
    path = DAMAGE[how](tmp_path / "runs.db")
    with pytest.raises(StoreError) as info:
        s = RunStore(path)
        s.list_runs()
    msg = str(info.value)
    assert "is full" not in msg and "\n" not in msg
    assert "damaged" in msg and "move the file aside" in msg and str(path) in msg
    # The recovery the message gives works: with the file moved aside, a new store opens.
    path.rename(tmp_path / "runs.db.broken")
    for extra in tmp_path.glob("runs.db-*"):
        extra.unlink()
    assert RunStore(path).list_runs() == []


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_cli_reports_damaged_store_in_one_line(tmp_path, how, capsys):
    path = DAMAGE[how](tmp_path / "runs.db")
    assert cli.main(["runs", "--db", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: The run store") and "damaged" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_a_full_disk_is_still_called_full(tmp_path):
    from engine.runs.store import _friendly

    full = str(_friendly(sqlite3.OperationalError("database or disk is full"), Path("r.db")))
    assert "is full" in full and "damaged" not in full
    malformed = str(_friendly(sqlite3.DatabaseError("database disk image is malformed"), Path("r.db")))
    assert "is full" not in malformed and "damaged" in malformed
