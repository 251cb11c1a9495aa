"""Edge-list reading: every odd input gives a defined graph (with a note) or a clear DataError."""
from __future__ import annotations

import gzip
import time

import numpy as np
import pytest

from engine.errors import DataError
from engine.graphs.io import from_networkx, read_edge_list, save_upload
from engine.paths import shared_data_dir


def edges_of(g):
    return [tuple(g.node_ids[[a, b]].tolist()) for a, b in g.edges]


def test_snap_text_with_comments_tabs_and_blank_lines_reads_every_edge():
    data = b"# Directed graph: x\n% konect style\n\n0\t1\n1\t2\n\n2\t3\n"
    g = read_edge_list(data)
    assert edges_of(g) == [(0, 1), (1, 2), (2, 3)]
    assert g.n_nodes == 4


def test_file_saying_directed_is_read_undirected_and_says_so():
    g = read_edge_list(b"# Directed graph (each unordered pair of nodes is saved once)\n0 1\n1 2\n")
    assert any("directed" in n and "ignored" in n for n in g.notes)
    g2 = read_edge_list(b"# Undirected graph\n0 1\n1 2\n")
    assert not any("directions are ignored" in n for n in g2.notes)


@pytest.mark.parametrize("text", [b"source,target\n0,1\n1,2\n", b"0,1\n1,2\n", b"u;v\n0;1\n1;2\n", b"0; 1\n1 ;2\n"])
def test_csv_with_or_without_header_comma_or_semicolon(text):
    g = read_edge_list(text)
    assert edges_of(g) == [(0, 1), (1, 2)]


def test_header_line_is_skipped_and_reported():
    g = read_edge_list(b"from to\n5 6\n6 7\n")
    assert edges_of(g) == [(5, 6), (6, 7)]
    assert any("header" in n for n in g.notes)


def test_header_like_words_that_are_also_node_ids_are_data():
    g = read_edge_list(b"a,b\nb,c\n")
    assert edges_of(g) == [("a", "b"), ("b", "c")]


def test_self_loops_are_dropped_and_counted():
    g = read_edge_list(b"0 1\n1 1\n2 2\n1 2\n")
    assert edges_of(g) == [(0, 1), (1, 2)]
    assert "Dropped 2 self loops" in g.notes[0]


def test_node_seen_only_in_self_loops_is_left_out_and_said():
    g = read_edge_list(b"0 1\n7 7\n")
    assert g.n_nodes == 2 and edges_of(g) == [(0, 1)]
    assert any("only had self loops" in n for n in g.notes)


def test_duplicate_and_reversed_edges_are_merged_and_counted_separately():
    g = read_edge_list(b"0 1\n0 1\n0 1\n1 0\n1 2\n")
    assert edges_of(g) == [(0, 1), (1, 2)]
    assert any(n.startswith("Merged 2 duplicate lines") for n in g.notes)
    assert any(n.startswith("Merged 1 edge listed in both directions") for n in g.notes)


def test_edges_are_unique_with_u_less_than_v():
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 30, size=(400, 2))
    g = read_edge_list("\n".join(f"{a} {b}" for a, b in pairs).encode())
    assert (g.edges[:, 0] < g.edges[:, 1]).all()
    assert len({tuple(e) for e in g.edges.tolist()}) == g.n_edges
    expected = {(min(a, b), max(a, b)) for a, b in pairs.tolist() if a != b}
    assert set(edges_of(g)) == expected


def test_negative_ids_are_renumbered_keeping_the_original_ids():
    g = read_edge_list(b"-5 3\n3 10\n")
    assert g.node_ids.tolist() == [-5, 3, 10]
    assert g.edges.tolist() == [[0, 1], [1, 2]]
    assert any("original ids" in n for n in g.notes)


def test_text_labels_become_nodes_with_their_labels_kept():
    g = read_edge_list(b"alice,bob\nbob,carol\n")
    assert sorted(g.node_ids.tolist()) == ["alice", "bob", "carol"]
    assert edges_of(g) == [("alice", "bob"), ("bob", "carol")]
    assert any("text labels" in n for n in g.notes)


def test_ids_beyond_int64_are_kept_as_text():
    big = "123456789012345678901234567890"
    g = read_edge_list(f"{big} 1\n1 2\n".encode())
    assert big in g.node_ids.tolist()
    assert g.n_edges == 2
    assert any("64-bit" in n for n in g.notes)


def test_one_edge_graph_is_a_defined_graph():
    g = read_edge_list(b"4 9\n")
    assert g.n_nodes == 2 and g.n_edges == 1


def test_extra_columns_such_as_weights_are_ignored():
    g = read_edge_list(b"0 1 0.5\n1 2 3.0 1700000000\n2 3\n")
    assert edges_of(g) == [(0, 1), (1, 2), (2, 3)]


@pytest.mark.parametrize("data,words", [
    (b"", "no edges"),
    (b"# only a comment\n\n", "no edges"),
    (b"3 3\n", "only self loops"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
    (b"1\n2\n3\n", "two node ids"),
    (b"5.1,3.5,1.4\n4.9,3.0,1.4\n4.7,3.2,1.3\n", "decimal numbers"),
    (b"{\"nodes\": [1, 2]}\n", "JSON"),
    (b"<?xml version='1.0'?>\n<graphml>\n", "XML"),
])
def test_unusable_input_raises_a_clear_data_error(data, words):
    with pytest.raises(DataError, match=words):
        read_edge_list(data)


def test_missing_path_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="No file"):
        read_edge_list(tmp_path / "nope.txt")


def test_gzip_and_path_inputs_read_like_plain_bytes(tmp_path):
    text = b"0 1\n1 2\n"
    (tmp_path / "g.txt.gz").write_bytes(gzip.compress(text))
    (tmp_path / "g.txt").write_bytes(text)
    for src in (tmp_path / "g.txt.gz", str(tmp_path / "g.txt"), gzip.compress(text)):
        assert read_edge_list(src).edges.tolist() == [[0, 1], [1, 2]]


def test_from_networkx_keeps_isolated_nodes_and_labels():
    import networkx as nx

    G = nx.Graph([("a", "b")])
    G.add_node("z")
    g = from_networkx(G)
    assert g.n_nodes == 3 and g.node_ids.tolist() == ["a", "b", "z"] and g.n_edges == 1


def test_save_upload_is_content_addressed_and_readable(tmp_path):
    p1 = save_upload(b"0 1\n", "my graph.txt", tmp_path)
    p2 = save_upload(b"0 1\n", "my graph.txt", tmp_path)
    assert p1 == p2 and p1.name.endswith("my_graph.txt")
    assert read_edge_list(p1).n_edges == 1


@pytest.mark.slow
def test_half_a_million_edges_load_in_seconds():
    data_dir = shared_data_dir()
    path = data_dir / "graphs" / "ba_100k.txt" if data_dir else None
    if path is None or not path.exists():
        pytest.skip("shared benchmark data (ba_100k.txt) not present")
    t0 = time.perf_counter()
    g = read_edge_list(path)
    assert (g.n_nodes, g.n_edges) == (100_000, 499_975)
    assert time.perf_counter() - t0 < 5.0  # a generous bound on 2 shared cores (~0.3 s measured)
