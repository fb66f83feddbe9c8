"""The measured map: the lab sweep drawn over the decision map (map page), and why the lines move (home page)."""
from __future__ import annotations

import re

import streamlit as st

from tlcore import service, viz
from tlcore.i18n import t

from .session import keep, lang


def map_panel(model: str, rec) -> None:
    """Under the map: which boundaries the map uses, and (switched on) the regions a sweep measured for ``model``.

    ``rec``: the map's recommendation (a tlcore.decision.Recommendation); its star is drawn where
    the recommendation placed the data.
    """
    L = lang()
    if rec.boundaries == "measured":
        st.caption(t("measured_in_use", L, model=model, size=rec.size_boundary, sim=rec.similarity_boundary,
                     rot_size=int(service.RULE_OF_THUMB.size), rot_sim=service.RULE_OF_THUMB.similarity))
    sweep = service.sweep_for(model)
    if not sweep:
        st.caption(t("measured_none", L, model=model))
        return
    if not st.toggle(t("measured_toggle", L, model=model), **keep("measured_show", False)):
        return
    st.markdown(f"**{t('measured_title', L)}**")
    fit = (rec.size_boundary, rec.similarity_boundary) if rec.boundaries == "measured" else None
    fig = viz.measured_map(sweep, L, position=(rec.images_per_class, rec.similarity), boundaries=fit)
    st.plotly_chart(fig, key="measured_map", config={"displayModeBar": False})
    st.caption(t("measured_caption", L, seeds=sweep.get("seeds", 0)))
    st.markdown(t("measured_agreement", L, tol=100 * sweep.get("tolerance", service.defaults.VERDICT_TOLERANCE),
                  measured=100 * sweep["agreement_measured"], rot=100 * sweep["agreement_rule_of_thumb"]))
    if sweep.get("agreement_measured_loo") is not None:
        st.caption(t("measured_loo", L, loo=100 * sweep["agreement_measured_loo"]))
    m = sweep.get("machine") or {}
    # The command as a reader would run it: where the run kept its units (--workdir) is that machine's affair.
    command = re.sub(r"\s--workdir(?:=|\s+)\S+", "", sweep.get("command", ""))
    st.caption(t("measured_source", L, command=command, date=str(sweep.get("date", ""))[:10],
                 hours=float(sweep.get("train_seconds_total", sweep.get("seconds", 0.0))) / 3600,
                 machine=t("measured_machine", L, cpu=m.get("cpu", "?"), cores=m.get("cores", "?"))))


def home_panel() -> None:
    """Home: two sentences on why the map's lines move (network capacity, augmentation, learning rate)."""
    L = lang()
    st.subheader(t("home_lines_title", L))
    st.markdown(t("home_lines_body", L))
