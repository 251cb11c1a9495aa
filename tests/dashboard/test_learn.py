"""AppTest of the Learn lessons: each demo draws its picture, and its numbers are the engine's."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components.learn_lessons import LESSONS
from engine.learn import budgets, storage
from engine.learn.playground import trajectory
from engine.sparse.schedules import cosine_drop_fraction, cubic_sparsity

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "pages"


def app(file: str, **params) -> AppTest:
    at = AppTest.from_file(str(PAGES / file), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def arr(value):
    """A Plotly JSON array: a list, or a typed array {"dtype", "bdata" (base64), "shape"}."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return out.reshape([int(n) for n in str(value["shape"]).split(",")]) if "shape" in value else out
    return np.asarray(value, dtype=float)


def widget_keys(at) -> set[str]:
    kinds = ("slider", "selectbox", "radio", "number_input", "checkbox", "select_slider", "button_group")
    return {w.key for kind in kinds for w in at.get(kind) if getattr(w, "key", None)}


@pytest.fixture(scope="module")
def fast_speed():
    """Stand-ins for the timing probes (the real ones are exercised in the slow tests and tests/engine/learn)."""
    speed = {"rows": [
        {"backend": b, "target_density": d, "median_ms": 1.0 / s, "speedup_vs_dense": s, "theoretical_flop_ratio": 1 / d,
         "density": d} for d in (1.0, 0.1) for b, s in (("dense", 1.0), ("torch-csr", 0.5 if d == 1 else 2.0))]}
    latency = {"flops": {"dense_macs": 1000, "sparse_macs": 100, "ratio": 10.0}, "rows": [
        {"backend": b, "batch": n, "median_ms": 1.0, "p90_ms": 1.1, "speedup_vs_dense": s, "max_abs_diff": 0.0}
        for n in (1, 64) for b, s in (("dense", 1.0), ("torch-csr", 3.0))]}
    import streamlit as st

    st.cache_data.clear()  # a page may have cached a real probe's result in an earlier test
    return lambda name, params, **kw: speed if name == "speed" else latency


def test_every_lesson_page_exists_and_is_in_the_navigation():
    from dashboard.nav import PAGES as NAV

    files = {p.file for p in NAV}
    for les in LESSONS:
        assert (PAGES / les.file).exists() and les.file in files


def test_lesson_controls_are_the_listed_ones_with_their_defaults(monkeypatch, fast_speed):
    monkeypatch.setattr("engine.learn.probe.probe", fast_speed)
    for les in LESSONS:
        if les.number in (3, 7):
            continue  # their probes run for real in their own tests, which check their controls too
        at = app(les.file)
        assert not at.exception, les.file
        assert widget_keys(at) == set(les.defaults()), les.file


def test_lesson1_sizes_are_the_engines(monkeypatch):
    at = app("learn_01_storage.py", sparsity="0.75", nm="1:4", values="fp16", seed="3")
    assert not at.exception
    table = at.dataframe[0].value
    w = storage.toy_weights(seed=3)
    masks = [storage.unstructured_mask(w, 0.75), storage.nm_mask(w, 1, 4), storage.structured_mask(w, 0.75)]
    for row, mask in zip(table.to_dict("records"), masks):
        want = storage.storage_bytes(mask, value_bytes=2, nm=(1, 4))
        assert row["kept"] == int(mask.sum())
        for fmt in ("dense", "COO", "CSR", "bitmask"):
            assert row[fmt] == want[fmt]
        assert (row["N:M"] is None or str(row["N:M"]) == "<NA>") == (want["N:M"] is None)
    bars = charts(at)[-1]["data"]
    assert [b["name"] for b in bars] == list(table["pattern"])


def test_lesson4_plays_the_engines_trajectory():
    at = app("learn_04_dynamic.py", data="circles", method="set", sparsity="0.6", seed="2")
    assert not at.exception
    fig = charts(at)[0]
    traj = trajectory("set", dataset="circles", sparsity=0.6, seed=2, grid=32)
    assert len(fig["frames"]) == len(traj.frames)
    assert fig["layout"]["title"]["text"].startswith("SET · step 0")
    table = at.dataframe[0].value.set_index("method")
    assert table.loc["set", "mask updates"] == traj.updates
    assert table.loc["set", "connections"] == sum(int(m.sum()) for m in traj.frames[-1].masks)
    assert table.loc["static", "mask updates"] == 0
    # the boundary of the last frame is the trained network's
    assert np.allclose(arr(fig["frames"][-1]["data"][4]["z"]), np.round(traj.frames[-1].boundary * 100))


def test_lesson4_teacher_link_hides_and_pins():
    at = app("learn_04_dynamic.py", method="static", sparsity="0.8", hide="method,sparsity", run="7")
    assert not at.exception
    keys = widget_keys(at)
    assert "method" not in keys and "sparsity" not in keys and "data" in keys
    assert charts(at)[0]["layout"]["title"]["text"].startswith("STATIC")
    assert "18/88 connections" in charts(at)[0]["layout"]["title"]["text"]  # 20 % of 88, pinned
    assert any("run=7" in c.value and "hide=method,sparsity" in c.value for c in at.code)


def test_lesson6_bars_are_the_engines_densities():
    at = app("learn_06_budgets.py", sparsity="0.95")
    assert not at.exception
    r = budgets.budget_study(dataset="moons", sparsities=(0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995), seed=0)
    bars = {b["name"]: arr(b["y"]) for b in charts(at)[0]["data"]}
    assert bars["uniform"] == pytest.approx(r["uniform"]["densities"][3])
    assert bars["global magnitude"] == pytest.approx(r["global"]["densities"][3])
    erk = budgets.erk_densities(r["shapes"], 0.05)
    assert bars["ERK"] == pytest.approx(erk, abs=1 / 32)  # the kept count is rounded per layer


def test_lesson6_warns_of_layer_collapse_at_99_percent():
    at = app("learn_06_budgets.py", sparsity="0.99")
    assert not at.exception
    assert any("layer collapse" in w.value and "global magnitude" in w.value for w in at.warning)


def test_lesson7_curves_are_the_schedules_formulas():
    at = app("learn_07_schedules.py", steps="500", sparsity="0.8", alpha="0.4", dt="50")
    assert not at.exception
    assert widget_keys(at) == set(next(l for l in LESSONS if l.number == 7).defaults())
    figs = charts(at)
    gmp = {d["name"]: arr(d["y"]) for d in figs[0]["data"]}
    assert gmp["cubic target s_t"] == pytest.approx([cubic_sparsity(t, initial=0, final=0.8, begin=50, end=350)
                                                     for t in range(501)])
    rigl = {d["name"]: d for d in figs[2]["data"]}
    assert arr(rigl["RigL f(t) (cosine)"]["y"]) == pytest.approx([cosine_drop_fraction(t, alpha=0.4, end=375)
                                                            for t in range(501)])
    assert arr(rigl["mask updates (RigL)"]["x"]).tolist() == list(range(50, 375, 50))


def test_lesson2_draws_the_measured_break_even(monkeypatch, fast_speed):
    monkeypatch.setattr("engine.learn.probe.probe", fast_speed)
    at = app("learn_02_patterns.py")
    assert not at.exception
    names = [d["name"] for d in charts(at)[0]["data"]]
    assert "torch-csr (measured)" in names
    assert any("from density **10%** down" in m.value for m in at.markdown)


@pytest.mark.slow
def test_lesson2_times_a_real_layer():
    at = app("learn_02_patterns.py", features="256", batch="16")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["backend"]) == {"dense", "compacted", "torch-csr", "scipy-csr", "structured"}
    assert (table[table.backend == "dense"]["speed-up"] == 1.0).all()


def test_teacher_page_builds_a_link_with_pins_and_hidden_controls():
    at = app("learn_teacher.py", lesson=next(l for l in LESSONS if l.number == 4).title)
    assert not at.exception
    at.selectbox(key="teach-learn_04_dynamic-method").set_value("set").run()
    at.checkbox(key="teach-learn_04_dynamic-method-hide").check().run()
    link = at.code[0].value
    assert link.startswith("/learn_04_dynamic?") and "method=set" in link and link.endswith("hide=method")


def test_course_index_links_every_lesson():
    at = app("learn.py")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert all(f"({les.url_path})" in text for les in LESSONS)


def test_lesson5_shows_the_ticket_and_its_controls_at_the_same_size():
    from engine.learn.lottery import VARIANTS, lottery_study

    at = app("learn_05_tickets.py", sparsity="0.8", rounds="2")
    assert not at.exception
    table = at.dataframe[0].value.set_index("network")
    r = lottery_study(dataset="moons", sparsity=0.8, rounds=2, seed=0)
    for name in VARIANTS:
        assert table.loc[name, "weights"] == sum(r[name]["kept"])
        assert table.loc[name, "final accuracy"] == f"{r[name]['accuracy'][-1]:.0%}"
    assert table.loc["winning ticket", "weights"] == table.loc["random mask", "weights"] < table.loc["dense", "weights"]
    assert len(charts(at)) == 1 + len(VARIANTS)


def test_lesson3_timelines_are_the_methods_recipes():
    at = app("learn_03_when.py", sparsity="0.8", epochs="4", finetune="2", rounds="3")
    assert not at.exception
    assert widget_keys(at) == set(next(l for l in LESSONS if l.number == 3).defaults())
    fig = charts(at)[0]
    table = at.dataframe[0].value.set_index("method")
    assert table.loc["magnitude (one-shot)", "epochs in all"] == 6 and table.loc["IMP (3 rounds + ticket)", "epochs in all"] == 16
    assert table.loc["SNIP (at init)", "mean density while training"] == pytest.approx(0.2)
    density = [arr(d["y"]) for d in fig["data"] if d.get("fill") == "tozeroy"]
    assert density[0][0] == 1.0 and density[0][-1] == pytest.approx(0.2)  # one-shot: dense, then pruned
    assert np.allclose(density[-1], 0.2)  # RigL: sparse from the first step
    assert len(density[2]) == 16 * 20


def test_lesson8_bits_are_ssumms():
    from engine.learn.graphsum import summarize_karate

    at = app("learn_08_summaries.py", ratio="0.3", error="l2", seed="1")
    assert not at.exception
    r = summarize_karate(0.3, error="l2", seed=1)
    table = dict(zip(at.dataframe[0].value["quantity"], at.dataframe[0].value["value"]))
    assert table["summary bits"] == round(r["size_bits"], 1) and table["supernodes |S|"] == r["n_supernodes"]
    assert table["summary bits"] <= table["budget k"] < table["input bits 2|E|·log2|V|"]
    fig = charts(at)[0]
    assert f"{r['n_supernodes']} supernodes" in fig["layout"]["annotations"][1]["text"]


def test_lesson9_graph_is_the_top_k_formula_and_scores_against_the_truth():
    from engine.learn.adjacency import adjacency_lesson

    at = app("learn_09_adjacency.py", k="3", alpha="2.0")
    assert not at.exception
    r = adjacency_lesson(k=3, alpha=2.0)
    fig = charts(at)[0]
    a = arr(fig["data"][1]["z"])
    o = r["order"]
    assert np.allclose(a, np.round(r["adjacency"][np.ix_(o, o)], 3))
    assert ((a > 0).sum(axis=1) <= 3 + 1).all()  # k neighbours + the self-loop
    assert at.metric[0].value == f"{r['auroc']:.3f}"
    at2 = app("learn_09_adjacency.py", embedding="random")
    assert float(at2.metric[0].value) < float(at.metric[0].value)


def test_lesson10_shows_the_probes_flops_and_latencies(monkeypatch, fast_speed):
    monkeypatch.setattr("engine.learn.probe.probe", fast_speed)
    at = app("learn_10_faster.py")
    assert not at.exception
    assert [m.value for m in at.metric] == ["1,000", "100", "10.0×"]
    assert len(at.dataframe[0].value) == 4 and len(charts(at)) == 1


@pytest.mark.slow
def test_lesson10_times_a_real_network():
    at = app("learn_10_faster.py", density="0.05", width="128")
    assert not at.exception
    assert at.metric[2].value == "20.0×"
    table = at.dataframe[0].value
    assert (table["max |diff| vs dense"] < 1e-4).all()
