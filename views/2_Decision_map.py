"""Decision map: two questions (size, similarity), the size-similarity matrix, the plan and its layer diagram."""
import streamlit as st

import ui
from tlcore import service, viz
from ui import research
from tlcore.i18n import plan_name, reason_lines, t
from ui import weights as ui_weights  # issue 11: the starting-weights widget
from ui import measured as ui_measured  # issue 14: the measured regions

L = ui.lang()
CHOICES = list(service.SIMILARITY_CHOICES)


def on_map_click() -> None:
    """A click on a quadrant shows a "what if"; a click on the dataset's star goes back to it."""
    q = viz.clicked_quadrant(st.session_state.get("map_click"))
    if q is not None:
        st.session_state["what_if"] = q or None


def back_to_data() -> None:
    st.session_state["what_if"] = None


with ui.errors():
    st.title(t("map_title", L))
    ds = ui.current_dataset()
    ui.dataset_notice()
    st.caption(ui.dataset_caption(ds))
    left, right = st.columns([5, 7], gap="medium")
    with left:
        model = st.selectbox(t("model_label", L), service.list_models(), help=t("model_help", L),
                             **ui.keep("map_model", ui.default_model(ds), name="model"))
        weights = ui_weights.picker(model, ds["num_classes"], key="map_weights")  # issue 11
        st.markdown(t("map_q1", L))
        st.number_input(t("map_ipc", L), min_value=1.0, max_value=1e7, step=50.0, format="%.0f",
                        help=t("map_ipc_help", L), **ui.keep("map_ipc", float(round(ui.data_size(ds)))))
        st.caption(ui.size_explained(ds) + " " + ui.split_text(ds))
        st.markdown(t("map_q2", L))
        st.radio(t("map_sim_label", L), CHOICES, format_func=lambda k: t(f"sim_{k}", L),
                 captions=[t(f"sim_{k}_example", L) for k in CHOICES], **ui.keep("sim_choice", ui.default_sim_choice(ds)))
        if st.button(t("map_measure", L), key="measure", help=t("map_measure_help", L), disabled=weights is None):
            ui.measure(ds, model, weights)  # issue 11: with the chosen starting weights
        measured = ui.measured_for(ds, model)
        if measured:
            st.success(t("map_measured", L, score=measured["score"], err=measured["stderr"]))
            st.checkbox(t("map_use_measured", L), **ui.keep("use_measured", True))
        shift = research.question()  # research (issue 15): the optional third question

    rec, ipc, source = ui.current_recommendation(ds, model)
    what_if = st.session_state.get("what_if")
    what_if = what_if if what_if in (1, 2, 3, 4) and what_if != rec.quadrant else None
    with right:
        fig = viz.decision_map(L, position=(ipc, rec.similarity), highlight=rec.quadrant, what_if=what_if,
                               boundaries=(rec.size_boundary, rec.similarity_boundary))
        st.plotly_chart(fig, key="map_click", on_select=on_map_click, selection_mode="points",
                        config={"displayModeBar": False})
        st.caption(t("map_click_hint", L))
        ui_measured.map_panel(model, rec)  # issue 14: which boundaries, and the regions a sweep measured

    st.subheader(t("map_rec_title", L, q=rec.quadrant, plan=plan_name(rec.plan, L, rec.top_stages)))
    for line in reason_lines(rec, L):
        st.markdown(f"- {line}")
    if rec.alternatives:
        st.caption(t("map_alternatives", L, plans=", ".join(plan_name(p, L) for p in rec.alternatives)))
    research.refinement(ds, model, rec, shift)  # research (issue 15): the block the third question points to

    shown_plan, shown_top, shown_aug, shown_q = rec.plan, rec.top_stages, rec.augment, rec.quadrant
    if what_if:
        choice = service.what_if(what_if, model)
        shown_plan, shown_top, shown_aug, shown_q = choice.plan, choice.top_stages, choice.augment, what_if
        st.info(t("map_whatif", L, q=what_if, plan=plan_name(choice.plan, L, choice.top_stages),
                  reason=ui.what_if_reason(what_if, choice.top_stages), home=rec.quadrant))
        st.button(t("map_back", L), key="map_back", on_click=back_to_data)

    st.markdown(t("map_layers_title", L, plan=plan_name(shown_plan, L, shown_top), model=model))
    plan_report = service.plan_preview(model, shown_plan, max(1, shown_top), ds["num_classes"])
    st.plotly_chart(viz.layer_diagram(plan_report.to_json(), L), config={"displayModeBar": False})
    st.caption(t("map_layers_caption", L, trainable=plan_report.trainable_params, frozen=plan_report.frozen_params))

    if st.button(ui.train_button_label(shown_plan, shown_top, what_if), key="map_train", type="primary"):
        ui.to_train(shown_plan, shown_top, shown_aug, shown_q)
        ui.go("train")

    # --- research (issue 15): which layers want to move, and how well the backbone will transfer ---
    probe_col, transfer_col = st.columns(2, gap="large")
    with probe_col:
        research.probe_panel(ds, model)
    with transfer_col:
        research.transfer_panel(ds, model)
    # --- end research ---
