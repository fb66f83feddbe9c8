"""The decision map's actions: measuring similarity (its errors shown in place) and the plan the main button trains."""
from __future__ import annotations

import streamlit as st

from tlcore import service
from tlcore.i18n import plan_name, stages_text, t

from .session import lang, set_kept
from .weights import action_errors


def measure(ds: dict, model: str, weights: str = "pretrained") -> None:
    """Measure the similarity with a progress bar; a failure is shown here and the bar is always cleared.

    The rest of the page (map, recommendation, layers, Train button) renders whatever happens.
    ``weights``: the starting weights (ui.weights); an offline error names the fixes a browser user has.
    """
    L = lang()
    bar = st.progress(0.0, text=t("map_measuring", L))

    def progress(fraction: float, message: str = "") -> None:
        bar.progress(min(1.0, max(0.0, float(fraction))), text=t("map_measuring", L))

    with action_errors(model):
        try:
            result = service.measure_similarity(ds["path"], model, weights, progress=progress)
        finally:
            bar.empty()
        st.session_state["measured"] = {"path": ds["path"], "model": model, "score": float(result.score),
                                        "stderr": float(getattr(result, "stderr", 0.0) or 0.0)}
        st.session_state["what_if"] = None
        set_kept("use_measured", True)


def what_if_reason(quadrant: int, top_stages: int) -> str:
    return t(f"reason_quadrant{quadrant}", lang(), top_stages=top_stages, stages=stages_text(max(1, top_stages), lang()))


def train_button_label(plan: str, top_stages: int, what_if: int | None) -> str:
    """The main button names the plan it trains, and says when it is a "what if" quadrant's plan."""
    L = lang()
    name = plan_name(plan, L, top_stages)
    return t("map_train_whatif", L, plan=name, q=what_if) if what_if else t("map_train", L, plan=name)


def to_train(plan: str, top_stages: int, augment: bool, quadrant: int) -> None:
    """Carry the shown plan to the Train page, where its settings open with Start in view."""
    set_kept("plan", plan)
    set_kept("top_stages", max(1, top_stages))
    set_kept("augment", bool(augment))
    set_kept("lr", service.defaults.default_lr(plan))  # the plan's own learning rate for its new output layer
    st.session_state["plan_quadrant"] = quadrant
    st.session_state["train_fresh"] = True
