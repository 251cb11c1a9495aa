"""Learn → Teacher links: pick a lesson, fix its controls' values, choose which to hide, copy the link."""
import pandas as pd
import streamlit as st

from dashboard.components.learn_lessons import LESSONS
from dashboard.components.urlstate import Controls, teacher_link

st.title("Teacher links")
st.markdown("A link opens a lesson with its controls set to the values below. Controls you **hide** "
            "are not shown to students at all; they keep the value you set here (pinned). Links keep "
            "any other parameter, e.g. `run=ID` of a finished run.")
ctl = Controls()
titles = {les.url_path: les.title for les in LESSONS}
page = ctl.selectbox("Lesson", list(titles), key="lesson", format_func=titles.get)
les = next(l for l in LESSONS if l.url_path == page)

st.dataframe(pd.DataFrame([{"control": c.label, "URL name": c.key, "default": str(c.default),
                            "choices": ", ".join(map(str, c.options))} for c in les.controls]),
             hide_index=True, key="teach-table")
values, hide = {}, []
for c in les.controls:
    a, b = st.columns([3, 1])
    if c.options:
        values[c.key] = a.selectbox(c.label, list(c.options), list(c.options).index(c.default), key=f"teach-{page}-{c.key}")
    elif isinstance(c.default, bool):
        values[c.key] = a.checkbox(c.label, c.default, key=f"teach-{page}-{c.key}")
    elif isinstance(c.default, int):
        values[c.key] = int(a.number_input(c.label, value=c.default, step=1, key=f"teach-{page}-{c.key}"))
    else:
        values[c.key] = float(a.number_input(c.label, value=float(c.default), step=0.05, format="%.3f",
                                             key=f"teach-{page}-{c.key}"))
    if b.checkbox("hide", key=f"teach-{page}-{c.key}-hide"):
        hide.append(c.key)

base = (st.context.url or "").split("?")[0].rstrip("/")
if base.endswith("/learn_teacher"):
    base = base[: -len("/learn_teacher")]
link = teacher_link(les.url_path, values, hide, base=base)
st.subheader("The link")
st.code(link, language=None, wrap_lines=True)
st.link_button("Open it", link.removeprefix(base).lstrip("/") if base else link.lstrip("/"),
               icon=":material/open_in_new:")

st.divider()
st.subheader("Lab pages")
st.markdown("Every lab page keeps its settings in its link too. Set the page up as the exercise needs, copy the "
            "link from the box **Link to this page with these settings** under its form, paste it here and "
            "choose the controls to hide (uploaded files never travel in a link).")
from dashboard.components.lab_links import LAB_PAGES  # noqa: E402
from dashboard.components.urlstate import page_path, with_hide  # noqa: E402

lab = st.selectbox("Lab page", list(LAB_PAGES), format_func=lambda p: LAB_PAGES[p][0], key="teach-lab")
st.dataframe(pd.DataFrame([{"control": label, "URL name": k} for k, label in LAB_PAGES[lab][1].items()]),
             hide_index=True, key="teach-lab-table")
pasted = st.text_input("The lab page's link (blank: its defaults)", key=f"teach-lab-{lab}-link")
lab_hide = st.multiselect("Hide these controls", [k for k in LAB_PAGES[lab][1] if "<" not in k],
                          key=f"teach-lab-{lab}-hide", help="A method's own setting can be hidden too: add it to "
                          "the link's hide list by hand, e.g. hide=st-method,st-rigl.drop_fraction.")
if pasted and page_path(lab) and f"/{lab}" not in pasted:
    st.warning("That link is not one of this lab page's: choose the page it belongs to above.")
lab_link = with_hide(pasted or f"{base}/{page_path(lab)}", lab_hide)
st.code(lab_link, language=None, wrap_lines=True)
