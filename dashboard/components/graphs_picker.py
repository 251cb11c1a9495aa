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


def _generator(key: str) -> str:
    name = st.selectbox("Generator", list(gen.GENERATORS), format_func=lambda k: gen.GENERATORS[k][0],
                        key=f"{key}-gen")
    title, desc, params = gen.GENERATORS[name]
    st.caption(desc)
    values = {}
    cols = st.columns(len(params))
    for col, p in zip(cols, params):
        if p.integer:
            values[p.name] = int(col.number_input(p.label, int(p.low), int(p.high), int(p.default), 1,
                                                  key=f"{key}-{name}-{p.name}"))
        else:
            values[p.name] = float(col.number_input(p.label, p.low, p.high, p.default, 0.01, format="%.3f",
                                                    key=f"{key}-{name}-{p.name}"))
    return gen.make_source("generator", name, values)


def pick_graph(key: str) -> Choice | None:
    """Widgets to choose a graph; None until an upload is given. Raises DataError for a bad upload."""
    kinds = ["Built-in", "Generator", "Upload an edge list"]
    benchmarks = gen.available_benchmarks()
    if benchmarks:
        kinds.append("Benchmark graphs")
    kind = st.radio("Graph", kinds, horizontal=True, key=f"{key}-kind")
    if kind == "Built-in":
        name = st.selectbox("Built-in graph", list(gen.BUILTINS), format_func=lambda k: gen.BUILTINS[k][0],
                            key=f"{key}-builtin")
        st.caption(gen.BUILTINS[name][1] + " Ships with networkx.")
        source = gen.make_source("builtin", name)
    elif kind == "Generator":
        source = _generator(key)
    elif kind == "Benchmark graphs":
        name = st.selectbox("Benchmark graph", list(benchmarks), format_func=benchmarks.get, key=f"{key}-bench")
        st.caption(f"Source: {gen.BENCHMARKS[name][1]}. Read from the shared data folder.")
        source = gen.make_source("benchmark", name)
    else:
        up = st.file_uploader("Edge list: one `u v` pair per line (SNAP text, TSV or CSV; `#`/`%` comments; "
                              ".gz accepted)", key=f"{key}-upload")
        if up is None:
            st.info("Upload a file to summarize it. Self loops, duplicates and reversed edges are cleaned up, "
                    "and every repair is listed here.")
            return None
        path, notes = _check_upload(up.getvalue(), up.name)
        source = f"path:{path}"
        choice = _describe(source)
        choice.title = up.name
        return choice
    return _describe(source)
