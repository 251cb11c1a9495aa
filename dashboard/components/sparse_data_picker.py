"""The sparse lab's "your own table" data choice: upload a CSV of numeric features and a label column.

``pick_csv_table(key)`` returns the config fields (``data_path``, ``label_column``). The upload
is checked here with the engine's own reader (:func:`engine.sparse.table.read_csv_table`, a light
pandas read: every malformed file gets its reason before anything runs), then saved under
``uploads/`` beside the run store, where the worker reads it. File and column names are user data:
they are shown as plain text.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import streamlit as st

from dashboard.components.common import plain
from engine.errors import DataError
from engine.paths import default_db_path

LABEL = "csv — your own table: numeric feature columns and a label column (upload a CSV)"
_DETECT = "(detect: label / target / class / y)"


@st.cache_data(max_entries=8, show_spinner="Checking the table…")
def _check(blob: bytes, label_column: str, name: str):
    """The upload read by the engine (a Table); DataError with the reason when it cannot be used."""
    from engine.sparse.table import read_csv_table

    return read_csv_table(blob, label_column, name=name)


def _save(blob: bytes, name: str) -> Path:
    uploads = default_db_path().parent / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(name).name)[-80:] or "table.csv"
    path = uploads / f"{hashlib.sha1(blob).hexdigest()[:16]}-{safe}"
    if not path.exists():
        path.write_bytes(blob)
    return path


def pick_csv_table(key: str, model: str = "mlp") -> dict:
    """Uploader, label column and a summary of the table; ``data_path`` is "" until a usable file is given."""
    up = st.file_uploader("CSV: one numeric column per feature and one label column (any values: each distinct "
                          "one is a class)", type=["csv", "txt"], key=f"{key}-table")
    if model != "mlp":
        st.warning("Your own table trains the MLP (the CNN needs images).")
    st.caption("An uploaded file cannot travel in a link: whoever opens this page's link uploads the table "
               "again; every other setting comes with the link.")
    if up is None:
        st.info("Upload a CSV to continue. Features are standardised with the training part's mean and "
                "standard deviation; the rows are split into training, validation and test parts like the other sets.")
        return {"data_path": "", "label_column": ""}
    blob = up.getvalue()
    header = []
    try:
        import pandas as pd

        header = [str(c) for c in pd.read_csv(io.BytesIO(blob), nrows=0).columns]
    except Exception:  # noqa: BLE001  (the engine's reader below says what is wrong)
        header = []
    label = st.selectbox("Label column", [_DETECT, *header], key=f"{key}-label",
                         help="The column the MLP learns to predict; every other column is a feature.")
    label = "" if label == _DETECT else label
    try:
        table = _check(blob, label, up.name)
    except DataError as err:
        st.error(f"Cannot use {plain(up.name)}: {plain(err)}", icon=":material/error:")
        return {"data_path": "", "label_column": label}
    shown = ", ".join(table.feature_names[:8]) + (" …" if len(table.feature_names) > 8 else "")
    classes = ", ".join(table.class_names[:10]) + (" …" if len(table.class_names) > 10 else "")
    st.caption(f"{plain(up.name)}: {len(table.y):,} rows, {len(table.feature_names)} features "
               f"({plain(shown)}), label column {plain(table.label_column)} with {len(table.class_names)} classes "
               f"({plain(classes)}).")
    for note in table.notes:
        st.info(plain(note), icon=":material/info:")
    return {"data_path": str(_save(blob, up.name)), "label_column": table.label_column}
