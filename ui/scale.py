"""Scale on the Train page (issue 17): "GPUs: N" when several are visible, and the per-session queue limit."""
from __future__ import annotations

import contextlib
import secrets

import streamlit as st

from tlcore.errors import RunError
from tlcore.i18n import t
from tlcore.service import training

from .session import keep, lang

#: The session-state key of this session's identity (runs it starts carry it in meta.json).
SESSION_KEY = "session_key"


def session_key() -> str:
    """This browser session's key: the per-session queue limit counts the runs it started."""
    ss = st.session_state
    if not ss.get(SESSION_KEY):
        ss[SESSION_KEY] = secrets.token_hex(8)
    return ss[SESSION_KEY]


def gpus_setting() -> dict:
    """A "GPUs" choice when this machine has more than one; the run settings it adds (``nproc_per_node``)."""
    count = training.gpu_count()
    if count <= 1:
        return {}
    L = lang()
    n = st.selectbox(t("gpus_label", L), list(range(1, count + 1)), help=t("gpus_help", L), **keep("gpus", 1))
    return {"nproc_per_node": int(n)} if int(n) > 1 else {}


@contextlib.contextmanager
def submitting():
    """Around starting a run: it counts for this session, and the queue limit is said in the viewer's language."""
    try:
        with training.session_scope(session_key()):
            yield
    except RunError as err:
        if err.code != "session_queue_limit":
            raise
        st.warning(t("queue_limit", lang(), **getattr(err, "params", {})))
