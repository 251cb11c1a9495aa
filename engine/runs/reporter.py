"""The Reporter protocol: the only way an experiment tells the world what it is doing.

An experiment is ``run_xxx(config, reporter) -> dict``. It calls
``reporter.progress(step, total)``, ``reporter.metric(name, value, step)``,
``reporter.snapshot(name, array, step)`` (masks, adjacency matrices: throttled by the store
reporter unless ``force=True``), ``reporter.log(text)``, ``reporter.artifact(name, bytes, mime)``
(files the user can download afterwards: a model, a summary) and checks ``reporter.should_stop()`` every step: when it
returns True the experiment returns early with what it has (the run ends as ``cancelled``).
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Reporter(Protocol):
    def progress(self, step: int, total: int) -> None: ...
    def metric(self, name: str, value: float, step: int) -> None: ...
    def snapshot(self, name: str, array: np.ndarray, step: int, *, force: bool = False) -> None: ...
    def log(self, text: str) -> None: ...
    def artifact(self, name: str, data: bytes, mime: str = "application/octet-stream") -> None: ...
    def should_stop(self) -> bool: ...


class MemoryReporter:
    """Keeps everything in memory; for tests and notebooks.

    ``stop_after`` makes ``should_stop`` return True after that many calls (to test cancel).
    """

    def __init__(self, stop_after: int | None = None) -> None:
        self.metrics: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.snapshots: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
        self.logs: list[str] = []
        self.artifacts: dict[str, tuple[bytes, str]] = {}
        self.progress_calls: list[tuple[int, int]] = []
        self._stop_after = stop_after
        self._stop_calls = 0
        self.stop_requested = False

    def progress(self, step: int, total: int) -> None:
        self.progress_calls.append((int(step), int(total)))

    def metric(self, name: str, value: float, step: int) -> None:
        self.metrics[name].append((int(step), float(value)))

    def snapshot(self, name: str, array: np.ndarray, step: int, *, force: bool = False) -> None:
        self.snapshots[name].append((int(step), np.array(array, copy=True)))

    def log(self, text: str) -> None:
        self.logs.append(str(text))

    def artifact(self, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
        self.artifacts[name] = (bytes(data), mime)

    def should_stop(self) -> bool:
        self._stop_calls += 1
        if self._stop_after is not None and self._stop_calls > self._stop_after:
            self.stop_requested = True
        return self.stop_requested

    def values(self, name: str) -> list[float]:
        """The values reported under ``name``, in order."""
        return [v for _, v in self.metrics.get(name, [])]


class NullReporter(MemoryReporter):
    """Discards everything (benchmarks that measure the experiment alone)."""

    def metric(self, name: str, value: float, step: int) -> None:
        pass

    def snapshot(self, name: str, array: np.ndarray, step: int, *, force: bool = False) -> None:
        pass


class Throttle:
    """Lets an event through at most once per ``interval`` seconds per key."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}

    def ready(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(key, -1e18) >= self.interval:
            self._last[key] = now
            return True
        return False


class StoreReporter:
    """Writes a run's events to the :class:`~engine.runs.store.RunStore`, cheaply.

    Metrics, logs and progress are buffered and flushed in one transaction at most every
    ``flush_interval`` seconds; snapshots are throttled per name to one every
    ``snapshot_interval`` seconds (``force=True`` always writes) and stored compressed; the cancel
    flag is read at most every ``stop_interval`` seconds. This keeps reporting a few percent of a
    training step (see bench/reporting_overhead.py).
    """

    def __init__(
        self,
        store,
        run_id: int,
        *,
        flush_interval: float = 0.25,
        snapshot_interval: float = 0.5,
        stop_interval: float = 0.1,
    ) -> None:
        self.store, self.run_id = store, run_id
        self.flush_interval = flush_interval
        self._snap_throttle = Throttle(snapshot_interval)
        self._stop_throttle = Throttle(stop_interval)
        self._metrics: list[tuple[int, str, float]] = []
        self._snapshots: list[tuple[int, str, bytes]] = []
        self._logs: list[tuple[float, str]] = []
        self._progress: tuple[int, int] | None = None
        self._seen: set[str] = set()
        self._last_flush = time.monotonic()
        self.stop_requested = False

    def progress(self, step: int, total: int) -> None:
        self._progress = (int(step), int(total))
        self._maybe_flush()

    def metric(self, name: str, value: float, step: int) -> None:
        self._metrics.append((int(step), name, float(value)))
        self._maybe_flush()

    def snapshot(self, name: str, array: np.ndarray, step: int, *, force: bool = False) -> None:
        if force or self._snap_throttle.ready(name):
            from engine.runs.store import encode_array

            first = name not in self._seen  # the first picture of each name goes out at once
            self._seen.add(name)
            self._snapshots.append((int(step), name, encode_array(array)))
            self._maybe_flush(force=force or first)

    def log(self, text: str) -> None:
        self._logs.append((time.time(), str(text)))
        self._maybe_flush()

    def artifact(self, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
        self.flush()
        self.store.put_artifact(self.run_id, name, bytes(data), mime)

    def should_stop(self) -> bool:
        if not self.stop_requested and self._stop_throttle.ready("stop"):
            self.stop_requested = self.store.cancel_requested(self.run_id)
        return self.stop_requested

    def _maybe_flush(self, force: bool = False) -> None:
        if force or time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush()

    def flush(self) -> None:
        """Write everything buffered in one transaction; on a store error keep the buffer."""
        if not (self._metrics or self._snapshots or self._logs or self._progress):
            return
        self.store.write_events(
            self.run_id, metrics=self._metrics, snapshots=self._snapshots, logs=self._logs, progress=self._progress
        )
        self._metrics, self._snapshots, self._logs, self._progress = [], [], [], None
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()


class TeeReporter:
    """Sends every event to several reporters (e.g. the store and a terminal progress bar)."""

    def __init__(self, *reporters) -> None:
        self.reporters = reporters

    def progress(self, step: int, total: int) -> None:
        for r in self.reporters:
            r.progress(step, total)

    def metric(self, name: str, value: float, step: int) -> None:
        for r in self.reporters:
            r.metric(name, value, step)

    def snapshot(self, name: str, array: np.ndarray, step: int, *, force: bool = False) -> None:
        for r in self.reporters:
            r.snapshot(name, array, step, force=force)

    def log(self, text: str) -> None:
        for r in self.reporters:
            r.log(text)

    def artifact(self, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
        for r in self.reporters:
            r.artifact(name, data, mime)

    def should_stop(self) -> bool:
        return any(r.should_stop() for r in self.reporters)

    @property
    def stop_requested(self) -> bool:
        return any(getattr(r, "stop_requested", False) for r in self.reporters)
