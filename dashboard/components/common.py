"""Small helpers every page uses: error guard, teaching text, data folder."""
from __future__ import annotations

import contextlib
import html
import re
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

from engine.errors import SparsityLabError
from engine.paths import shared_data_dir

EXPLAIN_DIR = Path(__file__).resolve().parent.parent / "explain"

# Every character Markdown (CommonMark + GitHub extensions + Streamlit's $math$ and :emoji:/:color[]:
# directives) gives a meaning to; a backslash makes each one a literal character.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&\"'@/])")
_AUTOLINK = re.compile(r"(?i)https?|ftp|mailto|xmpp|www|\\@")


def plain(text: object) -> str:
    r"""``text`` escaped so that ``st.markdown``/``st.caption``/``st.info``/``st.error`` show it as typed.

    For every user-supplied string (file names, column and channel names, run names, messages
    that quote them): no link, image, emphasis, heading, math or HTML is ever rendered from it.

    >>> print(plain("[Click here](x.y) ![i](p.png) *a* $x$"))
    \[Click here\]\(x\.y\) \!\[i\]\(p\.png\) \*a\* \$x\$
    >>> plain("see http://x.y or www.x.y") == "see h\u2060ttp\\:\\/\\/x\\.y or w\u2060ww\\.x\\.y"
    True
    >>> plain("a@b.c") == "a\u2060\\@b\\.c"
    True
    >>> plain("line\nbreak")
    'line break'
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))
    # GitHub's autolink literals (http://…, www.…, a@b.c) ignore backslashes: an invisible word
    # joiner inside the scheme and before "@" keeps them text.
    return _AUTOLINK.sub(lambda m: "\u2060" + m.group(0) if m.group(0) == "\\@"
                         else m.group(0)[0] + "\u2060" + m.group(0)[1:], escaped)


def plain_label(text: object) -> str:
    """``text`` for Plotly labels (titles, ticks, hover): Plotly renders ``<a href>``, ``<b>``, ``<br>``,
    so ``<``, ``>`` and ``&`` are escaped.

    >>> plain_label('<a href="http://x.y">Click</a>')
    '&lt;a href=&quot;http://x.y&quot;&gt;Click&lt;/a&gt;'
    """
    return html.escape(str(text))


@contextlib.contextmanager
def guard(what: str = "") -> Iterator[None]:
    """Turn errors into a message on the page: a clear one for known errors, never a traceback page."""
    try:
        yield
    except SparsityLabError as err:  # its message may quote a file or column name: plain text
        st.error(f"{what}: {plain(err)}" if what else plain(err), icon=":material/error:")
    except (StopException, RerunException):  # st.stop() / st.rerun() must pass through
        raise
    except Exception as err:  # noqa: BLE001
        st.error(f"Unexpected error{' while ' + what if what else ''}: {type(err).__name__}: {plain(err)}")
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
