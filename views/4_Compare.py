"""Compare: several plans on the same data and backbone, queued, their validation curves overlaid."""
import streamlit as st

import ui
from ui import scale
from tlcore import service
from tlcore.i18n import plan_name, t
from ui import curve as ui_curve  # issue 14: the learning-curve mode

L = ui.lang()


def start(ds: dict, model: str, plans: list, epochs: int, rec, lab_recipe: bool, seeds: int = 1) -> None:
    base = service.make_config(ds["path"], model, plans[0] if plans else "head", top_stages=rec.top_stages or 1,
                               epochs=epochs, batch_size=ui.value("batch_size", service.defaults.DEFAULT_BATCH_SIZE),
                               augment=True if rec.augment else None,  # each plan at its own learning rate
                               block=ui.value("block", "") or "")
    group = service.start_compare(ui.store(), base, plans, top_stages=rec.top_stages or 1,
                                  lab_recipe=rec if lab_recipe else None, quadrant=rec.quadrant,
                                  dataset=ui.dataset_name(ds, "en"), num_classes=ds["num_classes"], seeds=seeds)
    st.session_state["compare_group"] = group
    st.query_params["group"] = group


with ui.errors():
    st.title(t("compare_title", L))
    st.markdown(t("compare_intro", L))
    group = ui.run_from_url("group", "compare_group")
    members = [r.run_id for r in ui.store().list() if group and r.group == group]
    if members:
        ui.adopt_run(members[-1])
    ui_curve.adopt_from_url()  # issue 14
    ds = ui.current_dataset()
    ui.dataset_notice()
    model = ui.value("model", None) or ui.default_model(ds)
    rec, _, _ = ui.current_recommendation(ds, model)
    st.caption(ui.dataset_caption(ds) + " · " + t("compare_model", L, model=ui.md(model), q=rec.quadrant,
                                                  plan=plan_name(rec.plan, L, rec.top_stages)))
    if ui_curve.mode_switch() == "curve":  # issue 14: the learning-curve mode replaces the rest of the page
        ui_curve.mode_page(ds, model, rec)
        st.stop()
    c1, c2 = st.columns([3, 1])
    plans = c1.multiselect(t("compare_plans", L), service.PLAN_NAMES, help=t("plan_help", L),
                           **ui.keep("cmp_plans", list(service.COMPARE_DEFAULT)))
    lab_recipe = service.lab_recipe_applies(ds["path"], model) and st.toggle(
        t("compare_lab_recipe", L), help=t("compare_lab_recipe_help", L), **ui.keep("cmp_lab_recipe", True))
    epochs = c2.number_input(t("epochs_label", L), min_value=1, max_value=100, step=1, disabled=lab_recipe,
                             **ui.keep("cmp_epochs", service.defaults.DEFAULT_EPOCHS))
    seeds = ui_curve.seeds_input(c2)  # issue 14: seeds, so that the verdict can weigh the gap against their spread
    if lab_recipe:
        st.caption(t("compare_lab_recipe_epochs", L, epochs=", ".join(
            f"{plan_name(p, L)} {n}" for p, n in service.lab_recipe_epochs(plans, rec, ds["path"]).items())))
    if st.button(t("compare_start", L), key="compare_start", type="primary", disabled=not plans):
        with scale.submitting():  # a comparison counts as one of this session's waiting runs
            start(ds, model, plans, epochs, rec, lab_recipe, seeds)
    group = st.session_state.get("compare_group") if st.query_params.get("group") else None
    if group:
        ui.comparison(group)
    else:
        st.info(t("compare_none", L))
    ui.next_button("predict", "compare_next", key="compare_next")
