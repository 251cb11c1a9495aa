"""CLI contract: `python -m engine run stackvaeg --synthetic|--smd|--smap|--csv ... --json result.json`."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import build_parser, main
from engine.errors import DataError
from engine.paths import shared_data_dir

TINY = ["--channels", "4", "--groups", "2", "--length", "200", "--window", "10", "--epochs", "1", "--quiet"]


def _config(argv):
    args = build_parser().parse_args(["run", "stackvaeg", *argv])
    return args.build_config(args)


def test_synthetic_run_writes_metrics_params_speed_and_adjacency(tmp_path):
    out, db = tmp_path / "r.json", tmp_path / "runs.db"
    assert main(["run", "stackvaeg", "--synthetic", *TINY, "--seed", "0", "--json", str(out), "--db", str(db)]) == 0
    r = json.loads(out.read_text())
    assert {"StackVAE-G", "Random", "PCA", "IsolationForest"} == set(r["metrics"])
    assert {"pot", "best_f1", "best_f1_pa", "pa_k", "auroc"} <= set(r["metrics"]["StackVAE-G"])
    assert r["n_params"] == 150_790 + 4 * 30 - (100 - 10) * (200 + 2 * 201)  # window 10, not 100
    assert r["seconds_per_epoch"] > 0 and np.array(r["adjacency"]).shape == (4, 4)
    assert "seconds" in r and r["run_id"] == 1


def test_data_source_flags_build_the_matching_config(tmp_path):
    assert _config([]).data == "synthetic"
    cfg = _config(["--smd", str(tmp_path), "--machine", "machine-1-3", "--epochs", "20"])
    assert (cfg.data, cfg.machine, cfg.epochs, cfg.data_dir) == ("smd", "machine-1-3", 20, str(tmp_path))
    assert _config(["--smap", str(tmp_path), "--channel", "E-1"]).channel == "E-1"
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    assert _config(["--csv", str(f)]).csv_path == str(f)
    released = _config([])
    assert (released.graph_weight, released.node_init_std) == (1.0, 1.0)
    study = _config(["--graph-weight", "0", "--node-init-std", "0.1"])
    assert (study.graph_weight, study.node_init_std) == (0.0, 0.1)


def test_conflicting_or_missing_sources_are_clear_errors(tmp_path, capsys):
    with pytest.raises(DataError, match="Choose one data source"):
        _config(["--synthetic", "--smd", str(tmp_path)])
    with pytest.raises(DataError, match="no such folder"):
        _config(["--smd", str(tmp_path / "missing")])
    assert main(["run", "stackvaeg", "--smd", str(tmp_path / "missing"), "--quiet"]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_non_numeric_csv_fails_with_a_message_not_a_traceback(tmp_path, capsys):
    f = tmp_path / "words.csv"
    f.write_text("a,b\n" + "x,y\n" * 30)
    # refused by the pre-flight, before a run is recorded (#18 item 8): exit 2, not a failed run (1)
    code = main(["run", "stackvaeg", "--csv", str(f), "--quiet", "--db", str(tmp_path / "db")])
    err = capsys.readouterr().err
    assert code == 2 and "contain no numbers" in err and "Traceback" not in err


SMD = shared_data_dir() / "SMD" if shared_data_dir() else None


@pytest.mark.skipif(SMD is None or not SMD.is_dir(), reason="SMD benchmark data not present")
def test_smd_flags_find_the_shared_machine():
    cfg = _config(["--smd", str(SMD), "--machine", "machine-1-2"])
    assert cfg.data == "smd" and cfg.data_dir == str(SMD.resolve())
