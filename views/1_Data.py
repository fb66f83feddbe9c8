"""Data: the built-in lab dataset (default), a .zip upload, or a folder under the configured data roots."""
import streamlit as st

import ui
from tlcore import service, viz
from tlcore.i18n import skip_text, t, warning_text

L = ui.lang()
SOURCES = ("lab", "upload", "folder")

with ui.errors():
    st.title(t("data_title", L))
    st.markdown(t("data_intro", L))
    source = st.radio(t("data_source", L), SOURCES, format_func=lambda k: t(f"source_{k}", L), horizontal=True,
                      **ui.keep("data_source", "lab"))
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
        ds = ui.use_dataset(path, "lab", t("lab_label", L, s=sim, n=per_class))
    elif source == "upload":
        st.markdown(t("upload_explain", L))
        upload = st.file_uploader(t("upload_label", L), type=["zip"], key="upload_zip")
        if upload is not None:
            done = st.session_state.get("upload_done")
            if not done or done[0] != upload.file_id:  # check and extract each upload once, not on every rerun
                with st.spinner(t("upload_checking", L)):
                    path = service.save_upload(upload.name, upload.getvalue())
                st.session_state["upload_done"] = (upload.file_id, str(path))
            ds = ui.use_dataset(st.session_state["upload_done"][1], "upload", upload.name)
        elif (st.session_state.get("dataset") or {}).get("source") == "upload":
            ds = st.session_state["dataset"]
    else:
        folders = service.list_root_folders()
        if not folders:
            st.info(t("folder_none", L, roots=", ".join(str(r) for r in service.data_roots())))
        else:
            if ui.value("root_folder", None) not in folders:
                ui.set_kept("root_folder", folders[0])
            label = st.selectbox(t("folder_label", L), folders, help=t("folder_help", L),
                                 **ui.keep("root_folder", folders[0]))
            ds = ui.use_dataset(service.resolve_root_folder(label), "folder", label)

    if ds:
        report = ui.report(ds)
        st.divider()
        st.subheader(t("data_summary", L, label=ds["label"]))
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(t("metric_classes", L), report.num_classes)
        c2.metric(t("metric_images", L), report.num_images)
        c3.metric(t("metric_per_class", L), f"{report.images_per_class:.0f}")
        c4.metric(t("metric_size", L), t(f"size_{service.size_category(report.images_per_class)}", L))
        st.caption(t("data_split", L, train=len(report.train), val=len(report.val),
                     how=t(f"val_source_{report.val_source}", L)))
        for w in report.warnings:
            st.warning(warning_text(w, L))
        left, right = st.columns([2, 3])
        with left:
            st.markdown(t("data_counts", L))
            st.plotly_chart(viz.class_counts(report.class_counts, L), config={"displayModeBar": False})
        with right:
            st.markdown(t("data_samples", L))
            for cls, paths in service.sample_images(report, 8).items():
                st.caption(cls)
                st.image(paths, width=56)
        with st.expander(t("skipped_title", L, n=len(report.skipped)), expanded=bool(report.skipped)):
            if report.skipped:
                st.dataframe([{t("col_file", L): s.path, t("col_reason", L): skip_text(s.reason, L),
                               t("col_detail", L): s.detail} for s in report.skipped], hide_index=True)
            else:
                st.write(t("skipped_none", L))
        ui.next_button("map", "data_next", key="data_next")
