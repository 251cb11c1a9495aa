"""What an engineer takes away from a StackVAE-G run: the learned adjacency (CSV with channel
names, ``.npy``), its top-k edge list, the per-time-step scores, and the time axis of the test part
(rows of the uploaded file, or its timestamps).

Row ``i`` of the adjacency Ã holds the weights channel ``i`` draws from each channel ``j``
(StackVAE-G mixes latents along Ã's rows; Li et al., 2021, Eq. 7), so an edge reads ``i ← j``.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from engine.anomaly.datasets import TIME_NAMES, _looks_like_dates


def adjacency_csv(adjacency, names: list[str]) -> str:
    """Ã as CSV: a header row and a first column of channel names.

    >>> print(adjacency_csv([[1, 0.5], [0, 1]], ["a", "b"]), end="")
    channel,a,b
    a,1.0,0.5
    b,0.0,1.0
    """
    a = np.asarray(adjacency, dtype=float)
    frame = pd.DataFrame(a, index=pd.Index(names, name="channel"), columns=names)
    return frame.to_csv(lineterminator="\n")


def adjacency_npy(adjacency) -> bytes:
    """Ã as a NumPy ``.npy`` file (float64, rows and columns in the channel order of the data).

    >>> np.load(io.BytesIO(adjacency_npy([[1, 2], [3, 4]]))).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    buf = io.BytesIO()
    np.save(buf, np.asarray(adjacency, dtype=np.float64), allow_pickle=False)
    return buf.getvalue()


def edge_list(adjacency, names: list[str], k: int) -> pd.DataFrame:
    """Each channel's ``k`` strongest neighbours (off the diagonal, weight > 0), strongest first.

    >>> edge_list([[1, .5, .2], [.1, 1, 0], [0, .4, 1]], ["a", "b", "c"], 1).values.tolist()
    [['a', 'b', 1, 0.5], ['b', 'a', 1, 0.1], ['c', 'b', 1, 0.4]]
    """
    a = np.asarray(adjacency, dtype=float).copy()
    np.fill_diagonal(a, 0.0)
    rows = []
    for i, row in enumerate(a):
        picked = [j for j in np.argsort(-row, kind="stable")[:k] if row[j] > 0]
        rows += [(names[i], names[j], rank, float(row[j])) for rank, j in enumerate(picked, 1)]
    return pd.DataFrame(rows, columns=["channel", "neighbour", "rank", "weight"])


def scores_csv(scores, labels=None, threshold: float | None = None, *, axis=None,
               axis_name: str = "test_step") -> str:
    """One row per test time step: its position (``axis``, default 0, 1, …), score, label and
    whether the score exceeds the POT threshold.

    >>> print(scores_csv([0.1, 2.0], [0, 1], 1.0), end="")
    test_step,score,label,above_threshold
    0,0.1,0,0
    1,2.0,1,1
    """
    s = np.asarray(scores, dtype=float)
    frame = pd.DataFrame({axis_name: np.arange(len(s)) if axis is None else axis, "score": s})
    if labels is not None and len(labels) == len(s):
        frame["label"] = np.asarray(labels).astype(int)
    if threshold is not None and np.isfinite(threshold):
        frame["above_threshold"] = (s > threshold).astype(int)
    return frame.to_csv(index=False, lineterminator="\n")


def time_axis(config: dict, test_rows: int) -> tuple[str, np.ndarray]:
    """(axis title, one value per test row): timestamps when an uploaded CSV has a time column,
    else its row numbers (1 = first data row); for built-in data, the test time step.

    >>> time_axis({"data": "synthetic"}, 3)
    ('test time step', array([0, 1, 2]))
    """
    if config.get("data") != "csv" or not Path(config.get("csv_path", "")).is_file():
        return "test time step", np.arange(test_rows)
    frame = pd.read_csv(config["csv_path"])
    start = len(frame) - test_rows
    first = frame.iloc[:, 0]
    if str(frame.columns[0]).strip().lower() in TIME_NAMES or _looks_like_dates(first):
        stamps = pd.to_datetime(first, errors="coerce", format="mixed")
        if stamps.notna().mean() > 0.9:
            return str(frame.columns[0]), stamps.to_numpy()[start:]
        return str(frame.columns[0]), first.to_numpy()[start:]
    return "row of the CSV file", np.arange(start, len(frame)) + 1
