"""Predict: choose a finished run, give it images, see its top classes with probabilities."""
from pathlib import Path

import streamlit as st

import ui
from tlcore import service
from tlcore.i18n import t

L = ui.lang()
IMAGE_TYPES = sorted(e.lstrip(".") for e in service.IMAGE_EXTENSIONS)


@st.cache_resource(show_spinner=False, max_entries=4)
def predictor(run_dir: str, stamp: float) -> service.Predictor:
    return service.Predictor(run_dir)


with ui.errors():
    st.title(t("predict_title", L))
    st.markdown(t("predict_intro", L))
    runs = service.finished_runs(ui.store())
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
        run_dir = by_id[run_id].run_dir
        files = st.file_uploader(t("predict_upload", L), type=IMAGE_TYPES, accept_multiple_files=True, key="pred_upload")
        if st.button(t("predict_samples", L), key="pred_samples", help=t("predict_samples_help", L)):
            st.session_state["pred_sample_paths"] = (run_id, service.run_samples(run_dir, 6))
        images = [(f.name, f.getvalue()) for f in files or []]
        shown = [(f.getvalue(), f.name) for f in files or []]
        sample_run, samples = st.session_state.get("pred_sample_paths") or (None, [])
        if sample_run == run_id:
            images += [path for path, _ in samples]
            shown += [(path, t("predict_true", L, cls=cls)) for path, cls in samples]
        if images:
            ckpt = Path(run_dir) / "best.pt"
            results = predictor(run_dir, ckpt.stat().st_mtime).predict(images, top_k=3)
            cols = st.columns(3)
            for i, ((img, caption), top) in enumerate(zip(shown, results)):
                with cols[i % 3]:
                    st.image(img, width=128, caption=caption)
                    for cls, prob in top:
                        st.progress(prob, text=t("predict_line", L, cls=cls, p=prob))
        ui.next_button("runs", "predict_next", key="predict_next")
