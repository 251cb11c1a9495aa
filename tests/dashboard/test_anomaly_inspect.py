"""AppTest of Time series → Inspect an adjacency: uploads, read-outs, comparison, exports and every bad input."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/anomaly_inspect.py")
SID = "test-session-inspect"


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["sid"] = SID
    return at


def _blocks(n=9, groups=3, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = np.arange(n) % groups
    a = (g[:, None] == g[None, :]) * (0.5 + rng.random((n, n))) + 0.02 * rng.random((n, n))
    np.fill_diagonal(a, 0.0)
    return a


def _csv(a: np.ndarray, names) -> bytes:
    return (",".join(names) + "\n" + "\n".join(",".join(f"{v:.6g}" for v in row) for row in a) + "\n").encode()


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(a))
    return buf.getvalue()


def _upload(at: AppTest, name: str, blob: bytes, key: str = "ai-up") -> AppTest:
    at.file_uploader(key=key).set_value((name, blob, "application/octet-stream")).run()
    return at


def _errors(at: AppTest) -> str:
    return " | ".join(e.value for e in at.error).replace("\\", "")  # plain() escapes Markdown


def test_csv_upload_shows_readouts_communities_and_exports(tmp_db):
    a = _blocks()
    names = [f"s{i}" for i in range(9)]
    at = _upload(_page().run(), "g.csv", _csv(a, names))
    assert not at.exception and not at.error, _errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Channels"] == "9" and metrics["Self-loops"] == "0" and metrics["Negative weights"] == "0"
    assert any("3** communities" in c.value for c in at.caption)  # Louvain finds the three blocks
    assert any("density" in c.value for c in at.caption)
    at.slider(key="ai-k-9").set_value(2).run()
    assert any("Kept **18** edges" in c.value for c in at.caption)
    at.radio(key="ai-method").set_value("spectral").run()
    assert not at.error and any("3** communities" in c.value for c in at.caption)


def test_comparison_with_a_ground_truth_gives_auroc_jaccard_and_the_edges_only_one_has(tmp_db):
    a = _blocks()
    g = np.arange(9) % 3
    truth = ((g[:, None] == g[None, :]) & ~np.eye(9, dtype=bool)).astype(int)
    names = [f"s{i}" for i in range(9)]
    at = _upload(_page().run(), "g.csv", _csv(a, names))
    at = _upload(at, "truth.csv", _csv(truth, names), key="ai-up2")
    assert not at.error, _errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["AUROC of |A| vs the other"] == "1.000"
    at.number_input(key="ai-cmp-k-9").set_value(1).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Top-1 Jaccard"] == "0.500"  # 9 of the 18 true edges kept, none false
    assert metrics["Edges only here / only there"] == "0 / 9"


def test_npy_with_names_file_and_negative_weights_are_shown_signed(tmp_db):
    a = _blocks(6, 2)
    a[0, 3] = -0.8
    at = _page().run()
    at.file_uploader(key="ai-up").set_value(("g.npy", _npy(a), "application/octet-stream")).run()
    assert any("No names file" in c.value for c in at.caption)
    at.file_uploader(key="ai-up-names").set_value(("n.txt", b"a\nb\nc\nd\ne\nf\n", "text/plain")).run()
    assert not at.error, _errors(at)
    assert {m.label: m.value for m in at.metric}["Negative weights"] == "1"


@pytest.mark.parametrize("name,blob,message", [
    ("rect.csv", b"a,b,c\n0,1,0\n1,0,1\n", "not square"),
    ("one.csv", b"a\n0\n", "at least 2 channels"),
    ("nan.csv", b"a,b\n0,nan\n1,0\n", "NaN or infinite"),
    ("inf.npy", None, "NaN or infinite"),
    ("text.csv", b"a,b\nx,1\n1,y\n", "hold text"),
    ("junk.npy", b"not an array", "not a readable .npy"),
])
def test_bad_matrices_give_a_clear_message_not_a_traceback(tmp_db, name, blob, message):
    if blob is None:
        blob = _npy(np.array([[0, np.inf], [1, 0]]))
    at = _upload(_page().run(), name, blob)
    assert not at.exception
    assert message in _errors(at), _errors(at)
    assert "Traceback" not in _errors(at) and not any("Unexpected" in e.value for e in at.error)


def test_a_smaller_second_upload_resets_the_sliders_instead_of_failing(tmp_db):
    at = _upload(_page().run(), "g.csv", _csv(_blocks(), [f"s{i}" for i in range(9)]))
    at.slider(key="ai-k-9").set_value(8).run()
    at = _upload(at, "small.csv", _csv(_blocks(3, 2), ["a", "b", "c"]))
    assert not at.exception and not at.error, _errors(at)
    assert at.slider(key="ai-k-3").value == 2


def test_names_that_do_not_match_the_size_are_refused(tmp_db):
    at = _page().run()
    at.file_uploader(key="ai-up").set_value(("g.npy", _npy(_blocks(4, 2)), "application/octet-stream")).run()
    at.file_uploader(key="ai-up-names").set_value(("n.txt", b"a\nb\nc\n", "text/plain")).run()
    assert "3 channel names for a 4 x 4 matrix" in _errors(at)


def test_a_markdown_channel_name_is_quoted_as_plain_text(tmp_db):
    # pandas renames a duplicated header; a names file keeps it, and the refusal quotes it escaped.
    at = _page().run()
    at.file_uploader(key="ai-up").set_value(("g.npy", _npy(_blocks(3, 2)), "application/octet-stream")).run()
    at.file_uploader(key="ai-up-names").set_value(("n.txt", b"[x](http://e.vil)\n[x](http://e.vil)\nc\n",
                                                   "text/plain")).run()
    raw = " | ".join(e.value for e in at.error)
    assert "appears more than once" in raw and "\\[x\\]\\(" in raw  # escaped, so no link is rendered


def test_a_large_matrix_is_block_averaged_for_display_and_computed_in_full(tmp_db, monkeypatch):
    # 800 channels: above the display side (400) and the dense-community limit (500); the 5,000 x 5,000
    # case runs the same code paths (engine test: tests/engine/anomaly/test_adjacency.py).
    a = _blocks(800, 4)
    at = _upload(_page().run(), "big.npy", _npy(a.astype(np.float32)))
    assert not at.exception and not at.error, _errors(at)
    text = " ".join(c.value for c in at.caption)
    assert "mean of 2×2 blocks" in text and "strongest neighbours of the full matrix" in text
    assert "4** communities" in text
    assert any("too many to draw as a graph" in i.value for i in at.info)


def test_a_finished_run_can_be_inspected_against_its_true_graph(tmp_db):
    from engine.anomaly.experiments import StackVAEGConfig
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run

    config = StackVAEGConfig(n_channels=6, n_groups=2, length=240, n_anomalies=2, window=12, epochs=2, hidden=16,
                             latent=4, node_dim=6, k=3, batch_size=32, baselines=False, variant="graph")
    store = RunStore()
    rid = store.create_run("stackvaeg", config.to_dict(), seed=0, name="inspect me", group="g", owner=SID)
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished"
    at = _page().run()
    at.radio(key="ai-src").set_value("A finished StackVAE-G run").run()
    assert not at.error, _errors(at)
    at.radio(key="ai-cmp-src").set_value("The run's true graph").run()
    assert not at.error, _errors(at)
    assert {m.label for m in at.metric} >= {"Channels", "AUROC of |A| vs the other"}
    assert {m.label: m.value for m in at.metric}["Self-loops"] == "6"  # Ã carries self-loops
