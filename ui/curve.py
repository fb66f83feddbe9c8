"""Compare's learning-curve mode: plans trained on growing shares of the training images, the crossover, the map's boundary."""
from __future__ import annotations

import streamlit as st

from tlcore import service, viz
from tlcore.i18n import plan_name, t

from .dataset import adopt_run, dataset_name
from .runs import LIVE_POLL_S, run_from_url, store
from .scale import submitting
from .session import errors, keep, lang, next_button, set_kept, value

MODES = ("plans", "curve")
#: Shares of the training images offered (the defaults come from tlcore.service.curve).
SHARE_OPTIONS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0)


def mode_switch() -> str:
    """The Compare page's mode: "plans" (every plan on all the data) or "curve" (the learning curve)."""
    L = lang()
    default = "curve" if st.query_params.get("curve") else "plans"  # a link to a learning curve opens it
    return st.radio(t("compare_mode", L), MODES, format_func=lambda k: t(f"compare_mode_{k}", L), horizontal=True,
                    **keep("cmp_mode", default))


def seeds_input(container=st) -> int:
    """How many seeds each plan trains with (the verdict weighs a gap against their spread)."""
    L = lang()
    return int(container.number_input(t("compare_seeds", L), min_value=1, max_value=5, step=1,
                                      help=t("compare_seeds_help", L), **keep("cmp_seeds", 1)))


def _start(ds: dict, model: str, rec, plans: list, shares: list, seeds: int, epochs: int, lab_recipe: bool) -> bool:
    """Queue the learning curve's runs; False when the session's queue limit refused them (already said)."""
    base = service.make_config(ds["path"], model, plans[0], top_stages=rec.top_stages or 1, epochs=epochs,
                               batch_size=value("batch_size", service.defaults.DEFAULT_BATCH_SIZE),
                               augment=True if rec.augment else None)  # each plan at its own learning rate
    group = None
    with submitting():  # a learning curve counts against this session's waiting runs, as a comparison does
        group = service.start_curve(store(), base, plans, shares, seeds, lab_recipe, top_stages=rec.top_stages or 1,
                                    quadrant=rec.quadrant, dataset=dataset_name(ds, "en"),
                                    num_classes=ds["num_classes"])
    if group is None:  # over the session's queue limit: submitting() said so
        return False
    st.session_state["curve_group"] = group
    st.query_params["curve"] = group
    return True


def page(ds: dict, model: str, rec) -> None:
    """The learning-curve mode of the Compare page, for the session's dataset, backbone and recommendation."""
    L = lang()
    st.markdown(t("curve_intro", L))
    c1, c2, c3 = st.columns([3, 3, 1])
    plans = c1.multiselect(t("compare_plans", L), service.PLAN_NAMES, help=t("plan_help", L),
                           **keep("crv_plans", list(service.CURVE_DEFAULT_PLANS)))
    shares = c2.multiselect(t("curve_fractions", L), SHARE_OPTIONS, format_func=lambda f: f"{f:.0%}",
                            **keep("crv_shares", list(service.CURVE_DEFAULT_FRACTIONS)))
    seeds = seeds_input(c3)
    lab_recipe = service.lab_recipe_applies(ds["path"], model) and st.toggle(
        t("compare_lab_recipe", L), help=t("compare_lab_recipe_help", L), **keep("crv_lab_recipe", True))
    epochs = st.number_input(t("epochs_label", L), min_value=1, max_value=100, step=1, disabled=lab_recipe,
                             **keep("crv_epochs", service.defaults.DEFAULT_EPOCHS))
    if st.button(t("curve_start", L), key="curve_start", type="primary", disabled=not plans or not shares):
        if _start(ds, model, rec, plans, sorted(shares), seeds, int(epochs), lab_recipe):
            st.success(t("curve_queued", L, n=len(plans) * len(shares) * seeds, seeds=seeds,
                         plans=", ".join(plan_name(p, L) for p in plans),
                         fractions=", ".join(f"{f:.0%}" for f in sorted(shares))))
    group = st.session_state.get("curve_group") if st.query_params.get("curve") else None
    if group:
        _view(group)
    else:
        st.info(t("curve_none", L))


def adopt_from_url() -> None:
    """A reload or a second tab opened on a learning curve (``?curve=``) takes its dataset and settings."""
    group = run_from_url("curve", "curve_group")
    members = [r.run_id for r in store().list() if group and r.group == group]
    if members:
        adopt_run(members[-1])
        if st.session_state.get("_curve_adopted") != group:  # once per curve: later changes are the user's
            st.session_state["_curve_adopted"] = group
            _adopt_settings(members)


def _adopt_settings(run_ids: list[str]) -> None:
    """The form shows the settings the opened curve was trained with (plans, shares, epochs), not the defaults."""
    configs = []
    for run_id in run_ids:
        try:
            configs.append(store().config(run_id))
        except Exception:  # noqa: BLE001 - a damaged run is reported by its own view
            continue
    if not configs:
        return
    set_kept("crv_plans", list(dict.fromkeys(c.plan for c in configs)))
    shares = sorted({round(float(c.train_fraction), 4) for c in configs})
    if all(f in SHARE_OPTIONS for f in shares):
        set_kept("crv_shares", shares)
    set_kept("crv_epochs", int(max(c.epochs for c in configs)))
    runs_per_point: dict = {}
    for c in configs:
        runs_per_point[(c.plan, c.train_fraction)] = runs_per_point.get((c.plan, c.train_fraction), 0) + 1
    set_kept("cmp_seeds", max(runs_per_point.values()))


def _view(group: str) -> None:
    L = lang()
    runs = store()
    cache = st.session_state.setdefault("progress", {})
    live = any(r.active for r in runs.list() if r.group == group)

    @st.fragment(run_every=LIVE_POLL_S if live else None)
    def view() -> None:
        with errors():
            s = service.curve_summary(runs, group, cache)
            if not s.rows:
                st.error(t("curve_unknown", L, group=group))
                return
            st.progress(s.done / len(s.rows), text=t("curve_progress", L, done=s.done, total=len(s.rows)))
            st.plotly_chart(viz.learning_curve(s.result, L), config={"displayModeBar": False}, key="curve_chart")
            xs = s.result["crossovers"]
            for x in xs:
                st.success(t("curve_crossover", L, n=x["images_per_class"], above=plan_name(x["above"], L),
                             below=plan_name(x["below"], L)))
            if not xs and s.result["leader"] and not s.active:
                st.info(t("curve_no_crossover", L, leader=plan_name(s.result["leader"], L)))
            if s.result["points"] and all(p["seeds"] < 2 for p in s.result["points"]):
                st.caption(t("curve_one_seed", L))
            st.dataframe([{
                t("col_plan", L): plan_name(p["plan"], L), t("curve_col_share", L): f"{p['fraction']:.0%}",
                t("curve_col_ipc", L): f"{p['images_per_class']:,.0f}",
                t("curve_col_acc", L): f"{p['accuracy']:.1%}" + (f" ± {p['spread']:.1%}" if p["seeds"] > 1 else ""),
                t("curve_col_runs", L): p["seeds"],
            } for p in s.result["points"]], hide_index=True)
            if live and not s.active:
                st.rerun()

    view()


def mode_page(ds: dict, model: str, rec) -> None:
    """Everything the learning-curve mode shows, down to the page's "next" button."""
    page(ds, model, rec)
    next_button("predict", "compare_next", key="compare_next")
