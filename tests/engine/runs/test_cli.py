import json
import subprocess
import sys
from pathlib import Path

from engine.cli import main
from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[3]


def test_cli_run_writes_json_and_records_the_run(tmp_db, tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "toy", "--steps", "7", "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["steps_done"] == 7 and result["seconds"] >= 0
    run = RunStore(tmp_db).get_run(result["run_id"])
    assert run.status == "finished" and run.config["steps"] == 7


def test_cli_refuses_invalid_settings_with_a_message_not_a_traceback(tmp_db):
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", "toy", "--steps", "0"], cwd=ROOT, capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "steps must be at least 1" in proc.stderr and "Traceback" not in proc.stderr
    assert RunStore(tmp_db).list_runs() == []


def test_cli_export(tmp_db, tmp_path):
    main(["run", "toy", "--steps", "3", "--quiet"])
    rid = RunStore(tmp_db).list_runs()[0].id
    assert main(["export", str(rid), "--csv", str(tmp_path / "m.csv"), "--json", str(tmp_path / "r.json")]) == 0
    assert (tmp_path / "m.csv").read_text().startswith("step,name,value")
    assert json.loads((tmp_path / "r.json").read_text())["id"] == rid


def test_engine_runs_marks_a_cli_run_killed_with_sigkill_as_failed(tmp_db, capsys):
    """#18 item 9: a CLI run killed with kill -9 no longer stays `running` until the app is opened."""
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", "toy", "--steps", "100000", "--step-seconds", "0.01", "--quiet"],
        cwd=ROOT, env=dict(os.environ, SPARSITY_LAB_DB=str(tmp_db)),
    )
    try:
        store = RunStore(tmp_db)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(r.status == "running" and r.step > 0 for r in store.list_runs()):
            time.sleep(0.05)
        (run,) = store.list_runs()
        assert run.status == "running" and run.pid == proc.pid
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "running" not in out, out
    run = RunStore(tmp_db).get_run(run.id)
    assert run.status == "failed" and "is gone" in run.error
