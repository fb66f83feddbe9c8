"""The Data page's summary of a dataset: counts, the split, warnings, a chart, samples and skipped files."""
from __future__ import annotations

import streamlit as st

from tlcore import service, viz
from tlcore.i18n import skip_text, t

from .dataset import dataset_name, default_model, report, size_explained, split_text
from .session import lang, value
from .text import md, warning_md

#: Classes whose sample images the page shows (a dataset of 60 classes would make a very long page).
SAMPLE_CLASSES = 12


def data_summary(ds: dict) -> None:
    """What is in the dataset, with every number the map uses (training images per class) explained."""
    L = lang()
    rep = report(ds)
    st.divider()
    st.subheader(t("data_summary", L, label=md(dataset_name(ds))))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("metric_classes", L), rep.num_classes)
    c2.metric(t("metric_images", L), rep.num_images)
    c3.metric(t("metric_per_class", L), f"{rep.images_per_class:,.0f}", help=t("metric_per_class_help", L))
    # The map's own size line for the backbone the map will use (measured for labnet, else the rule of thumb),
    # so that this page and the map never call the same data small and large.
    model = value("model", None) or default_model(ds)
    line = service.boundaries_for(model)
    c4.metric(t("metric_size", L), t(f"size_{service.size_category(rep.size_per_class, line.size)}", L),
              help=t(f"metric_size_help_{line.source}", L, n=line.size, model=md(model)))
    st.caption(split_text(ds, L) + " " + size_explained(ds, L))
    for w in rep.warnings:
        st.warning(warning_md(w, L))
    many = rep.num_classes > 8
    left, right = (st.container(), st.container()) if many else st.columns([2, 3])
    with left:
        st.markdown(t("data_counts", L))
        st.plotly_chart(viz.class_counts(rep.train_counts, L), config={"displayModeBar": False}, key="class_counts")
    with right:
        st.markdown(t("data_samples", L))
        samples = service.sample_images(rep, 8)
        for cls in list(samples)[:SAMPLE_CLASSES]:
            st.caption(md(cls))
            st.image(samples[cls], width=56)
        if len(samples) > SAMPLE_CLASSES:
            st.caption(t("data_samples_more", L, n=len(samples) - SAMPLE_CLASSES))
    with st.expander(t("skipped_title", L, n=len(rep.skipped)), expanded=bool(rep.skipped)):
        if rep.skipped:
            st.dataframe([{t("col_file", L): s.path, t("col_reason", L): skip_text(s.reason, L),
                           t("col_detail", L): s.detail} for s in rep.skipped], hide_index=True)
        else:
            st.write(t("skipped_none", L))
