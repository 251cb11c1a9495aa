"""#18 item 2: every size-like setting has an upper bound (engine/limits.py), stated in --help and
checked before a run is recorded; the CLI answers in one line, never with a traceback."""
from __future__ import annotations

import pytest

from engine import cli, limits
from engine.errors import ConfigError

CASES = [
    ("sparse", ["--hidden", "10000000"], "Hidden widths"),
    ("sparse", ["--hidden", "10000000,10000000"], "Hidden widths"),
    ("sparse", ["--hidden", ",".join(["64"] * 40)], "Hidden widths"),
    ("sparse", ["--dataset", "moons", "--n-samples", "1000000000"], "Samples"),
    ("sparse", ["--model", "cnn", "--channels", "100000"], "CNN channels"),
    ("sparse", ["--epochs", "1000000000"], "Epochs"),
    ("sparse", ["--finetune-epochs", "1000000000"], "Fine-tuning epochs"),
    ("sparse", ["--batch-size", "1000000000"], "Batch size"),
    ("sparse", ["--dataset", "mnist", "--data-path", "/tmp", "--max-train", "1000000000"], "max train"),
    # each setting inside its cap, the combination over the memory estimate (3 x 8192² weights)
    ("sparse", ["--dataset", "mnist", "--data-path", "/tmp", "--hidden", "8192,8192,8192"], "GiB"),
    # ... and over the time estimate
    ("sparse", ["--dataset", "mnist", "--data-path", "/tmp", "--hidden", "4096,4096", "--epochs", "5000"], "hours"),
    ("sweep", ["--epochs", "1000000000"], "Epochs"),
    ("sweep", ["--hidden", "10000000"], "Hidden widths"),
    ("sweep", ["--sparsities", ",".join(["0.5"] * 100)], "sparsity levels"),
    ("sweep", ["--seeds", ",".join(map(str, range(1000)))], "seeds"),
    ("sweep", ["--dataset", "mnist", "--data-path", "/tmp", "--hidden", "2048,2048", "--epochs", "2000",
               "--methods", "magnitude,rigl,set"], "sweep"),
    ("sensitivity", ["--epochs", "1000000000"], "Epochs"),
    ("sensitivity", ["--channels", "100000", "--model", "cnn"], "CNN channels"),
    ("sensitivity", ["--finetune-epochs", "1000000000"], "Fine-tuning epochs"),
    ("sae", ["--width", "100000000"], "SAE width"),
    ("sae", ["--model-hidden", "100000000"], "hidden units"),
    ("sae", ["--epochs", "1000000000"], "SAE epochs"),
    ("quickselection", ["--hidden-units", "10000000"], "Hidden units"),
    ("quickselection", ["--epochs", "1000000000"], "Epochs"),
    ("stackvaeg", ["--synthetic", "--epochs", "1000000000"], "epochs"),
    ("stackvaeg", ["--synthetic", "--channels", "100000"], "channels"),
]


@pytest.mark.parametrize("kind,flags,needle", CASES, ids=[f"{k}{' '.join(f)[:40]}" for k, f, _ in CASES])
def test_oversized_setting_is_refused_in_one_line_before_a_run_is_recorded(tmp_path, capsys, kind, flags, needle):
    db = tmp_path / "runs.db"
    rc = cli.main(["run", kind, *flags, "--db", str(db), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert needle.lower() in err.lower()
    assert not db.exists()  # refused before the store was even opened: nothing recorded


@pytest.mark.parametrize("flag,phrase", [("--hidden", "8,192 units per layer"), ("--channels", "512 channels"),
                                         ("--epochs", "5,000"), ("--n-samples", "1,000,000"),
                                         ("--batch-size", "65,536"), ("--max-train", "60,000")])
def test_bounds_are_stated_in_help(capsys, flag, phrase):
    with pytest.raises(SystemExit):
        cli.main(["run", "sparse", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    at = out.index(f"{flag} {flag[2:].replace('-', '_').upper()} ")  # the option's line (the usage has a ']')
    assert phrase in out[at:at + 400]


def test_bounds_leave_the_defaults_and_the_caps_alone():
    from engine.sparse.config import SparseConfig, check_size
    from engine.sparse.sweep import SensitivityConfig, SweepConfig

    SparseConfig(), SweepConfig(), SensitivityConfig()
    SparseConfig(hidden=(limits.MAX_WIDTH,), epochs=5)  # each cap itself is allowed
    assert check_size(SparseConfig(epochs=100, finetune_epochs=0)) == pytest.approx(2 * check_size(SparseConfig(epochs=50, finetune_epochs=0)))
    with pytest.raises(ConfigError, match="GiB"):
        SparseConfig(dataset="mnist", data_path="/tmp", hidden=(8192, 8192, 8192))


def test_budget_derivation_figures():
    """The docstring's derivation: 4 GiB / 32 B per weight ≈ 134 million weights."""
    assert limits.MEMORY_BUDGET // limits.BYTES_PER_WEIGHT == 134_217_728
    # the default digits run is estimated at ~2 s of compute: far inside the 24 h budget
    from engine.sparse.config import SparseConfig, check_size

    assert 0.5 < check_size(SparseConfig()) < 10


def test_the_server_never_generates_the_largest_synthetic_series_to_shape_it(monkeypatch):
    """The StackVAE-G page shapes its data in the server: for synthetic data the shape comes from the
    settings (bench/server_memory.py: 1.3 GB and 55 s for 200 channels x 200,000 rows before)."""
    from engine.anomaly import experiments, preflight
    from engine.anomaly.experiments import StackVAEGConfig

    def boom(cfg):
        raise AssertionError("the synthetic series was generated to read its shape")

    monkeypatch.setattr(preflight, "load_data", boom, raising=False)
    monkeypatch.setattr(experiments, "load_data", boom)
    cfg = StackVAEGConfig(n_channels=200, n_groups=20, length=200_000, window=2000)
    assert preflight.data_shape(cfg) == (200_000, 200_000, 200)
