"""A toy experiment that exercises the run pipeline (tests and the reporting benchmark).

It is not shown in the app: it counts steps, reports a decaying "loss", a moving 8×8 mask, and can
crash, diverge or sleep per step, so tests can check cancel, crash and NaN handling quickly.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.config import Config, require
from engine.errors import RunDiverged


@dataclass(frozen=True)
class ToyConfig(Config):
    steps: int = 20
    step_seconds: float = 0.0
    crash_at: int = -1  # raise RuntimeError at this step
    nan_at: int = -1  # loss becomes NaN at this step
    seed: int = 0

    def validate(self) -> None:
        require(self.steps > 0, "steps must be at least 1")
        require(self.step_seconds >= 0, "step_seconds cannot be negative")


def run_toy(config: ToyConfig, reporter) -> dict:
    rng = np.random.default_rng(config.seed)
    loss = 1.0
    step = 0
    for step in range(config.steps):
        if reporter.should_stop():
            break
        if step == config.crash_at:
            raise RuntimeError(f"toy crash at step {step}")
        loss = float("nan") if step == config.nan_at else loss * 0.9 + 0.01 * rng.random()
        reporter.metric("loss", loss, step)
        if not np.isfinite(loss):
            raise RunDiverged(f"Loss became NaN at step {step}; the run stopped and kept its history.")
        reporter.snapshot("mask", (np.arange(64).reshape(8, 8) + step) % 3 == 0, step)
        reporter.progress(step + 1, config.steps)
        if config.step_seconds:
            time.sleep(config.step_seconds)
    reporter.snapshot("mask", (np.arange(64).reshape(8, 8) + step) % 3 == 0, step, force=True)
    reporter.artifact("final.txt", f"loss={loss}".encode(), "text/plain")
    return {"final_loss": loss, "steps_done": step + 1}


EXPERIMENTS = {"toy": (ToyConfig, run_toy)}
