"""Session defaults, the language, settings kept across pages, navigation and friendly errors."""
from __future__ import annotations

import contextlib
import logging

import streamlit as st

from tlcore.errors import TLError
from tlcore.i18n import LANG_NAMES, LANGS, t

from .text import md

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

#: Width of the sidebar (pixels): room for the page list and the language picker, not more.
SIDEBAR_PX = 210

#: Session defaults, set in one place. Widget keys are restored from ``_keep_<key>``
#: (see :func:`keep`) because Streamlit drops a widget's value when its page is left.
DEFAULTS = {
    "lang": "en",
    "dataset": None,  # the chosen dataset's summary (see ui.dataset.use_dataset); its id is in the URL as ?data=
    "dataset_notice": None,  # why the dataset in the URL could not be opened (shown once by ui.dataset)
    "measured": None,  # a measured similarity: {"path", "model", "score", "stderr"}
    "what_if": None,  # a quadrant clicked on the map other than the dataset's own
    "current_run": None,
    "compare_group": None,
    "progress": {},  # run id -> tlcore.events.Progress (folded events so far)
}


def lang() -> str:
    return st.session_state.get("lang", "en")


def _on_lang_change() -> None:
    ss = st.session_state
    ss["lang"] = ss["lang_pick"]
    st.query_params["lang"] = ss["lang"]
    # A choice widget sends back its option's *label*: in the new language that label is
    # unknown and Streamlit would keep the old label as the value (then fall back to the
    # default). Setting each kept widget's value again makes it re-render in the new language.
    for key in ss.get("_kept_widgets", ()):
        hold(key)


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
    # Each page's tab title comes from st.navigation. A narrower sidebar than Streamlit's leaves a projector
    # at 1024x768 room for the map and the Train controls; "auto" behaviour hides it on phones.
    st.set_page_config(page_icon="🧊", layout="wide", initial_sidebar_state=SIDEBAR_PX)
    if url_lang != current:
        st.query_params["lang"] = current
    # The chosen dataset's id lives in the URL, so a reload or a second tab keeps it. A new
    # session takes the URL's (ui.dataset.current_dataset opens it); afterwards the session's wins.
    if "data_from_url" not in ss:
        ss["data_from_url"] = st.query_params.get("data")
    data_id = (ss["dataset"] or {}).get("id")
    if data_id and st.query_params.get("data") != data_id:
        st.query_params["data"] = data_id
    return current


def sidebar(pages: dict) -> None:
    """The page list in the chosen language (``pages``: key -> st.Page) and the language picker."""
    ss = st.session_state
    current = lang()
    params = nav_params()
    for key, pg in pages.items():
        st.sidebar.page_link(pg, label=t(f"page_{key}", current), query_params=params)
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
    ss.setdefault("_kept_widgets", set()).add(key)
    return {"key": key, "on_change": _remember, "args": (key, name)}


def _remember(key: str, name: str) -> None:
    st.session_state[f"_keep_{name}"] = st.session_state[key]


def hold(key: str) -> None:
    """Before a choice widget renders: set its value again, so that an option whose label changed since the
    last run (a live run's accuracy, another language) stays chosen instead of falling back to the default."""
    ss = st.session_state
    if key in ss:
        ss[key] = ss[key]


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


def nav_params() -> dict:
    """Query parameters every page link carries: the language and the chosen dataset's id."""
    params = {"lang": lang()}
    data = (st.session_state.get("dataset") or {}).get("id")
    if data:
        params["data"] = data
    return params


def go(target: str, query: dict | None = None) -> None:
    st.switch_page(PAGES[target], query_params={**nav_params(), **(query or {})})


@contextlib.contextmanager
def errors():
    """Show tlcore's message for a TLError; log anything else and show a short notice, never a traceback."""
    try:
        yield
    except TLError as err:
        st.error(md(str(err)))  # messages quote file and class names: shown as written
    except Exception as err:  # noqa: BLE001
        if type(err).__module__.startswith("streamlit"):
            raise  # rerun / switch-page / stop signals
        log.exception("unexpected error in a page")
        st.error(t("unexpected_error", lang(), kind=type(err).__name__))
