"""Runs: every run with its data, status and accuracy; reopen, stop or delete one; the cache's size and a clear button."""
import streamlit as st

import ui
from tlcore import service
from tlcore.i18n import t

L = ui.lang()


def delete(run_id: str) -> None:
    try:
        ui.store().delete(run_id)
    except service.TLError as err:
        st.session_state["runs_notice"] = ("error", ui.md(str(err)))
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
        st.dataframe(ui.runs_table(runs), hide_index=True)
        st.caption(t("runs_times_in", L, zone=ui.md(ui.zone_label(L))))
        by_id = {r.run_id: r for r in runs}
        if ui.value("runs_pick", None) not in by_id:
            ui.set_kept("runs_pick", runs[0].run_id)
        ui.hold("runs_pick")  # a live run's label changes (accuracy, status): the choice stays
        run_id = st.selectbox(t("runs_pick", L), list(by_id), format_func=lambda i: ui.run_label(by_id[i], L),
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
    ui.cache_panel()
