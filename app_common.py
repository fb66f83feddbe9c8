"""Shared page helpers: language, session defaults, the run store, errors, and the live run panel."""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import streamlit as st

from tlcore import service, viz
from tlcore.decision import USER_SIMILARITY_CHOICES
from tlcore.errors import TLError
from tlcore.i18n import LANGS, LANG_NAMES, has, t

log = logging.getLogger("tlcore.app")

PAGES = {
    "home": "app.py",
    "data": "pages/1_Data.py",
    "map": "pages/2_Decision_map.py",
    "train": "pages/3_Train.py",
    "compare": "pages/4_Compare.py",
    "predict": "pages/5_Predict.py",
    "runs": "pages/6_Runs.py",
}

#: Session defaults, set in one place. Widget keys are restored from ``_keep_<key>``
#: (see :func:`keep`) because Streamlit drops a widget's value when its page is left.
DEFAULTS = {
    "lang": "en",
    "dataset": None,  # the chosen dataset's summary (see use_dataset)
    "measured": None,  # a measured similarity: {"path", "model", "score", "stderr"}
    "what_if": None,  # a quadrant clicked on the map other than the dataset's own
    "current_run": None,
    "compare_group": None,
    "progress": {},  # run id -> service.RunProgress (parsed events so far)
}

LIVE_POLL_S = 1.0


# ---------------------------------------------------------------------------
# Session, language, navigation


def lang() -> str:
    return st.session_state.get("lang", "en")


def _on_lang_change() -> None:
    st.session_state["lang"] = st.session_state["lang_pick"]
    st.query_params["lang"] = st.session_state["lang"]


def page(title_key: str) -> str:
    """Start a page: session defaults, language (session state and ?lang=), page config, sidebar. Returns the language."""
    ss = st.session_state
    for key, value in DEFAULTS.items():
        if key not in ss:
            ss[key] = dict(value) if isinstance(value, dict) else value
    url_lang = st.query_params.get("lang")
    if "lang_from_url" not in ss:
        ss["lang_from_url"] = True
        if url_lang in LANGS:
            ss["lang"] = url_lang
    if ss["lang"] not in LANGS:
        ss["lang"] = "en"
    current = ss["lang"]
    st.set_page_config(page_title=f"{t(title_key, current)} · {t('app_name', current)}", page_icon="🧊", layout="wide")
    if url_lang != current:
        st.query_params["lang"] = current
    if not st.get_option("client.showSidebarNavigation"):
        # With Streamlit's own page list turned off (config.toml), the sidebar lists the pages in the chosen language.
        for key, path in PAGES.items():
            st.sidebar.page_link(path, label=t(f"page_{key}", current), query_params={"lang": current})
    ss["lang_pick"] = current
    st.sidebar.selectbox(t("lang_label", current), LANGS, format_func=LANG_NAMES.get, key="lang_pick",
                         on_change=_on_lang_change)
    st.sidebar.caption(t("sidebar_hint", current))
    return current


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


@st.cache_resource(show_spinner=False)
def _store(runs_dir: str):
    from tlcore.runs import RunStore

    return RunStore(runs_dir)


def store():
    """The run registry (tlcore.runs.RunStore) shared by every session, one per runs directory."""
    from tlcore.runs import default_runs_dir

    return _store(str(default_runs_dir().resolve()))


# ---------------------------------------------------------------------------
# The dataset and the map's answer


@st.cache_resource(show_spinner=False, max_entries=32)
def inspect(path: str, stamp: float):
    """tlcore's dataset report, cached per folder and modification time (shared, never modified)."""
    return service.open_data(path)


def _stamp(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def use_dataset(path, source: str, label: str) -> dict:
    """Make ``path`` the session's dataset; returns its summary (also kept in session state)."""
    path = str(path)
    report = inspect(path, _stamp(path))
    lab = service.lab_info(path)
    ds = {
        "path": path, "source": source, "label": label, "classes": list(report.classes),
        "num_classes": report.num_classes, "num_images": report.num_images,
        "images_per_class": report.images_per_class, "lab": lab,
    }
    old = st.session_state.get("dataset")
    if not old or old.get("path") != path:
        # A new dataset: the map's answers and the pre-filled settings start over.
        st.session_state["measured"] = None
        st.session_state["what_if"] = None
        for name in ("map_ipc", "sim_choice", "use_measured", "model", "plan", "top_stages", "augment"):
            st.session_state.pop(f"_keep_{name}", None)
        for key in ("map_ipc", "sim_choice", "use_measured", "map_model", "train_model", "plan", "top_stages", "augment"):
            st.session_state.pop(key, None)
    st.session_state["dataset"] = ds
    return ds


def adopt_run(run_id: str) -> None:
    """A new session (a reload, a second tab) opened on a run takes that run's dataset and settings."""
    if st.session_state.get("dataset") or st.session_state.get("adopted") == run_id:
        return
    st.session_state["adopted"] = run_id
    try:
        cfg = store().config(run_id)
    except Exception:  # noqa: BLE001 - an unknown or damaged run is reported by the run panel
        return
    if not Path(cfg.data).is_dir():
        return
    lab = service.lab_info(cfg.data)
    label = t("lab_label", lang(), s=lab["similarity"], n=lab["per_class"]) if lab else Path(cfg.data).name
    use_dataset(cfg.data, "lab" if lab else "folder", label)
    for name, val in (("model", cfg.model), ("plan", cfg.plan), ("top_stages", cfg.top_stages),
                      ("epochs", cfg.epochs), ("batch_size", cfg.batch_size), ("lr", cfg.lr)):
        set_kept(name, val, widget_key="train_model" if name == "model" else name)
    if cfg.augment is not None:
        set_kept("augment", cfg.augment)


def report(ds: dict):
    return inspect(ds["path"], _stamp(ds["path"]))


def current_dataset() -> dict:
    """The session's dataset; the default lab dataset when none was chosen (or it vanished)."""
    ds = st.session_state.get("dataset")
    if ds and Path(ds["path"]).exists():
        return ds
    sim = value("lab_similarity", service.LAB_DEFAULT_SIMILARITY)
    per_class = value("lab_per_class", service.LAB_DEFAULT_PER_CLASS)
    with st.spinner(t("lab_preparing", lang())):
        path = service.lab_dataset(sim, per_class)
    return use_dataset(path, "lab", t("lab_label", lang(), s=sim, n=per_class))


def default_model(ds: dict) -> str:
    return service.default_model_for(ds["path"])


def default_sim_choice(ds: dict) -> str:
    lab = ds.get("lab")
    return service.similarity_choice_for(lab["similarity"]) if lab else "related"


def measured_for(ds: dict, model: str) -> dict | None:
    m = st.session_state.get("measured")
    return m if m and m.get("path") == ds["path"] and m.get("model") == model else None


def current_recommendation(ds: dict, model: str):
    """The map's recommendation from the kept answers: (Recommendation, images per class, similarity source)."""
    ipc = value("map_ipc", None) or ds["images_per_class"]
    m = measured_for(ds, model)
    if m and value("use_measured", True):
        sim, source = m["score"], "measured"
    else:
        choice = value("sim_choice", None) or default_sim_choice(ds)
        sim, source = USER_SIMILARITY_CHOICES[choice], "user"
    return service.recommendation(ipc, ds["num_classes"], sim, source, model), float(ipc), source


def dataset_caption(ds: dict) -> str:
    return t("dataset_caption", lang(), label=ds["label"], images=ds["num_images"], classes=ds["num_classes"],
             ipc=ds["images_per_class"])


# ---------------------------------------------------------------------------
# Runs


def run_from_url(param: str = "run", session_key: str = "current_run") -> str | None:
    """The run id in the URL (validated), else the session's; keeps both in step."""
    from tlcore.runs import validate_run_id

    raw = st.query_params.get(param)
    if raw:
        try:
            validate_run_id(raw)
        except TLError as err:
            st.error(str(err))
            del st.query_params[param]
            return None
        st.session_state[session_key] = raw
        return raw
    rid = st.session_state.get(session_key)
    if rid:
        st.query_params[param] = rid
    return rid


def _stop(run_id: str) -> None:
    try:
        store().stop(run_id)
    except TLError as err:
        st.session_state["stop_error"] = str(err)


def _fmt_eta(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"


def run_panel(run_id: str) -> None:
    """A run's live view: status or queue place, progress with ETA, curves, Stop; results once it ends."""
    L = lang()
    runs = store()
    try:
        info = runs.get(run_id)
    except TLError as err:
        st.error(str(err))
        return
    cache = st.session_state.setdefault("progress", {})
    live = info.active

    @st.fragment(run_every=LIVE_POLL_S if live else None)
    def live_view() -> None:
        with errors():
            _live_body()

    def _live_body() -> None:
        info = runs.get(run_id)
        p = cache[run_id] = service.poll(runs, run_id, cache.get(run_id))
        name = info.label or info.plan
        st.markdown(t("run_title", L, name=name, model=info.model, run_id=run_id,
                      status=t(f"status_{info.status}", L)))
        if info.status == "queued":
            pos = runs.queue_position(run_id)
            st.info(t("run_queued", L, pos=pos) if pos else t("run_waiting", L))
        elif info.status == "running" and not p.fit_start:
            phase = f"phase_{p.status['phase']}" if p.status else "phase_start"
            msg = t(phase, L) if has(phase) else p.status.get("message", "")
            st.progress(float(p.status.get("fraction", 0.0)) if p.status else 0.0, text=msg)
        if p.fit_start:
            done = len(p.epochs)
            text = t("run_progress", L, epoch=min(done + 1, p.total_epochs), total=p.total_epochs,
                     eta=_fmt_eta(p.eta_s), ips=p.images_per_sec) if info.active else \
                t("run_progress_done", L, epochs=done, total=p.total_epochs)
            st.progress(p.fraction if info.active else 1.0, text=text)
            fs = p.fit_start
            st.caption(t("run_fit_caption", L, train=fs["num_train"], val=fs["num_val"], device=fs["device"],
                         trainable=fs["trainable_params"], frozen=fs["frozen_params"],
                         cache=t("run_feature_cache", L) if fs.get("feature_cache") else ""))
        st.plotly_chart(viz.training_curves(p.epochs, p.total_epochs or info.epochs, L), config={"displayModeBar": False})
        if p.epochs:
            best = max(e["val_accuracy"] for e in p.epochs)
            last = p.epochs[-1]
            c1, c2, c3 = st.columns(3)
            c1.metric(t("metric_best_val", L), f"{best:.1%}")
            c2.metric(t("metric_last_train", L), f"{last['train_accuracy']:.1%}")
            c3.metric(t("metric_epochs", L), f"{len(p.epochs)}/{p.total_epochs or info.epochs}")
        for w in p.warnings:
            st.warning(w.get("message", ""))
        if info.active:
            st.button(t("stop", L), key="stop_run", on_click=_stop, args=(run_id,))
            if st.session_state.get("stop_error"):
                st.error(st.session_state.pop("stop_error"))
        elif info.status == "failed":
            st.error(info.message or t("run_failed", L))
            if info.error_code in ("weights_download", "missing_lab_weights"):
                st.info(t("weights_offline_hint", L))
        elif info.status == "stopped":
            st.warning(t("run_stopped", L))
        elif info.status == "completed":
            st.success(t("run_completed", L, acc=info.best_val_accuracy))
        if live and not info.active:
            st.rerun()  # a full rerun ends the polling and shows the results

    live_view()
    if not live:
        run_results(run_id, info, cache.get(run_id))


def run_results(run_id: str, info, p) -> None:
    """After a run: per-class accuracy, confusion matrix, misclassified images, the model download."""
    L = lang()
    if p and p.evaluation:
        ev = p.evaluation
        st.subheader(t("results_title", L))
        c1, c2 = st.columns(2)
        with c1:
            st.markdown(t("results_per_class", L))
            st.plotly_chart(viz.per_class_accuracy(ev["classes"], ev["per_class_accuracy"], L),
                            config={"displayModeBar": False})
        with c2:
            st.markdown(t("results_confusion", L))
            st.plotly_chart(viz.confusion_matrix(ev["classes"], ev["confusion"], L), config={"displayModeBar": False})
        mis = [m for m in ev.get("misclassified", []) if Path(m["path"]).is_file()]
        st.markdown(t("results_mistakes", L, n=len(ev.get("misclassified", []))))
        if mis:
            cols = st.columns(6)
            for i, m in enumerate(mis[:12]):
                cols[i % 6].image(m["path"], width=96, caption=t("mistake_caption", L, true=m["true"], pred=m["pred"],
                                                                   conf=m["confidence"]))
    ckpt = Path(info.run_dir) / "best.pt"
    if ckpt.is_file():
        st.download_button(t("download_model", L), data=lambda: service.checkpoint_bytes(info.run_dir),
                           file_name=f"{run_id}-best.pt", mime="application/octet-stream", key="download_model",
                           on_click="ignore")


def run_label(info) -> str:
    when = time.strftime("%m-%d %H:%M", time.localtime(info.created)) if info.created else ""
    name = info.label or info.plan
    return t("run_option", lang(), name=name, model=info.model, acc=info.best_val_accuracy,
             status=t(f"status_{info.status}", lang()), when=when)
