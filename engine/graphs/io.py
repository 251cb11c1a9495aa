"""Reading undirected graphs from edge lists, robustly and fast.

An edge list has one edge per line: two node ids, separated by whitespace, a tab, a comma or a
semicolon (SNAP text files, CSV with or without a header). Lines starting with ``#`` or ``%`` are
comments; extra columns (weights, timestamps) are ignored. Reading goes through
``pandas.read_csv`` (C parser), so 500k edges load in well under a second.

Whatever the file holds, the result is a simple undirected graph, and every repair is written
into :attr:`LoadedGraph.notes` (shown to the user): self loops are dropped, duplicate and reversed
edges merged, directions ignored, and any node labels (negative numbers, text, ids too large for
64-bit integers) are numbered ``0..n-1`` while the original ids are kept in ``node_ids``.

>>> g = read_edge_list(b"# a comment\\n1 2\\n2 1\\n2 3\\n3 3\\n")
>>> g.edges.tolist(), g.node_ids.tolist(), g.n_nodes
([[0, 1], [1, 2]], [1, 2, 3], 3)
>>> g.notes
['Dropped 1 self loop (an edge from a node to itself).', 'Merged 1 edge listed in both directions (u v and v u): edges are undirected here.', 'Node ids were numbered 0..n-1 internally; summaries and exports use the original ids.']
"""
from __future__ import annotations

import gzip
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError

# Header words that mark a first line as column names even when the ids are text labels.
_HEADER_WORDS = {
    "source", "target", "src", "dst", "from", "to", "u", "v", "node", "node1", "node2",
    "node_1", "node_2", "nodeid", "fromnodeid", "tonodeid", "id1", "id2", "a", "b", "i", "j",
    "head", "tail", "start", "end", "left", "right", "from_id", "to_id", "source_id", "target_id",
}
_COMMENT_LINE = re.compile(rb"(?m)^[ \t]*[#%][^\n]*(\n|$)")
_INT_TOKEN = re.compile(r"^[+-]?\d+$")
_FLOAT_TOKEN = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")


@dataclass
class LoadedGraph:
    """A simple undirected graph read from a file or built in memory.

    ``edges``: (E, 2) int64, ``u < v``, indices into ``node_ids``, sorted and unique.
    ``node_ids``: the original id of each node 0..n-1 (int64, or str where ids were not integers).
    ``notes``: plain sentences describing every repair made while reading.
    ``groups``: an optional known group of each node (SBM block, class label) for colouring.
    """

    edges: np.ndarray
    node_ids: np.ndarray
    n_nodes: int
    notes: list[str] = field(default_factory=list)
    name: str = "graph"
    groups: np.ndarray | None = None
    group_kind: str = ""

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    @property
    def average_degree(self) -> float:
        return 2.0 * self.n_edges / max(self.n_nodes, 1)

    def to_networkx(self):
        """A ``networkx.Graph`` on nodes 0..n-1 with the original id as node attribute ``id``."""
        import networkx as nx

        G = nx.Graph(name=self.name)
        G.add_nodes_from((i, {"id": _py(x)}) for i, x in enumerate(self.node_ids))
        G.add_edges_from(self.edges.tolist())
        return G


def _py(x):
    """A numpy scalar as a plain Python value (GraphML and JSON want those)."""
    return x.item() if hasattr(x, "item") else x


def graph_nodes(G) -> tuple[list, list[str]]:
    """The nodes a graph is summarised with, and notes: nodes whose only edges are self loops go.

    An edge-list file cannot tell such a node from one that is not there (its only lines are
    dropped self loops), so :func:`read_edge_list` leaves it out; networkx graphs are read the same
    way, so a file and ``networkx.read_edgelist`` of it give the same graph. Nodes with no edge at
    all are kept (a networkx graph can hold them; they count in |V|).

    >>> import networkx as nx
    >>> G = nx.Graph([(1, 2), (3, 3)]); G.add_node(4)
    >>> graph_nodes(G)
    ([1, 2, 4], ['1 node only had self loops and is left out.'])
    """
    drop = [x for x in G.nodes if G.degree(x) > 0 and all(y == x for y in G.neighbors(x))]
    if not drop:
        return list(G.nodes), []
    gone = set(drop)
    note = f"{len(drop)} node{'s' * (len(drop) != 1)} only had self loops and {'are' if len(drop) != 1 else 'is'} left out."
    return [x for x in G.nodes if x not in gone], [note]


def from_networkx(G, *, name: str = "graph", group_attr: str | None = None,
                  group_kind: str = "") -> LoadedGraph:
    """Convert a networkx graph (any node labels; isolated nodes kept) into a :class:`LoadedGraph`.

    Nodes whose only edges are self loops are left out, as :func:`read_edge_list` does (see
    :func:`graph_nodes`).

    >>> import networkx as nx
    >>> g = from_networkx(nx.path_graph(["a", "b", "c"]), name="path")
    >>> g.edges.tolist(), g.node_ids.tolist()
    ([[0, 1], [1, 2]], ['a', 'b', 'c'])
    """
    nodes, loop_notes = graph_nodes(G)
    index = {x: i for i, x in enumerate(nodes)}
    pairs = np.array([(index[a], index[b]) for a, b in G.edges() if a != b], dtype=np.int64).reshape(-1, 2)
    notes = []
    loops = sum(1 for a, b in G.edges() if a == b)
    if loops:
        notes.append(f"Dropped {loops} self loop{'s' * (loops != 1)} (an edge from a node to itself).")
    notes += loop_notes
    if G.is_directed():
        notes.append("The graph is directed; directions are ignored (SSumM summarizes undirected graphs).")
    edges = _unique_undirected(pairs, len(nodes))
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in nodes):
        node_ids = np.asarray(nodes, dtype=np.int64)
    else:
        node_ids = np.asarray([str(x) for x in nodes], dtype=str)
    groups = None
    if group_attr is not None:
        groups = np.asarray([G.nodes[x].get(group_attr, -1) for x in nodes])
    return LoadedGraph(edges, node_ids, len(nodes), notes, name, groups, group_kind)


def _unique_undirected(pairs: np.ndarray, n: int) -> np.ndarray:
    """Rows (min, max), deduplicated and sorted; ``pairs`` must hold no self loops."""
    if pairs.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    a = np.minimum(pairs[:, 0], pairs[:, 1])
    b = np.maximum(pairs[:, 0], pairs[:, 1])
    key = _sorted_unique(a * np.int64(n) + b)
    return np.stack([key // n, key % n], axis=1).astype(np.int64)


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hash-based unique is ~10x slower on 1M int64)."""
    s = np.sort(x)
    if s.size == 0:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def read_edge_list(source: str | Path | bytes, *, name: str | None = None) -> LoadedGraph:
    """Read an edge list from a path or from the bytes of an upload (gzip accepted).

    Raises :class:`DataError` with a sentence the user can act on when the input is not an edge
    list (binary data, one column, decimal numbers as ids) or has no edge left after cleaning.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"No file at {path}. Check the path.") from None
        except IsADirectoryError:
            raise DataError(f"{path} is a folder, not an edge-list file.") from None
        except OSError as err:
            raise DataError(f"Cannot read {path}: {err.strerror or err}.") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise DataError(f"'{name}' looks gzip-compressed but cannot be decompressed ({err}).") from None
    return parse_edge_list(data, name=name)


HEAD_BYTES = 65_536


def check_edge_file(path: str | Path) -> None:
    """Refuse, before a run starts, a file that is no edge list: read and parse only its head.

    Missing, a folder, empty, binary, JSON/XML, one column, decimal ids, no edge in the first
    64 KiB: the same :class:`DataError` as :func:`read_edge_list` would raise, at once. A head of
    only comments in a larger file is let through (its edges may come later).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        with (gzip.open if gz else open)(path, "rb") as fh:
            head = fh.read(HEAD_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"No file at {path}. Check the path.") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not an edge-list file.") from None
    except (OSError, EOFError) as err:
        raise DataError(f"Cannot read {path.name}: {getattr(err, 'strerror', None) or err}.") from None
    more = len(head) > HEAD_BYTES
    if more:
        head = head[: head.rfind(b"\n", 0, HEAD_BYTES) + 1] or head[:HEAD_BYTES]
    try:
        parse_edge_list(head, name=path.name)
    except DataError as err:
        if more and "holds no edges" in str(err):
            return
        raise


def parse_edge_list(data: bytes, *, name: str = "graph") -> LoadedGraph:
    """Parse the (uncompressed) bytes of an edge list; see :func:`read_edge_list`."""
    if data[:3] == b"\xef\xbb\xbf":   # a UTF-8 byte-order mark is not part of the first id
        data = data[3:]
    if b"\x00" in data[:65536]:
        raise DataError(f"'{name}' is not a text file (it contains binary data); "
                        "upload an edge list: one 'u v' pair of node ids per line.")
    notes: list[str] = []
    comments = [m.group(0) for m in _COMMENT_LINE.finditer(data[:65536])][:200]
    said = b" ".join(comments).lower()
    directed_file = b"directed" in said.replace(b"undirected", b"")
    body = _COMMENT_LINE.sub(b"", data) if comments else data
    sample = [ln for ln in body[:65536].decode("latin-1").splitlines() if ln.strip()][:50]
    if not sample:
        raise DataError(f"'{name}' holds no edges: it is empty or only has comments. "
                        "An edge list has one 'u v' pair of node ids per line.")
    first = sample[0].lstrip()[:1]
    if first in ("{", "[", "<"):
        kind = {"{": "JSON", "[": "JSON", "<": "XML or HTML (GraphML?)"}[first]
        raise DataError(f"'{name}' looks like {kind}, not an edge list; save the graph as one 'u v' "
                        "pair of node ids per line (e.g. networkx.write_edgelist).")
    sep = _sniff_separator(sample)
    header = _looks_like_header(sample, sep)
    if header:
        notes.append(f"Skipped the header line '{sample[0].strip()[:60]}'.")
    u, v, skipped = _read_two_columns(body, sep, header, name)
    if skipped:
        notes.append(f"Skipped {skipped} line{'s' * (skipped != 1)} without two node ids.")
    if u.size == 0:
        raise DataError(f"'{name}' holds no edges (no line with two node ids).")
    u, v, id_note = _as_ids(u, v, name)
    if id_note:
        notes.append(id_note)
    return _clean(u, v, notes, name, directed_file)


def _sniff_separator(sample: list[str]) -> str:
    for sep in (",", ";", "\t", "|"):
        if sum(sep in ln for ln in sample) >= 0.9 * len(sample):
            return sep
    return r"\s+"


def _split(line: str, sep: str) -> list[str]:
    parts = line.split() if sep == r"\s+" else line.split(sep)
    return [p.strip().strip('"').strip("'") for p in parts]


def _looks_like_header(sample: list[str], sep: str) -> bool:
    first = _split(sample[0], sep)[:2]
    if len(first) < 2:
        return False
    rest = [_split(ln, sep)[:2] for ln in sample[1:]]
    if all(t.lower() in _HEADER_WORDS for t in first):  # unless these words are also node ids below
        return not any(t in row for row in rest for t in first)
    rest_int = bool(rest) and all(len(r) == 2 and all(_INT_TOKEN.match(t) for t in r) for r in rest)
    return rest_int and not all(_INT_TOKEN.match(t) for t in first)


def _read_two_columns(body: bytes, sep: str, header: bool, name: str):
    """The first two columns as arrays (int64 when every id is a plain integer, else str)."""
    kwargs = dict(sep=sep, header=None, skiprows=1 if header else 0, usecols=[0, 1],
                  skipinitialspace=True, skip_blank_lines=True, engine="c", encoding_errors="replace")
    try:
        df = pd.read_csv(io.BytesIO(body), dtype=np.int64, **kwargs)
        # pandas casts integral decimals ('1.0', '2e0') to int64: such ids must go through the
        # text path, which refuses decimal ids, so a file can be checked only when it has . e E
        if not any(c in body for c in (b".", b"e", b"E")):
            return df[0].to_numpy(), df[1].to_numpy(), 0
    except (ValueError, OverflowError, pd.errors.ParserError):
        pass  # text labels, huge ids or ragged lines: read as text below
    try:
        df = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, na_values=[""], **kwargs)
    except pd.errors.ParserError as err:
        raise DataError(f"'{name}' is not a readable edge list ({str(err).splitlines()[0]}).") from None
    except ValueError:  # only one column in the whole file
        raise DataError(f"'{name}' has a single column; an edge list needs two node ids per line.") from None
    ok = df[0].notna() & df[1].notna()
    skipped = int((~ok).sum())
    if skipped > 0.1 * len(df):
        raise DataError(f"'{name}' does not look like an edge list: {skipped} of {len(df)} lines "
                        "do not hold two node ids.")
    df = df[ok]
    return df[0].str.strip().to_numpy(dtype=str), df[1].str.strip().to_numpy(dtype=str), skipped


def _as_ids(u: np.ndarray, v: np.ndarray, name: str):
    """Integer ids stay int64; integer text too big for int64 and other labels stay text."""
    if u.dtype.kind == "i":
        return u, v, None
    both = np.concatenate([u, v])
    is_int = pd.Series(both).str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
    if is_int.all():
        try:
            return u.astype(np.int64), v.astype(np.int64), None
        except OverflowError:
            return u, v, "Some node ids are too large for 64-bit integers; all ids are kept as text."
    is_float = pd.Series(both).str.fullmatch(_FLOAT_TOKEN.pattern).to_numpy(dtype=bool)
    if (is_float | is_int).mean() > 0.5 and is_float.any():
        example = both[is_float][0]
        raise DataError(f"'{name}' does not look like an edge list: its first two columns hold decimal "
                        f"numbers (e.g. '{example}'), not node ids.")
    return u, v, "Node ids are text labels; they are kept as given."


def _clean(u: np.ndarray, v: np.ndarray, notes: list[str], name: str, directed_file: bool) -> LoadedGraph:
    loops = u == v
    n_loops = int(loops.sum())
    loop_ids = u[loops]
    u, v = u[~loops], v[~loops]
    if n_loops:
        notes.append(f"Dropped {n_loops} self loop{'s' * (n_loops != 1)} (an edge from a node to itself).")
    if u.size == 0:
        raise DataError(f"'{name}' holds no edges between two different nodes"
                        f"{' (only self loops)' if n_loops else ''}.")
    if u.dtype.kind == "i":
        both = np.concatenate([u, v])
        node_ids = _sorted_unique(both)
        inverse = np.searchsorted(node_ids, both)
    else:  # text labels (or ids too big for int64) keep the order of first appearance
        codes, uniques = pd.factorize(np.concatenate([u, v]), sort=False)
        node_ids, inverse = np.asarray(uniques, dtype=str), codes
    n = int(node_ids.size)
    lost = np.setdiff1d(loop_ids, node_ids).size if n_loops else 0
    if lost:
        notes.append(f"{lost} node{'s' * (lost != 1)} only had self loops and "
                     f"{'are' if lost != 1 else 'is'} left out.")
    pairs = inverse.reshape(2, -1).T.astype(np.int64)
    directed_keys = _sorted_unique(pairs[:, 0] * np.int64(n) + pairs[:, 1])
    edges = _unique_undirected(pairs, n)
    n_dup = len(pairs) - directed_keys.size
    n_rev = directed_keys.size - len(edges)
    if n_dup:
        notes.append(f"Merged {n_dup} duplicate line{'s' * (n_dup != 1)} (the same edge listed more than once).")
    if n_rev:
        notes.append(f"Merged {n_rev} edge{'s' * (n_rev != 1)} listed in both directions (u v and v u): "
                     "edges are undirected here.")
    if directed_file:
        notes.append("The file says the graph is directed; directions are ignored "
                     "(SSumM summarizes undirected graphs).")
    if node_ids.dtype.kind == "i" and not (node_ids[0] == 0 and node_ids[-1] == n - 1):
        notes.append("Node ids were numbered 0..n-1 internally; summaries and exports use the original ids.")
    return LoadedGraph(edges, node_ids, n, notes, name)


def content_hash(data: bytes) -> str:
    """A short stable name for uploaded bytes (first 16 hex digits of SHA-256)."""
    return hashlib.sha256(data).hexdigest()[:16]


def save_upload(data: bytes, filename: str, folder: Path) -> Path:
    """Save uploaded bytes as ``<folder>/<sha16>-<safe name>`` (idempotent) and return the path.

    The page validates the upload first; the worker process re-reads this file, so a run's config
    only needs the path.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name)[-80:] or "edges.txt"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{content_hash(data)}-{safe}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path
