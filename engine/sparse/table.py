"""The sparse lab's own-table dataset, read without torch (the app checks uploads with it).

A CSV of numeric feature columns and one label column; :func:`engine.sparse.data.load` splits and
standardises it (``dataset="csv"``).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from engine.errors import DataError

LABEL_NAMES = ("label", "target", "class", "y")  # label columns found without being named
MIN_ROWS = 20  # fewer rows cannot give training, validation and test parts
MAX_CLASSES = 100  # more distinct labels than this is a regression target, not classes
MAX_FEATURES = 10_000


@dataclass
class Table:
    """A CSV read by :func:`read_csv_table`: float32 features, int64 class indices, what they mean."""

    x: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    label_column: str
    notes: list[str]


def read_csv_table(source, label_column: str = "", *, name: str = "the CSV file") -> Table:
    r"""Read a CSV of numeric feature columns and one label column (any values: each distinct one
    is a class, numbered in sorted order). ``label_column`` "" takes a column named label, target,
    class or y. Raises DataError, naming the columns and rows at fault, for a file that cannot be
    read, a missing label column, non-numeric or missing/infinite features, fewer than
    :data:`MIN_ROWS` rows, a label with one class or more than :data:`MAX_CLASSES`.

    >>> import io
    >>> t = read_csv_table(io.BytesIO(b"a,b,y\n" + b"".join(b"%d,%d,%s\n" % (i, i % 3, b"cat" if i % 2 else b"dog") for i in range(30))))
    >>> t.x.shape, t.class_names, t.label_column, int(t.y.sum())
    ((30, 2), ['cat', 'dog'], 'y', 15)
    """
    import pandas as pd

    buf = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        frame = pd.read_csv(buf, skipinitialspace=True)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as err:
        raise DataError(f"Could not read {name} as CSV: {str(err).splitlines()[0] if str(err) else type(err).__name__}.") from None
    if frame.shape[1] < 2:
        raise DataError(f"{name} needs at least two columns (features and a label); it has {frame.shape[1]}.")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    lower = {c.strip().lower(): c for c in columns}
    if label_column.strip():
        found = lower.get(label_column.strip().lower())
        if found is None:
            raise DataError(f"No label column '{label_column}' in {name} (columns: {', '.join(columns[:20])}"
                            f"{' …' if len(columns) > 20 else ''}).")
    else:
        found = next((lower[n] for n in LABEL_NAMES if n in lower), None)
        if found is None:
            raise DataError(f"{name} has no column named {', '.join(LABEL_NAMES)}: name the label column "
                            f"(columns: {', '.join(columns[:20])}{' …' if len(columns) > 20 else ''}).")
    labels = frame.pop(found)
    if len(frame) < MIN_ROWS:
        raise DataError(f"{name} has {len(frame)} rows; at least {MIN_ROWS} are needed to split it into "
                        "training, validation and test parts.")
    if frame.shape[1] > MAX_FEATURES:
        raise DataError(f"{name} has {frame.shape[1]:,} feature columns; at most {MAX_FEATURES:,} are supported.")
    if labels.isna().any():
        rows = np.flatnonzero(labels.isna().to_numpy())[:5] + 2
        raise DataError(f"Label column '{found}' is empty in {int(labels.isna().sum())} row(s) "
                        f"(file lines {', '.join(map(str, rows))}{' …' if labels.isna().sum() > 5 else ''}).")
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = [c for c in frame.columns if (numeric[c].isna() & frame[c].notna()).any()]
    if bad:
        c = bad[0]
        row = int(np.flatnonzero((numeric[c].isna() & frame[c].notna()).to_numpy())[0])
        raise DataError(f"Feature column(s) {', '.join(bad[:10])}{' …' if len(bad) > 10 else ''} are not numeric "
                        f"(e.g. '{str(frame[c].iloc[row])[:40]}' in column {c}, file line {row + 2}); features must be "
                        "numbers (encode categories as numbers, or drop those columns).")
    values = numeric.to_numpy(dtype=np.float64)
    missing = ~np.isfinite(values)
    if missing.any():
        cols = [frame.columns[j] for j in np.flatnonzero(missing.any(axis=0))]
        r = int(np.flatnonzero(missing.any(axis=1))[0])
        raise DataError(f"{int(missing.sum())} feature value(s) are missing, NaN or infinite, in column(s) "
                        f"{', '.join(cols[:10])}{' …' if len(cols) > 10 else ''} (first at file line {r + 2}); fill or "
                        "drop them first.")
    if np.abs(values).max(initial=0.0) > np.finfo(np.float32).max:
        raise DataError(f"{name} has feature values beyond ±3.4e38, which float32 cannot hold; rescale them.")
    classes, y = np.unique(labels.astype(str).str.strip().to_numpy(), return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"Label column '{found}' has one class only ('{classes[0]}'): a classifier needs at least two.")
    if len(classes) > MAX_CLASSES:
        raise DataError(f"Label column '{found}' has {len(classes):,} distinct values; at most {MAX_CLASSES} classes "
                        "are supported (is it a regression target?).")
    notes = []
    counts = np.bincount(y)
    if counts.min() < 3:
        notes.append(f"Class '{classes[int(counts.argmin())]}' has {int(counts.min())} row(s): it may be missing "
                     "from the validation or test part.")
    return Table(values.astype(np.float32), y.astype(np.int64), list(frame.columns), [str(c) for c in classes],
                 found, notes)
