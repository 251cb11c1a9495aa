"""The app and the CLI start without importing Ray; backend settings are checked without it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.runs.ray_backend import check_backend, probe

ROOT = Path(__file__).resolve().parents[3]

_SCRIPT = """
import sys
from streamlit.testing.v1 import AppTest
for page in ("streamlit_app.py", "dashboard/pages/sparse_compare.py", "dashboard/pages/sparse_sensitivity.py",
             "dashboard/pages/graphs_summarize.py"):
    at = AppTest.from_file(page, default_timeout=120)
    at.run()
    assert not at.exception, (page, at.exception)
from engine.cli import build_parser
build_parser()
import engine.sparse.sweep, engine.graphs.experiments, engine.runs.ray_backend
print("RAY_IMPORTED" if "ray" in sys.modules else "NO_RAY")
"""


def test_app_pages_and_cli_start_without_importing_ray(tmp_path):
    env = {"SPARSITY_LAB_DB": str(tmp_path / "runs.db"), "SPARSITY_LAB_WARM_POOL": "0", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "NO_RAY"


@pytest.mark.parametrize("backend, address, words", [
    ("slurm", "local", "Backend must be one of local, ray"),
    ("ray", "http://head:8265", "is not one of: auto, local, HOST:PORT, ray://HOST:PORT"),
    ("ray", "", "is not one of"),
])
def test_a_bad_backend_or_address_is_refused_with_a_sentence(backend, address, words):
    from engine.sparse.sweep import SweepConfig

    with pytest.raises(ConfigError, match=words):
        check_backend(backend, address)
    with pytest.raises(ConfigError, match=words):
        SweepConfig(backend=backend, address=address)


def test_probe_of_an_address_nobody_serves_says_so_without_a_traceback():
    pytest.importorskip("ray", reason="ray is not installed (pip install -r requirements.txt)")
    info = probe("127.0.0.1:9", timeout=8)  # nothing listens on port 9 here
    assert set(info) == {"error"} and "127.0.0.1:9" in info["error"] and "Traceback" not in info["error"]


def test_probe_of_local_counts_the_runners_workers_without_starting_anything():
    from engine.runs.threads import max_workers

    info = probe("local")
    assert info.get("cpus") == max_workers() or "not installed" in info.get("error", "")


def test_a_sweep_too_long_for_this_machine_may_run_on_a_cluster():
    """The 24 h bound on a sweep's summed runs is this machine's; on Ray each run's own bound still holds."""
    from engine.sparse.sweep import SweepConfig

    big = dict(hidden=(4096, 4096), epochs=1000, seeds=(0, 1, 2))
    with pytest.raises(ConfigError, match="run the points on a Ray cluster"):
        SweepConfig(**big)
    assert SweepConfig(**big, backend="ray").n_runs == 21
    with pytest.raises(ConfigError):  # one run over its own bound is refused on any backend
        SweepConfig(hidden=(4096, 4096, 4096, 4096), epochs=100000, backend="ray")
