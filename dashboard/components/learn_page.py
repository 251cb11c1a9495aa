"""The parts every lesson page shares: title and text, the question with its folded answer, the
link to the full lab page, and the page's own link (teacher mode via :mod:`urlstate`)."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from dashboard.components.common import _read, explain
from dashboard.components.learn_lessons import Lesson, lesson
from dashboard.components.urlstate import Controls, page_path


def start(file: str) -> tuple[Lesson, Controls]:
    """Title and text of the lesson in ``dashboard/pages/<file>``; returns it and its URL-bound controls."""
    les = lesson(file)
    st.title(les.title)
    explain(f"learn_{les.number:02d}")
    ctl = Controls()
    if ctl.hidden:
        st.info("Teacher mode: some controls of this lesson are fixed by the link.", icon=":material/school:")
    return les, ctl


def question(les: Lesson) -> None:
    """``learn_NN_q.md``: its first paragraph is the question, the rest the answer (folded)."""
    text = _read(f"learn_{les.number:02d}_q")
    if not text:
        return
    q, _, answer = text.strip().partition("\n\n")
    st.markdown(f"**Think about it.** {q}")
    with st.expander("Answer"):
        st.markdown(answer)


def lab_link(page: str, params: dict, *, label: str, note: str = "") -> None:
    """A button opening the full lab page (``dashboard/pages/<page>.py``) with these query parameters.

    The names are the lab form's widget keys (e.g. ``st-method`` on Train & prune); a lab page reads
    them once its widgets are bound to the URL (``bind="query-params"``); a method's own setting is
    ``st-<method>.<parameter>`` (``st-imp.rounds``); a list is one parameter per item (a multiselect).
    """
    query = {k: [str(x) for x in v] if isinstance(v, (list, tuple)) else str(v) for k, v in params.items()}
    path = page_path(page)  # the default page (Train & prune) lives at the app's root
    url = (f"{path}?" if path else "./?") + urlencode(query, doseq=True)
    st.link_button(label, url, icon=":material/open_in_new:")
    if note:
        st.caption(note)


def finish(les: Lesson, ctl: Controls) -> None:
    st.divider()
    ctl.copy_link(les.url_path)
