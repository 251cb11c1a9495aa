"""Sparsity Lab: the app's entry point. It only builds the navigation (see dashboard/nav.py)."""
import streamlit as st

from dashboard.nav import PAGES_DIR, available_pages

st.set_page_config(page_title="Sparsity Lab", page_icon=":material/grid_on:", layout="wide")

sections: dict[str, list] = {}
for spec in available_pages():
    page = st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, default=spec.default)
    sections.setdefault(spec.section, []).append(page)

st.navigation(sections).run()
