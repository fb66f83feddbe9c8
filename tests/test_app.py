"""The Streamlit pages driven by widget key with AppTest: every page, both languages, a whole flow."""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import make_image_folder
from tlcore import service
from tlcore.runs import RunStore

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["views/0_Home.py", "views/1_Data.py", "views/2_Decision_map.py", "views/3_Train.py", "views/4_Compare.py",
         "views/5_Predict.py", "views/6_Runs.py"]


@pytest.fixture(scope="session")
def lab_cache(tmp_path_factory) -> Path:
    """One cache for every test: tiny lab datasets are drawn once."""
    return tmp_path_factory.mktemp("tlcore-cache")


@pytest.fixture
def app_env(tmp_path, lab_cache, monkeypatch):
    """Isolated runs, a shared cache, tiny lab defaults and fresh Streamlit caches."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("TLCORE_RUNS_DIR", str(runs))
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(lab_cache))
    monkeypatch.setenv("TLCORE_DATA_ROOTS", str(tmp_path / "roots"))
    monkeypatch.setattr(service.defaults, "LAB_DEFAULT_PER_CLASS", 10)
    monkeypatch.setattr(service.defaults, "LAB_VAL_PER_CLASS", 10)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield runs
    for info in RunStore(runs).list():  # leave no run process behind
        if info.active:
            RunStore(runs).stop(info.run_id, wait=True, grace_s=3)
    st.cache_resource.clear()
    st.cache_data.clear()


def new_app(lang: str = "en", page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def shown(at: AppTest) -> str:
    """All visible text of the page (markdown, captions, alerts, titles, buttons)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [b.label for b in at.button]
    return "\n".join(parts)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def wait_until(at: AppTest, pred, timeout: float = 120.0, every: float = 0.5) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if pred(at):
            return
        time.sleep(every)
    raise AssertionError(f"timed out; page shows:\n{shown(at)}")


# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("page", [None] + PAGES[1:])
def test_every_page_renders(app_env, page, lang):
    at = new_app(lang, page)
    assert_clean(at)
    assert at.title, "every page has a title"
    text = shown(at)
    if lang == "ko":
        assert any("\uac00" <= ch <= "\ud7a3" for ch in text), "Korean page shows Korean text"
        assert "Images per class" not in text
    assert at.sidebar.selectbox(key="lang_pick").value == lang


def test_language_switch_holds_across_pages(app_env):
    at = new_app("en")
    at.sidebar.selectbox(key="lang_pick").set_value("ko").run()
    assert at.query_params["lang"] == "ko"
    at.switch_page("views/3_Train.py").run()
    assert at.title[0].value == "3 · 학습"
    assert at.query_params["lang"] == "ko"


def test_home_start_goes_to_data(app_env):
    at = new_app()
    assert at.get("plotly_chart"), "the home page draws the quadrant matrix"
    at.button(key="home_start").click().run()
    assert_clean(at)
    assert at.radio(key="data_source").value == "lab", "the lab dataset is the default"
    assert at.session_state["dataset"]["source"] == "lab"


def test_data_lab_dials_and_summary(app_env):
    at = new_app(page="views/1_Data.py")
    at.slider(key="lab_similarity").set_value(0.8).run()
    assert_clean(at)
    ds = at.session_state["dataset"]
    assert ds["lab"]["similarity"] == pytest.approx(0.8) and ds["num_classes"] == 6
    assert [m.value for m in at.metric][:2] == ["6", str(ds["num_images"])]
    assert at.get("plotly_chart"), "class counts are drawn"
    assert at.get("image"), "sample images are shown"


def test_data_upload_zip_shows_skipped_and_warnings(app_env, tmp_path):
    folder = make_image_folder(tmp_path / "up", classes=2, per_class=4)
    (folder / "class_0" / "notes.txt").write_text("not an image")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder.parent).as_posix())
    at = new_app(page="views/1_Data.py")
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="upload_zip").set_value(("mine.zip", buf.getvalue(), "application/zip")).run()
    assert_clean(at)
    assert at.session_state["dataset"]["source"] == "upload"
    assert at.session_state["dataset"]["num_classes"] == 2
    assert "notes.txt" in at.dataframe[0].value.to_string(), "the skipped file is listed"
    assert at.warning, "tiny classes are warned about"


def test_data_bad_upload_shows_message_not_traceback(app_env):
    at = new_app(page="views/1_Data.py")
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="upload_zip").set_value(("broken.zip", b"this is not a zip", "application/zip")).run()
    assert not at.exception
    assert at.error and "zip" in at.error[0].value


def test_data_folder_only_inside_roots(app_env, tmp_path):
    make_image_folder(tmp_path / "roots" / "flowers", classes=3, per_class=4)
    at = new_app(page="views/1_Data.py")
    at.radio(key="data_source").set_value("folder").run()
    assert_clean(at)
    assert at.selectbox(key="root_folder").options == ["roots/flowers"]
    assert at.session_state["dataset"]["num_classes"] == 3


def test_decision_map_recommends_and_what_if(app_env):
    at = new_app(page="views/2_Decision_map.py")
    assert_clean(at)
    # lab similarity 0.3 -> "somewhat different"; 20 images per class -> quadrant 3
    assert at.radio(key="sim_choice").value == "somewhat_different"
    assert at.subheader[0].value.startswith("Quadrant 3")
    at.radio(key="sim_choice").set_value("same_world").run()
    assert at.subheader[0].value.startswith("Quadrant 4")
    at.number_input(key="map_ipc").set_value(5000).run()
    assert at.subheader[0].value.startswith("Quadrant 2")
    # A click on quadrant 1 (what the chart's on_select callback stores) shows a "what if".
    at.session_state["what_if"] = 1
    at.run()
    assert_clean(at)
    assert at.subheader[0].value.startswith("Quadrant 2"), "the data's own answer stays"
    assert "quadrant 1" in at.info[0].value
    at.button(key="map_back").click().run()
    assert not at.info
    at.button(key="map_train").click().run()
    assert_clean(at)
    assert at.selectbox(key="plan").value == "top", "the map's plan is pre-filled on the Train page"


@pytest.mark.slow
def test_measure_similarity_button(app_env):
    at = new_app(page="views/2_Decision_map.py")
    at.button(key="measure").click().run()
    assert_clean(at)
    assert at.session_state["measured"]["score"] >= 0.0
    assert at.checkbox(key="use_measured").value is True


def test_bad_run_id_in_url_is_a_friendly_error(app_env):
    at = new_app(page="views/3_Train.py", query={"run": "../../etc"})
    assert not at.exception
    assert "Invalid run id" in at.error[0].value


def test_unknown_run_id_in_url(app_env):
    at = new_app(page="views/3_Train.py", query={"run": "20200101-000000-head-abcdef"})
    assert not at.exception
    assert "No run" in at.error[0].value


@pytest.mark.slow
def test_whole_flow_data_map_train_predict_runs(app_env):
    at = new_app()
    at.button(key="home_start").click().run()
    at.button(key="data_next").click().run()
    at.button(key="map_train").click().run()
    assert_clean(at)
    assert at.selectbox(key="train_model").value == "labnet"
    at.number_input(key="epochs").set_value(2).run()
    at.button(key="start_run").click().run()
    assert_clean(at)
    run_id = at.query_params["run"]
    assert run_id and at.session_state["current_run"] == run_id
    wait_until(at, lambda a: a.success, timeout=150)
    assert_clean(at)
    info = RunStore(app_env).get(run_id)
    assert info.status == "completed" and info.epochs_completed == 2
    text = shown(at)
    assert "Accuracy per class" in text and "Confusion matrix" in text
    assert at.get("download_button"), "the trained model can be downloaded"
    assert len(at.get("plotly_chart")) >= 3  # curves, per-class accuracy, confusion matrix

    # Reconnect: a new session (a reload or a second tab) with the run id in the URL.
    again = new_app(page="views/3_Train.py", query={"run": run_id})
    assert_clean(again)
    assert run_id in shown(again) and again.success
    assert again.session_state["dataset"]["path"] == at.session_state["dataset"]["path"], "the run's own data"
    assert again.number_input(key="epochs").value == 2, "and its own settings"

    # Predict with the finished run on a few of its validation images.
    at.button(key="train_next_predict").click().run()
    assert at.selectbox(key="pred_run").value == run_id
    at.button(key="pred_samples").click().run()
    assert_clean(at)
    bars = at.get("progress")
    assert len(bars) == 6 * 6, "every class's probability (six lab classes) for each of six images"

    # Runs: listed, then deleted.
    at.button(key="predict_next").click().run()
    assert run_id in at.dataframe[0].value.to_string()
    at.checkbox(key="runs_confirm").check().run()
    at.button(key="runs_delete").click().run()
    assert_clean(at)
    assert RunStore(app_env).list() == []


@pytest.mark.slow
def test_stop_ends_a_live_run(app_env, monkeypatch):
    monkeypatch.setenv("TLCORE_FAULT", "sleep0.2")  # slow batches: the run is mid-epoch when stopped
    at = new_app(page="views/3_Train.py")
    at.selectbox(key="plan").set_value("top").run()
    at.number_input(key="epochs").set_value(50).run()
    at.button(key="start_run").click().run()
    run_id = at.query_params["run"]
    wait_until(at, lambda a: "running" in shown(a) and a.get("progress"), timeout=90)
    at.button(key="stop_run").click().run()
    t0 = time.time()
    wait_until(at, lambda a: a.warning, timeout=10, every=0.2)
    assert time.time() - t0 < 4
    assert RunStore(app_env).get(run_id).status == "stopped"
    assert "stopped" in at.warning[0].value


@pytest.mark.slow
def test_compare_queues_runs_and_gives_a_verdict(app_env):
    at = new_app(page="views/4_Compare.py")
    at.multiselect(key="cmp_plans").set_value(["top", "scratch"]).run()
    assert at.number_input(key="cmp_epochs").disabled, "lab data: the lab recipe is on and sets the epochs"
    at.toggle(key="cmp_lab_recipe").set_value(False).run()
    assert not at.number_input(key="cmp_epochs").disabled
    at.number_input(key="cmp_epochs").set_value(1).run()
    at.button(key="compare_start").click().run()
    assert_clean(at)
    group = at.query_params["group"]
    runs = [r for r in RunStore(app_env).list() if r.group == group]
    assert sorted(r.plan for r in runs) == ["scratch", "top"]
    assert "queued (place" in shown(at), "the second run waits its turn and shows its place"
    wait_until(at, lambda a: "agrees with the map" in shown(a) or "disagrees with the map" in shown(a), timeout=180)
    assert_clean(at)
    table = at.dataframe[0].value
    assert len(table) == 2 and "Best accuracy" in table.columns


def test_compare_on_lab_data_uses_the_lab_recipe_per_plan(app_env):
    from tlcore.fsutil import read_json
    from tlcore.lab import recipes

    at = new_app("ko", page="views/4_Compare.py")
    assert at.toggle(key="cmp_lab_recipe").value is True
    at.multiselect(key="cmp_plans").set_value(["head", "full"]).run()
    from tlcore.i18n import plan_name, t

    caption = t("compare_lab_recipe_epochs", "ko", epochs=f"{plan_name('head', 'ko')} 40, {plan_name('full', 'ko')} 30")
    assert caption in shown(at), "the caption says how many epochs each plan trains"
    at.button(key="compare_start").click().run()
    assert_clean(at)
    group = at.query_params["group"]
    runs = {r.plan: r for r in RunStore(app_env).list() if r.group == group}
    assert set(runs) == {"head", "full"}
    for plan, info in runs.items():
        cfg = read_json(Path(info.run_dir) / "config.json", {})
        r = recipes.recipe(plan, "small")
        assert (cfg["epochs"], cfg["batch_size"], cfg["lr"], cfg["body_lr_mult"]) == (r.epochs, r.batch_size, r.lr, r.body_lr_mult)


def test_translated_sidebar_links(app_env):
    at = new_app("ko")
    links = at.get("page_link")
    assert_clean(at)
    assert [link.proto.label for link in links][:3] == ["처음", "데이터", "결정 지도"]


@pytest.mark.slow
def test_offline_imagenet_weights_fail_clearly(app_env, monkeypatch):
    # No network here; a dead proxy makes sure of it even where there is one (no 45 MB download in a test).
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    at = new_app(page="views/3_Train.py")
    at.selectbox(key="train_model").set_value("resnet18").run()
    at.selectbox(key="plan").set_value("head").run()
    assert "needs its ImageNet weights" in at.warning[0].value, "warned before starting"
    at.button(key="start_run").click().run()
    wait_until(at, lambda a: a.error, timeout=120)
    assert not at.exception
    assert "Could not download the ImageNet weights for resnet18" in at.error[0].value
    assert "labnet" in at.info[-1].value, "the offline way out is suggested"
