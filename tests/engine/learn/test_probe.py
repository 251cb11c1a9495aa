"""The schedules lesson 7 draws are the values of the lab's own schedule code."""
import pytest

from engine.learn.probe import probe, schedules
from engine.sparse.methods.lottery import round_sparsity
from engine.sparse.nm import decay_factor
from engine.sparse.schedules import cosine_drop_fraction, cubic_sparsity


def test_schedules_are_the_methods_values():
    s = schedules({"steps": 400, "sparsity": 0.8, "imp_rounds": 4, "drop_fraction": 0.5, "update_every": 20})
    g = s["gmp"]
    assert (g["begin"], g["end"]) == (40, 280)
    assert g["target"] == [cubic_sparsity(t, initial=0.0, final=0.8, begin=40, end=280) for t in range(401)]
    assert g["applied"][279] == g["target"][270] and g["applied"][280] == 0.8
    assert [r["sparsity"] for r in s["imp"]] == [0.0] + [round_sparsity(0.8, 4, r) for r in range(1, 5)]
    rigl = s["dst"]["rigl"]
    assert rigl["fraction"] == [cosine_drop_fraction(t, alpha=0.5, end=300) for t in range(401)]
    assert rigl["updates"] == list(range(20, 300, 20))
    assert s["dst"]["set"]["fraction"][:300] == [0.5] * 300
    assert s["decay"]["mdgf"][100] == decay_factor(100, 400)
    assert s["decay"]["sdgf_label"][0] == "3:4" and s["decay"]["sdgf_label"][-1] == "2:4"


def test_probe_runs_in_a_child_process_and_reports_bad_input():
    assert probe("schedules", {"steps": 50})["steps"][-1] == 50
    with pytest.raises(Exception, match="failed"):
        probe("schedules", {"steps": 50, "nm": "5:4"})


def test_timelines_follow_each_methods_recipe_length_and_density():
    from engine.learn.probe import timelines

    r = timelines({"sparsity": 0.75, "epochs": 3, "finetune_epochs": 1, "imp_rounds": 2, "steps_per_epoch": 10})
    rows = {x["method"].split(" ")[0]: x for x in r["rows"]}
    for x in r["rows"]:
        assert len(x["density"]) == x["total_epochs"] * 10
    assert rows["IMP"]["total_epochs"] == 9 and rows["magnitude"]["total_epochs"] == 4
    assert rows["IMP"]["density"][-1] == pytest.approx(0.25) and rows["IMP"]["density"][0] == 1.0
    assert rows["RigL"]["density"] == pytest.approx([0.25] * 30)
    assert rows["RigL"]["marks"] == []  # 30 steps, T_end = 22 < ΔT = 25: no update fits
    assert rows["GMP"]["density"][0] == 1.0 and rows["GMP"]["density"][-1] == pytest.approx(0.25)


def test_latency_probe_counts_the_pruned_networks_flops_and_times_every_backend():
    from engine.learn.probe import latency

    r = latency({"density": 0.1, "hidden": [64, 64], "batches": [1, 16], "budget_s": 0.2})
    assert r["flops"]["dense_macs"] == 64 * 64 + 64 * 64 + 64 * 10
    assert r["flops"]["ratio"] == pytest.approx(10, rel=0.01)
    assert {(x["backend"], x["batch"]) for x in r["rows"]} == {(b, n) for b in ("dense", "compacted", "torch-csr", "scipy-csr") for n in (1, 16)}
    assert all(x["max_abs_diff"] < 1e-4 for x in r["rows"])


def test_concurrent_probes_of_the_same_settings_start_one_child(monkeypatch):
    import threading

    import engine.learn.probe as pr

    calls = []
    monkeypatch.setattr(pr, "_run", lambda name, params, timeout: calls.append(name) or {"ok": len(calls)})
    pr._MEMO.clear()
    out = []
    threads = [threading.Thread(target=lambda: out.append(pr.probe("speed", {"batch": 3}))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["speed"] and out == [{"ok": 1}] * 8
    pr._MEMO.clear()


def test_lesson_modules_do_not_import_torch():
    """The app server stays torch-free for every lesson: torch code runs only in probe children."""
    import subprocess
    import sys

    code = ("import sys; import engine.learn.storage, engine.learn.mlp, engine.learn.playground, engine.learn.budgets, "
            "engine.learn.lottery, engine.learn.graphsum, engine.learn.adjacency, engine.learn.probe, "
            "dashboard.components.learn_figures, dashboard.components.urlstate, dashboard.components.learn_page; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
