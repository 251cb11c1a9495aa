"""The graph chooser of the Graphs pages: built-ins, generators, uploads, shared benchmark graphs.

``pick_graph(key)`` returns a :class:`Choice` whose ``source`` string a worker process can rebuild
(uploads are validated here, then saved beside the run store so the worker reads the same file).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboard import jobs
from dashboard.components.urlstate import Controls
from engine.graphs import generators as gen


@dataclass
class Choice:
    source: str
    title: str
    nodes: int
    edges: int
    notes: list[str] = field(default_factory=list)
    group_kind: str = ""

    @property
    def input_bits(self) -> float:
        """Size(G) = 2|E| log2|V| (SSumM, Section 3)."""
        return 2.0 * self.edges * math.log2(self.nodes) if self.nodes > 1 else 0.0


@st.cache_data(show_spinner="Reading the graph…", max_entries=32)
def _describe(source: str) -> Choice:
    g = gen.load_source(source)
    return Choice(source, gen.describe_source(source), g.n_nodes, g.n_edges, list(g.notes), g.group_kind)


@st.cache_data(show_spinner="Checking the upload…", max_entries=8)
def _check_upload(data: bytes, filename: str) -> tuple[str, list[str]]:
    """Validate uploaded bytes (DataError with the reason), save them for the worker; (path, notes)."""
    from engine.graphs.io import read_edge_list, save_upload

    g = read_edge_list(data, name=filename)
    path = save_upload(data, filename, uploads_dir())
    return str(path), list(g.notes)


def uploads_dir() -> Path:
    """Uploaded edge lists live beside the run store (runs refer to them by path)."""
    return jobs.store().path.parent / "uploads"


def _generator(key: str, ctl: Controls) -> str:
    name = ctl.selectbox("Generator", list(gen.GENERATORS), key=f"{key}-gen",
                         help="\n".join(f"- {k}: {v[0]}" for k, v in gen.GENERATORS.items()))
    title, desc, params = gen.GENERATORS[name]
    st.caption(f"{title}. {desc}")
    values = {}
    cols = st.columns(len(params))
    for col, p in zip(cols, params):
        if p.integer:
            values[p.name] = int(ctl.number_input(p.label, int(p.low), int(p.high), int(p.default), 1,
                                                  key=f"{key}-{name}-{p.name}", where=col))
        else:
            values[p.name] = float(ctl.number_input(p.label, p.low, p.high, p.default, 0.01, format="%.3f",
                                                    key=f"{key}-{name}-{p.name}", where=col))
    return gen.make_source("generator", name, values)


def pick_graph(key: str, ctl: Controls | None = None) -> Choice | None:
    """Widgets to choose a graph (bound to the URL: :mod:`urlstate`); None until an upload is given.
    Raises DataError for a bad upload. Choices are plain names in the URL (``?gs-kind=Generator&gs-gen=sbm``)."""
    ctl = ctl or Controls()
    kinds = ["Built-in", "Generator", "Upload an edge list"]
    benchmarks = gen.available_benchmarks()
    if benchmarks:
        kinds.append("Benchmark graphs")
    kind = ctl.radio("Graph", kinds, horizontal=True, key=f"{key}-kind")
    if kind == "Built-in":
        name = ctl.selectbox("Built-in graph", list(gen.BUILTINS), key=f"{key}-builtin",
                             help="\n".join(f"- {k}: {v[0]}" for k, v in gen.BUILTINS.items()))
        st.caption(f"{gen.BUILTINS[name][0]}. " + gen.BUILTINS[name][1] + " Ships with networkx.")
        source = gen.make_source("builtin", name)
    elif kind == "Generator":
        source = _generator(key, ctl)
    elif kind == "Benchmark graphs":
        name = ctl.selectbox("Benchmark graph", list(benchmarks), key=f"{key}-bench",
                             help="\n".join(f"- {k}: {v}" for k, v in benchmarks.items()))
        st.caption(f"{benchmarks[name]}. Source: {gen.BENCHMARKS[name][1]}. Read from the shared data folder.")
        source = gen.make_source("benchmark", name)
    else:
        up = st.file_uploader("Edge list: one `u v` pair per line (SNAP text, TSV or CSV; `#`/`%` comments; "
                              ".gz accepted)", key=f"{key}-upload")
        if up is None:
            st.info("Upload a file to summarize it. Self loops, duplicates and reversed edges are cleaned up, "
                    "and every repair is listed here. An uploaded file cannot travel in a link: whoever opens "
                    "this page's link uploads it again.")
            return None
        path, notes = _check_upload(up.getvalue(), up.name)
        source = f"path:{path}"
        choice = _describe(source)
        choice.title = up.name
        return choice
    return _describe(source)
