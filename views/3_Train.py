"""Train: settings pre-filled from the map, a run in its own process, live curves, Stop, and the results."""
import streamlit as st

import ui
from tlcore import service
from ui import research
from tlcore.i18n import plan_name, t
from ui import scale  # issue 17: GPUs and the per-session queue limit
from ui import weights as ui_weights  # issue 11: the starting-weights widget

L = ui.lang()

with ui.errors():
    st.title(t("train_title", L))
    run_id = ui.run_from_url()
    if run_id:
        ui.adopt_run(run_id)
    ds = ui.current_dataset()
    ui.dataset_notice()
    st.caption(ui.dataset_caption(ds))
    model_default = ui.value("model", None) or ui.default_model(ds)
    rec, _, _ = ui.current_recommendation(ds, model_default)
    st.markdown(t("train_rec", L, q=rec.quadrant, plan=plan_name(rec.plan, L, rec.top_stages)))

    with st.expander(t("train_settings", L), expanded=ui.settings_open(run_id)):
        c1, c2, c3 = st.columns([1, 1.7, 1.1])
        model = c1.selectbox(t("model_label", L), service.list_models(), help=t("model_help", L),
                             **ui.keep("train_model", model_default, name="model"))
        plan = c2.selectbox(t("plan_label", L), service.PLAN_NAMES, format_func=lambda p: plan_name(p, L),
                            help=t("plan_help", L), **ui.keep("plan", rec.plan))
        stages = service.num_stages(model)
        if not 1 <= int(ui.value("top_stages", 1) or 1) <= stages:
            ui.set_kept("top_stages", max(1, min(stages, rec.top_stages or 1)))
        top_stages = c3.slider(t("top_stages_label", L), 1, stages, help=t("top_stages_help", L),
                               disabled=plan != "top", **ui.keep("top_stages", max(1, min(stages, rec.top_stages or 1))))
        options = research.train_options(plan, model)  # research (issue 15): block, lr decay, BatchNorm
        c1, c2, c3, c4 = st.columns([1, 1, 1.3, 1.4])
        epochs = c1.number_input(t("epochs_label", L), min_value=1, max_value=200, step=1,
                                 **ui.keep("epochs", service.defaults.DEFAULT_EPOCHS))
        batch_size = c2.selectbox(t("batch_label", L), service.defaults.BATCH_SIZE_OPTIONS,
                                  **ui.keep("batch_size", service.defaults.DEFAULT_BATCH_SIZE))
        lr = c3.select_slider(t("lr_label", L), options=service.defaults.LR_OPTIONS, format_func=lambda v: f"{v:g}",
                              help=t("lr_help", L), **ui.keep("lr", service.defaults.default_lr(plan)))
        augment = c4.checkbox(t("augment_label", L), help=t("augment_help", L), **ui.keep("augment", rec.augment))
        # issue 11: pretrained, a weights-folder file or an upload, checked here (replaces the download warning)
        weights = ui_weights.picker(model, ds["num_classes"], key="train_weights") if plan != "scratch" else "none"
        gpus = scale.gpus_setting()  # issue 17: "GPUs: N" when more than one is visible
        preview = service.plan_preview(model, plan, top_stages, ds["num_classes"], **options)
        st.caption(ui.device_text() + " " + t("train_plan_caption", L, trainable=preview.trainable_params,
                                                 frozen=preview.frozen_params))
        quadrant = st.session_state.get("plan_quadrant") or rec.quadrant
        if st.button(t("start", L), key="start_run", type="primary", disabled=weights is None):
            # issue 11: a refused start shows here; issue 17: the run counts for this session (one queued at a time)
            with ui_weights.action_errors(model), scale.submitting():
                ui.start_run(ds, dict(model=model, plan=plan, top_stages=top_stages, epochs=epochs, batch_size=batch_size,
                                      lr=lr, augment=augment, weights=weights, **options, **gpus), quadrant)

    run_id = st.session_state.get("current_run") if st.query_params.get("run") else None
    if run_id:
        ui.run_panel(run_id)
        c1, c2 = st.columns(2)
        with c1:
            ui.next_button("compare", "train_next_compare", key="train_next_compare")
        with c2:
            info = ui.run_info(run_id)
            if info is not None and ui.has_model(info) and st.button(t("train_next_predict", L), key="train_next_predict"):
                ui.go("predict")
    else:
        st.info(t("train_no_run", L))
