"""AppTest of every run viewer on degenerate but valid runs (issue #10 item 1).

Tiny real experiments are recorded in a temporary store: a StackVAE-G run on a 1- and a
2-channel CSV, an MLP with one hidden layer, SSumM on a graph with one edge, and a run of every
kind cancelled at step 0 (cancel requested before it started) or cancelled while queued (no
result at all). Each is drawn by the viewer the pages and the Runs page use; none may raise or
show an error box.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

KINDS = ("sparse", "sweep", "sensitivity", "ssumm", "ssumm-sweep", "stackvaeg")
TINY_SVG = dict(window=12, epochs=2, hidden=16, latent=4, node_dim=6, k=3, batch_size=32)


def _csv(folder: Path, n: int) -> str:
    rng = np.random.default_rng(n)
    lines = [",".join([f"ch{j}" for j in range(n)] + ["label"])]
    for t in range(200):
        lines.append(",".join([f"{np.sin(t / 5 + j) + 0.1 * rng.normal():.3f}" for j in range(n)]
                              + [str(int(150 < t < 160))]))
    path = folder / f"series-{n}.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory) -> tuple[str, dict[str, int]]:
    """(store path, {case: run id}) of the degenerate runs, recorded once for the module."""
    from engine.anomaly.experiments import StackVAEGConfig
    from engine.graphs.experiments import SSumMConfig, SSumMSweepConfig
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run
    from engine.sparse.config import SparseConfig
    from engine.sparse.sweep import SensitivityConfig, SweepConfig

    folder = tmp_path_factory.mktemp("degenerate")
    store = RunStore(folder / "runs.db")
    edge = folder / "one-edge.txt"
    edge.write_text("0 1\n")
    table = folder / "table.csv"  # the sparse lab's own-table dataset, 2 features (drawn like the 2-D sets)
    table.write_text("a,b,y\n" + "".join(f"{np.sin(i)},{np.cos(i)},{int(np.sin(i) > 0)}\n" for i in range(40)))
    cases = {
        "stackvaeg 1 channel": ("stackvaeg", StackVAEGConfig(data="csv", csv_path=_csv(folder, 1), **TINY_SVG), False),
        "stackvaeg 2 channels": ("stackvaeg", StackVAEGConfig(data="csv", csv_path=_csv(folder, 2), **TINY_SVG), False),
        "stackvaeg cancelled at step 0": ("stackvaeg", StackVAEGConfig(n_channels=6, n_groups=2, length=240,
                                                                       n_anomalies=2, **TINY_SVG), True),
        "sparse 1 hidden layer": ("sparse", SparseConfig(hidden=(4,), epochs=1, finetune_epochs=0,
                                                         speed_meter=False), False),
        "sparse on an own 2-feature table": ("sparse", SparseConfig(dataset="csv", data_path=str(table), hidden=(4,),
                                                                    epochs=1, finetune_epochs=0, speed_meter=False),
                                             False),
        "sparse cancelled at step 0": ("sparse", SparseConfig(hidden=(8,), epochs=2, finetune_epochs=1), True),
        "sweep cancelled at step 0": ("sweep", SweepConfig(sparsities=(0.5,), epochs=1, hidden=(8,)), True),
        "sensitivity 1 hidden layer": ("sensitivity", SensitivityConfig(sparsities=(0.5,), epochs=1, hidden=(4,)),
                                       False),
        "sensitivity cancelled at step 0": ("sensitivity", SensitivityConfig(sparsities=(0.5,), epochs=1,
                                                                             hidden=(8,)), True),
        "ssumm one edge": ("ssumm", SSumMConfig(source=f"path:{edge}", iterations=2), False),
        "ssumm cancelled at step 0": ("ssumm", SSumMConfig(iterations=2), True),
        "ssumm-sweep one edge": ("ssumm-sweep", SSumMSweepConfig(source=f"path:{edge}", ratios=(0.5,),
                                                                 iterations=2), False),
        "ssumm-sweep cancelled at step 0": ("ssumm-sweep", SSumMSweepConfig(iterations=2), True),
    }
    ids = {}
    for case, (kind, config, cancel) in cases.items():
        rid = store.create_run(kind, config.to_dict(), seed=0, name=case)
        store.mark_running(rid, os.getpid())
        if cancel:
            store.request_cancel(rid)
        status = execute_run(store, rid)
        assert status == ("cancelled" if cancel else "finished"), (case, store.get_run(rid).error)
        ids[case] = rid
    for kind in KINDS:  # cancelled while queued: no result, no metrics
        rid = store.create_run(kind, {}, seed=0, name=f"{kind} cancelled while queued")
        store.finish(rid, "cancelled")
        ids[f"{kind} cancelled while queued"] = rid
    return str(store.path), ids


def _draw(db: str, run_id: int) -> None:
    from dashboard.components.run_view import draw_run
    from engine.runs.store import RunStore

    store = RunStore(db)
    draw_run(store, store.get_run(run_id))


CASES = ["stackvaeg 1 channel", "stackvaeg 2 channels", "stackvaeg cancelled at step 0", "sparse 1 hidden layer",
         "sparse on an own 2-feature table", "sparse cancelled at step 0", "sweep cancelled at step 0", "sensitivity 1 hidden layer",
         "sensitivity cancelled at step 0", "ssumm one edge", "ssumm cancelled at step 0", "ssumm-sweep one edge",
         "ssumm-sweep cancelled at step 0", *(f"{k} cancelled while queued" for k in KINDS)]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_every_viewer_draws_a_degenerate_run_without_error(degenerate, case):
    db, ids = degenerate
    at = AppTest.from_function(_draw, args=(db, ids[case]), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.slow
@pytest.mark.parametrize("case,says", [("stackvaeg 1 channel", "One channel"), ("stackvaeg 2 channels", "Two channels")])
def test_stackvaeg_graph_tab_explains_why_there_is_no_neighbour_slider(degenerate, case, says):
    db, ids = degenerate
    at = AppTest.from_function(_draw, args=(db, ids[case]), default_timeout=60).run()
    assert not at.exception
    assert not [s for s in at.slider if s.label == "Neighbours drawn per channel"]
    assert any(says in c.value for c in at.caption)
    assert "Parameters" in [m.label for m in at.metric]  # the other tabs still draw


def test_a_failing_tab_leaves_the_other_tabs_drawn(monkeypatch, tmp_path):
    """One tab raising an unexpected error shows its own message; the summary and other tabs stay."""
    from engine.runs.store import RunStore

    store = RunStore(tmp_path / "runs.db")
    result = {"data": {"name": "x", "train_rows": 10, "test_rows": 10, "n_channels": 3, "source": "s",
                       "notes": [], "channel_names": ["a", "b", "c"]},
              "n_params": 10, "n_params_shared": 7, "n_params_per_channel": 1, "epochs_done": 1,
              "seconds_per_epoch": 0.1, "windows_per_second": 10.0, "adjacency": "not a matrix", "order": [0, 1, 2]}
    rid = store.create_run("stackvaeg", {}, seed=0)
    store.finish(rid, "cancelled", result=result)
    at = AppTest.from_function(_draw, args=(str(store.path), rid), default_timeout=30).run()
    assert not at.exception
    assert any("learned graph" in e.value for e in at.error)  # the broken tab says so …
    assert "Parameters" in [m.label for m in at.metric]  # … the summary is still drawn
    assert any("cancelled before scoring" in i.value for i in at.info)  # … and so are the other tabs


def test_live_heatmap_of_a_running_csv_run_names_its_channels_and_hovers(tmp_path):
    """While training (no result yet) the heatmap has named axes, a colour bar and a hover per pair."""
    import json

    from engine.runs.store import RunStore

    csv = tmp_path / "s.csv"
    csv.write_text("cpu,mem,disk\n" + "".join(f"{i % 5},{i % 7},{i % 3}\n" for i in range(60)))
    store = RunStore(tmp_path / "runs.db")
    rid = store.create_run("stackvaeg", {"data": "csv", "csv_path": str(csv), "train_fraction": 0.5}, seed=0)
    store.mark_running(rid, os.getpid())
    store.add_snapshot(rid, "adjacency", np.array([[1.0, 0.4, 0.0], [0.2, 1.0, 0.6], [0.0, 0.3, 1.0]]), 5)
    at = AppTest.from_function(_draw, args=(str(store.path), rid), default_timeout=30).run()
    assert not at.exception and not at.error
    (fig,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Learned adjacency" in c.proto.spec]
    trace = fig["data"][0]
    assert trace["type"] == "heatmap" and trace["colorbar"]["title"]["text"] == "weight"
    assert "weight" in trace["hovertemplate"]
    assert {c.split(" ← ")[0] for row in trace["customdata"] for c in row} == {"cpu", "mem", "disk"}
    assert fig["layout"]["xaxis"]["title"]["text"] and fig["layout"]["yaxis"]["title"]["text"]
