"""The StackVAE-G experiment: every protocol for the model and baselines, live reports, cancel, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.anomaly.experiments import StackVAEGConfig, cluster_order, run_stackvaeg, top_edges
from engine.errors import ConfigError, DataError
from engine.paths import shared_data_dir
from engine.runs.reporter import MemoryReporter

TINY = dict(n_channels=6, n_groups=2, length=200, n_anomalies=2, window=10, epochs=2, hidden=16,
            latent=4, node_dim=6, k=3, batch_size=32)
PROTOCOLS = {"pot", "best_f1", "best_f1_pa", "pa_k", "pa_k_best", "auroc", "auprc"}


@pytest.fixture(scope="module")
def tiny_run():
    rep = MemoryReporter()
    return run_stackvaeg(StackVAEGConfig(**TINY), rep), rep


def test_result_has_every_protocol_for_the_model_and_each_baseline(tiny_run):
    result, _ = tiny_run
    assert set(result["metrics"]) == {"StackVAE-G", "Random", "PCA", "IsolationForest"}
    for name, m in result["metrics"].items():
        assert PROTOCOLS <= set(m), name
        assert set(m["pot"]) >= {"threshold", "point", "pa"} and len(m["pa_k"]["f1"]) == 11
    # the synthetic truth names the channels of each anomaly: HitRate for channel-scoring methods
    assert result["metrics"]["StackVAE-G"]["hitrate@100"] is not None
    assert "hitrate@100" not in result["metrics"]["IsolationForest"]


def test_result_reports_size_speed_graph_and_is_json(tiny_run):
    result, _ = tiny_run
    assert result["n_params"] == result["n_params_shared"] + 6 * 6
    assert result["seconds_per_epoch"] > 0 and result["windows_per_second"] > 0
    a = np.array(result["adjacency"])
    assert a.shape == (6, 6) and np.allclose(a.sum(axis=1), 1.0, atol=1e-4)
    assert sorted(result["order"]) == list(range(6))
    assert 0.0 <= result["synthetic"]["adjacency_auroc"] <= 1.0
    assert {"correlation", "lasso"} <= set(result["graphs"])
    assert {f["true_kind"] for f in result["faults"]} == {"sensor", "system"}
    json.dumps(result)  # JSON-serialisable as stored


def test_training_reports_loss_curves_and_adjacency_snapshots(tiny_run):
    _, rep = tiny_run
    assert len(rep.values("train/loss")) == 2 and len(rep.values("train/graph")) == 2
    steps = [s for s, _ in rep.snapshots["adjacency"]]
    assert len(steps) >= 2 and steps == sorted(steps)
    assert "scores.npz" in rep.artifacts


def test_synthetic_runs_score_the_graph_against_the_truth_after_every_epoch(tiny_run):
    result, rep = tiny_run
    history = result["synthetic"]["auroc_history"]
    assert [e for e, _ in history] == [0, 1, 2]  # the start, then each epoch
    assert [v for _, v in history] == rep.values("graph/auroc")
    assert history[-1][1] == pytest.approx(result["synthetic"]["adjacency_auroc"])
    from engine.anomaly.interpret import adjacency_auroc
    first = rep.snapshots["adjacency"][0][1]
    assert history[0][1] == pytest.approx(adjacency_auroc(first, np.array(result["synthetic"]["true_graph"], bool)))


def test_cancel_keeps_what_was_learned_and_skips_evaluation():
    rep = MemoryReporter(stop_after=3)
    result = run_stackvaeg(StackVAEGConfig(**{**TINY, "epochs": 40}), rep)
    assert result["cancelled"] and result["epochs_done"] == 1
    assert "metrics" not in result and np.array(result["adjacency"]).shape == (6, 6)
    assert rep.snapshots["adjacency"]  # the forced final snapshot


def test_config_rejects_impossible_settings_with_a_sentence():
    with pytest.raises(ConfigError, match="data must be one of"):
        StackVAEGConfig(data="excel")
    with pytest.raises(ConfigError, match="CSV file"):
        StackVAEGConfig(data="csv")
    with pytest.raises(ConfigError, match="epochs"):
        StackVAEGConfig(epochs=0)


def _csv(path, text):
    path.write_text(text)
    return str(path)


def test_csv_with_gaps_is_repaired_and_noted(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"]
    for t in range(120):
        v = np.sin(t / 4) + 0.05 * rng.normal(size=3)
        cells = [f"{x:.4f}" for x in v]
        if t in (10, 70):
            cells[1] = "nan" if t == 10 else "inf"
        rows.append(",".join(cells) + f",{int(90 <= t < 95)}")
    cfg = StackVAEGConfig(**{**TINY, "data": "csv", "csv_path": _csv(tmp_path / "x.csv", "\n".join(rows))})
    result = run_stackvaeg(cfg, MemoryReporter())
    assert any("forward-filled" in n for n in result["data"]["notes"])
    assert result["metrics"]["StackVAE-G"]["n_anomalies"] == 5


def test_csv_with_constant_and_one_channel_runs(tmp_path):
    text = "x,flat\n" + "".join(f"{np.sin(t / 3):.3f},1\n" for t in range(80))
    result = run_stackvaeg(StackVAEGConfig(**{**TINY, "data": "csv", "csv_path": _csv(tmp_path / "c.csv", text)}),
                           MemoryReporter())
    assert any("Constant channel" in n for n in result["data"]["notes"])
    assert "notes" in result and result["threshold"] > 0  # no labels: threshold only
    one = "x\n" + "".join(f"{np.sin(t / 3):.3f}\n" for t in range(80))
    result = run_stackvaeg(StackVAEGConfig(**{**TINY, "data": "csv", "csv_path": _csv(tmp_path / "o.csv", one)}),
                           MemoryReporter())
    assert result["adjacency"] == [[1.0]] and any("One channel" in n for n in result["data"]["notes"])


@pytest.mark.parametrize("text, match", [
    ("a,b\nx,y\nz,w\nq,r\ns,t\n", "contain no numbers"),
    ("a,b\n" + "1,2\n" * 12, "fewer than the window"),
])
def test_bad_csv_gets_a_clear_message(tmp_path, text, match):
    cfg = StackVAEGConfig(**{**TINY, "data": "csv", "csv_path": _csv(tmp_path / "bad.csv", text)})
    with pytest.raises(DataError, match=match):
        run_stackvaeg(cfg, MemoryReporter())


def test_missing_csv_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        run_stackvaeg(StackVAEGConfig(data="csv", csv_path=str(tmp_path / "nope.csv")), MemoryReporter())


def test_cluster_order_puts_linked_channels_side_by_side():
    a = np.zeros((6, 6))
    for group in ((0, 3, 5), (1, 2, 4)):
        for i in group:
            for j in group:
                a[i, j] = 1.0
    order = cluster_order(a)
    assert sorted(order) == list(range(6))
    assert {frozenset(order[:3]), frozenset(order[3:])} == {frozenset((0, 3, 5)), frozenset((1, 2, 4))}
    assert len(top_edges(a, 2)) == 12


SMD = shared_data_dir() / "SMD" if shared_data_dir() else None


@pytest.mark.slow
@pytest.mark.skipif(SMD is None or not SMD.is_dir(), reason="SMD benchmark data not present")
def test_smd_machine_runs_every_protocol_with_hitrate():
    cfg = StackVAEGConfig(data="smd", machine="machine-1-2", epochs=1, train_stride=400, hidden=16,
                          latent=4, baselines=False)
    result = run_stackvaeg(cfg, MemoryReporter())
    m = result["metrics"]["StackVAE-G"]
    assert result["data"]["n_channels"] == 38 and PROTOCOLS <= set(m)
    assert m["hitrate@100"] is not None and m["hitrate@150"] >= m["hitrate@100"]
