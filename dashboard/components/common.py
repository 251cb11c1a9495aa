"""Small helpers every page uses: error guard, teaching text, data folder."""
from __future__ import annotations

import contextlib
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

from engine.errors import SparsityLabError
from engine.paths import shared_data_dir

EXPLAIN_DIR = Path(__file__).resolve().parent.parent / "explain"


@contextlib.contextmanager
def guard(what: str = "") -> Iterator[None]:
    """Turn errors into a message on the page: a clear one for known errors, never a traceback page."""
    try:
        yield
    except SparsityLabError as err:
        st.error(f"{what}: {err}" if what else str(err), icon=":material/error:")
    except (StopException, RerunException):  # st.stop() / st.rerun() must pass through
        raise
    except Exception as err:  # noqa: BLE001
        st.error(f"Unexpected error{' while ' + what if what else ''}: {type(err).__name__}: {err}")
        with st.expander("Details for a bug report"):
            st.code(traceback.format_exc())


@lru_cache(maxsize=64)
def _read(name: str) -> str:
    path = EXPLAIN_DIR / f"{name}.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def explain(name: str, *, expanded: bool | None = None, title: str = "What am I looking at?") -> None:
    """Render dashboard/explain/<name>.md, inline or (expanded given) in an expander."""
    text = _read(name)
    if not text:
        return
    if expanded is None:
        st.markdown(text)
    else:
        with st.expander(title, expanded=expanded):
            st.markdown(text)


def data_dir() -> Path | None:
    """The optional benchmark data folder (never required)."""
    return shared_data_dir()
