"""Sweep backends: run a sweep's independent points here (``local``) or as Ray tasks (``ray``).

A sweep (methods × sparsities × seeds, SSumM ratios, a sensitivity grid's layers) is many
independent *points*. With ``backend="local"`` the sweep runs them one after another in its own
worker process, as it always did. With ``backend="ray"`` each point is one Ray task
(Moritz et al. 2018, "Ray: A Distributed Framework for Emerging AI Applications", OSDI) that
calls **the same point function** with the same config and seed, so a point's result does not
depend on the backend. Ray schedules the tasks; nothing here is a scheduler.

The run's own worker process is the Ray *driver*. Tasks never touch the SQLite run store: each
returns its result (a plain dict of numbers) to the driver, which reports it through the run's
reporter as it arrives — so the store gets metrics, logs and status exactly as from a local
sweep, and the app draws the curve point by point.

What travels: a point's config (a dict of settings) out, its result dict back; a sweep may also
send one shared object with every task (``shared``: put once in Ray's object store, e.g. a
graph's edge array or a trained model's weights). Data a point reads from a path (``data_path``)
must exist at the same path on every worker (shared file system); a point that does not find it
fails with that sentence. On a cluster that is not ``local`` the driver also ships this
checkout's ``engine`` package to the workers (Ray ``runtime_env`` ``py_modules``, about 1 MB,
cached by content), so workers need only the Python dependencies (requirements.txt), not the code.

Addresses (:func:`check_address`): ``local`` starts a Ray cluster on this machine for the sweep
(bound to 127.0.0.1 only, no dashboard, a small object store) and stops it afterwards; ``auto``
joins the cluster started on this machine with ``ray start``; ``HOST:PORT`` joins that cluster's
head (the driver must reach every node); ``ray://HOST:PORT`` connects through Ray Client (port
10001 of the head by default). A cluster on 127.0.0.1 (``local``, or a head started with
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 ray start --head --node-ip-address=127.0.0.1``) is run in
Ray's single-machine mode, so nothing it opens listens beyond loopback. Ray is imported only
here, and only when a sweep uses it.

Cancel: the sweep's ``should_stop`` is checked between results; on True every unfinished task is
cancelled with ``ray.cancel(force=True)`` (a running one's worker process is killed), and
finished points are kept. A task whose worker dies (killed, out of memory, node lost) is not
retried: its point is reported failed with the reason, and the other points go on.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.config import require
from engine.errors import ConfigError

BACKENDS = ("local", "ray")
ENGINE_DIR = Path(__file__).resolve().parents[1]  # the package Ray ships to a cluster's workers
#: Object store of a cluster started for one sweep: points return small dicts, so a little is plenty.
LOCAL_OBJECT_STORE_BYTES = 80 * 1024 * 1024
CANCEL_WAIT_S = 1.0  # how long the driver waits for cancelled tasks to end (the job runner terminates a run 2 s after its cancel)
_ADDRESS = re.compile(r"^(auto|local|(ray://)?[A-Za-z0-9_.\-]+:\d{1,5})$")


def ray_available() -> bool:
    """True if Ray can be imported here (checked without importing it).

    >>> isinstance(ray_available(), bool)
    True
    """
    return importlib.util.find_spec("ray") is not None


def check_address(address: str) -> None:
    """ConfigError unless ``address`` is ``auto``, ``local``, ``HOST:PORT`` or ``ray://HOST:PORT``.

    >>> check_address("ray://10.0.0.5:10001"), check_address("local")
    (None, None)
    >>> check_address("http://x")
    Traceback (most recent call last):
    ...
    engine.errors.ConfigError: Cluster address 'http://x' is not one of: auto, local, HOST:PORT, ray://HOST:PORT.
    """
    require(isinstance(address, str) and bool(_ADDRESS.match(address.strip())),
            f"Cluster address {address!r} is not one of: auto, local, HOST:PORT, ray://HOST:PORT.")


def check_backend(backend: str, address: str) -> None:
    """ConfigError for an unknown backend or address (no import of Ray)."""
    require(backend in BACKENDS, f"Backend must be one of {', '.join(BACKENDS)}, got {backend!r}.")
    check_address(address)


def _require_ray() -> None:
    if not ray_available():
        raise ConfigError("The ray backend needs the ray package (`pip install -r requirements.txt`); "
                          "use backend local to run the sweep here.")


def _import_ray():
    _require_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing reaches the internet
    import ray

    return ray


def _is_loopback(ray, address: str) -> bool:
    """True for ``local`` and for a cluster whose head is on 127.0.0.1 / localhost (``auto`` looked up)."""
    if address == "local":
        return True
    if address == "auto":
        try:
            from ray._private.services import get_ray_address_from_environment

            address = get_ray_address_from_environment("auto", None) or ""
        except Exception:  # noqa: BLE001 - no running cluster: ray.init says so
            return False
    host = address.removeprefix("ray://").rsplit(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "::1")


def _single_machine(ray, on: bool) -> None:
    """Ray's single-machine mode: its servers bind and register 127.0.0.1 instead of the node's IP.

    Ray reads it from ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` at import (the default on macOS and
    Windows); it is set here per connection, since a process may join a remote cluster later.
    """
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = not on


@contextlib.contextmanager
def connect(address: str = "local", *, num_cpus: int | None = None) -> Iterator[Any]:
    """Yield the ``ray`` module connected to ``address``; disconnect (and stop a ``local`` cluster) after.

    A process already connected (``ray.is_initialized()``: a test's or notebook's own cluster) is
    used as it is and left connected. ``num_cpus`` sizes a ``local`` cluster (default: the
    runner's worker count, cores − 1, so one core stays with the app; engine/runs/threads.py).
    """
    check_address(address)
    ray = _import_ray()
    if ray.is_initialized():
        yield ray
        return
    _single_machine(ray, _is_loopback(ray, address))
    from engine.runs import threads

    kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address == "local":
        kwargs.update(num_cpus=num_cpus or threads.max_workers(), include_dashboard=False,
                      object_store_memory=LOCAL_OBJECT_STORE_BYTES, _node_ip_address="127.0.0.1")
    else:  # workers elsewhere get this driver's engine code (~1 MB, cached by Ray per content hash)
        kwargs.update(address=address, runtime_env={"py_modules": [str(ENGINE_DIR)],
                                                    "excludes": ["__pycache__", "*.pyc"]})
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ConfigError(f"Could not connect to the Ray cluster at {address}: {err}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray) -> int:
    """CPUs of the connected cluster (all nodes)."""
    return int(ray.cluster_resources().get("CPU", 0))


def _run_point(target: str, payload: Any, shared: Any = None) -> Any:
    """The Ray task: call ``module:function`` on the payload (and the shared object), one thread.

    One torch thread per task, as the local runner gives each run (engine/runs/threads.py), so a
    point computes exactly what it computes locally.
    """
    from engine.runs import threads

    threads.apply(threads.threads_for("default", 1, 1))
    module, _, name = target.partition(":")
    fn = getattr(importlib.import_module(module), name)
    return fn(payload) if shared is None else fn(payload, shared)


def failure_reason(err: BaseException) -> str:
    """A sentence saying why a point failed (the task's own error, or its worker's death)."""
    cause = getattr(err, "cause", None)
    name = type(err).__name__
    text = str(err)
    if "No module named" in text:
        missing = text.split("No module named", 1)[1].split("\n", 1)[0].strip()
        return (f"The Ray worker could not import {missing}: install requirements.txt (same versions) on "
                "every node of the cluster.")
    if cause is not None and not isinstance(cause, type(err)):  # RayTaskError wraps the point's exception
        return f"{type(cause).__name__}: {cause}"
    if "WorkerCrashed" in name or "ActorDied" in name:
        return ("The Ray worker running this point died (killed, out of memory or crashed); "
                "the point was not retried.")
    if "NodeDied" in name or "ObjectLost" in name or "OwnerDied" in name:
        return f"The Ray node running this point was lost ({name})."
    if "OutOfMemory" in name:
        return "Ray stopped this point: its node ran out of memory."
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{name}: {first}"[:500]


def flush(reporter) -> None:
    """Write what a reporter buffered now (a point's row must reach the store when it arrives, not
    with the next point's; a :class:`~engine.runs.reporter.TeeReporter` flushes each of its reporters)."""
    for r in getattr(reporter, "reporters", (reporter,)):
        fn = getattr(r, "flush", None)
        if callable(fn):
            fn()


@dataclass
class PointsOutcome:
    """What :func:`run_points` did: how many points finished, failed, were cancelled; the cluster's CPUs."""

    finished: int = 0
    failed: int = 0
    cancelled: int = 0
    cpus: int = 0
    seconds: float = 0.0


def run_points(
    target: str,
    payloads: list[Any],
    *,
    address: str = "local",
    on_result: Callable[[int, Any], None],
    on_error: Callable[[int, str], None],
    should_stop: Callable[[], bool] = lambda: False,
    shared: Any = None,
    num_cpus: int | None = None,
    poll: float = 0.2,
    on_start: Callable[[int], None] | None = None,
    reporter=None,
) -> PointsOutcome:
    """Run ``target(payload[, shared])`` for every payload as a Ray task; call back as each ends.

    ``on_result(i, value)`` for a finished point ``i``, ``on_error(i, reason)`` for a failed one,
    both in the driver, in the order points end. ``should_stop`` is checked every ``poll`` seconds;
    when it is True the unfinished tasks are cancelled and their points reported to nobody (the
    caller knows which indices it got). ``on_start(cpus)`` is told the cluster's CPU count first.
    ``reporter`` (the sweep's) is flushed after each batch of ended points, so the store has them at once.
    """
    t0 = time.perf_counter()
    out = PointsOutcome()
    with connect(address, num_cpus=num_cpus) as ray:
        out.cpus = cluster_cpus(ray)
        if on_start is not None:
            on_start(out.cpus)
        if address.startswith("ray://"):  # Ray Client's proxy has no engine: send the task function by value
            ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        task = ray.remote(num_cpus=1, max_retries=0)(_run_point)  # a dead worker fails its point, no retry
        shared_ref = ray.put(shared) if shared is not None else None
        index = {}
        for i, p in enumerate(payloads):
            ref = task.remote(target, p) if shared_ref is None else task.remote(target, p, shared_ref)
            index[ref] = i
        pending = list(index)
        while pending:
            if should_stop():
                out.cancelled = _cancel(ray, pending)
                break
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=poll, fetch_local=True)
            for ref in done:
                i = index[ref]
                try:
                    value = ray.get(ref)
                except ray.exceptions.TaskCancelledError:
                    out.cancelled += 1
                    continue
                except Exception as err:  # noqa: BLE001 - any task failure fails its point only
                    out.failed += 1
                    on_error(i, failure_reason(err))
                    continue
                out.finished += 1
                on_result(i, value)
            if done and reporter is not None:
                flush(reporter)
    out.seconds = time.perf_counter() - t0
    return out


def _cancel(ray, pending: list) -> int:
    """``ray.cancel`` every pending task (killing running ones' workers); wait a little for them."""
    for ref in pending:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)
    with contextlib.suppress(Exception):
        ray.wait(pending, num_returns=len(pending), timeout=CANCEL_WAIT_S)
    return len(pending)


# ----------------------------------------------------------------------- cluster probe for the app
def probe(address: str, timeout: float = 20.0) -> dict:
    """The cluster's CPUs and nodes, asked from a separate process (the app never imports Ray).

    Returns ``{"cpus": n, "nodes": k}``, or ``{"error": sentence}``. ``local`` needs no probe: a
    cluster started here for the sweep gets the runner's worker count (cores − 1).
    """
    from engine.runs import threads

    if not ray_available():
        return {"error": "Ray is not installed here (pip install -r requirements.txt)."}
    try:
        check_address(address)
    except ConfigError as err:
        return {"error": str(err)}
    if address == "local":
        return {"cpus": threads.max_workers(), "nodes": 1,
                "note": "started on this machine for each sweep; one core stays with the app"}
    try:
        done = subprocess.run([sys.executable, "-m", "engine.runs.ray_backend", address], capture_output=True,
                              text=True, timeout=timeout, env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"))
    except subprocess.TimeoutExpired:
        return {"error": f"No Ray cluster answered at {address} within {timeout:.0f} s."}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"error": f"No Ray cluster answered at {address}."}
    return json.loads(lines[-1])


def _probe_main(address: str) -> int:
    try:
        with connect(address) as ray:
            print(json.dumps({"cpus": cluster_cpus(ray), "nodes": sum(n.get("Alive", False) for n in ray.nodes())}))
    except ConfigError as err:
        print(json.dumps({"error": str(err)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(_probe_main(sys.argv[1] if len(sys.argv) > 1 else "auto"))
