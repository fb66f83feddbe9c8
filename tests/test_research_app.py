"""The map page's third question, gradient probe and estimators, and the Train page's research options (AppTest)."""
from __future__ import annotations

import pytest

from tests.test_app import app_env, assert_clean, lab_cache, new_app, shown  # noqa: F401 - fixtures

MAP = "views/2_Decision_map.py"


def test_third_question_names_the_block_and_trains_it(app_env):
    at = new_app(page=MAP)
    assert_clean(at)
    assert at.radio(key="shift_choice").value == "", "the third question starts unanswered: the two-question map"
    assert not any("question 3" in s.value for s in at.subheader)
    at.radio(key="shift_choice").set_value("look").run()
    assert_clean(at)
    titles = [s.value for s in at.subheader]
    assert titles[0].startswith("Quadrant 3"), "the map's own answer stays first"
    assert any("Refined by question 3" in s and "stem" in s for s in titles), titles
    text = shown(at)
    assert "Lee et al. (ICLR 2023)" in text and "first block" in text
    at.radio(key="shift_choice").set_value("labels").run()
    assert any("stage4" in s.value for s in at.subheader)
    at.button(key="shift_train").click().run()
    assert_clean(at)
    assert at.selectbox(key="plan").value == "surgical"
    assert at.selectbox(key="train_block").value == "last"


def test_third_question_in_korean(app_env):
    at = new_app("ko", page=MAP)
    at.radio(key="shift_choice").set_value("objects").run()
    assert_clean(at)
    assert any("질문 3" in s.value and "stage2" in s.value for s in at.subheader)


@pytest.mark.slow
def test_probe_and_estimators_panels(app_env):
    at = new_app(page=MAP)
    at.button(key="probe_run").click().run()
    assert_clean(at)
    probe = at.session_state["probe"]["result"]
    assert [g["name"] for g in probe["groups"]] == ["stem", "stage1", "stage2", "stage3", "stage4", "head"]
    assert probe["reference"] and probe["position"] in ("first", "middle", "last")
    assert any("surgical" in i.value for i in at.info), "the suggestion is shown"
    at.button(key="transfer_run").click().run()
    assert_clean(at)
    rep = at.session_state["transfer"]["report"]
    assert 0.0 <= rep["knn"] <= 1.0 and 0.0 <= rep["linear_probe"] <= 1.0
    assert set(rep["seconds"]) == {"knn", "features", "logme", "linear_probe"}
