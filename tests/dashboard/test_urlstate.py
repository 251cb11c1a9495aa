"""urlstate: controls bound to the URL, teacher mode's hidden and pinned controls, reserved names."""
from streamlit.testing.v1 import AppTest


def _page():
    import streamlit as st

    from dashboard.components.urlstate import Controls

    ctl = Controls()
    a = ctl.slider("Sparsity", 0.0, 0.9, 0.5, 0.05, key="sparsity")
    b = ctl.selectbox("Method", ["set", "rigl"], 1, key="method")
    c = ctl.checkbox("Show", True, key="show")
    d = ctl.number_input("Seed", 0, 10, 0, 1, key="seed")
    tabs = ctl.tabs(["one", "two"], key="tab")
    st.write(repr((a, b, c, d, [t.open for t in tabs])))
    ctl.copy_link("page")


def run(**params) -> AppTest:
    at = AppTest.from_function(_page, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_url_sets_the_shown_controls_and_keeps_other_params():
    at = run(sparsity="0.7", method="set", seed="4", run="9", sid="x", tab="two")
    assert not at.exception
    assert "[False, True]" in at.markdown[0].value  # ?tab=two opens the second tab
    assert at.slider(key="sparsity").value == 0.7 and at.selectbox(key="method").value == "set"
    assert at.number_input(key="seed").value == 4
    link = at.code[0].value
    assert "run=9" in link and "sid=x" in link


def test_hidden_controls_are_not_drawn_and_take_the_pinned_or_default_value():
    at = run(hide="sparsity,method,show,seed", sparsity="0.95", method="set", show="false", seed="x")
    assert not at.exception
    assert not at.slider and not at.selectbox and not at.checkbox and not at.number_input
    # 0.95 is clamped to the slider's maximum; an unreadable seed falls back to the default
    assert "(0.9, 'set', False, 0, [True, False])" in at.markdown[0].value


def test_a_reserved_name_cannot_be_a_control():
    def page():
        from dashboard.components.urlstate import Controls

        Controls().slider("x", 0, 1, 0, key="run")

    at = AppTest.from_function(page).run()
    assert at.exception and "reserved" in at.exception[0].value
