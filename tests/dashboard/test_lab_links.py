"""Every lab page's settings live in its URL (issue #11): a link restores the form, ``hide=`` removes
those controls (teacher mode), changing a control changes the page's link, and each lesson's
"open the full lab page" button names the lab's real widget keys with values the lab accepts."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components.learn_lessons import LESSONS
from dashboard.components.urlstate import _url_value, page_path

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("selectbox", "radio", "slider", "number_input", "text_input", "checkbox", "multiselect", "toggle")


def _open(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / f"dashboard/pages/{page}.py"), default_timeout=90)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _widgets(at: AppTest) -> dict:
    return {w.key: w for kind in KINDS for w in getattr(at, kind) if w.key}


def _link(at: AppTest) -> dict[str, list[str]]:
    links = [c.value for c in at.code if "?" in c.value or c.value.startswith("/")]
    assert links, "the page has no copy-link box"
    return parse_qs(urlparse(links[-1]).query)


def _link_of(v):
    return v if isinstance(v, list) else [v]


def _as_url(w) -> str | list[str]:
    return _url_value(w.value, None)


# page -> (query parameters of a link, controls a teacher hides, one control to change and its new value)
CASES = {
    "sparse_train:cnn": ({"st-model": "cnn", "st-channels": "8,8", "st-epochs": "3"}, ["st-method"], ("st-seed", 5)),
    "sparse_train:mlp": ({"st-dataset": "moons", "st-hidden": "32,16", "st-method": "rigl",
                      "st-sparsity": "0.8", "st-epochs": "7", "st-rigl.drop_fraction": "0.5", "st-rigl.decay": "constant",
                      "st-lr": "0.01", "st-n": "300"},
                     ["st-method", "st-sparsity"], ("st-seed", 5)),
    "sparse_compare": ({"sc-methods": ["gmp", "rigl"], "sc-levels": ["0.5", "0.9"], "sc-epochs": "3", "sc-ft": "1",
                        "sc-dense": "false"},
                       ["sc-methods"], ("sc-seeds", 2)),
    "sparse_sensitivity": ({"ss-dataset": "circles", "ss-levels": ["0.3", "0.7"], "ss-epochs": "4"},
                           ["ss-levels", "ss-dataset"], ("ss-ft", 2)),
    "graphs_summarize": ({"gs-kind": "Generator", "gs-gen": "ba", "gs-ratio": "0.45", "gs-error": "l2",
                          "gs-iter": "5"},
                         ["gs-error", "gs-kind"], ("gs-seed", 3)),
    "graphs_learn": ({"gl-sparsifier": "random", "gl-gs": "0.3", "gl-ws": "0.8"},
                     ["gl-sparsifier"], ("gl-seed", 2)),
    "anomaly_stackvaeg": ({"av-n": "6", "av-g": "2", "av-len": "900", "av-k": "4", "av-ep": "5", "av-nograph": "true"},
                          ["av-k", "av-nograph"], ("av-seed", 9)),
    "sparse_sae": ({"sae-variant": "mutual-choice", "sae-width": "128", "sae-k": "4", "sae-aux": "k"},
                   ["sae-variant"], ("sae-epochs", 12)),
    "sparse_quickselection": ({"qs-k": "20", "qs-hidden": "100", "qs-epochs": "5"}, ["qs-k"], ("qs-seed", 4)),
}


@pytest.mark.parametrize("page", list(CASES))
def test_a_link_restores_the_form_hides_its_teacher_controls_and_follows_changes(page, tmp_db):
    params, hide, (change, new) = CASES[page]
    page = page.split(":")[0]
    at = _open(page, **params, run="77")  # run= belongs to the job runner: kept in the link
    assert not at.exception, at.exception
    shown = _widgets(at)
    for k, v in params.items():
        assert k in shown, f"{page}: no control '{k}'"
        assert _as_url(shown[k]) == v, (page, k, shown[k].value, v)
    link = _link(at)
    assert link["run"] == ["77"]
    for k, v in params.items():
        assert link[k] == (v if isinstance(v, list) else [v]), (page, k)

    # teacher mode: the hidden controls are not drawn, and the page still works with the pinned values
    at = _open(page, **params, hide=",".join(hide))
    assert not at.exception, at.exception
    shown = _widgets(at)
    assert not set(hide) & set(shown), (page, set(hide) & set(shown))
    assert set(params) - set(hide) <= set(shown)
    link = _link(at)
    assert link["hide"] == [",".join(hide)] and all(link[k] == _link_of(params[k]) for k in hide if k in params)
    assert any("Teacher mode" in i.value for i in at.info)

    # changing a control rewrites the page's link on that same rerun
    at = _open(page, **params)
    before = _link(at)
    assert change not in before
    _widgets(at)[change].set_value(new).run()
    assert not at.exception
    assert _link(at)[change] == [_url_value(new, None)]
    after = _link(at)
    assert {k: v for k, v in after.items() if k not in (change, "sid")} == {k: v for k, v in before.items() if k != "sid"}


def test_a_pinned_method_parameter_reaches_the_config(tmp_db, queue_only):
    """Hidden controls are not drawn but their pinned value is what the run gets."""
    at = _open("sparse_train", **{"st-dataset": "moons", "st-method": "rigl", "st-sparsity": "0.7",
                                  "st-rigl.update_every": "40", "st-epochs": "2",
                                  "hide": "st-method,st-sparsity,st-rigl.update_every"})
    assert not at.exception
    at.button(key="st-start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = queue_only.store.list_runs("sparse")
    cfg = run.config
    assert (cfg["method"], cfg["sparsity"], cfg["epochs"], cfg["dataset"]) == ("rigl", 0.7, 2, "moons")
    assert cfg["method_params"]["update_every"] == 40


def test_uploads_are_said_not_to_travel_in_links(tmp_db):
    at = _open("sparse_train", **{"st-dataset": "csv"})
    assert not at.exception
    assert any("cannot travel in a link" in c.value for c in at.caption)


def _lesson_links(les) -> list[str]:
    at = AppTest.from_file(str(ROOT / "dashboard/pages" / les.file), default_timeout=120).run()
    assert not at.exception, (les.file, at.exception)
    return [b.proto.url for b in at.get("link_button")]


@pytest.mark.parametrize("les", [l for l in LESSONS], ids=lambda l: l.url_path)
def test_every_lesson_button_names_the_lab_controls_it_sets(les, tmp_db):
    labs = {p.stem for p in (ROOT / "dashboard/pages").glob("*.py")}
    links = [u for u in _lesson_links(les) if (urlparse(u).path.strip("./") or "sparse_train") in labs]
    assert links, f"{les.file}: no button to a lab page"
    for url in links:
        page, query = urlparse(url).path.strip("./") or "sparse_train", parse_qs(urlparse(url).query)
        assert page_path(page) == urlparse(url).path.strip("./")  # the default page is at the root
        at = _open(page, **{k: (v if len(v) > 1 or k.endswith(("methods", "levels")) else v[0])
                            for k, v in query.items()})
        assert not at.exception, (url, at.exception)
        shown = _widgets(at)
        for k, v in query.items():
            assert k in shown, f"{les.file} -> {page}: no control '{k}'"
            got = _as_url(shown[k])
            want = v if isinstance(got, list) else v[0]
            if isinstance(shown[k].value, float):
                got, want = float(got), float(want)
            assert got == want, (les.file, k, shown[k].value, v)


@pytest.mark.parametrize("page", ["sparse_train", "sparse_compare", "sparse_sensitivity", "sparse_sae",
                                  "sparse_quickselection", "graphs_summarize", "graphs_learn", "anomaly_stackvaeg"])
def test_the_teacher_pages_list_of_lab_controls_names_real_controls(page, tmp_db):
    from dashboard.components.lab_links import LAB_PAGES

    at = _open(page, **({"st-dataset": "moons"} if page == "sparse_train" else {}))
    names = {k for k in LAB_PAGES[page][1] if "<" not in k}
    assert names <= set(_widgets(at)), names - set(_widgets(at))


def test_teacher_page_adds_hide_to_a_pasted_lab_link(tmp_db):
    at = AppTest.from_file(str(ROOT / "dashboard/pages/learn_teacher.py"), default_timeout=60).run()
    assert not at.exception
    at.selectbox(key="teach-lab").set_value("sparse_train").run()
    at.text_input(key="teach-lab-sparse_train-link").set_value(
        "http://host:8501/sparse_train?st-method=rigl&st-sparsity=0.8&run=4").run()
    at.multiselect(key="teach-lab-sparse_train-hide").set_value(["st-method", "st-sparsity"]).run()
    assert not at.exception
    q = parse_qs(urlparse(at.code[-1].value).query)
    assert q == {"st-method": ["rigl"], "st-sparsity": ["0.8"], "run": ["4"], "hide": ["st-method,st-sparsity"]}
