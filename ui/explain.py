"""Explanation views: predictions with probability bars and Grad-CAM heatmaps, two runs side by side,
the mistakes gallery, and the model downloads (verified exports)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from tlcore import service, viz
from tlcore.errors import TLError
from tlcore.i18n import plan_name, t

from .session import lang
from .text import md, size_text

#: Images shown side by side for two runs, and mistakes in the gallery.
MAX_SIDE_BY_SIDE = 6
MAX_GALLERY = 12
#: Width in pixels of one image on the page.
THUMB = 150


def _stamp(run_dir: str) -> float:
    """Changes when the run's model does: cached models and heatmaps are keyed by it."""
    ckpt = Path(run_dir) / "best.pt"
    return ckpt.stat().st_mtime if ckpt.is_file() else 0.0


@st.cache_resource(show_spinner=False, max_entries=4)
def _explainer(run_dir: str, stamp: float) -> service.Explainer:
    return service.Explainer(run_dir)


@st.cache_data(show_spinner=False, max_entries=256)
def _explained(run_dir: str, stamp: float, image, class_name: str | None):
    """One image's prediction and heatmap (an ImageExplanation), or the message that says why it is unusable."""
    explainer = _explainer(run_dir, stamp)
    try:
        return explainer.explain([image], class_name if class_name in explainer.classes else None)[0]
    except TLError as err:
        return str(err)


@st.cache_data(show_spinner=False, max_entries=64)
def _explained_batch(run_dir: str, stamp: float, images: tuple) -> list:
    """Each image's prediction and heatmap for its predicted class, in ONE Grad-CAM pass (a results page
    holds up to MAX_GALLERY of them; a call per image cost seconds of server time under a class's load)."""
    explainer = _explainer(run_dir, stamp)
    try:
        return explainer.explain(list(images))
    except TLError:  # one unusable file: fall back to one call each, so the others still show
        return [_explained(run_dir, stamp, img, None) for img in images]


def explain_one(run_dir: str, image, class_name: str | None = None):
    """An ImageExplanation for ``image`` (a path or (name, bytes)), or an error message (str)."""
    return _explained(str(run_dir), _stamp(str(run_dir)), image, class_name)


def model_classes(run_dir: str) -> list[str]:
    return _explainer(str(run_dir), _stamp(str(run_dir))).classes


# ---------------------------------------------------------------------------
# Predict: every image with its answer, its probability bars and its heatmap


def class_picker(classes: list[str], key: str = "pred_explain_class") -> str | None:
    """The class whose evidence the heatmaps show: each image's predicted class (None) or one picked."""
    L = lang()
    options = [""] + list(classes)
    if st.session_state.get(key) not in options:
        st.session_state[key] = ""
    picked = st.selectbox(t("explain_heatmap_for", L), options, key=key, help=t("explain_heatmap_help", L),
                          format_func=lambda c: c or t("explain_heatmap_predicted", L))
    return picked or None


def probability_bars(pred: service.Prediction) -> None:
    """Every class's probability (the top five and the rest summed up when there are many)."""
    L = lang()
    shown, hidden, rest = pred.bars()
    for cls, p in shown:
        st.progress(min(1.0, max(0.0, p)), text=t("explain_bar", L, cls=md(cls), p=p))
    if hidden:
        st.caption(t("explain_more_classes", L, n=hidden, p=rest))


def _verdict(pred: service.Prediction, true: str | None, classes: list[str]) -> None:
    L = lang()
    if not true:
        return
    if true not in classes:
        st.caption(t("explain_true_unknown", L, cls=md(true)))
    elif pred.predicted == true:
        st.markdown(t("explain_right", L, cls=md(true)))
    else:
        st.markdown(t("explain_wrong", L, cls=md(true)))


def predictions(run_dir: str, images: list, names: list[str], truths: list[str | None], class_name: str | None,
                heatmaps: bool = True, columns: int = 3) -> None:
    """A card per image: the model's view and its heatmap, right/wrong when the true class is known, the bars."""
    L = lang()
    classes = model_classes(run_dir)
    first = None
    for i, (img, name, true) in enumerate(zip(images, names, truths)):
        if i % columns == 0:  # a row of columns at a time: on a phone the cards then stack in reading order
            cols = st.columns(columns)
        with cols[i % columns]:
            e = explain_one(run_dir, img, class_name)
            if isinstance(e, str):
                st.error(t("explain_bad_image", L, name=md(name), error=e))
                continue
            first = first or e
            if heatmaps:
                st.image([e.view, e.overlay], width=THUMB,
                         caption=[md(name), t("explain_evidence", L, cls=md(e.explained))])
            else:
                st.image(e.view, width=THUMB, caption=md(name))
            st.markdown(t("explain_answer", L, cls=md(e.predicted), p=e.confidence))
            _verdict(e, true, classes)
            probability_bars(e)
    if first is not None and heatmaps:
        st.caption(t("explain_grid_caption", L, layer=first.layer, h=first.grid[0], w=first.grid[1],
                     size=first.heatmap.shape[0]))


# ---------------------------------------------------------------------------
# Two runs side by side


def _default_partner(run, others: list) -> str | None:
    """Another run on the same data, a different plan first ("what changed when we fine-tuned")."""
    from .runs import run_data  # ui.runs shows this module's gallery: imported when called, not at load

    path = run_data(run).path
    same_data = [r for r in others if run_data(r).path == path] or others
    different = [r for r in same_data if r.plan != run.plan]
    pick = (different or same_data or [None])[0]
    return pick.run_id if pick else None


def side_by_side(run, runs: list, images: list, names: list[str], class_name: str | None,
                 key: str = "pred_compare_run") -> None:
    """The same images explained by ``run`` and by a second run picked here, in columns."""
    L = lang()
    st.subheader(t("compare_models_title", L))
    st.markdown(t("compare_models_intro", L))
    others = [r for r in runs if r.run_id != run.run_id]
    if not others:
        st.info(t("compare_models_none", L))
        return
    by_id = {r.run_id: r for r in others}
    default = _default_partner(run, others)
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = default
    other_id = st.selectbox(t("compare_models_with", L), list(by_id), key=key,
                            format_func=lambda i: _run_name(by_id[i]))
    other = by_id[other_id]
    if not images:
        st.caption(t("compare_models_no_images", L))
        return
    head = st.columns(3)
    head[0].markdown(t("compare_models_image", L))
    head[1].markdown(f"**{_run_name(run)}**")  # our own words: plan, backbone, accuracy, run id
    head[2].markdown(f"**{_run_name(other)}**")
    for img, name in list(zip(images, names))[:MAX_SIDE_BY_SIDE]:
        a, b = explain_one(run.run_dir, img, class_name), explain_one(other.run_dir, img, class_name)
        if isinstance(a, str) or isinstance(b, str):
            st.error(t("explain_bad_image", L, name=md(name), error=a if isinstance(a, str) else b))
            continue
        row = st.columns(3)
        row[0].image(a.view, width=THUMB, caption=md(name))
        for col, e in ((row[1], a), (row[2], b)):
            col.image(e.overlay, width=THUMB,
                      caption=t("compare_models_caption", L, pred=md(e.predicted), p=e.confidence, cls=md(e.explained)))


def _run_name(info) -> str:
    return t("explain_run_name", lang(), plan=plan_name(info.plan, lang()), model=info.model,
             acc=info.best_val_accuracy, run_id=info.run_id)


# ---------------------------------------------------------------------------
# The mistakes gallery (a finished run's results)


def mistakes_gallery(run_id: str, run_dir: str, evaluation, key: str = "gallery_heatmaps") -> None:
    """Misclassified validation images, most confident mistakes first, with what the model looked at.

    ``evaluation``: the run's tlcore.events.Evaluation (``misclassified``: {path, true, pred,
    confidence}; ``num_misclassified``: how many in all).
    """
    L = lang()
    total = int(evaluation.num_misclassified or viz.confusion_errors(evaluation.confusion))
    mistakes = sorted((m for m in evaluation.misclassified if Path(m["path"]).is_file()),
                      key=lambda m: -float(m["confidence"]))[:MAX_GALLERY]
    st.markdown(t("gallery_title", L, shown=len(mistakes), n=total))
    if not mistakes:
        st.caption(t("gallery_none", L) if not total else t("gallery_files_gone", L))
        return
    heatmaps = st.toggle(t("gallery_heatmaps", L), value=True, key=f"{key}_{run_id}", help=t("gallery_heatmaps_help", L))
    # The best model predicted each mistake's wrong class: its own prediction is the class to explain.
    explained = _explained_batch(str(run_dir), _stamp(str(run_dir)), tuple(m["path"] for m in mistakes)) \
        if heatmaps else [None] * len(mistakes)
    for i, (m, e) in enumerate(zip(mistakes, explained)):
        if i % 4 == 0:
            cols = st.columns(4)
        with cols[i % 4]:
            caption = t("gallery_caption", L, true=md(m["true"]), pred=md(m["pred"]), conf=float(m["confidence"]))
            if e is None or isinstance(e, str):
                st.image(m["path"], width=THUMB, caption=caption)
            else:
                st.image([e.view, e.overlay], width=THUMB // 2 + 20,
                         caption=[caption, t("explain_evidence", L, cls=md(m["pred"]))])


# ---------------------------------------------------------------------------
# Downloads: verified exports


@st.cache_data(show_spinner=False, max_entries=64)
def _existing_export(run_dir: str, fmt: str, fingerprint: tuple):
    """The run's intact export in ``fmt`` (checksums are read once per change of the files, not every rerun)."""
    return service.existing_export(run_dir, fmt)


def export_panel(run_id: str, run_dir: str, key: str = "pred") -> None:
    """Pick a format, export and verify it (once; kept in the run's folder), then download it as a zip."""
    L = lang()
    st.subheader(t("export_title", L))
    st.markdown(t("export_intro", L))
    fmt = st.radio(t("export_format", L), service.export_formats(), key=f"{key}_export_format", horizontal=True,
                   format_func=lambda f: t(f"export_fmt_{f}", L))
    summary = _existing_export(str(run_dir), fmt, service.export_fingerprint(run_dir, fmt))
    if summary is None:
        if st.button(t("export_button", L), key=f"{key}_export_go"):
            with st.spinner(t("export_running", L)):
                summary = service.export_run(run_dir, fmt)
    if summary is None:
        return
    v = summary.verification
    inputs = t("export_inputs_validation", L) if v.get("inputs") == "validation" else t("export_inputs_random", L)
    text = t("export_verified", L, n=v.get("images", 0), inputs=inputs, diff=float(v.get("max_abs_diff", 0.0)),
             tol=float(v.get("tolerance", 0.0)), runtime=v.get("runtime", ""))
    (st.success if v.get("passed") else st.error)(text)
    size = sum(p.stat().st_size for p in summary.path.iterdir() if p.is_file())
    st.download_button(t("export_download", L, fmt=t(f"export_fmt_{fmt}", L).split(" (")[0], size=size_text(size)),
                       data=lambda: service.export_zip(summary), file_name=f"{run_id}-{fmt}.zip",
                       mime="application/zip", key=f"{key}_export_download_{fmt}", on_click="ignore")
    st.caption(t("export_readme", L))
