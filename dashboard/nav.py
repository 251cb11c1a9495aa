"""The app's navigation: sections and their pages. A page whose file is missing is not shown."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).parent / "pages"


@dataclass(frozen=True)
class PageSpec:
    section: str
    file: str  # relative to dashboard/pages/
    title: str
    icon: str
    default: bool = False


PAGES: list[PageSpec] = [
    PageSpec("Sparse training", "sparse_train.py", "Train & prune", ":material/grid_on:", default=True),
    PageSpec("Sparse training", "sparse_compare.py", "Accuracy vs sparsity", ":material/show_chart:"),
    PageSpec("Sparse training", "sparse_sensitivity.py", "Layer sensitivity", ":material/tune:"),
    PageSpec("Graphs", "graphs_summarize.py", "Summarize (SSumM)", ":material/hub:"),
    PageSpec("Graphs", "graphs_learn.py", "Sparsify for learning", ":material/model_training:"),
    PageSpec("Time series", "anomaly_stackvaeg.py", "Learned adjacency (StackVAE-G)", ":material/timeline:"),
    PageSpec("Runs", "runs.py", "All runs", ":material/history:"),
    PageSpec("Learn", "learn.py", "Concepts", ":material/school:"),
]


def available_pages() -> list[PageSpec]:
    """Pages whose file exists, in declaration order."""
    return [p for p in PAGES if (PAGES_DIR / p.file).exists()]
