"""Session defaults, the language, settings kept across pages, navigation and friendly errors."""
from __future__ import annotations

import contextlib
import logging

import streamlit as st

from tlcore.errors import TLError
from tlcore.i18n import LANG_NAMES, LANGS, t

log = logging.getLogger("tlcore.app")

#: Page key -> script, in the order of the steps. app.py registers them with st.navigation.
PAGES = {
    "home": "views/0_Home.py",
    "data": "views/1_Data.py",
    "map": "views/2_Decision_map.py",
    "train": "views/3_Train.py",
    "compare": "views/4_Compare.py",
    "predict": "views/5_Predict.py",
    "runs": "views/6_Runs.py",
}

#: Session defaults, set in one place. Widget keys are restored from ``_keep_<key>``
#: (see :func:`keep`) because Streamlit drops a widget's value when its page is left.
DEFAULTS = {
    "lang": "en",
    "dataset": None,  # the chosen dataset's summary (see ui.dataset.use_dataset)
    "measured": None,  # a measured similarity: {"path", "model", "score", "stderr"}
    "what_if": None,  # a quadrant clicked on the map other than the dataset's own
    "current_run": None,
    "compare_group": None,
    "progress": {},  # run id -> tlcore.events.Progress (folded events so far)
}


def lang() -> str:
    return st.session_state.get("lang", "en")


def _on_lang_change() -> None:
    st.session_state["lang"] = st.session_state["lang_pick"]
    st.query_params["lang"] = st.session_state["lang"]


def setup() -> str:
    """Once per script run, for every page: session defaults, language (session and ?lang=), page config.

    Returns the language.
    """
    ss = st.session_state
    for key, val in DEFAULTS.items():
        if key not in ss:
            ss[key] = dict(val) if isinstance(val, dict) else val
    url_lang = st.query_params.get("lang")
    if "lang_from_url" not in ss:
        ss["lang_from_url"] = True
        if url_lang in LANGS:
            ss["lang"] = url_lang
    if ss["lang"] not in LANGS:
        ss["lang"] = "en"
    current = ss["lang"]
    st.set_page_config(page_icon="🧊", layout="wide")  # each page's tab title comes from st.navigation
    if url_lang != current:
        st.query_params["lang"] = current
    return current


def sidebar(pages: dict) -> None:
    """The page list in the chosen language (``pages``: key -> st.Page) and the language picker."""
    ss = st.session_state
    current = lang()
    for key, pg in pages.items():
        st.sidebar.page_link(pg, label=t(f"page_{key}", current), query_params={"lang": current})
    ss["lang_pick"] = current
    st.sidebar.selectbox(t("lang_label", current), LANGS, format_func=LANG_NAMES.get, key="lang_pick",
                         on_change=_on_lang_change)
    st.sidebar.caption(t("sidebar_hint", current))


def keep(key: str, default, name: str | None = None):
    """Widget kwargs that keep a value across pages: ``st.slider(..., **keep("k", 3))``.

    The value lives under ``_keep_<name>`` (``name`` defaults to the widget key), so two
    pages can show one setting with their own widget keys: Streamlit gives a widget a
    page-specific identity, and sharing a key across pages would reset it to its default.
    """
    ss = st.session_state
    name = name or key
    if key not in ss:
        ss[key] = ss.get(f"_keep_{name}", default)
    return {"key": key, "on_change": _remember, "args": (key, name)}


def _remember(key: str, name: str) -> None:
    st.session_state[f"_keep_{name}"] = st.session_state[key]


def value(name: str, default):
    """A kept setting, whether or not its widget is on this page."""
    return st.session_state.get(f"_keep_{name}", default)


def set_kept(name: str, val, widget_key: str | None = None) -> None:
    """Set a kept setting from code (its widget picks it up the next time it renders)."""
    st.session_state[f"_keep_{name}"] = val
    st.session_state.pop(widget_key or name, None)


def next_button(target: str, label_key: str, key: str, query: dict | None = None) -> None:
    """The "next step" button every page ends with."""
    if st.button(t(label_key, lang()), key=key, type="primary"):
        go(target, query)


def go(target: str, query: dict | None = None) -> None:
    params = {"lang": lang(), **(query or {})}
    st.switch_page(PAGES[target], query_params=params)


@contextlib.contextmanager
def errors():
    """Show tlcore's message for a TLError; log anything else and show a short notice, never a traceback."""
    try:
        yield
    except TLError as err:
        st.error(str(err))
    except Exception as err:  # noqa: BLE001
        if type(err).__module__.startswith("streamlit"):
            raise  # rerun / switch-page / stop signals
        log.exception("unexpected error in a page")
        st.error(t("unexpected_error", lang(), kind=type(err).__name__))
