"""CLI output paths are checked before the run, write failures keep the run, a closed pipe is quiet."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("option,value,words", [
    ("--json", "{tmp}/missing/r.json", "does not exist"),
    ("--json", "{tmp}", "is a folder"),
    ("--out", "{tmp}/missing/summary.txt", "does not exist"),
    ("--graphml", "{tmp}", "is a folder"),
])
def test_bad_output_paths_fail_before_any_run_is_recorded(tmp_db, tmp_path, capsys, option, value, words):
    code = main(["run", "ssumm", "builtin:karate", "--ratio", "0.5", "--quiet", option,
                 value.format(tmp=tmp_path)])
    assert code == 2 and words in capsys.readouterr().err
    assert RunStore(tmp_db).list_runs() == []          # refused before the run: nothing recorded


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_write_that_fails_after_the_run_says_so_and_keeps_the_run(tmp_db, capsys):
    code = main(["run", "ssumm", "builtin:karate", "--ratio", "0.5", "--quiet", "--json", "/dev/full"])
    err = capsys.readouterr().err
    assert code == 2 and "Could not write --json /dev/full" in err and "export 1" in err
    assert RunStore(tmp_db).get_run(1).status == "finished"


def test_runs_listing_into_a_closed_pipe_ends_quietly(tmp_db):
    store = RunStore(tmp_db)
    for _ in range(3000):
        store.create_run("toy", {}, name="a run with a name long enough to fill the pipe quickly")
    proc = subprocess.run(f"{sys.executable} -m engine runs | head -1", shell=True, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("kind_args,words", [
    (["ssumm", "builtin:karate", "--seed", "-1"], "seed"),
    (["ssumm", "builtin:karate", "--seed", str(2**64)], "seed"),
    (["ssumm-sweep", "builtin:karate", "--ratios", "nan"], "finite|in \\(0, 1\\]"),
])
def test_settings_numpy_would_choke_on_are_refused_before_the_run(tmp_db, capsys, kind_args, words):
    import re

    assert main(["run", *kind_args, "--quiet"]) == 2
    assert re.search(words, capsys.readouterr().err)
    assert RunStore(tmp_db).list_runs() == []


def test_every_config_refuses_nan_inf_and_out_of_range_seeds():
    from engine import registry
    from engine.errors import ConfigError

    for kind in registry.KINDS:
        config_cls, _ = registry.get(kind)
        fields = {f.name: str(f.type) for f in __import__("dataclasses").fields(config_cls)}
        for name, typ in fields.items():
            bad = {"float": [float("nan"), float("inf")], "int": [1.5]}.get(typ, [])
            if name == "seed":
                bad = [-1, 2**64]
            for value in bad:
                with pytest.raises(ConfigError):
                    config_cls(**{name: value})
