"""Sparsity Lab: the app's entry point. It builds the navigation (see dashboard/nav.py) and the
shell every page shares: the icon and logo (served from ``assets/``, never from a font host) and
the app's stylesheet, injected once here."""
from pathlib import Path

import streamlit as st

from dashboard.nav import PAGES_DIR, available_pages

ASSETS = Path(__file__).resolve().parent / "assets"

# page_icon must be a file: a ":material/...:" icon makes the browser fetch the favicon from a font host.
st.set_page_config(page_title="Sparsity Lab", page_icon=str(ASSETS / "favicon.png"), layout="wide",
                   menu_items={"Get help": None, "Report a bug": None,  # both would link to streamlit.io
                               "About": "Sparsity Lab: sparsity in machine learning, run live on this machine. "
                                        "Nothing is downloaded; every asset is served from the repository."})
st.logo(str(ASSETS / "icon.png"), size="medium")
st.html(f"<style>{(ASSETS / 'app.css').read_text(encoding='utf-8')}</style>")

sections: dict[str, list] = {}
for spec in available_pages():
    page = st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, default=spec.default)
    sections.setdefault(spec.section, []).append(page)

st.navigation(sections).run()
