"""The Compare page's live comparison: its dataset, curves overlaid, a table with balanced accuracy, the verdict."""
from __future__ import annotations

import streamlit as st

from tlcore import service, viz
from tlcore.i18n import plan_name, t, verdict_text

from .runs import LIVE_POLL_S, other_data_notice, run_data, run_data_caption, store
from .session import errors, lang


def compare_table(rows, L: str) -> list[dict]:
    """One row per plan; a run still waiting shows "queued" rather than 0 % and 0 parameters."""
    out = []
    for r in rows:
        waiting = r.status == "queued" or (r.status == "running" and not r.curve)
        pending = t("status_queued", L) if r.status == "queued" else "…"
        out.append({
            t("col_plan", L): plan_name(r.plan, L),
            t("col_status", L): t(f"status_{r.status}", L) + (f" ({r.queue_position})" if r.queue_position else ""),
            t("col_best", L): pending if waiting else f"{r.best_val_accuracy:.1%}",
            t("col_balanced", L): pending if waiting else f"{r.best_val_balanced_accuracy:.1%}",
            t("col_time", L): pending if r.status == "queued" else t("seconds", L, s=r.seconds),
            t("col_trainable", L): pending if not r.trainable_params else f"{r.trainable_params:,}",
        })
    return out


def comparison(group: str) -> None:
    """A comparison group: whose data it ran on, live curves while it runs, the table and the verdict."""
    L = lang()
    runs = store()
    members = [r for r in runs.list() if r.group == group]
    if members:
        first = min(members, key=lambda r: r.created)
        rd = run_data(first)
        st.caption(run_data_caption(first, rd))
        other_data_notice(first, rd, restore={"compare_group": group}, key="use_compare_data")
    cache = st.session_state.setdefault("progress", {})
    live = any(r.active for r in members)

    @st.fragment(run_every=LIVE_POLL_S if live else None)
    def view() -> None:
        with errors():
            summary = service.compare_summary(runs, group, cache)
            if not summary.rows:
                st.error(t("compare_unknown", L, group=group))
                return
            for row in summary.rows:
                if row.status == "queued":
                    st.caption(t("compare_row_queued", L, plan=plan_name(row.plan, L), pos=row.queue_position))
                elif row.status == "running":
                    st.caption(t("compare_row_running", L, plan=plan_name(row.plan, L), epochs=len(row.curve)))
            curves = {plan_name(r.plan, L) + (f" · seed {r.seed}" if summary.seeds > 1 else ""): r.curve
                      for r in summary.rows}
            st.plotly_chart(viz.compare_overlay(curves, summary.epochs, L), config={"displayModeBar": False})
            st.dataframe(compare_table(summary.rows, L), hide_index=True)
            v = summary.verdict
            show = st.success if v.agrees is True else st.warning if v.agrees is False else st.info
            show(verdict_text(v, L))
            if live and not summary.active:
                st.rerun()

    view()
