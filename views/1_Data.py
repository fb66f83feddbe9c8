"""Data: the built-in lab dataset (default), a .zip upload, or a folder under the configured data roots."""
import streamlit as st

import ui
from tlcore import service
from tlcore.i18n import t
from ui.builder import dataset_builder  # issue #11: "Build it here"

L = ui.lang()
SOURCES = ("lab", "photos", "upload", "folder", "build")

with ui.errors():
    st.title(t("data_title", L))
    st.markdown(t("data_intro", L))
    ui.dataset_notice()
    if st.session_state.get("data_from_url"):
        ui.current_dataset()  # a link or a reload names the dataset: the controls below follow it
        ui.dataset_notice()
    source = st.radio(t("data_source", L), SOURCES, format_func=lambda k: t(f"source_{k}", L), horizontal=True,
                      **ui.keep("data_source", "build" if st.query_params.get("draft") else "lab"))
    ds = None
    if source == "lab":
        c1, c2 = st.columns(2)
        per_class = c1.select_slider(t("lab_per_class", L), options=service.defaults.LAB_PER_CLASS_OPTIONS,
                                     help=t("lab_per_class_help", L),
                                     **ui.keep("lab_per_class", service.defaults.LAB_DEFAULT_PER_CLASS))
        sim = c2.slider(t("lab_similarity", L), 0.0, 1.0, step=0.05, help=t("lab_similarity_help", L),
                        **ui.keep("lab_similarity", service.defaults.LAB_DEFAULT_SIMILARITY))
        st.caption(t("lab_explain", L, val=service.defaults.LAB_VAL_PER_CLASS))
        with st.spinner(t("lab_preparing", L)):
            path = service.lab_dataset(sim, per_class)
        ds = ui.use_dataset(path, "lab")
    elif source == "photos":
        with st.spinner(t("lab_preparing", L)):
            path = service.photo_dataset()
        st.markdown(t("photos_explain", L, n=len(service.photo_info(path)["sources"])))
        ds = ui.use_dataset(path, "photos", t("source_photos", L))
    elif source == "upload":
        st.markdown(t("upload_explain", L))
        upload = st.file_uploader(t("upload_label", L), type=["zip"], key="upload_zip", help=t("upload_help", L))
        current = st.session_state.get("dataset") or {}
        if upload is not None:
            with ui.errors():
                done = st.session_state.get("upload_done")
                if not done or done[0] != upload.file_id:  # check and extract each upload once, not on every rerun
                    with st.spinner(t("upload_checking", L)):
                        path = service.save_upload(upload.name, upload.getvalue())
                    st.session_state["upload_done"] = (upload.file_id, str(path))
                ds = ui.use_dataset(st.session_state["upload_done"][1], "upload", upload.name)
        elif current.get("source") == "upload":
            ds = current
            st.caption(t("upload_current", L, name=ui.md(ui.dataset_name(ds))))
    elif source == "build":  # issue #11: build a dataset in the browser (all of it in ui/builder.py)
        ds = dataset_builder()
    else:
        folders = service.list_root_folders()
        if not folders:
            st.info(t("folder_none", L, roots=ui.md(", ".join(str(r) for r in service.data_roots()))))
        else:
            if ui.value("root_folder", None) not in folders:
                ui.set_kept("root_folder", folders[0])
            label = st.selectbox(t("folder_label", L), folders, help=t("folder_help", L),
                                 **ui.keep("root_folder", folders[0]))
            ds = ui.use_dataset(service.resolve_root_folder(label), "folder", label)

    if ds:
        ui.data_summary(ds)
        ui.next_button("map", "data_next", key="data_next")
