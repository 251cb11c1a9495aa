"""Graph sources: each named graph can be rebuilt from its source string, bad names say why."""
from __future__ import annotations

import pytest

from engine.errors import ConfigError, DataError
from engine.graphs.generators import (
    available_benchmarks, check_source, describe_source, load_source, make_source, parse_source,
)


@pytest.mark.parametrize("name,nodes,edges", [("karate", 34, 78), ("lesmis", 77, 254), ("florentine", 15, 20)])
def test_builtin_graphs_have_their_known_sizes(name, nodes, edges):
    g = load_source(f"builtin:{name}")
    assert (g.n_nodes, g.n_edges) == (nodes, edges)


def test_karate_club_keeps_the_two_clubs_as_groups():
    g = load_source("builtin:karate")
    assert sorted(set(g.groups.tolist())) == ["Mr. Hi", "Officer"]


def test_sbm_keeps_block_labels_and_has_more_edges_inside_blocks():
    g = load_source(make_source("generator", "sbm", {"blocks": 3, "size": 20, "p_in": 0.5, "p_out": 0.02, "seed": 1}))
    assert g.n_nodes == 60 and g.group_kind == "block"
    inside = (g.groups[g.edges[:, 0]] == g.groups[g.edges[:, 1]]).sum()
    assert inside > 3 * (g.n_edges - inside)


def test_generators_are_deterministic_given_the_seed():
    a = load_source("generator:ba?n=100&m=2&seed=3")
    b = load_source("generator:ba?n=100&m=2&seed=3")
    c = load_source("generator:ws?n=100&k=4&p=0.2&seed=3")
    assert (a.edges == b.edges).all()
    assert c.n_edges == 200


@pytest.mark.parametrize("source,words", [
    ("karate", "not understood"),
    ("builtin:nope", "Unknown built-in"),
    ("generator:sbm?blocks=0", "between"),
    ("generator:sbm?blocks=two", "number"),
    ("generator:ba?n=5&m=9", "fewer"),
    ("generator:sbm?colour=red", "Unknown parameter"),
    ("weird:x", "Unknown graph source"),
])
def test_bad_sources_raise_config_error(source, words):
    with pytest.raises(ConfigError, match=words):
        check_source(source)


def test_sbm_without_any_edge_is_a_data_error():
    with pytest.raises(DataError, match="no edges"):
        load_source("generator:sbm?blocks=2&size=3&p_in=0&p_out=0")


def test_path_source_keeps_the_path_whole(tmp_path):
    f = tmp_path / "a?b.txt"
    f.write_text("0 1\n")
    assert parse_source(f"path:{f}") == ("path", str(f), {})
    assert load_source(f"path:{f}").n_edges == 1
    assert describe_source(f"path:{f}") == "a?b.txt"


def test_missing_benchmark_is_a_data_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SPARSITY_LAB_DATA", str(tmp_path))
    assert available_benchmarks() == {}
    with pytest.raises(DataError, match="not available"):
        load_source("benchmark:cora")


def test_benchmark_sbm_has_its_blocks_when_present():
    if "sbm_2k" not in available_benchmarks():
        pytest.skip("shared benchmark data (sbm_2k) not present")
    g = load_source("benchmark:sbm_2k")
    assert (g.n_nodes, g.n_edges) == (2000, 21143)
    assert len(set(g.groups.tolist())) == 20
