"""The ray sweep backend against a Ray cluster started here on 127.0.0.1 (one cluster for the module).

Each sweep point is a Ray task running the same point function as the local backend, so the rows
must be identical for the same seeds; cancel must stop the remaining tasks within seconds; a
killed worker must fail its point only.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install -r requirements.txt)")

from engine.runs.reporter import MemoryReporter  # noqa: E402
from engine.runs.store import RunStore  # noqa: E402
from engine.runs.worker import execute_run  # noqa: E402
from engine.sparse.sweep import SensitivityConfig, SweepConfig, partial_rows, run_sensitivity  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
TINY = dict(dataset="digits", hidden=(32,), epochs=2, finetune_epochs=1, max_train=400)


@pytest.fixture(scope="module")
def cluster():
    """A 2-CPU Ray cluster in this process, bound to 127.0.0.1 only, stopped after the module."""
    from engine.runs.ray_backend import _single_machine

    if ray.is_initialized():
        ray.shutdown()
    _single_machine(ray, True)  # loopback only (see engine/runs/ray_backend.py)
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 1024 * 1024,
             _node_ip_address="127.0.0.1", log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def _sweep(reporter, **kw):
    from engine.sparse.experiments import EXPERIMENTS

    return EXPERIMENTS["sweep"][1](SweepConfig(**{**TINY, **kw}), reporter)


def _ray_workers() -> list[int]:
    """Pids of Ray worker processes now running a sweep point (Ray titles them ``ray::<task>``)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "cmdline").read_bytes().startswith(b"ray::_run_point"):
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


def _listening_beyond_loopback(pids: set[int]) -> list[str]:
    """TCP sockets of these processes listening on anything but 127.0.0.1 (from ``ss -ltnp``)."""
    try:
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("ss (iproute2) is not available to list listening sockets")
    bad = []
    for line in out.splitlines():
        local = line.split()[3]
        if any(f"pid={p}," in line for p in pids) and not local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")):
            bad.append(line)
    return bad


def test_cluster_is_on_loopback_only(cluster):
    assert {n["NodeManagerAddress"] for n in cluster.nodes() if n["Alive"]} == {"127.0.0.1"}
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    ours = {os.getpid()}  # the cluster's processes: gcs_server, raylet, workers (our descendants)
    while True:
        more = {pid for pid, pp in parent.items() if pp in ours} - ours
        if not more:
            break
        ours |= more
    assert len(ours) > 2 and _listening_beyond_loopback(ours) == []


def test_ray_sweep_gives_the_local_rows_and_reports_into_the_store(cluster, tmp_path):
    kw = dict(methods=("magnitude",), sparsities=(0.5, 0.9), seeds=(0, 1))
    local = _sweep(MemoryReporter(), **kw)
    store = RunStore(tmp_path / "runs.db")
    config = SweepConfig(**{**TINY, **kw}, backend="ray", address="auto")
    run_id = store.create_run("sweep", config.to_dict(), seed=None)
    store.mark_running(run_id, os.getpid())
    assert execute_run(store, run_id) == "finished"
    run = store.get_run(run_id)
    assert len(local["rows"]) == 6 and run.result["failed"] == [] and run.result["cluster_cpus"] == 2
    assert _strip(run.result["rows"]) == _strip(local["rows"])  # same configs and seeds: same numbers
    df = store.metrics(run_id)  # the driver wrote one accuracy per point into the store
    live = partial_rows(run.config, list(zip(df["name"], df["step"], df["value"])))
    assert sorted((r["method"], r["control"], r["seed"], r["test_accuracy"]) for r in live) == \
        sorted((r["method"], r["control"], r["seed"], r["test_accuracy"]) for r in local["rows"])


class _StopAfterFirst(MemoryReporter):
    """Asks to stop as soon as the first point has been reported."""

    stopped_at: float | None = None

    def should_stop(self) -> bool:
        if self.stopped_at is None and self.metrics:
            self.stopped_at = time.monotonic()
        return self.stopped_at is not None


def test_cancel_stops_the_remaining_tasks_within_seconds_and_keeps_finished_points(cluster):
    rep = _StopAfterFirst()
    result = _sweep(rep, methods=("magnitude",), sparsities=(0.5, 0.7, 0.8, 0.9, 0.95), seeds=(0,),
                    epochs=60, backend="ray", address="auto")
    returned = time.monotonic()
    assert result["stopped"] and 1 <= len(result["rows"]) < 6
    assert returned - rep.stopped_at < 8.0
    deadline = time.monotonic() + 10
    while cluster.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # the cancelled tasks hand their CPUs back
    assert cluster.available_resources().get("CPU", 0) == 2
    assert not _ray_workers()


def test_a_killed_worker_fails_its_point_and_the_others_finish(cluster):
    killed: list[int] = []

    def killer():
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            pids = _ray_workers()
            if pids:
                time.sleep(0.5)  # let it get going, then kill it mid-point (if it is still on its point)
                if pids[0] in _ray_workers():
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
            time.sleep(0.05)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    result = _sweep(MemoryReporter(), methods=("magnitude",), sparsities=(0.5, 0.9), seeds=(0,), epochs=60,
                    backend="ray", address="auto")
    t.join(5)
    assert killed
    assert len(result["failed"]) == 1 and len(result["rows"]) == 2 and not result["stopped"]
    assert "died" in result["failed"][0]["error"]


def test_ray_sensitivity_gives_the_local_grid(cluster):
    kw = dict(dataset="digits", hidden=(32,), epochs=2, finetune_epochs=1, max_train=400, sparsities=(0.5, 0.9))
    local = run_sensitivity(SensitivityConfig(**kw), MemoryReporter())
    rep = MemoryReporter()
    remote = run_sensitivity(SensitivityConfig(**kw, backend="ray", address="auto"), rep)
    assert remote["failed"] == [] and remote["layers"] == local["layers"]
    assert np.array_equal(np.array(remote["accuracy"]), np.array(local["accuracy"]))
    assert rep.snapshots["sensitivity"]  # the grid is drawn as rows arrive


def test_ray_ssumm_sweep_gives_the_local_curve(cluster):
    from engine.graphs.experiments import SSumMSweepConfig, run_ssumm_sweep

    kw = dict(source="builtin:karate", ratios=(0.3, 0.5, 0.7), iterations=5)
    local = run_ssumm_sweep(SSumMSweepConfig(**kw), MemoryReporter())
    remote = run_ssumm_sweep(SSumMSweepConfig(**kw, backend="ray", address="auto"), MemoryReporter())
    assert remote["failed"] == [] and _strip(remote["rows"]) == _strip(local["rows"])


def test_a_data_file_missing_on_the_workers_fails_every_point_with_the_reason(cluster, tmp_path):
    missing = tmp_path / "not-on-the-workers.csv"
    result = _sweep(MemoryReporter(), dataset="csv", data_path=str(missing), methods=("magnitude",),
                    sparsities=(0.5,), include_dense=False, backend="ray", address="auto")
    assert result["rows"] == [] and len(result["failed"]) == 1
    assert "does not exist on" in result["failed"][0]["error"] and "shared file system" in result["failed"][0]["error"]


def test_cli_sweep_on_a_cluster_started_for_it(tmp_path):
    """`--backend ray --address local` starts a cluster for the sweep (own process) and stops it after."""
    out = tmp_path / "rows.json"
    env = dict(os.environ, SPARSITY_LAB_DB=str(tmp_path / "cli.db"), RAY_USAGE_STATS_ENABLED="0")
    done = subprocess.run(
        [sys.executable, "-m", "engine", "run", "sweep", "--methods", "magnitude", "--sparsities", "0.5",
         "--seeds", "0", "--epochs", "1", "--hidden", "16", "--max-train", "300", "--backend", "ray",
         "--address", "local", "--quiet", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["backend"] == "ray" and len(result["rows"]) == 2 and result["failed"] == []


def _processes(name: bytes) -> set[int]:
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_bytes().strip() == name:
                    out.add(int(d.name))
            except OSError:
                pass
    return out


def test_app_path_cancel_of_a_ray_sweep_keeps_finished_points_and_stops_its_cluster(tmp_path):
    """The job runner's worker is the driver (address local: its own cluster); Cancel from the store."""
    from engine.runs.jobs import JobRunner

    before = _processes(b"raylet")
    runner = JobRunner(tmp_path / "runs.db", max_workers=1, poll_interval=0.05, warm=0)
    try:
        config = SweepConfig(**{**TINY, "epochs": 30}, methods=("magnitude",), sparsities=(0.5, 0.7, 0.8, 0.9, 0.95),
                             backend="ray", address="local")
        run_id = runner.submit("sweep", config)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            df = runner.store.metrics(run_id)
            if not df.empty and df["name"].str.startswith("test_accuracy/").any():
                break
            time.sleep(0.2)
        else:
            pytest.fail("no point finished within 180 s")
        t = time.monotonic()
        runner.cancel(run_id)
        assert runner.wait(run_id, timeout=15) == "cancelled"
        stopped_in = time.monotonic() - t
        run = runner.store.get_run(run_id)
        assert stopped_in < 8.0
        assert run.result is not None and 1 <= len(run.result["rows"]) < config.n_runs  # finished points kept
    finally:
        runner.shutdown()
    deadline = time.monotonic() + 15
    while _processes(b"raylet") - before and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not _processes(b"raylet") - before, "the sweep's own Ray cluster was left running"


def test_cli_sweep_on_a_running_head_ships_the_engine_to_its_workers(tmp_path):
    """`ray start --head` on 127.0.0.1 (outside the checkout), then the CLI from another folder with
    `--address HOST:PORT`: the workers import the engine the driver sent (runtime_env py_modules)."""
    import secrets
    import shutil
    import socket
    import tempfile

    temp = tempfile.mkdtemp(prefix="ray-t", dir="/tmp")  # Ray's socket paths must stay under 108 bytes
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
           "SPARSITY_LAB_DB": str(tmp_path / "cli.db")}
    ray_bin = str(Path(sys.executable).with_name("ray"))
    start = subprocess.run([ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
                            "--include-dashboard=false", "--disable-usage-stats", "--num-cpus=1",
                            "--object-store-memory=80000000", f"--temp-dir={temp}"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    try:
        assert start.returncode == 0, start.stderr[-2000:]
        out = tmp_path / "rows.json"
        done = subprocess.run(
            [sys.executable, "-m", "engine", "run", "ssumm-sweep", "builtin:karate", "--ratios", "0.3,0.6",
             "--iterations", "5", "--backend", "ray", "--address", f"127.0.0.1:{port}", "--quiet", "--json", str(out)],
            cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(out.read_text())
        assert result["backend"] == "ray" and len(result["rows"]) == 2 and result["failed"] == []
    finally:
        _stop_cluster_of(temp)  # only this head's processes (`ray stop` would stop every cluster here)
        shutil.rmtree(temp, ignore_errors=True)


def _stop_cluster_of(temp: str) -> None:
    """Kill, by pid, the processes of the Ray cluster whose session lives under ``temp``."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if temp.encode() in (d / "cmdline").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(1.0)
