"""Run views: the shared run store, the run id in the URL, the live run panel and a finished run's results.

Every run-bound view names the run's own dataset, and says so plainly when it is not the current one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from tlcore import service, viz
from tlcore.errors import TLError
from tlcore.i18n import has, t

from .explain import export_panel, mistakes_gallery
from .session import errors, lang
from .text import clock, md

LIVE_POLL_S = 1.0
_LAB_ID_RE = re.compile(r"^lab:s(\d\.\d\d)-n(\d+)-")


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
            st.error(md(str(err)))
            del st.query_params[param]
            return None
        st.session_state[session_key] = raw
        return raw
    rid = st.session_state.get(session_key)
    if rid:
        st.query_params[param] = rid
    return rid


# ---------------------------------------------------------------------------
# Which data a run was trained on


@dataclass(frozen=True)
class RunData:
    """A run's dataset as shown to the viewer (``name`` is plain text: escape it for Markdown)."""

    name: str
    num_classes: int
    path: str
    dataset_id: str | None
    same: bool  # the session's current dataset


@st.cache_data(show_spinner=False, max_entries=1024)
def _run_data_path(run_dir: str) -> tuple[str, str | None]:
    """(data folder, dataset id) from a run's config.json, which never changes."""
    try:
        data = str(store().config(Path(run_dir).name).data or "")
    except (TLError, OSError, ValueError, TypeError):
        data = ""
    return data, service.dataset_id(data) if data else None


def run_data(info, lang_: str | None = None) -> RunData:
    """The dataset a run (tlcore.runs.RunInfo) trained on, and whether it is the session's current one."""
    L = lang_ or lang()
    path, data_id = _run_data_path(info.run_dir)
    m = _LAB_ID_RE.match(data_id or "")
    if m:
        name = t("lab_label", L, s=float(m[1]), n=int(m[2]))
    else:
        name = info.dataset or (Path(path).name if path else "?")
    current = st.session_state.get("dataset") or {}
    same = bool(path) and bool(current) and _same_path(path, current.get("path", ""))
    return RunData(name, int(info.num_classes or 0), path, data_id, same)


def _same_path(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


def run_data_caption(info, rd: RunData | None = None) -> str:
    """"Trained on: <dataset> · N classes · started <time in the viewer's zone>" (Markdown)."""
    L = lang()
    rd = rd or run_data(info)
    classes = t("run_classes", L, n=rd.num_classes) if rd.num_classes else ""
    return t("run_data_caption", L, name=md(rd.name), classes=classes, when=md(clock(info.created, L)))


def _use_run_data(path: str, restore: dict) -> None:
    from .dataset import use_run_data

    if use_run_data(path) is None:
        st.session_state["run_data_gone"] = True
    st.session_state.update(restore)  # a new dataset clears the run views; the one being viewed stays open


def other_data_notice(info, rd: RunData, restore: dict | None = None, key: str = "use_run_data") -> None:
    """When a run's data is not the current dataset: say so, and offer to switch to the run's data.

    ``restore``: session values to set again after switching (the run or comparison being viewed).
    """
    if rd.same:
        return
    L = lang()
    from .dataset import dataset_name

    current = st.session_state.get("dataset")
    st.warning(t("run_other_data", L, name=md(rd.name), classes=rd.num_classes or "?",
                 current=md(dataset_name(current)) if current else "—"))
    if st.session_state.pop("run_data_gone", False):
        st.error(t("run_data_gone", L, name=md(rd.name)))
    elif rd.path:
        st.button(t("run_use_its_data", L), key=key, on_click=_use_run_data,
                  args=(rd.path, restore if restore is not None else {"current_run": info.run_id}))


def has_model(info) -> bool:
    """Whether a run left a model to try (best.pt) and did not fail."""
    return info.status != "failed" and not info.active and (Path(info.run_dir) / "best.pt").is_file()


# ---------------------------------------------------------------------------
# The live panel and the results


def _stop(run_id: str) -> None:
    try:
        store().stop(run_id)
    except TLError as err:
        st.session_state["stop_error"] = str(err)


def _fmt_eta(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"


def run_panel(run_id: str) -> None:
    """A run's live view: its data, status or queue place, progress with ETA, curves, Stop; results once it ends."""
    L = lang()
    runs = store()
    try:
        info = runs.get(run_id)
    except TLError as err:
        st.error(md(str(err)))
        return
    rd = run_data(info)
    st.caption(run_data_caption(info, rd))
    other_data_notice(info, rd)
    cache = st.session_state.setdefault("progress", {})
    live = info.active

    @st.fragment(run_every=LIVE_POLL_S if live else None)
    def live_view() -> None:
        with errors():
            _live_body()

    def _live_body() -> None:
        info = runs.get(run_id)
        p = cache[run_id] = runs.progress(run_id, cache.get(run_id))
        st.markdown(t("run_title", L, name=md(info.label or info.plan), model=md(info.model), run_id=run_id,
                      status=t(f"status_{info.status}", L)))
        if info.status == "queued":
            pos = runs.queue_position(run_id)
            st.info(t("run_queued", L, pos=pos) if pos else t("run_waiting", L))
        elif info.status == "running" and not p.fit_start:
            phase = f"phase_{p.status.phase}" if p.status else "phase_start"
            msg = t(phase, L) if has(phase) else md(p.status.message if p.status else "")
            st.progress(float(p.status.fraction) if p.status else 0.0, text=msg)
        if p.fit_start:
            done, total = len(p.epochs), p.total_epochs
            if info.active:
                text = t("run_progress", L, epoch=min(done + 1, total), total=total, eta=_fmt_eta(p.eta_s),
                         ips=p.images_per_sec)
                fraction = p.fraction
            else:  # a stopped or failed run shows how far it got, not a full bar
                text = t("run_progress_done", L, epochs=done, total=total)
                fraction = 1.0 if info.status == "completed" else min(1.0, done / max(1, total))
            st.progress(fraction, text=text)
            fs = p.fit_start
            st.caption(t("run_fit_caption", L, train=fs.num_train, val=fs.num_val, device=md(fs.device),
                         trainable=fs.trainable_params, frozen=fs.frozen_params,
                         cache=t("run_feature_cache", L) if fs.feature_cache else ""))
            if fs.imbalanced:
                st.caption(t("run_imbalanced", L))
        curves = viz.training_curves(p.epochs, p.total_epochs or info.epochs, L)
        viz.mark_phases(curves, p.phases, L)  # research (issue 15): LP-FT's linear probe, then fine-tuning
        st.plotly_chart(curves, config={"displayModeBar": False})
        if p.epochs:
            best = p.best_epoch or max(p.epochs, key=lambda e: e.val_accuracy)
            c1, c2, c3, c4 = st.columns(4)
            c1.metric(t("metric_best_val", L), f"{best.val_accuracy:.1%}")
            c2.metric(t("metric_best_balanced", L), f"{best.val_balanced_accuracy:.1%}",
                      help=t("metric_best_balanced_help", L))
            c3.metric(t("metric_last_train", L), f"{p.epochs[-1].train_accuracy:.1%}")
            c4.metric(t("metric_epochs", L), f"{len(p.epochs)}/{p.total_epochs or info.epochs}")
        for w in p.warnings:  # in the viewer's language where the warning has no details to fill in
            st.warning(t(f"runwarn_{w.code}", L) if has(f"runwarn_{w.code}") else md(w.message))
        if info.active:
            st.button(t("stop", L), key="stop_run", on_click=_stop, args=(run_id,))
            if st.session_state.get("stop_error"):
                st.error(md(st.session_state.pop("stop_error")))
        elif info.status == "failed":
            if info.error_code == "weights_download":  # issue 11: fixes a browser user can act on, not CLI flags
                st.error(t("weights_offline_error", L, model=md(info.model)))
            else:
                st.error(md(info.message) or t("run_failed", L))
            if info.error_code in ("weights_download", "missing_lab_weights"):
                st.info(t("weights_offline_hint", L))
        elif info.status == "stopped":
            st.warning(t("run_stopped", L))
        elif info.status == "completed":
            st.success(t("run_completed_balanced", L, acc=info.best_val_accuracy, bal=info.best_val_balanced_accuracy))
        if live and not info.active:
            st.rerun()  # a full rerun ends the polling and shows the results

    live_view()
    if not live:
        run_results(run_id, info, cache.get(run_id))


def run_results(run_id: str, info, p) -> None:
    """After a run: per-class accuracy, confusion matrix (top confusions above 20 classes), mistakes, the model."""
    L = lang()
    if p and p.evaluation:
        ev = p.evaluation
        st.subheader(t("results_title", L))
        many = len(ev.classes) > viz.MANY_CLASSES
        left, right = st.columns([3, 2] if many else [1, 1])
        with left:
            st.markdown(t("results_per_class", L))
            st.plotly_chart(viz.per_class_accuracy(ev.classes, ev.per_class_accuracy, L),
                            config={"displayModeBar": False}, key="per_class_chart")
        with right:
            if many:
                st.markdown(t("results_top_confusions", L, n=len(ev.classes)))
                st.dataframe(viz.top_confusions_table(ev.classes, ev.confusion, L), hide_index=True)
            else:
                st.markdown(t("results_confusion", L))
                st.plotly_chart(viz.confusion_matrix(ev.classes, ev.confusion, L), config={"displayModeBar": False},
                                key="confusion_chart")
        # issue #16: the mistakes gallery (most confident first, with heatmaps) lives in ui/explain.py.
        mistakes_gallery(run_id, info.run_dir, ev)
    ckpt = Path(info.run_dir) / "best.pt"
    if ckpt.is_file():
        st.download_button(t("download_model", L), data=lambda: service.checkpoint_bytes(info.run_dir),
                           file_name=f"{run_id}-best.pt", mime="application/octet-stream", key="download_model",
                           on_click="ignore")
        export_panel(run_id, info.run_dir, key="train")  # issue #16: verified ONNX/TorchScript/state dict downloads


def run_label(info, lang_: str | None = None) -> str:
    """A run as one line for a selectbox (plain text): plan, backbone, accuracy, status, dataset, group, time.

    The time is absolute (with its zone): a label must not change between reruns, or the choice is lost.
    """
    L = lang_ or lang()
    rd = run_data(info, L)
    status = t(f"status_{info.status}", L)
    if info.status == "queued" and info.queue_position:
        status = t("status_queued_place", L, pos=info.queue_position)
    data = t("run_option_data", L, name=rd.name, n=rd.num_classes) if rd.num_classes else rd.name
    group = t("run_option_group", L, group=info.group) if info.group else ""
    return t("run_option", L, name=info.label or info.plan, model=info.model, acc=info.best_val_accuracy,
             bal=info.best_val_balanced_accuracy, status=status, data=data, group=group,
             when=clock(info.created, L, relative=False))


def run_info(run_id: str):
    """The run's RunInfo, or None when it does not exist (the run panel says why)."""
    try:
        return store().get(run_id)
    except TLError:
        return None


def runs_table(runs) -> list[dict]:
    """Every run as a table row (plain text), what tells runs apart first: start time, data, plan, accuracies."""
    L = lang()
    rows = []
    for r in runs:
        rd = run_data(r, L)
        done = r.epochs_completed > 0
        plan = r.plan if not r.label or r.label == r.plan else f"{r.plan} ({r.label})"
        rows.append({
            t("col_created", L): clock(r.created, L), t("col_data", L): rd.name,
            t("col_classes", L): rd.num_classes or None, t("col_plan", L): plan, t("col_model", L): r.model,
            t("col_status", L): t(f"status_{r.status}", L) + (f" ({r.queue_position})" if r.queue_position else ""),
            t("col_best", L): f"{r.best_val_accuracy:.1%}" if done else "–",
            t("col_balanced", L): f"{r.best_val_balanced_accuracy:.1%}" if done else "–",
            t("col_epochs", L): f"{r.epochs_completed}/{r.epochs}", t("col_group", L): r.group or "",
            t("col_run", L): r.run_id,
        })
    return rows


def current_data_first(runs: list) -> list:
    """Runs of the session's current dataset first (newest first within each part): for pickers like Predict's."""
    return sorted(runs, key=lambda r: (not run_data(r).same, -r.created))
