"""Home: transfer learning, frozen versus retrained layers, the four quadrants, and where to start."""
import streamlit as st

import ui
from tlcore import viz
from tlcore.i18n import t
from ui import measured as ui_measured  # issue 14: why the lines move

L = ui.lang()
with ui.errors():
    st.title(t("home_title", L))
    st.markdown(t("home_intro", L))
    c1, c2 = st.columns(2)
    with c1:
        st.subheader(t("home_tl_title", L))
        st.markdown(t("home_tl_body", L))
        st.subheader(t("home_ft_title", L))
        st.markdown(t("home_ft_body", L))
    with c2:
        st.subheader(t("home_frozen_title", L))
        st.markdown(t("home_frozen_body", L))
    st.subheader(t("home_map_title", L))
    st.markdown(t("home_map_body", L))
    st.plotly_chart(viz.decision_map(L, height=420), config={"displayModeBar": False}, key="home_map")
    cols = st.columns(4)
    for q, col in zip((1, 2, 3, 4), cols):
        with col:
            st.markdown(f"**{t(f'q{q}_title', L)}**")
            st.markdown(t(f"q{q}_body", L))
    ui_measured.home_panel()  # issue 14
    st.subheader(t("home_start_title", L))
    st.markdown(t("home_start_body", L))
    ui.next_button("data", "home_start", key="home_start")
