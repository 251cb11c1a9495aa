"""#18 item 8: inputs that can only be judged by reading them (a CSV with too few rows or bad labels,
an SMD folder with missing files, a window longer than the training part) are refused by the
kind's pre-flight, before a run is recorded: for the CLI (engine/cli.py calls ``args.preflight``)
and for the app (engine.sparse.preflight.check reads a CSV with the torch-free reader)."""
from __future__ import annotations

import numpy as np
import pytest

from engine import cli
from engine.errors import DataError
from engine.runs.store import RunStore


def _csv(path, rows: int, labels=None, channels: int = 3):
    rng = np.random.default_rng(0)
    labels = labels if labels is not None else [i % 2 for i in range(rows)]
    lines = [",".join([f"c{i}" for i in range(channels)] + ["label"])]
    for r in range(rows):
        lines.append(",".join(f"{v:.3f}" for v in rng.normal(size=channels)) + f",{labels[r]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _refused(tmp_path, capsys, argv) -> str:
    db = tmp_path / "runs.db"
    rc = cli.main(["run", *argv, "--db", str(db), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not db.exists() or RunStore(db).list_runs() == []  # no failed run recorded
    return err


def test_stackvaeg_csv_with_too_few_rows_is_refused_before_a_run(tmp_path, capsys):
    path = _csv(tmp_path / "few.csv", 30)
    err = _refused(tmp_path, capsys, ["stackvaeg", "--csv", str(path), "--window", "100"])
    assert "window" in err


def test_stackvaeg_window_longer_than_the_training_part(tmp_path, capsys):
    err = _refused(tmp_path, capsys, ["stackvaeg", "--synthetic", "--length", "150", "--window", "500"])
    assert "window" in err


def test_stackvaeg_smd_folder_without_its_files(tmp_path, capsys):
    folder = tmp_path / "SMD"
    (folder / "train").mkdir(parents=True)
    _refused(tmp_path, capsys, ["stackvaeg", "--smd", str(folder), "--machine", "machine-1-1"])


def test_stackvaeg_csv_with_bad_labels(tmp_path, capsys):
    path = _csv(tmp_path / "bad.csv", 400, labels=["x"] * 400)
    _refused(tmp_path, capsys, ["stackvaeg", "--csv", str(path), "--label-column", "label", "--window", "20"])


@pytest.mark.parametrize("rows,labels,needle", [(5, None, "rows"), (60, [1] * 60, "one class")])
def test_sparse_csv_refused_before_a_run_cli_and_app(tmp_path, capsys, rows, labels, needle):
    path = _csv(tmp_path / "t.csv", rows, labels)
    err = _refused(tmp_path, capsys, ["sparse", "--dataset", "csv", "--data-path", str(path), "--method", "dense",
                                      "--epochs", "1"])
    assert needle in err
    from engine.sparse.config import SparseConfig
    from engine.sparse.preflight import check

    with pytest.raises(DataError, match=needle):  # the app's Train page runs this check in its server
        check(SparseConfig(dataset="csv", data_path=str(path), method="dense"))


def test_sparse_csv_preflight_accepts_a_good_file_and_sizes_it(tmp_path):
    from engine.sparse.config import SparseConfig
    from engine.sparse.preflight import check

    path = _csv(tmp_path / "ok.csv", 200, channels=5)
    shapes = check(SparseConfig(dataset="csv", data_path=str(path), method="dense", hidden=(8,)))
    assert shapes["layers.0.weight"] == (8, 5)
