"""cnnkit — a lab for the classic CNNs. Start it with `streamlit run dashboard.py`.

The entry point only names the pages; each page is a file in pages/ (the home page is pages/0_Home.py).
"""
from __future__ import annotations

import streamlit as st

from ui.navigation import HOME, PAGES

home = st.Page(HOME.path, title=HOME.title, icon=HOME.icon, default=True)
st.navigation([home] + [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.title) for p in PAGES]).run()
