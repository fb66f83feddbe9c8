"""The Data page's "Build it here": classes, uploads and webcam captures into a private draft, then save and use it.

The draft's id lives in the session and in the URL (``?draft=``), so reruns and a reload find it
and no other session does. Everything on disk goes through tlcore.service.builder.
"""
from __future__ import annotations

import streamlit as st

from tlcore import service
from tlcore.errors import TLError
from tlcore.i18n import has, skip_text, t

from .dataset import use_dataset
from .session import lang
from .text import md

B = service.builder
SOURCE = "built"  # the session dataset's "source" for a saved or opened set
SHOWN_PER_CLASS = 24  # newest thumbnails shown per class before "show all"
GRID = 8  # thumbnails per row
CAMERA_WIDTH = 480  # pixels: room for the rest of the page beside a live camera
UPLOAD_TYPES = sorted(ext.lstrip(".") for ext in service.IMAGE_EXTENSIONS)


def _escaped(params: dict) -> dict:
    """Names quoted in a message, escaped for Markdown (st.error and the like render it)."""
    return {k: md(v) if isinstance(v, str) else v for k, v in params.items()}


def error_text(err: TLError, L: str) -> str:
    """The builder's error in the page's language (its own words per code), else tlcore's message."""
    key = f"builder_err_{err.code}"
    return t(key, L, **_escaped(getattr(err, "params", {}))) if has(key) else md(str(err))


def _reason(outcome, L: str) -> str:
    key = f"builder_skip_{outcome.reason}"
    return t(key, L, **_escaped(outcome.params)) if has(key) else skip_text(outcome.reason, L)


def _draft_id() -> str:
    """The session's draft; a new session takes the one in the URL (a reload), else starts one."""
    ss = st.session_state
    did = ss.get("bld_draft")
    if not B.draft_exists(did):
        url = st.query_params.get("draft")
        if B.draft_exists(url):
            did = url
        else:
            if url or did:
                ss["bld_error"] = t("builder_err_draft_not_found", lang())
            did = B.new_draft()
        ss["bld_draft"] = did
    if st.query_params.get("draft") != did:
        st.query_params["draft"] = did
    return did


def _nonce(name: str) -> int:
    return st.session_state.setdefault(f"bld_{name}_nonce", 0)


def _bump(name: str) -> None:
    """A new key for a widget: an emptied uploader, a live camera ready for the next photo."""
    st.session_state[f"bld_{name}_nonce"] = _nonce(name) + 1


def _report(target: str, outcomes) -> None:
    """Keep the outcome of an add for the next run (the widget that caused it is reset by a rerun)."""
    st.session_state["bld_last"] = {
        "cls": target, "added": sum(o.ok for o in outcomes), "full": any(o.reason == "draft_full" for o in outcomes),
        "skipped": [(o.name, _reason(o, lang())) for o in outcomes if not o.ok]}


# ---------------------------------------------------------------------------
# Callbacks: they run before the page is drawn, so it shows their result at once.


def _guard(action, *args) -> bool:
    try:
        action(*args)
    except TLError as err:
        st.session_state["bld_error"] = error_text(err, lang())
        return False
    return True


def _remove(did: str, image_id: str) -> None:
    _guard(B.remove_image, did, image_id)


def _rename(did: str, old: str, key: str) -> None:
    new = st.session_state.get(key, "")
    if _guard(B.rename_class, did, old, new) and st.session_state.get("bld_target") == old:
        st.session_state["bld_target"] = B.clean_name(new)


def _delete(did: str, name: str) -> None:
    _guard(B.delete_class, did, name)


def _restart() -> None:
    st.session_state["bld_draft"] = B.new_draft()
    for key in ("bld_last", "bld_target"):
        st.session_state.pop(key, None)


# ---------------------------------------------------------------------------


def dataset_builder() -> dict | None:
    """Draw the builder; returns the session's dataset when it is a saved (or opened) set, else None."""
    L = lang()
    ss = st.session_state
    did = _draft_id()
    st.markdown(t("bld_intro", L))
    if ss.get("bld_error"):
        st.error(ss.pop("bld_error"))
    if ss.get("bld_notice"):
        st.success(ss.pop("bld_notice"))
    _new_class_form(did, L)
    draft = B.open_draft(did)
    if not draft.classes:
        st.info(t("bld_no_classes", L))
    else:
        _add_images(did, draft, L)
        _class_cards(did, draft, L)
        _save(did, draft, L)
    _shared_sets(did, L)
    ds = ss.get("dataset")
    return ds if ds and ds.get("source") == SOURCE else None


def _new_class_form(did: str, L: str) -> None:
    with st.form("bld_new_class_form", clear_on_submit=True, border=False):
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        name = c1.text_input(t("bld_new_class", L), placeholder=t("bld_new_class_ph", L), key="bld_new_class")
        added = c2.form_submit_button(t("bld_add_class", L), key="bld_add_class")
    if added:
        try:
            draft = B.add_class(did, name)
        except TLError as err:
            st.error(error_text(err, L))
        else:
            st.session_state["bld_target"] = draft.classes[-1].name  # new photos go to the class just made
            st.toast(t("bld_class_added", L, cls=md(draft.classes[-1].name)))


def _add_images(did: str, draft, L: str) -> None:
    ss = st.session_state
    names = [c.name for c in draft.classes]
    if ss.get("bld_target") not in names:
        ss["bld_target"] = names[-1]
    c1, c2 = st.columns([3, 1])
    target = c1.radio(t("bld_add_to", L), names, format_func=md, key="bld_target", horizontal=True)
    how = c2.radio(t("bld_how", L), ("upload", "camera"), format_func=lambda k: t(f"bld_how_{k}", L),
                   key="bld_how", horizontal=True)
    limits = draft.limits
    st.caption(t("bld_usage", L, images=draft.num_images, max_images=limits.max_images, mb=draft.num_bytes / B.MB,
                 max_mb=f"{limits.max_bytes / B.MB:.3g}"))
    last = ss.get("bld_last")
    if draft.full or (last and last.get("full")):
        st.warning(t("bld_full", L))
    if how == "upload":
        files = st.file_uploader(t("bld_upload_label", L, cls=md(target)), type=UPLOAD_TYPES, accept_multiple_files=True,
                                 help=t("bld_upload_help", L, side=B.MAX_SIDE), key=f"bld_upload_{_nonce('upload')}")
        if files:
            bar = st.progress(0.0, text=t("bld_adding", L, n=len(files)))
            outcomes = B.add_images(did, target, [(f.name, f.getvalue()) for f in files], source="upload",
                                    progress=lambda done, total: bar.progress(done / total,
                                                                              text=t("bld_adding", L, n=total)))
            _report(target, outcomes)
            _bump("upload")
            st.rerun()
    else:
        photo = st.camera_input(t("bld_camera_label", L, cls=md(target)), help=t("bld_camera_help", L),
                                key=f"bld_camera_{_nonce('camera')}", width=CAMERA_WIDTH)
        if photo is not None:
            shot = ss.get("bld_shots", 0) + 1
            ss["bld_shots"] = shot
            _report(target, B.add_images(did, target, [(f"webcam-{shot:03d}.jpg", photo.getvalue())], source="camera"))
            _bump("camera")
            st.rerun()
    if last:
        if last["added"]:
            st.success(t("bld_added", L, n=last["added"], cls=md(last["cls"])))
        elif not last["skipped"]:
            st.info(t("bld_added_none", L, cls=md(last["cls"])))
        if last["skipped"]:
            lines = [t("bld_skip_line", L, name=md(name), reason=reason) for name, reason in last["skipped"][:20]]
            more = len(last["skipped"]) - len(lines)
            st.warning(t("bld_skipped", L, n=len(last["skipped"])) + "\n\n" + "\n".join(f"- {s}" for s in lines)
                       + (f"\n- (+{more})" if more > 0 else ""))


def _class_cards(did: str, draft, L: str) -> None:
    for i, c in enumerate(draft.classes):
        with st.container(border=True, key=f"bld_class_{i}"):
            head, rename, delete = st.columns([6, 1, 1], vertical_alignment="center")
            head.markdown(t("bld_class_head", L, cls=md(c.name), n=c.count))
            with rename.popover(t("bld_rename", L)):
                key = f"bld_rename_{c.name}"
                st.text_input(t("bld_rename_label", L), value=c.name, key=key)
                st.button(t("bld_rename_do", L), key=f"bld_rename_do_{c.name}", on_click=_rename, args=(did, c.name, key))
            with delete.popover(t("bld_delete", L)):
                st.button(t("bld_delete_confirm", L, cls=md(c.name), n=c.count), key=f"bld_delete_{c.name}",
                          on_click=_delete, args=(did, c.name), type="primary")
            if not c.images:
                st.caption(t("bld_class_empty", L))
                continue
            newest = list(reversed(c.images))
            show_all = st.session_state.get(f"bld_all_{c.name}", False)
            shown = newest if show_all else newest[:SHOWN_PER_CLASS]
            for row in range(0, len(shown), GRID):
                cols = st.columns(GRID)
                for col, im in zip(cols, shown[row:row + GRID]):
                    col.image(im.thumb, width="stretch")
                    col.button("✕", key=f"bld_rm_{im.id}", help=t("bld_remove_help", L, name=md(im.name)),
                               on_click=_remove, args=(did, im.id))
            if len(newest) > SHOWN_PER_CLASS:
                st.toggle(t("bld_show_all", L, n=len(newest)), key=f"bld_all_{c.name}")


def _save(did: str, draft, L: str) -> None:
    ss = st.session_state
    st.subheader(t("bld_save_title", L))
    if "bld_name" not in ss:
        ss["bld_name"] = draft.saved.name if draft.saved else t("bld_default_name", L)
    if "bld_share" not in ss:
        ss["bld_share"] = bool(draft.saved and draft.saved.shared)
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    name = c1.text_input(t("bld_save_name", L), key="bld_name")
    shared = c2.checkbox(t("bld_share", L), help=t("bld_share_help", L), key="bld_share")
    c1, c2, c3 = st.columns([2, 2, 1])
    if c1.button(t("bld_save", L), key="bld_save", type="primary"):
        try:
            with st.spinner(t("bld_saving", L)):
                saved = B.save_draft(did, name, shared=shared)
                use_dataset(saved.path, SOURCE, saved.name)
        except TLError as err:
            st.error(error_text(err, L))
        else:
            ss["bld_last"] = None  # the last add's note is old news now
            st.success(t("bld_saved", L, name=md(saved.name), images=saved.num_images, classes=len(saved.class_counts)))
            draft = B.open_draft(did)
    try:
        zip_root = B.clean_name(name)
    except TLError:
        zip_root = "dataset"
    c2.download_button(t("bld_download", L), data=lambda: B.draft_zip(did, zip_root), file_name=f"{zip_root}.zip",
                       mime="application/zip", on_click="ignore", key="bld_zip", disabled=not draft.num_images)
    with c3.popover(t("bld_new_draft", L)):
        st.button(t("bld_new_draft_confirm", L), key="bld_restart", help=t("bld_new_draft_help", L), on_click=_restart)
    ds = ss.get("dataset") or {}
    if draft.saved and ds.get("path") == draft.saved.path and draft.digest != draft.saved.digest:
        st.info(t("bld_changed", L))


def _shared_sets(did: str, L: str) -> None:
    sets = {s.name: s for s in B.list_shared_sets()}
    with st.expander(t("bld_open_title", L, n=len(sets))):
        if not sets:
            st.caption(t("bld_open_none", L))
            return
        pick = st.selectbox(t("bld_open_label", L), list(sets), key="bld_open_pick",
                            format_func=lambda n: t("bld_open_fmt", L, name=n, images=sets[n].num_images,
                                                    classes=len(sets[n].class_counts)))
        c1, c2 = st.columns(2)
        try:
            if c1.button(t("bld_open", L), key="bld_open"):
                found = B.shared_set(pick)
                use_dataset(found.path, SOURCE, found.name)
                st.success(t("bld_opened", L, name=md(found.name)))
            if c2.button(t("bld_copy", L), key="bld_copy"):
                outcomes = B.copy_set_into_draft(did, B.shared_set(pick).path)
                st.session_state["bld_last"] = None
                st.session_state["bld_notice"] = t("bld_copied", L, n=sum(o.ok for o in outcomes))
                st.rerun()  # the copied classes and images appear above
        except TLError as err:
            st.error(error_text(err, L))
