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
    PageSpec("Sparse training", "sparse_sae.py", "Sparse autoencoders", ":material/scatter_plot:"),
    PageSpec("Sparse training", "sparse_quickselection.py", "Feature selection", ":material/filter_alt:"),
    PageSpec("Graphs", "graphs_summarize.py", "Summarize (SSumM)", ":material/hub:"),
    PageSpec("Graphs", "graphs_learn.py", "Sparsify for learning", ":material/model_training:"),
    PageSpec("Time series", "anomaly_stackvaeg.py", "Learned adjacency (StackVAE-G)", ":material/timeline:"),
    PageSpec("Time series", "anomaly_inspect.py", "Inspect an adjacency", ":material/grid_view:"),
    PageSpec("Runs", "runs.py", "All runs", ":material/history:"),
    PageSpec("Learn", "learn.py", "Course & concepts", ":material/school:"),
    PageSpec("Learn", "learn_01_storage.py", "1 · Storing sparse matrices", ":material/storage:"),
    PageSpec("Learn", "learn_02_patterns.py", "2 · What gets faster", ":material/speed:"),
    PageSpec("Learn", "learn_03_when.py", "3 · When sparsity is decided", ":material/timeline:"),
    PageSpec("Learn", "learn_04_dynamic.py", "4 · Static vs dynamic (playground)", ":material/hub:"),
    PageSpec("Learn", "learn_05_tickets.py", "5 · Lottery tickets", ":material/confirmation_number:"),
    PageSpec("Learn", "learn_06_budgets.py", "6 · Layer budgets & collapse", ":material/bar_chart:"),
    PageSpec("Learn", "learn_07_schedules.py", "7 · Schedules", ":material/schedule:"),
    PageSpec("Learn", "learn_08_summaries.py", "8 · Graph summaries", ":material/hub:"),
    PageSpec("Learn", "learn_09_adjacency.py", "9 · Learned adjacency", ":material/grid_4x4:"),
    PageSpec("Learn", "learn_10_faster.py", "10 · Is sparse faster?", ":material/timer:"),
    PageSpec("Learn", "learn_teacher.py", "Teacher links", ":material/link:"),
]


def available_pages() -> list[PageSpec]:
    """Pages whose file exists, in declaration order."""
    return [p for p in PAGES if (PAGES_DIR / p.file).exists()]
