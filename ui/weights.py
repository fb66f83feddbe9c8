"""The starting-weights widget (pretrained, a file from the weights folders, an upload) and errors shown in place.

A weights file is checked against the chosen backbone as soon as it is picked (read safely,
matched layer by layer), so a wrong file is explained here and never reaches a run. Errors of
an action (Measure it, Start) are shown where the action is, and the rest of the page renders.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import streamlit as st

from tlcore import service
from tlcore.errors import TLError
from tlcore.i18n import has, t

from .session import keep, lang, set_kept
from .text import md

log = logging.getLogger("tlcore.app")

PRETRAINED = "pretrained"
UPLOAD = "__upload__"
#: Suffixes the uploader accepts (the same list the service checks).
UPLOAD_TYPES = ("pth", "pt", "safetensors", "bin", "ckpt")


@st.cache_data(show_spinner=False, max_entries=64)
def _check(model: str, path: str, stamp: float, num_classes: int) -> tuple[bool, str, list]:
    """(fits, error message, notes as (code, params, message)) for a weights file and a backbone; cached per file version."""
    try:
        notes = service.check_weights(model, path, num_classes)
    except TLError as err:
        return False, str(err), []
    return True, "", [(n.code, dict(n.params), n.message) for n in notes]


@st.cache_data(show_spinner=False, ttl=60)
def _offline(model: str) -> bool:
    return service.model_offline(model)


def _note_text(code: str, params: dict, message: str) -> str:
    key = f"weights_note_{code}"
    return t(key, lang(), **params) if has(key) else message


def _uploaded(key: str, model: str) -> str | None:
    """The uploaded weights file's path (kept for the session, so other pages use it too), or None."""
    L = lang()
    up = st.file_uploader(t("weights_upload_label", L, model=md(model)), type=list(UPLOAD_TYPES), key=f"{key}_file",
                          help=t("weights_upload_help", L, model=md(model)))
    if up is not None:
        try:
            path = service.save_weights_upload(up.name, up.getvalue())
        except TLError as err:
            st.error(md(str(err)))
            return None
        st.session_state["weights_upload"] = {"name": up.name, "path": str(path)}
    kept = st.session_state.get("weights_upload")
    if not kept or not Path(kept["path"]).is_file():
        st.caption(t("weights_upload_first", L))
        return None
    if up is None:
        st.caption(md(kept["name"]))
    return kept["path"]


def picker(model: str, num_classes: int, key: str) -> str | None:
    """The starting-weights widget for ``model``; the choice is kept across pages.

    Returns the run's ``weights`` setting (``pretrained`` or a file's path), or None when the
    chosen file is missing or does not fit ``model`` (the reason is shown under the widget).
    """
    L = lang()
    files = {f.label: str(f.path) for f in service.list_weights_files()}
    options = [PRETRAINED, *files, UPLOAD]
    if st.session_state.get("_keep_weights_choice", PRETRAINED) not in options:  # a file that left the folder
        set_kept("weights_choice", PRETRAINED, widget_key=f"{key}_choice")
    offline = _offline(model)

    def label(option: str) -> str:
        if option == PRETRAINED:
            return t("weights_pretrained_offline" if offline else "weights_pretrained_download", L)
        if option == UPLOAD:
            return t("weights_upload_option", L)
        return t("weights_folder_file", L, label=option)

    choice = st.selectbox(t("weights_label", L), options, format_func=label, help=t("weights_help", L),
                          **keep(f"{key}_choice", PRETRAINED, name="weights_choice"))
    if choice == PRETRAINED:
        if not offline:
            st.warning(t("weights_needs_download", L, model=md(model)))
        return PRETRAINED
    path = _uploaded(key, model) if choice == UPLOAD else files.get(choice)
    if not path:
        return None
    try:
        stamp = Path(path).stat().st_mtime
    except OSError:
        stamp = 0.0
    fits, error, notes = _check(model, path, stamp, max(1, int(num_classes)))
    if not fits:
        st.error(md(error))
        return None
    for code, params, message in notes:
        st.warning(_note_text(code, params, message))
    if not notes:
        st.caption(t("weights_file_ok", L, model=md(model)))
    return path


def error_text(err: TLError, model: str) -> str:
    """A TLError as Markdown for a browser user: the offline error names fixes they can act on here."""
    if err.code == "weights_download":
        return t("weights_offline_error", lang(), model=md(model))
    return md(str(err))


@contextlib.contextmanager
def action_errors(model: str):
    """Show an action's error in place (the offline error worded for the browser); the page goes on rendering."""
    try:
        yield
    except TLError as err:
        st.error(error_text(err, model))
    except Exception as err:  # noqa: BLE001
        if type(err).__module__.startswith("streamlit"):
            raise  # rerun / switch-page / stop signals
        log.exception("unexpected error in an action")
        st.error(t("unexpected_error", lang(), kind=type(err).__name__))
