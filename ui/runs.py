"""Run views: the shared run store, the run id in the URL, the live run panel and a finished run's results."""
from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from tlcore import service, viz
from tlcore.errors import TLError
from tlcore.i18n import has, t

from .session import errors, lang

LIVE_POLL_S = 1.0


@st.cache_resource(show_spinner=False)
def _store(runs_dir: str):
    return service.run_store(runs_dir)


def store():
    """The run registry (a tlcore.runs.RunStore) shared by every session, one per runs directory."""
    return _store(str(service.run_store().runs_dir.resolve()))


def run_from_url(param: str = "run", session_key: str = "current_run") -> str | None:
    """The run id in the URL (validated), else the session's; keeps both in step."""
    raw = st.query_params.get(param)
    if raw:
        try:
            service.validate_run_id(raw)
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
        p = cache[run_id] = runs.progress(run_id, cache.get(run_id))
        st.markdown(t("run_title", L, name=info.label or info.plan, model=info.model, run_id=run_id,
                      status=t(f"status_{info.status}", L)))
        if info.status == "queued":
            pos = runs.queue_position(run_id)
            st.info(t("run_queued", L, pos=pos) if pos else t("run_waiting", L))
        elif info.status == "running" and not p.fit_start:
            phase = f"phase_{p.status.phase}" if p.status else "phase_start"
            msg = t(phase, L) if has(phase) else (p.status.message if p.status else "")
            st.progress(float(p.status.fraction) if p.status else 0.0, text=msg)
        if p.fit_start:
            done = len(p.epochs)
            text = t("run_progress", L, epoch=min(done + 1, p.total_epochs), total=p.total_epochs,
                     eta=_fmt_eta(p.eta_s), ips=p.images_per_sec) if info.active else \
                t("run_progress_done", L, epochs=done, total=p.total_epochs)
            st.progress(p.fraction if info.active else 1.0, text=text)
            fs = p.fit_start
            st.caption(t("run_fit_caption", L, train=fs.num_train, val=fs.num_val, device=fs.device,
                         trainable=fs.trainable_params, frozen=fs.frozen_params,
                         cache=t("run_feature_cache", L) if fs.feature_cache else ""))
        st.plotly_chart(viz.training_curves(p.epochs, p.total_epochs or info.epochs, L), config={"displayModeBar": False})
        if p.epochs:
            last = p.epochs[-1]
            c1, c2, c3 = st.columns(3)
            c1.metric(t("metric_best_val", L), f"{max(e.val_accuracy for e in p.epochs):.1%}")
            c2.metric(t("metric_last_train", L), f"{last.train_accuracy:.1%}")
            c3.metric(t("metric_epochs", L), f"{len(p.epochs)}/{p.total_epochs or info.epochs}")
        for w in p.warnings:
            st.warning(w.message)
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
            st.plotly_chart(viz.per_class_accuracy(ev.classes, ev.per_class_accuracy, L),
                            config={"displayModeBar": False})
        with c2:
            st.markdown(t("results_confusion", L))
            st.plotly_chart(viz.confusion_matrix(ev.classes, ev.confusion, L), config={"displayModeBar": False})
        mis = [m for m in ev.misclassified if Path(m["path"]).is_file()]
        st.markdown(t("results_mistakes", L, n=len(ev.misclassified)))
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
    return t("run_option", lang(), name=info.label or info.plan, model=info.model, acc=info.best_val_accuracy,
             status=t(f"status_{info.status}", lang()), when=when)
