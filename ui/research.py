"""Beyond the four quadrants on the map page: the third question, the gradient probe, the transferability
estimators; and the research plans' options on the Train page."""
from __future__ import annotations

import streamlit as st

from tlcore import service, viz
from tlcore.i18n import plan_name, t
from tlcore.service import research

from .mapping import to_train
from .session import go, keep, lang, set_kept, value

#: The third question's answers as the radio offers them ("" = not answered).
SHIFT_CHOICES = ("", *research.SHIFT_KINDS)


def question() -> str:
    """The optional third question (in the map's left column); returns the answer ("" when skipped)."""
    L = lang()
    st.markdown(t("map_q3", L))
    st.radio(t("shift_label", L), SHIFT_CHOICES, format_func=lambda k: t(f"shift_{k or 'none'}", L),
             captions=[""] + [t(f"shift_{k}_example", L) for k in SHIFT_CHOICES[1:]], **keep("shift_choice", ""))
    return value("shift_choice", "") or ""


def refinement(ds: dict, model: str, rec, shift: str) -> None:
    """The third question's answer: the block, why, its layer diagram and a button to train it."""
    if not shift:
        return
    L = lang()
    advice = research.shift_advice(shift, model, rec.size)
    label = t("plan_surgical_block", L, group=advice.group)
    if advice.plan:
        st.subheader(t("shift_title", L, plan=label))
    else:
        st.subheader(t("shift_title_keep", L, plan=plan_name(rec.plan, L, rec.top_stages), group=advice.group))
    for line in research.shift_reason_lines(advice, L):
        st.markdown(f"- {line}")
    report = service.plan_preview(model, "surgical", 1, ds["num_classes"], block=advice.block)
    st.plotly_chart(viz.layer_diagram(report.to_json(), L), config={"displayModeBar": False}, key="shift_layers")
    if st.button(t("shift_train", L, group=advice.group), key="shift_train"):
        to_train("surgical", 1, False, rec.quadrant)
        set_kept("block", advice.block, widget_key="train_block")
        go("train")


def _progress_bar(text: str):
    bar = st.progress(0.0, text=text)

    def progress(fraction: float, message: str = "") -> None:
        bar.progress(min(1.0, max(0.0, float(fraction))), text=text)

    return bar, progress


def probe_panel(ds: dict, model: str) -> None:
    """The gradient probe: a button, then the chart of relative gradient norms and the suggestion."""
    L = lang()
    st.markdown(t("probe_title", L))
    st.caption(t("probe_intro", L))
    if st.button(t("probe_button", L), key="probe_run"):
        bar, progress = _progress_bar(t("probe_running", L))
        result = research.probe(ds["path"], model, progress=progress)
        bar.empty()
        st.session_state["probe"] = {"path": ds["path"], "model": model, "result": result.to_json(),
                                     "suggestion": {lg: research.probe_suggestion(result, lg) for lg in ("en", "ko")}}
    kept = st.session_state.get("probe")
    if not kept or kept["path"] != ds["path"] or kept["model"] != model:
        return
    res = kept["result"]
    st.plotly_chart(viz.probe_chart(res, L), config={"displayModeBar": False}, key="probe_chart")
    (st.info if res.get("block") else st.warning)(kept["suggestion"].get(L, kept["suggestion"]["en"]))
    st.caption(t("probe_caption", L, images=res["images"], batches=res["batches"], seconds=res["seconds"]))


def transfer_panel(ds: dict, model: str) -> None:
    """k-NN, LogME and linear-probe accuracy with what each cost, and which of them the lab says to trust."""
    L = lang()
    st.markdown(t("transfer_title", L))
    if st.button(t("transfer_button", L), key="transfer_run"):
        bar, progress = _progress_bar(t("transfer_running", L))
        rep = research.transferability(ds["path"], model, progress=progress)
        bar.empty()
        st.session_state["transfer"] = {"path": ds["path"], "model": model, "report": rep.to_json()}
    kept = st.session_state.get("transfer")
    if kept and kept["path"] == ds["path"] and kept["model"] == model:
        rep, s = kept["report"], kept["report"]["seconds"]
        c1, c2, c3 = st.columns(3)
        c1.metric(t("transfer_knn", L), f"{rep['knn']:.2f}", help=t("transfer_knn_help", L))
        c1.caption(t("transfer_cost", L, seconds=s["knn"]))
        c2.metric(t("transfer_logme", L), f"{rep['logme']:.3f}", help=t("transfer_logme_help", L))
        c2.caption(t("transfer_cost_features", L, seconds=s["logme"], features=s["features"]))
        c3.metric(t("transfer_lp", L), f"{rep['linear_probe']:.1%}", help=t("transfer_lp_help", L))
        c3.caption(t("transfer_cost_features", L, seconds=s["linear_probe"], features=s["features"]))
    record = research.estimators_record()
    if record:
        names = {"knn": t("transfer_knn", L), "logme": t("transfer_logme", L), "linear_probe": t("transfer_lp", L)}
        scores = ", ".join(f"{names[k]} {v:.2f}" for k, v in record["spearman"].items() if k in names)
        st.caption(t("transfer_trust", L, cells=record["cells"], scores=scores))
    else:
        st.caption(t("transfer_no_record", L))


def train_options(plan: str, model: str) -> dict:
    """The research options a plan takes, as Train-page widgets; returns them as TrainConfig settings."""
    L = lang()
    opts = research.plan_options(plan)
    out: dict = {}
    if not (opts["block"] or opts["lr_decay"] or opts["bn"]):
        return out
    cols = st.columns(3)
    if opts["block"]:
        groups = research.block_groups(model)
        choices = list(groups)
        current = value("block", opts["default_block"]) or opts["default_block"]
        if current not in choices:
            set_kept("block", opts["default_block"], widget_key="train_block")
        out["block"] = cols[0].selectbox(t("block_label", L), choices, help=t("block_help", L),
                                         format_func=lambda b: t(f"block_{b}", L, group=groups[b]),
                                         **keep("train_block", opts["default_block"], name="block"))
    if opts["lr_decay"]:
        out["lr_decay"] = float(cols[1].number_input(t("lr_decay_label", L), min_value=1.0, max_value=10.0, step=0.2,
                                                     format="%.1f", help=t("lr_decay_help", L),
                                                     **keep("train_lr_decay", 1.0, name="lr_decay")))
    if opts["bn"]:
        out["bn"] = cols[2].selectbox(t("bn_label", L), ("train", "frozen"), help=t("bn_help", L),
                                      format_func=lambda m: t(f"bn_{m}", L), **keep("train_bn", "train", name="bn"))
    return out
