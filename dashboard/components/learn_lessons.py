"""The Learn course: its lessons, their pages and the controls a teacher can pin or hide.

One list is the single source for the navigation entries, the course index, the teacher-link
builder and the tests (each lesson page's controls must be exactly those listed here, with these
defaults; ``tests/dashboard/test_learn.py`` checks it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Control:
    key: str  # the widget key = the query parameter's name
    label: str
    default: Any
    options: tuple = ()  # for choices; empty for numbers and booleans


@dataclass(frozen=True)
class Lesson:
    number: int
    file: str  # under dashboard/pages/
    title: str
    controls: tuple[Control, ...] = field(default_factory=tuple)

    @property
    def url_path(self) -> str:
        return self.file.removesuffix(".py")

    def defaults(self) -> dict[str, Any]:
        return {c.key: c.default for c in self.controls}


LESSONS: list[Lesson] = [
    Lesson(1, "learn_01_storage.py", "1 · Dense vs sparse: what it costs to store", (
        Control("sparsity", "Sparsity", 0.5),
        Control("nm", "N:M pattern", "2:4", ("2:4", "1:4", "2:8", "1:8")),
        Control("values", "Value type", "fp32", ("fp32", "fp16")),
        Control("seed", "Seed", 0),
    )),
    Lesson(2, "learn_02_patterns.py", "2 · Unstructured, N:M, structured: what gets faster", (
        Control("features", "Layer width (in = out)", 512, (256, 512, 1024)),
        Control("batch", "Batch size", 64, (1, 16, 64, 256)),
    )),
    Lesson(3, "learn_03_when.py", "3 · When is sparsity decided? Pruning vs sparse training", (
        Control("sparsity", "Sparsity", 0.9),
        Control("epochs", "Epochs", 10),
        Control("finetune", "Fine-tune epochs", 3),
        Control("rounds", "IMP rounds", 5),
    )),
    Lesson(4, "learn_04_dynamic.py", "4 · Static vs dynamic sparsity (playground)", (
        Control("data", "Data", "moons", ("moons", "circles", "spirals")),
        Control("method", "Method", "rigl", ("static", "set", "rigl")),
        Control("sparsity", "Sparsity", 0.5),
        Control("hidden", "Hidden layers", "8,8", ("4,4", "8,8", "8,8,8", "16,16")),
        Control("dt", "ΔT (steps between updates)", 25),
        Control("alpha", "Drop fraction α", 0.3),
        Control("decay", "Drop-fraction decay", "cosine", ("cosine", "constant")),
        Control("seed", "Seed", 0),
    )),
    Lesson(5, "learn_05_tickets.py", "5 · Lottery tickets: the ticket and its controls", (
        Control("data", "Data", "moons", ("moons", "circles", "spirals")),
        Control("sparsity", "Sparsity of the hidden layers", 0.9),
        Control("rounds", "IMP rounds", 3),
        Control("seed", "Seed", 0),
    )),
    Lesson(6, "learn_06_budgets.py", "6 · Layer-wise budgets and layer collapse", (
        Control("data", "Data", "moons", ("moons", "circles", "spirals")),
        Control("sparsity", "Overall sparsity", 0.9, (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)),
        Control("seed", "Seed", 0),
    )),
    Lesson(8, "learn_08_summaries.py", "8 · Graph summarisation as compression (karate club)", (
        Control("ratio", "Budget (fraction of the input's bits)", 0.4),
        Control("error", "Error to minimise", "l1", ("l1", "l2")),
        Control("seed", "Seed", 0),
    )),
    Lesson(9, "learn_09_adjacency.py", "9 · Learned adjacency: a top-k graph from embeddings", (
        Control("embedding", "Embeddings", "series", ("series", "random")),
        Control("k", "k (neighbours per row)", 4),
        Control("alpha", "α", 3.0),
        Control("noise", "Sensor noise", 0.15),
        Control("seed", "Seed", 0),
    )),
    Lesson(10, "learn_10_faster.py", "10 · Is sparse faster? FLOPs vs measured latency", (
        Control("density", "Density (fraction of weights kept)", 0.1, (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)),
        Control("width", "Hidden width (64 → w → w → 10)", 512, (128, 512, 1024)),
    )),
    Lesson(7, "learn_07_schedules.py", "7 · Schedules, drawn from the runs' own code", (
        Control("steps", "Training steps", 1000),
        Control("sparsity", "Final sparsity", 0.9),
        Control("rounds", "IMP rounds", 5),
        Control("alpha", "RigL drop fraction α", 0.3),
        Control("dt", "ΔT (steps between updates)", 25),
        Control("nm", "N:M target", "2:4", ("2:4", "1:4", "2:8", "1:8")),
    )),
]

LESSONS.sort(key=lambda les: les.number)


def lesson(file: str) -> Lesson:
    return next(l for l in LESSONS if l.file == file)
