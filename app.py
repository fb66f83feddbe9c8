"""Transfer Learning Decision Map: the Streamlit entry point (``streamlit run app.py``).

It sets up what every page shares once (session defaults, language, page config, the
sidebar) and hands over to the chosen page with ``st.navigation``. The page scripts live in
``views/``: a folder named ``pages/`` would switch on Streamlit's older multipage mode
before ``st.navigation`` runs (the first request of a server, and every AppTest run).
"""
import os

# Idle OpenMP threads sleep instead of spinning (before torch loads): on a shared classroom machine a
# spinning thread steals the cores of the server and of the runs ("Measure it" was 7x slower here).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

import ui  # noqa: E402
from tlcore.i18n import t  # noqa: E402

L = ui.setup()
pages = {key: st.Page(path, title=t(f"page_{key}", L), default=(key == "home")) for key, path in ui.PAGES.items()}
current = st.navigation(list(pages.values()), position="hidden")
ui.sidebar(pages)
current.run()
