"""The Runs page's cache panel: how much disk the cache of uploads, extractions and features holds, and a clear button."""
from __future__ import annotations

import streamlit as st

from tlcore import service
from tlcore.errors import TLError
from tlcore.i18n import has, t

from .runs import store
from .session import lang
from .text import md, size_text


def _clear() -> None:
    try:
        freed = service.clear_cache(store(), keep_in_use=True)
    except (TLError, OSError) as err:
        st.session_state["cache_notice"] = ("error", md(str(err)))
    else:
        st.session_state["cache_notice"] = ("ok", t("cache_cleared", lang(), size=size_text(freed)))
    st.session_state["cache_confirm"] = False


def cache_panel() -> None:
    """Cache size against its cap, per kind, and a button (with a confirmation) that clears what nothing uses."""
    L = lang()
    usage = service.cache_usage()
    used, limit = int(usage.get("bytes", 0)), int(usage.get("limit_bytes", 0) or 0)
    title = t("cache_title_cap", L, used=size_text(used), limit=size_text(limit)) if limit else \
        t("cache_title", L, used=size_text(used))
    with st.expander(title):
        if limit:
            st.progress(min(1.0, used / limit))
        kinds = {k: v for k, v in (usage.get("kinds") or {}).items() if v}
        if kinds:
            st.caption(" · ".join(t("cache_kind_line", L, kind=t(f"cache_kind_{k}", L) if has(f"cache_kind_{k}") else k,
                                    size=size_text(v)) for k, v in kinds.items()))
        st.caption(t("cache_explain", L))
        c1, c2 = st.columns([1, 3])
        confirm = c2.checkbox(t("cache_confirm", L), key="cache_confirm")
        c1.button(t("cache_clear", L), key="cache_clear", disabled=not confirm, on_click=_clear)
        notice = st.session_state.pop("cache_notice", None)
        if notice:
            (st.success if notice[0] == "ok" else st.error)(notice[1])
