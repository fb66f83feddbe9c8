"""The measured map in the app (AppTest): the shipped sweep and its fit, the default lab dataset's plan against
what Compare measures there, the measured regions' colours, and the learning-curve mode."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tlcore import service, viz
from tlcore.decision import DatasetProfile, recommend
from tlcore.plans import PLAN_NAMES
from tlcore.runs import RunStore
from tlcore.service import calibration as cal

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped():
    sweep, fit = service.sweep_for("labnet"), service.calibration_for("labnet")
    assert sweep and fit, "labnet's sweep and its calibration are shipped in tlcore/lab/"
    return sweep, fit


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Isolated runs and cache; the app's own lab defaults (the cell the sweep measured), fresh Streamlit caches."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("TLCORE_RUNS_DIR", str(runs))
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    st.cache_resource.clear()
    yield runs
    for info in RunStore(runs).list():
        if info.active:
            RunStore(runs).stop(info.run_id, wait=True, grace_s=3)
    st.cache_resource.clear()


def new_app(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _cell(sweep, per_class, dial):
    return next(c for c in sweep["cells"] if c["per_class"] == per_class and abs(c["similarity_dial"] - dial) < 1e-9)


def _agrees(cell, plan, tol):
    return cell["accuracy"][plan] >= max(cell["accuracy"].values()) - tol - 1e-9 or cell["tie"]


def test_the_shipped_sweep_meets_its_promise(shipped):
    sweep, fit = shipped
    assert sweep["agreement_measured"] >= 0.9, "the calibrated map is within 2 points of the winner in >= 90 % of cells"
    assert 0.0 <= sweep["agreement_rule_of_thumb"] <= 1.0
    assert len(sweep["sizes"]) >= 4 and len(sweep["similarities"]) >= 3 and sweep["seeds"] >= 2
    assert set(sweep["plans"]) == set(service.COMPARE_DEFAULT)
    assert sweep["command"].startswith("python -m tlcore lab sweep") and sweep["commit"] and sweep["machine"]["cpu"]
    # The fit was made from this very sweep, and refitting it gives the same boundaries.
    import hashlib

    assert fit["sweep_sha256"] == hashlib.sha256(cal.sweep_path("labnet").read_bytes()).hexdigest()
    assert fit["boundaries"] == {"size": sweep["boundaries"]["measured"]["size"],
                                 "similarity": sweep["boundaries"]["measured"]["similarity"]}
    refit = cal.fit_boundaries(sweep["cells"], sweep["tolerance"])
    assert (refit["size"], refit["similarity"]) == (fit["boundaries"]["size"], fit["boundaries"]["similarity"])
    for c in sweep["cells"]:
        assert c["winner"] == max(c["accuracy"], key=c["accuracy"].get)
        assert c["margin_points"] == pytest.approx(100 * (c["accuracy"][c["winner"]] - c["accuracy"][c["runner_up"]]),
                                                   abs=0.01)


def test_every_lab_cell_the_app_offers_by_default_agrees(shipped):
    """At the app's default similarity, every size the Data page offers that the sweep measured: the calibrated
    map's plan (from the plain-language answer the app pre-selects, as from the measured score) is within the
    tolerance of the winner, or the cell is a tie."""
    sweep, _ = shipped
    tol = sweep["tolerance"]
    dial = service.defaults.LAB_DEFAULT_SIMILARITY
    b = service.boundaries_for("labnet")
    offered = [c for c in sweep["cells"] if abs(c["similarity_dial"] - dial) < 1e-9
               and c["per_class"] in service.defaults.LAB_PER_CLASS_OPTIONS]
    assert len(offered) >= 4, "the sweep measured the app's default similarity at the sizes it offers"
    answer = service.SIMILARITY_CHOICES[service.similarity_choice_for(dial)]
    for c in offered:
        for sim in (answer, c["similarity"]):
            plan = recommend(DatasetProfile(c["per_class"], 6, sim, "user", 4), b).plan
            assert _agrees(c, plan, tol), (c["per_class"], sim, plan, c["accuracy"])


def test_default_lab_dataset_map_plan_is_the_measured_winner(shipped, app_env):
    sweep, _ = shipped
    at = new_app("views/2_Decision_map.py")
    ds = at.session_state["dataset"]
    assert (ds["lab"]["similarity"], ds["lab"]["per_class"]) == (service.defaults.LAB_DEFAULT_SIMILARITY,
                                                                 service.defaults.LAB_DEFAULT_PER_CLASS)
    cell = _cell(sweep, ds["lab"]["per_class"], ds["lab"]["similarity"])
    heading = at.subheader[0].value
    plan = next(p for p in PLAN_NAMES if re.search(rf"\b{p}\b", heading))
    assert _agrees(cell, plan, sweep["tolerance"]), (heading, cell["accuracy"])
    text = "\n".join(m.value for m in at.markdown)
    assert "measured, not assumed" in text, "the reasons name the evidence"


@pytest.mark.slow
def test_compare_on_the_default_lab_dataset_agrees_with_the_map(shipped, app_env, monkeypatch):
    """One real Compare, lab recipe, on the default dataset: the map's plan against the cell's strongest rival."""
    monkeypatch.setenv("TLCORE_MAX_CONCURRENT", "2")  # the two runs train side by side (seeded: the same result)
    sweep, _ = shipped
    at = new_app("views/4_Compare.py")
    ds = at.session_state["dataset"]
    cell = _cell(sweep, ds["lab"]["per_class"], ds["lab"]["similarity"])
    answer = service.SIMILARITY_CHOICES[service.similarity_choice_for(ds["lab"]["similarity"])]
    rec = service.recommendation(ds["images_per_class"], ds["num_classes"], answer, "user", "labnet")
    rival = max((p for p in cell["accuracy"] if p != rec.plan), key=cell["accuracy"].get)
    assert at.toggle(key="cmp_lab_recipe").value is True
    at.multiselect(key="cmp_plans").set_value([rec.plan, rival]).run()
    at.button(key="compare_start").click().run()
    store = RunStore(app_env)
    runs = store.list()
    assert sorted(r.plan for r in runs) == sorted([rec.plan, rival])
    for r in runs:  # wait for the runs themselves (re-running the page meanwhile would only slow them)
        assert store.wait(r.run_id, timeout=900).status == "completed"
    at.run()
    verdicts = [e.value for e in list(at.success) + list(at.warning) + list(at.info)]
    assert not at.exception
    text = "\n".join(verdicts)
    assert "agrees with the map" in text or "Too close to call" in text, text


def test_measured_regions_on_the_map_page_match_the_sweep(shipped, app_env):
    sweep, _ = shipped
    for lang in ("en", "ko"):
        at = new_app("views/2_Decision_map.py", lang)
        at.toggle(key="measured_show").set_value(True).run()
        assert not at.exception and not at.error
        charts = at.get("plotly_chart")
        assert len(charts) >= 3, "map, measured regions, layer diagram"
    fig = viz.measured_map(sweep, "en")
    drawn = [tr for tr in fig.data if tr.name == "cell"]
    assert len(drawn) == len(sweep["cells"])
    for tr, c in zip(drawn, sweep["cells"]):
        assert (tr.meta["per_class"], tr.meta["dial"]) == (c["per_class"], c["similarity_dial"])
        rgb = tuple(int(v) for v in re.match(r"rgba\((\d+),(\d+),(\d+),", tr.fillcolor).groups())
        expected = viz.TIE_COLOR if c["tie"] else viz.PLAN_COLORS[c["winner"]]
        assert rgb == tuple(int(expected[i:i + 2], 16) for i in (1, 3, 5)), (c["per_class"], c["similarity_dial"])
    hover = next(tr for tr in fig.data if tr.name == "cell_hover").hovertext
    assert all(sum(p in h for p in sweep["plans"]) == len(sweep["plans"]) for h in hover), "the four accuracies"


@pytest.mark.slow
def test_learning_curve_mode_runs_and_draws(app_env, monkeypatch):
    monkeypatch.setattr(service.defaults, "LAB_DEFAULT_PER_CLASS", 10)
    monkeypatch.setattr(service.defaults, "LAB_VAL_PER_CLASS", 10)
    at = new_app("views/4_Compare.py", "ko")
    at.radio(key="cmp_mode").set_value("curve").run()
    at.toggle(key="crv_lab_recipe").set_value(False).run()
    at.number_input(key="crv_epochs").set_value(1).run()
    at.multiselect(key="crv_shares").set_value([0.5, 1.0]).run()
    at.button(key="curve_start").click().run()
    assert not at.exception and at.query_params["curve"]
    runs = RunStore(app_env).list()
    assert sorted((r.plan, r.label) for r in runs) == [("full", "full · 100%"), ("full", "full · 50%"),
                                                       ("head", "head · 100%"), ("head", "head · 50%")]
    deadline = time.time() + 400
    while time.time() < deadline and any(r.active for r in RunStore(app_env).list()):
        time.sleep(2)
    at.run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert len(table) == 4, "a point per plan and share"
    assert at.get("plotly_chart"), "the learning curve is drawn"
    texts = [e.value for e in list(at.success) + list(at.info)]
    assert any("앞지릅니다" in v or "교차점이 없습니다" in v for v in texts), texts
    assert any("시드 2~3개" in c.value for c in at.caption), "one seed is said to be thin evidence"
    chart = at.get("plotly_chart")[0].proto.spec
    assert '"tickvals"' in chart, "the log axis is labelled in whole numbers"

    # The curve's link, opened in a new session, shows the settings it was trained with, not the defaults.
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    again.session_state["lang"] = "ko"
    again.query_params["curve"] = at.query_params["curve"]
    again.run()
    again.switch_page("views/4_Compare.py").run()
    assert not again.exception
    assert again.radio(key="cmp_mode").value == "curve"
    assert sorted(again.multiselect(key="crv_shares").value) == [0.5, 1.0]
    assert again.number_input(key="crv_epochs").value == 1


def test_data_page_size_follows_the_maps_line(app_env):
    """labnet's measured size line is 14 images per class: the default lab data (100 per class) is large on the
    Data page, as on the map; the metric's help names where the line comes from."""
    at = new_app("views/1_Data.py")
    size = next(m for m in at.metric if m.label == "Size")
    assert size.value == "large"
    assert "measured for labnet" in size.proto.help


def test_one_colour_per_plan_on_every_chart():
    """A plan has the colour of the quadrant where the map names it: full Q1, top Q3, head Q4."""
    assert (viz.PLAN_COLORS["full"], viz.PLAN_COLORS["top"], viz.PLAN_COLORS["head"]) == (
        viz.QUADRANT_COLORS[1], viz.QUADRANT_COLORS[3], viz.QUADRANT_COLORS[4])
    assert viz.QUADRANT_COLORS[2] not in viz.PLAN_COLORS.values(), "Q2 says 'top, or full': no plan's colour"
