"""Figure builders of the sparse lab: masks (colours, aspect ratio, hover), axes, ledger drawing, speed."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dashboard.components import sparse_figures as sf


def test_mask_colour_says_kept_or_pruned_never_weight_size():
    mask = np.array([[1, 0], [1, 1]], dtype=np.uint8)
    weights = np.array([[1e-4, 0.0], [-2.0, 0.5]])  # a tiny kept weight
    fig = sf.mask_hover_figure(mask, weights, title="t")
    kept, pruned = fig.data
    assert kept.colorscale[0][1] == kept.colorscale[-1][1] == sf.KEPT  # one colour for every kept weight
    assert pruned.colorscale[0][1] == sf.PRUNED != sf.KEPT
    # downsampled live masks: a block with one kept weight is clearly blue, only an empty block is grey
    rgb = sf.mask_rgb(np.array([[0.0, 1 / 16, 1.0]]))
    assert rgb[0, 0].tolist() == [230, 230, 230] and rgb[0, 1].min() < 160 and rgb[0, 1][2] > rgb[0, 1][0]


def test_mask_hover_names_row_column_state_and_weight():
    mask = np.zeros((80, 20), dtype=np.uint8)
    mask[77, 18] = 1
    w = np.zeros((80, 20))
    w[77, 18] = -0.12
    fig = sf.mask_hover_figure(mask, w, title="t")
    kept = fig.data[0]
    assert kept.hovertemplate.startswith("row %{y}, col %{x}: kept, w = %{customdata:.3g}")
    assert float(kept.customdata[77][18]) == pytest.approx(-0.12)
    assert np.isnan(kept.z[0][0]) and kept.z[77][18] == 1  # the kept trace hovers only kept cells
    assert "pruned" in fig.data[1].hovertemplate


def test_masks_keep_their_true_aspect_ratio_live_and_finished():
    mask = (np.random.default_rng(0).random((10, 256)) > 0.5).astype(np.uint8)
    for fig in (sf.mask_figure(mask, title="t"), sf.mask_hover_figure(mask, None, title="t")):
        assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
        assert list(fig.layout.xaxis.range) == [-0.5, 255.5] and list(fig.layout.yaxis.range) == [9.5, -0.5]
    assert sf.mask_figure(mask, title="t").layout.height < 200  # a 10×256 layer is a strip, not a square
    assert sf.mask_figure(mask.T, title="t").layout.height > 400


def test_large_masks_are_block_averaged_and_cost_is_bounded():
    mask = (np.random.default_rng(1).random((256, 784)) > 0.9).astype(np.uint8)
    live = sf.mask_figure(mask, title="t")
    done = sf.mask_hover_figure(mask, mask * 0.1, title="t")
    assert len(live.to_json()) < 60_000  # one PNG
    assert len(done.to_json()) < 800_000 and "of 4 kept" in done.data[0].hovertemplate


def test_log_ticks_are_powers_of_ten():
    fig = sf.weight_histogram(np.random.default_rng(2).normal(size=5000), title="t")
    assert fig.layout.yaxis.type == "log"
    assert list(fig.layout.yaxis.tickvals) == [1, 10, 100, 1000][: len(fig.layout.yaxis.tickvals)]
    assert list(fig.layout.yaxis.ticktext)[:3] == ["1", "10", "100"]


def test_titles_wrap_instead_of_running_off():
    from dashboard.components.sparse_view import compact_number

    assert compact_number(85002) == "85.0 k" and compact_number(1_234_567) == "1.23 M"
    fig = sf.mask_figure(np.ones((4, 4)), title="layers.0 · 256×64<br><sup>25.0% kept</sup>")
    assert fig.layout.title.automargin and fig.layout.title.font.size <= 12


def test_speed_figure_leaves_out_the_untimed_nm_row():
    rows = [{"backend": "dense", "batch": 1, "median_ms": 1.0, "speedup_vs_dense": 1.0},
            {"backend": "compacted", "batch": 1, "median_ms": 0.5, "speedup_vs_dense": 2.0},
            {"backend": "n:m", "batch": 1, "median_ms": None, "speedup_vs_dense": None, "note": "needs …"}]
    fig = sf.speed_figure(rows)
    assert [t.name for t in fig.data] == ["dense", "compacted"]


def test_accuracy_chart_draws_structured_methods_at_the_weight_sparsity_they_reached():
    rows = [{"method": "structured", "axis": "units removed", "control": 0.9, "sparsity": 0.9692,
             "test_accuracy": 0.95, "seed": 0, "run_id": 7},
            {"method": "magnitude", "axis": "weight sparsity", "control": 0.9, "sparsity": 0.9,
             "test_accuracy": 0.97, "seed": 0, "run_id": 8}]
    fig = sf.accuracy_sparsity(rows)
    s = next(t for t in fig.data if t.name.startswith("structured"))
    assert s.name == "structured (units removed)" and s.x[0] == pytest.approx(0.9692)
    assert s.customdata[0][0] == 7 and "units removed" in s.hovertemplate
    dens = sf.accuracy_sparsity(rows, x_axis="density")
    assert dens.layout.xaxis.type == "log" and next(t for t in dens.data if t.name == "magnitude").x[0] == pytest.approx(0.1)
    with pytest.raises(ValueError):
        sf.accuracy_sparsity(rows, x_axis="steps")


def test_structured_run_reads_units_removed_and_weight_sparsity(tmp_db):
    """A run with the engine ledger (counts units) says units removed and the weight sparsity, and does not
    flag the units it removed on purpose."""
    from streamlit.testing.v1 import AppTest

    from engine.runs.store import RunStore
    from pathlib import Path

    store = RunStore(tmp_db)
    rid = store.create_run("sparse", {"method": "structured", "sparsity": 0.9}, name="structured 90 %")
    store.mark_running(rid, os.getpid())
    ledger = {"counts": "units", "per_layer_targets": False, "requested": 0.9,
              "layers": [{"name": "layers.0.weight", "shape": [256, 64], "density": 0.1, "sparsity": 0.9, "target": None,
                          "dead_in": 230, "dead_out": 230, "units": 256, "units_removed": 230},
                         {"name": "layers.1.weight", "shape": [10, 256], "density": 0.1, "sparsity": 0.9, "target": None,
                          "dead_in": 0, "dead_out": 0, "units": 10, "units_removed": 0}],
              "total": {"sparsity": 0.9692, "density": 0.0308, "units": 256, "units_removed": 230}}
    store.finish(rid, "finished", result={"sparsity": 0.9692, "requested_sparsity": 0.9, "test_accuracy": 0.95,
                                          "val_accuracy": 0.95, "ledger": ledger, "layers": [], "warnings": []})
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "dashboard/pages/runs.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Units removed"] == "230 of 256" and metrics["Weight sparsity"] == "96.92%"
    assert "Sparsity reached" not in metrics
    table = next(d.value for d in at.dataframe if "units removed" in d.value.columns)
    assert table["flag"].tolist() == ["ok", "ok"] and "target" not in table.columns
    assert not at.warning
    bars = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Sparsity per layer" in c.proto.spec)
    assert not any(s.get("type") == "line" for s in bars["layout"].get("shapes", []))  # no "requested 90 %" line


def test_no_explainer_table_has_an_empty_header():
    """A Markdown table whose header row is only pipes (as "Four distinctions" had) renders an empty header."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "dashboard" / "explain"
    empty = []
    for md in root.glob("*.md"):
        lines = md.read_text().splitlines()
        for i, line in enumerate(lines[1:], 1):
            if re.fullmatch(r"\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*", line.strip()) and not re.sub(r"[|\s]", "", lines[i - 1]):
                empty.append(f"{md.name}:{i}")
    assert not empty, empty


def test_accuracy_vs_sparsity_keeps_readable_axes_with_one_point_or_none():
    from dashboard.components import sparse_figures as sf

    one = [{"method": "magnitude", "sparsity": 0.9, "requested": 0.9, "test_accuracy": 0.961, "seed": 0,
            "axis": "weight sparsity"}]
    fig = sf.accuracy_sparsity(one)
    lo, hi = fig.layout.xaxis.range
    assert hi - lo >= 0.1 and lo < 0.9 < hi  # not a zero-width axis around the one point
    assert fig.layout.yaxis.tickformat == ".1%"  # a 2-point-wide y axis: 96.1 %, 96.5 %, not "96%" five times
    lo, hi = sf.accuracy_sparsity([]).layout.xaxis.range
    assert lo < 0.5 and hi > 0.99
