"""CLI contract: `python -m engine run ssumm <edge list> ... --out summary.txt --json result.json`."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import build_parser, main
from engine.errors import ConfigError, DataError
from engine.graphs.summary import Summary

ROOT = Path(__file__).resolve().parents[3]
CONTRACT_KEYS = {"nodes", "edges", "supernodes", "superedges", "size_bits", "input_bits", "re1", "re2", "seconds"}


@pytest.fixture
def edge_file(tmp_path):
    import networkx as nx

    path = tmp_path / "karate.txt"
    path.write_text("# karate club\n" + "".join(f"{u}\t{v}\n" for u, v in nx.karate_club_graph().edges()))
    return path


def _config(argv):
    args = build_parser().parse_args(argv)
    return args, args.build_config(args)


def test_build_config_turns_a_file_into_an_absolute_path_source(edge_file):
    args, cfg = _config(["run", "ssumm", str(edge_file), "--ratio", "0.3", "--error", "l2", "--seed", "4"])
    assert cfg.source == f"path:{edge_file.resolve()}"
    assert (cfg.ratio, cfg.error, cfg.seed, cfg.iterations) == (0.3, "l2", 4, 20)
    assert args.kind == "ssumm"


def test_build_config_accepts_source_strings():
    _, cfg = _config(["run", "ssumm", "generator:sbm?blocks=3", "--ratio", "0.5"])
    assert cfg.source == "generator:sbm?blocks=3"
    _, sweep = _config(["run", "ssumm-sweep", "builtin:karate", "--ratios", "0.1, 0.3,0.5"])
    assert sweep.ratios == (0.1, 0.3, 0.5)


def test_missing_file_and_bad_ratio_fail_before_running(tmp_path):
    with pytest.raises(DataError, match="No edge-list file"):
        _config(["run", "ssumm", str(tmp_path / "missing.txt")])
    with pytest.raises(ConfigError, match=r"in \(0, 1\]"):
        _config(["run", "ssumm", "builtin:karate", "--ratio", "1.2"])
    with pytest.raises(ConfigError, match="numbers separated"):
        _config(["run", "ssumm-sweep", "builtin:karate", "--ratios", "0.1,abc"])


def test_bad_input_exits_with_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["run", "ssumm", str(tmp_path / "missing.txt"), "--quiet"]) == 2
    assert "error: No edge-list file" in capsys.readouterr().err


def test_run_ssumm_writes_the_authors_format_and_the_result_json(edge_file, tmp_path):
    out, res = tmp_path / "summary.txt", tmp_path / "result.json"
    code = main(["run", "ssumm", str(edge_file), "--ratio", "0.3", "--error", "l1", "--seed", "0",
                 "--out", str(out), "--json", str(res), "--quiet"])
    assert code == 0
    result = json.loads(res.read_text())
    assert CONTRACT_KEYS <= set(result), CONTRACT_KEYS - set(result)
    for key in CONTRACT_KEYS:      # plain JSON numbers, counts as whole numbers
        assert isinstance(result[key], int if key in {"nodes", "edges", "supernodes", "superedges"}
                          else (int, float)) and not isinstance(result[key], bool), key
    assert (result["nodes"], result["edges"]) == (34, 78)
    assert result["input_bits"] == pytest.approx(2 * 78 * math.log2(34))
    assert 0 < result["size_bits"] <= 0.3 * result["input_bits"] and result["seconds"] > 0
    text = out.read_text()
    assert text.startswith("<Subnode of each supernode>\n") and "<Superedge info>" in text
    # --out round-trips: read back with the input's edges, it is the same summary with the same errors
    edges = np.loadtxt(edge_file, dtype=np.int64, comments="#")
    back = Summary.from_text(text, edges)
    assert back.n_supernodes == result["supernodes"] and back.n_superedges == result["superedges"]
    assert back.n_nodes == 34 and back.n_edges == 78
    assert (back.re1, back.re2) == (pytest.approx(result["re1"], rel=1e-9), pytest.approx(result["re2"], rel=1e-9))
    assert back.size_bits <= result["size_bits"] + 1e-9   # the file's ω_max ≤ the running maximum


def test_run_ssumm_sweep_writes_one_csv_row_per_ratio(tmp_path):
    path = tmp_path / "curve.csv"
    assert main(["run", "ssumm-sweep", "builtin:florentine", "--ratios", "0.3,0.6", "--csv", str(path),
                 "--quiet"]) == 0
    rows = list(csv.DictReader(path.open()))
    assert [float(r["ratio"]) for r in rows] == [0.3, 0.6]


@pytest.mark.slow
def test_python_dash_m_engine_is_the_documented_command(edge_file, tmp_path):
    res = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", "ssumm", str(edge_file), "--ratio", "0.3",
                           "--json", str(res), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert CONTRACT_KEYS <= set(json.loads(res.read_text()))


@pytest.mark.parametrize("content,words", [
    (b"", "holds no edges"), (b"\x00\x01\x02binary", "not a text file"), (b"# only a comment\n", "holds no edges"),
    (b'{"nodes": []}', "JSON"), (b"1\n2\n3\n", "single column"), (b"1.5 2.5\n", "decimal"),
])
def test_bad_edge_files_are_refused_before_a_run_is_recorded(tmp_path, tmp_db, capsys, content, words):
    from engine.runs.store import RunStore

    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert main(["run", "ssumm", str(path), "--quiet"]) == 2
    assert words in capsys.readouterr().err
    assert RunStore(tmp_db).list_runs() == []


def test_a_large_file_whose_head_is_only_comments_is_not_refused(tmp_path):
    from engine.graphs.io import HEAD_BYTES, check_edge_file

    path = tmp_path / "late.txt"
    path.write_bytes(b"# comment line\n" * (HEAD_BYTES // 15 + 10) + b"1 2\n2 3\n")
    check_edge_file(path)     # no error: the edges come after the first 64 KiB
