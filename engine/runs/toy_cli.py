"""CLI for the toy pipeline experiment (``python -m engine run toy --steps 50``), used by tests."""
from __future__ import annotations


def register(subparsers, common) -> None:
    from engine.runs.toy import ToyConfig

    p = subparsers.add_parser("toy", parents=[common], help="a toy run that exercises the pipeline")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--step-seconds", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(
        kind="toy",
        build_config=lambda a: ToyConfig(steps=a.steps, step_seconds=a.step_seconds, seed=a.seed),
        after=None,
    )
