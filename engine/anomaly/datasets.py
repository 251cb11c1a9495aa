"""Multivariate time series for anomaly detection: SMD, SMAP, CSV, with documented repairs.

Layouts (see the shared data README):

* **SMD** (Su et al., KDD 2019, OmniAnomaly release, MIT): ``train/<m>.txt[.gz]``,
  ``test/<m>.txt[.gz]`` (38 comma-separated floats per row), ``test_label/<m>.txt`` (one 0/1 per
  row), ``interpretation_label/<m>.txt`` (``start-end:d1,d2,...``, end exclusive, dims 1-based).
* **SMAP** (Hundman et al., KDD 2018, telemanom): ``train/<c>.npy[.gz]``, ``test/<c>.npy[.gz]``
  of shape (T, 25) (column 0 telemetry, 1..24 command flags) and ``labeled_anomalies.csv``
  with inclusive ``[start, end]`` pairs.
* **CSV**: one numeric column per channel, optional label column (``label``/``anomaly``), an
  optional leading time column is dropped; the first ``train_fraction`` of rows train the model.

Repairs, each recorded in ``TimeSeriesData.notes``: NaN and +-inf are forward-filled (then
back-filled; a column with no finite value becomes 0); constant channels are kept and scaled by 1;
values are min-max scaled with the *training* minimum and range.
"""
from __future__ import annotations

import ast
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import DataError

SMD_SOURCE = ("Server Machine Dataset (Su et al., KDD 2019), OmniAnomaly repository by NetManAIOps, "
              "MIT licence")
SMAP_SOURCE = ("NASA SMAP telemetry (Hundman et al., KDD 2018, telemanom), as redistributed in the "
               "TranAD repository")
LABEL_NAMES = ("label", "labels", "anomaly", "is_anomaly", "attack")
TIME_NAMES = ("time", "timestamp", "date", "datetime", "ts")


@dataclass(frozen=True)
class Segment:
    """An anomalous stretch ``[start, end)`` of the test series and the channels that explain it."""

    start: int
    end: int
    channels: tuple[int, ...] = ()  # 0-based
    kind: str | None = None  # synthetic data: "sensor" or "system"


@dataclass
class TimeSeriesData:
    """A train/test pair of (time, channels) float32 arrays with test labels."""

    name: str
    train: np.ndarray
    test: np.ndarray
    labels: np.ndarray | None
    channel_names: list[str]
    segments: list[Segment] = field(default_factory=list)
    source: str = ""
    notes: list[str] = field(default_factory=list)
    true_graph: np.ndarray | None = None  # synthetic data only: (n, n) bool
    groups: np.ndarray | None = None  # synthetic data only: group of each channel

    @property
    def n_channels(self) -> int:
        return int(self.train.shape[1])


# ------------------------------------------------------------------------- repairs
F32_MAX = float(np.finfo(np.float32).max)
def clean(values: np.ndarray, what: str) -> tuple[np.ndarray, list[str]]:
    """Forward-fill NaN/inf per column (then back-fill; all-missing columns become 0).

    >>> x, notes = clean(np.array([[1.0, np.nan], [np.inf, 2.0], [3.0, 4.0]]), "train")
    >>> x.tolist(), len(notes)
    ([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]], 1)
    """
    x = np.array(values, dtype=np.float64)
    bad = ~np.isfinite(x)
    notes: list[str] = []
    big = np.abs(np.where(bad, 0.0, x)).max(initial=0.0)
    if big > F32_MAX:
        raise DataError(f"{what}: values up to {big:.3g} exceed the range the model computes in (32-bit floats, "
                        f"±{F32_MAX:.3g}); rescale the data (e.g. divide by a power of ten).")
    if bad.any():
        frame = pd.DataFrame(np.where(bad, np.nan, x))
        empty = [int(c) for c in frame.columns[frame.isna().all()]]
        x = frame.ffill().bfill().fillna(0.0).to_numpy()
        notes.append(f"{what}: {int(bad.sum())} NaN/infinite value(s) in {int(bad.any(0).sum())} "
                     f"channel(s) forward-filled" + (f"; channel(s) {empty} had no finite value and "
                                                     f"were set to 0" if empty else "") + ".")
    return x.astype(np.float32), notes


def minmax_scale(train: np.ndarray, test: np.ndarray,
                 names: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Scale both with the training minimum and range; a constant channel gets range 1.

    >>> tr, te, notes = minmax_scale(np.array([[0., 5.], [2., 5.]]), np.array([[1., 6.]]), ["a", "b"])
    >>> tr.tolist(), te.tolist(), notes
    ([[0.0, 0.0], [1.0, 0.0]], [[0.5, 1.0]], ['Constant channel(s) in training data kept unscaled: b.'])
    """
    lo, span = train.min(axis=0), np.ptp(train, axis=0)
    const = span < 1e-12
    span = np.where(const, 1.0, span)
    notes = []
    if const.any():
        shown = ", ".join(names[i] for i in np.flatnonzero(const)[:10]) + (" ..." if const.sum() > 10 else "")
        notes.append(f"Constant channel(s) in training data kept unscaled: {shown}.")
    scale = lambda a: ((a - lo) / span).astype(np.float32)  # noqa: E731
    return scale(train), scale(test), notes


def check_ready(data: TimeSeriesData, window: int) -> None:
    """Raise DataError when ``data`` cannot be windowed or its labels do not line up."""
    for part, arr in (("training", data.train), ("test", data.test)):
        if arr.ndim != 2 or arr.shape[1] < 1:
            raise DataError(f"The {part} data must be a table with at least one channel.")
        if arr.shape[0] < window:
            raise DataError(f"The {part} part has {arr.shape[0]} rows, fewer than the window of "
                            f"{window}; lower the window to at most {arr.shape[0]}.")
    if data.train.shape[1] != data.test.shape[1]:
        raise DataError(f"Training data has {data.train.shape[1]} channels but test data has "
                        f"{data.test.shape[1]}.")
    if data.labels is not None and len(data.labels) != len(data.test):
        raise DataError(f"There are {len(data.labels)} labels for {len(data.test)} test rows; "
                        "they must match one to one.")


def prepared(data: TimeSeriesData, window: int) -> TimeSeriesData:
    """Repaired, min-max scaled copy of ``data``, checked for ``window``; notes say what changed."""
    train, n1 = clean(data.train, "training data")
    test, n2 = clean(data.test, "test data")
    out = TimeSeriesData(**{**data.__dict__, "train": train, "test": test,
                            "notes": list(data.notes) + n1 + n2})
    check_ready(out, window)
    out.train, out.test, n3 = minmax_scale(train, test, out.channel_names)
    out.notes += n3
    if out.n_channels == 1:
        out.notes.append("One channel only: the learned graph is trivial (the channel's own self-loop).")
    return out


# ------------------------------------------------------------------------- readers
# what a malformed file of a dataset folder can raise while it is read
_READ_ERRORS = (ValueError, KeyError, IndexError, TypeError, SyntaxError, UnicodeDecodeError, OSError,
                EOFError, pd.errors.ParserError, pd.errors.EmptyDataError)


def _read(path: Path, what: str, reader):
    """``reader(path)``, with any parse error turned into a DataError that names the file."""
    try:
        return reader(path)
    except DataError:
        raise
    except _READ_ERRORS as err:
        reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise DataError(f"Cannot read {what} {path.name} ({reason}); is it the dataset's original file?") from None


def _table(path: Path, what: str) -> np.ndarray:
    """A numeric table of a dataset folder (CSV without header, any number of columns)."""
    values = _read(path, what, lambda p: pd.read_csv(p, header=None).to_numpy(dtype=np.float64))
    if values.ndim != 2 or values.size == 0:
        raise DataError(f"{what} {path.name} holds no numbers.")
    return values


def _find(folder: Path, stem: str, exts: tuple[str, ...]) -> Path:
    for ext in exts:
        p = folder / f"{stem}{ext}"
        if p.exists():
            return p
    raise DataError(f"Missing file {folder / (stem + exts[0])} (or {exts[1:]}).")


def _smd_root(root: str | Path) -> Path:
    root = Path(root)
    if not (root / "train").is_dir() and (root / "SMD" / "train").is_dir():
        root = root / "SMD"
    if not (root / "train").is_dir():
        raise DataError(f"{root} is not an SMD folder (expected train/, test/, test_label/ inside).")
    return root


def list_smd_machines(root: str | Path) -> list[str]:
    """Machine names present in an SMD folder (sorted)."""
    r = _smd_root(root)
    return sorted(p.name.split(".")[0] for p in (r / "train").glob("machine-*.txt*"))


def load_smd(root: str | Path, machine: str) -> TimeSeriesData:
    """One SMD machine, raw (no scaling): 38 channels, test labels and interpretation segments."""
    r = _smd_root(root)
    machines = list_smd_machines(r)
    if machine not in machines:
        raise DataError(f"SMD machine '{machine}' not found in {r}; available: {', '.join(machines)}.")
    train = _table(_find(r / "train", machine, (".txt", ".txt.gz")), "SMD training file")
    test = _table(_find(r / "test", machine, (".txt", ".txt.gz")), "SMD test file")
    labels = _read(_find(r / "test_label", machine, (".txt", ".txt.gz")), "SMD label file",
                   _labels)
    segments = []
    interp = r / "interpretation_label" / f"{machine}.txt"
    if interp.exists():
        segments = _read(interp, "SMD interpretation file", lambda p: _segments(p.read_text(), train.shape[1]))
    names = [f"dim{i + 1}" for i in range(train.shape[1])]
    return TimeSeriesData(f"SMD {machine}", train, test, labels, names, segments, SMD_SOURCE)


def _labels(path: Path) -> np.ndarray:
    """One 0/1 per line (SMD's test_label files)."""
    values = pd.read_csv(path, header=None).to_numpy().reshape(-1).astype(np.float64)
    if not np.isin(values, (0.0, 1.0)).all():
        raise DataError(f"SMD label file {path.name} must hold one 0 or 1 per line.")
    return values.astype(np.int8)


def _segments(text: str, channels: int) -> list[Segment]:
    """``start-end:d1,d2`` lines (dimensions 1-based) → segments with 0-based channels."""
    out = []
    for line in text.split():
        span, dims = line.split(":")
        start, end = (int(v) for v in span.split("-"))
        chans = tuple(int(d) - 1 for d in dims.split(",") if d)
        if start < 0 or end <= start or any(not 0 <= c < channels for c in chans):
            raise ValueError(f"bad segment line '{line}'")
        out.append(Segment(start, end, chans))
    return out


def _smap_root(root: str | Path) -> Path:
    root = Path(root)
    if not (root / "labeled_anomalies.csv").exists() and (root / "SMAP" / "labeled_anomalies.csv").exists():
        root = root / "SMAP"
    if not (root / "labeled_anomalies.csv").exists():
        raise DataError(f"{root} is not a SMAP folder (expected labeled_anomalies.csv, train/, test/).")
    return root


def _smap_table(r: Path) -> pd.DataFrame:
    path = r / "labeled_anomalies.csv"
    table = _read(path, "SMAP table", pd.read_csv)
    missing = [c for c in ("chan_id", "spacecraft", "anomaly_sequences") if c not in table.columns]
    if missing:
        raise DataError(f"SMAP table {path.name} lacks the column(s) {', '.join(missing)}; "
                        "expected telemanom's labeled_anomalies.csv.")
    table = table[table["spacecraft"] == "SMAP"]
    counts = table["chan_id"].value_counts()
    return table[table["chan_id"].map(counts) == 1]  # P-2 appears twice: conventionally dropped


def list_smap_channels(root: str | Path) -> list[str]:
    """SMAP channel ids with a train file and a single labelled row."""
    r = _smap_root(root)
    have = {p.name.split(".")[0] for p in (r / "train").glob("*.npy*")}
    return sorted(c for c in _smap_table(r)["chan_id"] if c in have)


def _load_npy(path: Path) -> np.ndarray:
    if path.suffix == ".gz":
        with gzip.open(path) as fh:
            return np.load(io.BytesIO(fh.read()))
    return np.load(path)


def _load_npy_table(path: Path) -> np.ndarray:
    """A (T, channels) float array from a telemanom .npy (never unpickles: allow_pickle is off)."""
    a = np.asarray(_load_npy(path), dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"expected a (time, channels) array, got shape {a.shape}")
    return a


def _sequences(text: str, n: int) -> list[tuple[int, int]]:
    """telemanom's ``[[start, end], ...]`` (inclusive) checked against the test length ``n``."""
    seqs = ast.literal_eval(str(text))
    out = [(int(a), int(b)) for a, b in seqs]
    if any(not 0 <= a <= b for a, b in out):
        raise ValueError(f"bad anomaly sequence in {str(text)[:60]}")
    return out


def load_smap(root: str | Path, channel: str) -> TimeSeriesData:
    """One SMAP channel file: (T, 25), column 0 telemetry, 1..24 command flags; raw values."""
    r = _smap_root(root)
    table = _smap_table(r)
    row = table[table["chan_id"] == channel]
    if row.empty:
        raise DataError(f"SMAP channel '{channel}' not found (or duplicated, like P-2); available: "
                        f"{', '.join(list_smap_channels(r))}.")
    train = _read(_find(r / "train", channel, (".npy", ".npy.gz")), "SMAP training file", _load_npy_table)
    test = _read(_find(r / "test", channel, (".npy", ".npy.gz")), "SMAP test file", _load_npy_table)
    labels = np.zeros(len(test), dtype=np.int8)
    segments = []
    for start, end in _read(r / "labeled_anomalies.csv", "SMAP table",
                            lambda _: _sequences(row["anomaly_sequences"].iloc[0], len(test))):
        labels[start:end + 1] = 1  # inclusive in telemanom's table
        segments.append(Segment(int(start), int(end) + 1, ()))
    names = ["telemetry"] + [f"command{i}" for i in range(1, train.shape[1])]
    return TimeSeriesData(f"SMAP {channel}", train, test, labels, names, [], SMAP_SOURCE,
                          notes=["SMAP has no per-channel interpretation labels: HitRate is not reported."])


def _looks_like_dates(col: pd.Series) -> bool:
    if pd.to_numeric(col, errors="coerce").notna().any():
        return False
    try:
        return bool(pd.to_datetime(col, errors="coerce", format="mixed").notna().mean() > 0.9)
    except (ValueError, TypeError):
        return False


def load_csv(source: str | Path | bytes | Any, *, label_column: str | None = None,
             train_fraction: float = 0.5, name: str = "CSV upload") -> TimeSeriesData:
    """A CSV with one column per channel; the first ``train_fraction`` of rows are training data.

    A label column (``label_column``, else one named label/anomaly/is_anomaly/attack) gives 0/1
    test labels; a first column named time/timestamp/date, or one that is not numeric but parses
    as dates, is dropped. Non-numeric cells in a numeric column are treated as missing.
    """
    if not 0.05 <= train_fraction <= 0.95:
        raise DataError(f"train_fraction must lie in [0.05, 0.95] (got {train_fraction}).")
    buf = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        frame = pd.read_csv(buf)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise DataError(f"Could not read the CSV file: {reason}") from None
    if frame.empty or frame.shape[1] == 0:
        raise DataError("The CSV file has no rows or no columns.")
    notes: list[str] = []
    first = str(frame.columns[0])
    if first.strip().lower() in TIME_NAMES or _looks_like_dates(frame.iloc[:, 0]):
        frame = frame.drop(columns=frame.columns[0])
        notes.append(f"Column '{first}' taken as the time index and dropped.")
    labels = None
    lower = {str(c).strip().lower(): c for c in frame.columns}
    wanted = label_column.strip().lower() if label_column else None
    if wanted and wanted not in lower:
        raise DataError(f"No label column '{label_column}' in the CSV (columns: "
                        f"{', '.join(map(str, frame.columns[:20]))}).")
    key = wanted or next((n for n in LABEL_NAMES if n in lower), None)
    if key is not None:
        col = frame.pop(lower[key])
        lab = pd.to_numeric(col, errors="coerce")
        if lab.isna().any() or not lab.isin([0, 1]).all():
            raise DataError(f"Label column '{lower[key]}' must contain only 0 and 1.")
        labels = lab.to_numpy(dtype=np.int8)
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    dead = [str(c) for c in numeric.columns if numeric[c].isna().all() and not frame[c].isna().all()]
    if dead:
        raise DataError(f"Column(s) {', '.join(dead[:10])} contain no numbers; remove them or make them "
                        "numeric (one numeric column per channel, optional 0/1 label column).")
    coerced = int((numeric.isna() & frame.notna()).to_numpy().sum())
    if coerced:
        notes.append(f"{coerced} non-numeric cell(s) treated as missing (then forward-filled).")
    if numeric.shape[1] == 0:
        raise DataError("The CSV file has no channel columns besides the label.")
    values = numeric.to_numpy(dtype=np.float64)
    cut = int(round(len(values) * train_fraction))
    if cut < 2 or len(values) - cut < 2:
        raise DataError(f"The CSV has only {len(values)} rows: too few to split into training and test parts.")
    test_labels = labels[cut:] if labels is not None else None
    if labels is not None and labels[:cut].any():
        notes.append(f"{int(labels[:cut].sum())} labelled anomalous row(s) fall in the training part "
                     "(the model trains on them unsupervised).")
    return TimeSeriesData(name, values[:cut], values[cut:], test_labels,
                          [str(c) for c in numeric.columns], [], "user upload", notes)
