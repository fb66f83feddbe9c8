"""Predict: a finished run's model on images, with every class's probability, where it looked, a second run
side by side, and the model to take away (a verified export)."""
import streamlit as st

import ui
import ui.explain as explain
from tlcore import service
from tlcore.i18n import t

L = ui.lang()
IMAGE_TYPES = sorted(e.lstrip(".") for e in service.IMAGE_EXTENSIONS)

with ui.errors():
    st.title(t("predict_title", L))
    st.markdown(t("predict_intro", L))
    runs = ui.current_data_first(service.finished_runs(ui.store()))
    if not runs:
        st.info(t("predict_none", L))
        ui.next_button("train", "predict_go_train", key="predict_go_train")
    else:
        by_id = {r.run_id: r for r in runs}
        current = st.session_state.get("current_run")
        default = current if current in by_id else runs[0].run_id
        if ui.value("pred_run", None) not in by_id:
            ui.set_kept("pred_run", default)
        run_id = st.selectbox(t("predict_run", L), list(by_id), format_func=lambda i: ui.run_label(by_id[i]),
                              **ui.keep("pred_run", default))
        run = by_id[run_id]
        # Uploads and validation samples stay when another model is picked: they belong to the page, not the run.
        files = st.file_uploader(t("predict_upload", L), type=IMAGE_TYPES, accept_multiple_files=True, key="pred_upload")
        if st.button(t("predict_samples", L), key="pred_samples", help=t("predict_samples_help", L)):
            st.session_state["pred_sample_paths"] = service.run_samples(run.run_dir, 6)
        samples = st.session_state.get("pred_sample_paths") or []
        images = [(f.name, f.getvalue()) for f in files or []] + [path for path, _ in samples]
        names = [f.name for f in files or []] + [t("predict_true", L, cls=cls) for _, cls in samples]
        truths = [None] * len(files or []) + [cls for _, cls in samples]
        if images:
            c1, c2 = st.columns([2, 1])
            with c1:
                class_name = explain.class_picker(explain.model_classes(run.run_dir))
            with c2:
                heatmaps = st.toggle(t("explain_show_heatmaps", L), value=True, key="pred_heatmaps")
            explain.predictions(run.run_dir, images, names, truths, class_name, heatmaps)
            st.divider()
            explain.side_by_side(run, runs, images, names, class_name)
        st.divider()
        explain.export_panel(run_id, run.run_dir, key="pred")
        ui.next_button("runs", "predict_next", key="predict_next")
