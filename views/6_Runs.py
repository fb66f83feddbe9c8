"""Runs: every run with its status and best accuracy; reopen one to see its curves, stop or delete it."""
import time

import streamlit as st

import ui
from tlcore import service
from tlcore.i18n import plan_name, t

L = ui.lang()


def delete(run_id: str) -> None:
    try:
        ui.store().delete(run_id)
    except service.TLError as err:
        st.session_state["runs_notice"] = ("error", str(err))
        return
    st.session_state["progress"].pop(run_id, None)
    if st.session_state.get("current_run") == run_id:
        st.session_state["current_run"] = None
    st.session_state["runs_confirm"] = False
    st.session_state["runs_notice"] = ("ok", t("runs_deleted", L, run_id=run_id))


with ui.errors():
    st.title(t("runs_title", L))
    runs = ui.store().list()
    if not runs:
        st.info(t("runs_none", L))
        ui.next_button("train", "predict_go_train", key="runs_go_train")
    else:
        st.dataframe([{
            t("col_run", L): r.run_id, t("col_label", L): r.label or r.plan, t("col_plan", L): plan_name(r.plan, L),
            t("col_model", L): r.model, t("col_status", L): t(f"status_{r.status}", L) + (
                f" ({r.queue_position})" if r.queue_position else ""),
            t("col_best", L): f"{r.best_val_accuracy:.1%}", t("col_epochs", L): f"{r.epochs_completed}/{r.epochs}",
            t("col_created", L): time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)) if r.created else "",
        } for r in runs], hide_index=True)
        by_id = {r.run_id: r for r in runs}
        if ui.value("runs_pick", None) not in by_id:
            ui.set_kept("runs_pick", runs[0].run_id)
        run_id = st.selectbox(t("runs_pick", L), list(by_id), format_func=lambda i: ui.run_label(by_id[i]),
                              **ui.keep("runs_pick", runs[0].run_id))
        info = by_id[run_id]
        c1, c2, c3 = st.columns(3)
        if c1.button(t("runs_open", L), key="runs_open", type="primary"):
            st.session_state["current_run"] = run_id
            ui.go("train", {"run": run_id})
        if info.active:
            if c2.button(t("stop", L), key="runs_stop"):
                ui.store().stop(run_id)
                st.rerun()
        else:
            confirm = c3.checkbox(t("runs_confirm", L), key="runs_confirm")
            c2.button(t("runs_delete", L), key="runs_delete", disabled=not confirm, on_click=delete, args=(run_id,))
    notice = st.session_state.pop("runs_notice", None)
    if notice:
        (st.success if notice[0] == "ok" else st.error)(notice[1])
