"""A page's settings in its URL, a "Copy link" box, and teacher mode (hidden, pinned controls).

Streamlit ≥ 1.5x binds a keyed widget to a query parameter of the same name
(``bind="query-params"``): changing the widget rewrites the URL, opening the URL sets the
widget. :class:`Controls` adds the rest:

* ``?hide=method,sparsity`` (teacher mode): those controls are not drawn at all; their values
  come from the URL (``?method=set&sparsity=0.8``: *pinned*) or their defaults;
* :meth:`Controls.copy_link` shows the page's full link (``st.code`` has a copy button);
* query parameters the page does not own (``sid``, ``run`` of the job runner, any other) are
  left untouched.

Applying it to a page is one object and the same widget calls on it::

    ctl = urlstate.Controls()                       # reads ?hide=…
    method = ctl.selectbox("Method", METHODS, key="method")
    sparsity = ctl.slider("Sparsity", 0.0, 0.99, 0.9, 0.01, key="sparsity")
    ctl.copy_link("sparse_train")                   # the page's url_path (file name without .py)

Each call takes the arguments of the ``st.`` function of the same name, with ``key`` required
(the key is the query parameter's name; keep it short). Streamlit writes a choice as its
*displayed* label: with a ``format_func`` the link holds the label, so links stay readable only
when options are shown as they are. A widget inside ``st.columns`` is drawn
with ``ctl.slider(..., where=col)``. Tabs: ``ctl.tabs(["A", "B"], key="tab")``. Also
``text_input``, ``multiselect`` (one parameter per chosen option; a hidden one also reads
``a,b``), ``toggle``, ``checkbox``, ``number_input``, ``radio``, ``select_slider``,
``segmented_control``.

The link is built from the drawn controls' current values (not from the URL the server last
saw), so it is right on the very rerun a control changed. Lab pages show it folded under their
form with :meth:`Controls.link_box`. The app's default page (Train & prune) lives at the root:
:func:`page_path` gives a page's real URL path. Uploaded files never travel in a link.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence
from urllib.parse import urlencode

import streamlit as st

HIDE = "hide"
RESERVED = ("sid", "run", HIDE)  # names owned by others (the job runner) or by teacher mode


def page_path(name: str) -> str:
    """The URL path of page ``dashboard/pages/<name>.py``: "" for the app's default page (Streamlit
    serves it at the root only; ``/<name>`` would say "Page not found"), else ``name``.

    >>> page_path("sparse_train"), page_path("learn_04_dynamic")
    ('', 'learn_04_dynamic')
    """
    from dashboard.nav import PAGES

    default = next((p.file for p in PAGES if p.default), "")
    return "" if default.removesuffix(".py") == name else name


def hidden_names() -> set[str]:
    """Controls hidden by the URL's ``hide`` list (comma-separated)."""
    raw = st.query_params.get_all(HIDE)
    return {n.strip() for part in raw for n in part.split(",") if n.strip()}


def _as_bool(text: str) -> bool | None:
    t = text.strip().lower()
    return True if t in ("true", "1", "yes", "on") else False if t in ("false", "0", "no", "off") else None


def _pinned_option(options: Sequence[Any], raw: str | None, default: Any, format_func: Callable | None) -> Any:
    if raw is None:
        return default
    for opt in options:  # Streamlit writes an option as its str(); accept its label too
        if str(opt) == raw or (format_func is not None and str(format_func(opt)) == raw):
            return opt
    return default


def _pinned_number(raw: str | None, default: Any, lo: Any, hi: Any) -> Any:
    if raw is None:
        return default
    try:
        value = type(default)(float(raw)) if not isinstance(default, bool) else default
    except (TypeError, ValueError):
        return default
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    return value


class Controls:
    """Widgets bound to the URL; the ones named in ``?hide=`` are not drawn and take their pinned value."""

    def __init__(self) -> None:
        self.hidden = hidden_names()
        self.keys: list[str] = []
        self._now: dict[str, tuple[Any, Any, Callable | None]] = {}  # drawn key -> (value, default, format_func)

    def shows(self, key: str) -> bool:
        return key not in self.hidden

    def _raw(self, key: str) -> str | None:
        return st.query_params.get(key)

    def _draw(self, fn: Callable, key: str, where, args, kwargs, default: Any = None) -> Any:
        if key in RESERVED:
            raise ValueError(f"'{key}' is a reserved query parameter; choose another key.")
        self.keys.append(key)
        target = getattr(where, fn.__name__) if where is not None else fn
        value = target(*args, key=key, bind="query-params", **kwargs)
        self._now[key] = (value, default, kwargs.get("format_func"))
        return value

    # -- widgets -------------------------------------------------------------------------------
    def selectbox(self, label: str, options: Sequence[Any], index: int = 0, *, key: str, where=None, **kw) -> Any:
        if not self.shows(key):
            self.keys.append(key)
            return _pinned_option(list(options), self._raw(key), list(options)[index], kw.get("format_func"))
        return self._draw(st.selectbox, key, where, (label, options, index), kw, list(options)[index])

    def radio(self, label: str, options: Sequence[Any], index: int = 0, *, key: str, where=None, **kw) -> Any:
        if not self.shows(key):
            self.keys.append(key)
            return _pinned_option(list(options), self._raw(key), list(options)[index], kw.get("format_func"))
        return self._draw(st.radio, key, where, (label, options, index), kw, list(options)[index])

    def segmented_control(self, label: str, options: Sequence[Any], *, default: Any, key: str, where=None, **kw) -> Any:
        if not self.shows(key):
            self.keys.append(key)
            return _pinned_option(list(options), self._raw(key), default, kw.get("format_func"))
        value = self._draw(st.segmented_control, key, where, (label, options), {"default": default, **kw}, default)
        return default if value is None else value  # a click on the selected option deselects it

    def select_slider(self, label: str, options: Sequence[Any], value: Any, *, key: str, where=None, **kw) -> Any:
        if not self.shows(key):
            self.keys.append(key)
            return _pinned_option(list(options), self._raw(key), value, kw.get("format_func"))
        return self._draw(st.select_slider, key, where, (label, options, value), kw, value)

    def slider(self, label: str, min_value: Any, max_value: Any, value: Any, step: Any = None, *, key: str,
               where=None, **kw) -> Any:
        if not self.shows(key):
            self.keys.append(key)
            return _pinned_number(self._raw(key), value, min_value, max_value)
        return self._draw(st.slider, key, where, (label, min_value, max_value, value, step), kw, value)

    def number_input(self, label: str, min_value: Any = None, max_value: Any = None, value: Any = "min",
                     step: Any = None, *, key: str, where=None, **kw) -> Any:
        if not self.shows(key):
            self.keys.append(key)
            default = value if value != "min" else (min_value if min_value is not None else 0.0)
            return _pinned_number(self._raw(key), default, min_value, max_value)
        return self._draw(st.number_input, key, where, (label, min_value, max_value, value, step), kw,
                          value if value != "min" else min_value)

    def text_input(self, label: str, value: str = "", *, key: str, where=None, **kw) -> str:
        if not self.shows(key):
            self.keys.append(key)
            raw = self._raw(key)
            return value if raw is None else raw
        return self._draw(st.text_input, key, where, (label, value), kw, value)

    def multiselect(self, label: str, options: Sequence[Any], default: Any = None, *, key: str, where=None,
                    **kw) -> list:
        """A multiselect; in the URL one parameter per chosen option (``?m=a&m=b``; hidden: ``m=a,b`` too)."""
        if not self.shows(key):
            self.keys.append(key)
            raw = [t for part in st.query_params.get_all(key) for t in part.split(",") if t]
            if not raw:
                return list(default or [])
            ff = kw.get("format_func")
            picked = [_pinned_option(list(options), r, None, ff) for r in raw]
            return [p for p in picked if p is not None]
        return self._draw(st.multiselect, key, where, (label, options, default), kw, list(default or []))

    def toggle(self, label: str, value: bool = False, *, key: str, where=None, **kw) -> bool:
        if not self.shows(key):
            return self.checkbox(label, value, key=key, where=where, **kw)
        return self._draw(st.toggle, key, where, (label, value), kw, value)

    def checkbox(self, label: str, value: bool = False, *, key: str, where=None, **kw) -> bool:
        if not self.shows(key):
            self.keys.append(key)
            raw = self._raw(key)
            pinned = _as_bool(raw) if raw is not None else None
            return value if pinned is None else pinned
        return self._draw(st.checkbox, key, where, (label, value), kw, value)

    def tabs(self, labels: Sequence[str], *, key: str, where=None):
        """Tabs whose chosen one is in the URL (``?tab=…``); they run lazily (only the open one is "open")."""
        self.keys.append(key)
        target = where.tabs if where is not None else st.tabs
        return target(list(labels), key=key, bind="query-params")

    # -- the link ------------------------------------------------------------------------------
    def query(self) -> dict[str, str | list[str]]:
        """The page's query parameters now: the drawn controls' current values (those not at their
        default, written as Streamlit writes them), ``hide`` and the pinned values, and any other
        parameter the page was opened with. Built from the values, not from the URL the server last
        saw, so the link is right on the very rerun a control changed."""
        params = {k: (v if len(v) > 1 else v[0]) for k in st.query_params for v in [st.query_params.get_all(k)]
                  if k not in self._now}
        for k, (value, default, fmt) in self._now.items():
            if value is not None and value != default:
                params[k] = _url_value(value, fmt)
        return params

    def link(self, url_path: str) -> str:
        """The full link of this page with its current settings (relative when the host is unknown)."""
        base = (st.context.url or "").split("?")[0].rstrip("/")
        for suffix in (f"/{url_path}",):  # st.context.url may or may not include the page's path
            if base.endswith(suffix):
                base = base[: -len(suffix)]
        query = urlencode(self.query(), doseq=True, safe=",:")
        return f"{base}/{page_path(url_path)}" + (f"?{query}" if query else "")

    def link_box(self, url_path: str) -> str:
        """The copy-link box of a lab page, folded under its form (a teacher note when controls are hidden)."""
        if self.hidden:
            st.info("Teacher mode: some controls of this page are fixed by the link.", icon=":material/school:")
        with st.expander("Link to this page with these settings", icon=":material/link:"):
            return self.copy_link(url_path, label="Opening it restores every setting above (not uploaded files).")

    def copy_link(self, url_path: str, *, label: str = "Link to this page with these settings") -> str:
        """Show the page's link in a box with a copy button; returns it."""
        url = self.link(url_path)
        st.caption(label + (" (teacher mode: some controls are fixed)" if self.hidden else ""))
        st.code(url, language=None, wrap_lines=True)
        return url


def _url_value(value: Any, format_func: Callable | None) -> str | list[str]:
    """A widget value as Streamlit's binding writes it in the URL (a choice as its label).

    >>> _url_value(0.8, None), _url_value(True, None), _url_value(["a", "b"], str.upper), _url_value(3, None)
    ('0.8', 'true', ['A', 'B'], '3')
    """
    if isinstance(value, (list, tuple)):
        return [str(_url_value(v, format_func)) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if format_func is not None:
        return str(format_func(value))
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


def with_hide(link: str, hide: Sequence[str]) -> str:
    """``link`` (a page's copied link) with its ``hide`` list replaced by ``hide``; the rest kept.

    >>> with_hide("http://h:8501/sparse_train?st-method=rigl&hide=x&run=3", ["st-method"])
    'http://h:8501/sparse_train?st-method=rigl&run=3&hide=st-method'
    """
    from urllib.parse import parse_qsl, urlsplit, urlunsplit

    parts = urlsplit(link.strip())
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != HIDE]
    if hide:
        params.append((HIDE, ",".join(hide)))
    return urlunsplit(parts._replace(query=urlencode(params, safe=",:")))


def teacher_link(url_path: str, values: dict[str, Any], hide: Sequence[str], *, base: str = "") -> str:
    """A link opening ``url_path`` with ``values`` pinned and the controls in ``hide`` hidden.

    >>> teacher_link("learn_04_dynamic", {"method": "set", "sparsity": 0.8}, ["method"])
    '/learn_04_dynamic?method=set&sparsity=0.8&hide=method'
    """
    params: dict[str, str] = {}
    for k, v in values.items():
        params[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    if hide:
        params[HIDE] = ",".join(hide)
    return f"{base.rstrip('/')}/{page_path(url_path)}?" + urlencode(params, safe=",:")
