"""The sparse lab's own-table dataset: a CSV of numeric features and a label column (issue #10 item 11).

Every malformed file ends in a DataError that names what is wrong; a well-formed one trains an MLP
(from the engine and from the CLI) that beats chance on a separable problem.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from engine.errors import ConfigError, DataError
from engine.sparse.config import SparseConfig
from engine.sparse.data import load
from engine.sparse.table import read_csv_table


def _table(n: int = 200, seed: int = 0, label=lambda v: "yes" if v else "no") -> str:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = x[:, 0] + 0.5 * x[:, 1] > 0
    lines = ["f1,f2,f3,f4,y"] + [",".join(f"{v:.4f}" for v in row) + f",{label(c)}" for row, c in zip(x, y)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(_table())
    return path


def test_a_table_is_read_with_its_classes_and_standardised_splits(good):
    t = read_csv_table(good.read_bytes(), "y")
    assert t.x.shape == (200, 4) and t.class_names == ["no", "yes"] and t.feature_names == ["f1", "f2", "f3", "f4"]
    s = load("csv", data_path=str(good), label_column="y", seed=0)
    assert (len(s.x_train), len(s.x_val), len(s.x_test)) == (140, 20, 40)
    assert s.n_classes == 2 and s.n_features == 4 and s.image_shape is None
    assert np.allclose(s.x_train.numpy().mean(axis=0), 0, atol=1e-5)  # standardised on the training part
    assert np.allclose(s.x_train.numpy().std(axis=0), 1, atol=1e-3)


def test_the_label_column_is_found_by_name_when_not_given(good):
    assert read_csv_table(good.read_bytes()).label_column == "y"


@pytest.mark.parametrize("text,label,says", [
    ("a,b,y\n" + "".join(f"{i},x{i},{i % 2}\n" for i in range(30)), "y", "not numeric"),
    ("a,b,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(30)), "target", "No label column 'target'"),
    ("a,b,c\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(30)), "", "name the label column"),
    ("a,b,y\n" + "".join(f"{i},{i},1\n" for i in range(30)), "y", "one class only"),
    ("a,b,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(10)), "y", "at least 20"),
    ("a,b,y\n" + "".join(f"{i},{'nan' if i == 4 else i},{i % 2}\n" for i in range(30)), "y", "NaN or infinite"),
    ("a,b,y\n" + "".join(f"{i},{'inf' if i == 4 else i},{i % 2}\n" for i in range(30)), "y", "NaN or infinite"),
    ("a,b,y\n" + "".join(f"{i},,{i % 2}\n" for i in range(30)), "y", "missing"),
    ("a,b,y\n" + "".join(f"{i},{i},{'' if i == 3 else i % 2}\n" for i in range(30)), "y", "is empty in 1 row"),
    ("a,b,y\n" + "".join(f"{i},{i},{i * 0.37}\n" for i in range(200)), "y", "regression target"),
    ("just one column\n" + "1\n" * 30, "", "at least two columns"),
    ("a,b,y\n1,2\n3,4,5,6,7\n", "y", "Could not read"),
])
def test_malformed_tables_are_refused_with_their_reason(text, label, says):
    with pytest.raises(DataError, match=says):
        read_csv_table(text.encode(), label)


def test_the_reader_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, engine.sparse.table; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_binary_garbage_is_a_data_error():
    with pytest.raises(DataError):
        read_csv_table(bytes(range(256)) * 4, "y")


def test_the_config_names_what_a_csv_run_needs():
    with pytest.raises(ConfigError, match="give its path"):
        SparseConfig(dataset="csv")
    with pytest.raises(ConfigError, match="use the MLP"):
        SparseConfig(dataset="csv", data_path="t.csv", model="cnn")
    with pytest.raises(DataError, match="not found"):
        load("csv", data_path="/no/such/file.csv")


@pytest.mark.slow
def test_an_mlp_learns_and_is_pruned_on_the_users_table(good):
    from engine.runs.reporter import MemoryReporter
    from engine.sparse.experiments import run_sparse

    config = SparseConfig(dataset="csv", data_path=str(good), label_column="y", hidden=(32,), epochs=20,
                          finetune_epochs=2, sparsity=0.5, speed_meter=False)
    result = run_sparse(config, MemoryReporter())
    assert result["test_accuracy"] > 0.8  # a linear rule in f1, f2: chance is about 0.5
    assert result["sparsity"] == pytest.approx(0.5, abs=0.02)


@pytest.mark.slow
def test_cli_runs_sparse_on_a_csv_with_a_named_label_column(good, tmp_path):
    from engine.cli import main

    out = tmp_path / "r.json"
    assert main(["run", "sparse", "--dataset", "csv", "--data-path", str(good), "--label-column", "y",
                 "--method", "magnitude", "--sparsity", "0.5", "--epochs", "15", "--hidden", "32",
                 "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["test_accuracy"] > 0.7 and [layer["shape"] for layer in result["layers"]] == [[32, 4], [2, 32]]


def test_cli_refuses_a_missing_label_column_with_a_message(good, capsys):
    from engine.cli import main

    code = main(["run", "sparse", "--dataset", "csv", "--data-path", str(good), "--label-column", "nope",
                 "--epochs", "1", "--quiet"])
    assert code != 0
    err = capsys.readouterr().err
    assert "No label column 'nope'" in err and "Traceback" not in err
