"""AppTest: the StackVAE-G page offers the two named models; the graphical lasso shows in Compare graphs;
the scores tab says who wins per protocol."""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard/pages/anomaly_stackvaeg.py")
SID = "test-session-variant"


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params["sid"] = SID
    return at


def test_released_is_the_default_and_the_graph_variant_is_recorded_and_explained(queue_only):
    from engine.runs.store import RunStore

    at = _page().run()
    assert at.radio(key="av-variant").value == "released"
    at.radio(key="av-variant").set_value("graph").run()
    assert any("Not the paper's model" in c.value and "151,930" in c.value for c in at.caption)
    at.button(key="av-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = RunStore(queue_only.store.path).list_runs()
    assert run.config["variant"] == "graph" and "graph-faithful variant" in run.name


def test_compare_graphs_shows_the_graphical_lasso_with_its_auroc(tmp_db):
    from engine.anomaly.experiments import StackVAEGConfig
    from engine.runs.store import RunStore
    from engine.runs.worker import execute_run

    config = StackVAEGConfig(n_channels=6, n_groups=2, length=240, n_anomalies=2, window=12, epochs=1, hidden=16,
                             latent=4, node_dim=6, k=3, batch_size=32)
    store = RunStore()
    rid = store.create_run("stackvaeg", config.to_dict(), seed=0, name="t", group="anomaly-stackvaeg", owner=SID)
    store.mark_running(rid, os.getpid())
    assert execute_run(store, rid) == "finished"
    at = _page().run()
    assert not at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Graphical lasso" in t and "AUROC" in t for t in titles)
    wins = [m.value for m in at.markdown if "Who wins on this run" in m.value]
    assert wins and "best F1 + PA" in wins[0] and "random" in wins[0]
