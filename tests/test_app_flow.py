"""The app as a class uses it (issues 13 and 18), driven with AppTest: results that follow the dataset,
numbers that agree, Start in reach, choices that survive a language switch, errors kept in place,
runs with their data, the dataset in the URL, names shown as written, many classes, times with a zone.

Finished runs are written directly as run folders (events and status, as a worker writes them), so
these tests need no training and take seconds.
"""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import make_image_folder
from tests.test_app import app_env, assert_clean, lab_cache, new_app, shown  # noqa: F401 - fixtures
from tlcore import events as ev
from tlcore import service
from tlcore.i18n import t
from tlcore.runs import RunStore

LANGS = ["en", "ko"]
#: Class names that Markdown, Streamlit's directives or HTML would turn into something else.
MARKUP_NAMES = ["# heading", "1. apples", "**bold**", ":red[warn]", "<b>x<", "$x$ _u_"]


# ---------------------------------------------------------------------------
# Helpers


def zip_of(classes: dict[str, int], size: int = 16, top: str = "set") -> bytes:
    """A zip of PNGs, ``count`` per class folder (each class its own grey level)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (name, count) in enumerate(classes.items()):
            for j in range(count):
                b = io.BytesIO()
                Image.fromarray(np.full((size, size, 3), (30 * i + 3 * j) % 250, np.uint8)).save(b, "PNG")
                zf.writestr(f"{top}/{name}/{j}.png", b.getvalue())
    return buf.getvalue()


def finished_run(runs_dir: Path, data: str | Path, classes: list[str], *, status: str = "completed", epochs: int = 4,
                 done: int | None = None, plan: str = "top", group: str = "", name: str = "", model: str = "labnet",
                 imbalanced: bool = False, mistakes: int = 0, created: float | None = None, best_pt: bool = True) -> str:
    """A run folder as a worker leaves it (config, meta, events, status), without training."""
    from tlcore.worker import RunRecorder

    store = RunStore(runs_dir)
    cfg = service.make_config(data, model, plan, epochs=epochs)
    run_id = store.create(cfg, label=plan, group=group, quadrant=3, dataset=name or Path(str(data)).name,
                          num_classes=len(classes))
    d = store.run_dir(run_id)
    rec = RunRecorder(d)
    n = len(classes)
    rec(ev.FitStart(epochs=epochs, num_train=10 * n, num_val=4 * n, classes=classes, plan=plan, model=model,
                    trainable_params=1234, frozen_params=5678, imbalanced=imbalanced))
    done = epochs if done is None else done
    for e in range(1, done + 1):
        rec(ev.EpochEnd(epoch=e, train_accuracy=0.5 + 0.1 * e / epochs, val_accuracy=0.4 + 0.3 * e / epochs,
                        val_balanced_accuracy=0.35 + 0.3 * e / epochs, train_loss=1.0 / e, val_loss=1.2 / e, best=True))
    if done:
        confusion = [[3 if i == j else (1 + i % 3 if j == (i + 1) % n else (1 if j == (i + 7) % n else 0))
                      for j in range(n)] for i in range(n)]
        per_class = [round(0.35 + 0.6 * ((7 * i) % 10) / 9, 2) for i in range(n)]
        rec(ev.Evaluation(classes=classes, per_class_accuracy=per_class, balanced_accuracy=0.6, confusion=confusion,
                          misclassified=[{"path": str(d / "missing.png"), "true": classes[0], "pred": classes[1],
                                          "confidence": 0.9}] * 0, num_misclassified=mistakes or n))
    rec.close()
    rec.set_status(status=status, ended=time.time(), started=time.time() - 30)
    if created is not None:
        meta = d / "meta.json"
        import json

        m = json.loads(meta.read_text())
        m["created"] = created
        meta.write_text(json.dumps(m))
    if best_pt:
        (d / "best.pt").write_bytes(b"not a real model")
    return run_id


def lab_path() -> Path:
    return service.lab_dataset(service.defaults.LAB_DEFAULT_SIMILARITY, service.defaults.LAB_DEFAULT_PER_CLASS)


def goto(at, page: str):
    """Switch pages as the sidebar's links do: only the language and the dataset id stay in the URL."""
    for key in list(at.query_params):
        if key not in ("lang", "data"):
            del at.query_params[key]
    return at.switch_page(page).run()


def upload(at, name: str, data: bytes):
    goto(at, "views/1_Data.py")
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="upload_zip").set_value((name, data, "application/zip")).run()
    assert_clean(at)
    return at


# ---------------------------------------------------------------------------
# Issue 13, item 1: every run-bound view shows the run's own dataset


@pytest.mark.parametrize("lang", LANGS)
def test_run_views_follow_the_dataset(app_env, lang):
    lab = lab_path()
    lab_run = finished_run(app_env, lab, ["circle", "square", "triangle"], name="lab")
    at = new_app(lang, "views/3_Train.py", query={"run": lab_run})
    assert_clean(at)
    trained_on = t("run_data_caption", lang, name=ui_md(t("lab_label", lang, s=0.3, n=10)),
                   classes=t("run_classes", lang, n=3), when="")
    assert any(c.value.startswith(trained_on) for c in at.caption), "the run names its data and class count"
    assert not at.warning, "the run's data is the current data: no notice"

    upload(at, "photos.zip", zip_of({"cats": 6, "dogs": 6}))
    assert at.session_state["dataset"]["name"] == "photos.zip"
    goto(at, "views/3_Train.py")
    assert_clean(at)
    assert "run" not in at.query_params, "the lab run is not shown under the uploaded data"
    assert t("train_no_run", lang) in shown(at)
    goto(at, "views/4_Compare.py")
    assert t("compare_none", lang) in shown(at), "no comparison of the lab data under the upload"

    # Opened explicitly (Runs -> Open), the lab run says plainly that it is of other data.
    goto(at, "views/6_Runs.py")
    at.button(key="runs_open").click().run()
    assert_clean(at)
    assert at.query_params["run"] == lab_run
    notice = t("run_other_data", lang, name=ui_md(t("lab_label", lang, s=0.3, n=10)), classes=3,
               current=ui_md("photos.zip"))
    assert notice in [w.value for w in at.warning]
    at.button(key="use_run_data").click().run()
    assert_clean(at)
    assert at.session_state["dataset"]["source"] == "lab", "one click switches to the run's data"
    assert at.session_state["current_run"] == lab_run and not at.warning


@pytest.mark.parametrize("lang", LANGS)
def test_compare_names_its_data(app_env, lang):
    lab = lab_path()
    group = "cmp-20260101-000000-ab12"
    for plan in ("head", "top"):
        finished_run(app_env, lab, ["a", "b"], plan=plan, group=group)
    at = upload(new_app(lang), "photos.zip", zip_of({"cats": 6, "dogs": 6}))
    at.switch_page("views/4_Compare.py")
    at.query_params["group"] = group
    at.run()
    assert_clean(at)
    notice = t("run_other_data", lang, name=ui_md(t("lab_label", lang, s=0.3, n=10)), classes=2,
               current=ui_md("photos.zip"))
    assert notice in [w.value for w in at.warning]
    assert at.button(key="use_compare_data"), "the comparison offers to switch to its data"
    table = at.dataframe[0].value
    assert t("col_balanced", lang) in table.columns, "balanced accuracy beside accuracy"


# ---------------------------------------------------------------------------
# Issue 13, item 2: training images per class, the same number everywhere


@pytest.mark.parametrize("lang", LANGS)
def test_training_images_per_class_agree(app_env, lang):
    at = new_app(lang, "views/1_Data.py")
    at.select_slider(key="lab_per_class").set_value(20).run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("metric_per_class", lang)] == "20", "the dial's 20 training images are 20, not 20 + validation"
    ds = at.session_state["dataset"]
    assert ds["images_per_class"] == 20 and ds["num_val"] == 6 * service.defaults.LAB_VAL_PER_CLASS
    split = [c.value for c in at.caption if t("val_source_folder", lang) in c.value]
    assert split, "the page says how validation was set aside"
    at.button(key="data_next").click().run()
    assert at.number_input(key="map_ipc").value == 20
    assert t("size_from_training", lang, n=20) in shown(at)
    # The CLI's --json agrees (inspect and recommend call the same service functions).
    assert service.inspect_dataset(ds["path"])["images_per_class"] == 20
    assert service.recommend_for(ds["path"], "labnet", 0.3)["images_per_class"] == 20


@pytest.mark.parametrize("lang", LANGS)
def test_imbalanced_classes_size_the_map_by_the_smallest(app_env, lang, tmp_path):
    at = upload(new_app(lang), "uneven.zip", zip_of({"many": 50, "few": 10}))
    ds = at.session_state["dataset"]
    assert ds["imbalanced"] and ds["size_per_class"] == 8  # 10 images, 2 set aside for validation
    at.button(key="data_next").click().run()
    assert_clean(at)
    assert at.number_input(key="map_ipc").value == 8
    assert t("size_from_smallest", lang, n=8, cls="few", mean=ds["images_per_class"]) in shown(at)
    assert service.inspect_dataset(ds["path"])["size_per_class"] == 8


# ---------------------------------------------------------------------------
# Issue 13, item 3: from the map, the settings are open with Start


@pytest.mark.parametrize("lang", LANGS)
def test_from_the_map_settings_open_with_start(app_env, lang):
    lab = lab_path()
    old = finished_run(app_env, lab, ["a", "b"])
    at = new_app(lang, "views/3_Train.py", query={"run": old})
    assert not at.expander[0].proto.expanded, "a run opened by URL shows its results, settings folded"
    goto(at, "views/2_Decision_map.py")
    at.button(key="map_train").click().run()
    assert_clean(at)
    assert at.expander[0].proto.expanded, "arriving from the map the settings are open"
    assert at.button(key="start_run"), "with Start in them"


# ---------------------------------------------------------------------------
# Issue 13, item 4: a language switch never changes a widget's value


def switch_language_twice(at, values: dict) -> None:
    for lang in ("ko", "en", "ko"):
        at.sidebar.selectbox(key="lang_pick").set_value(lang).run()
        assert_clean(at)
        for (kind, key), expected in values.items():
            assert getattr(at, kind)(key=key).value == expected, (lang, key)


def test_language_switch_keeps_every_choice(app_env, tmp_path):
    make_image_folder(tmp_path / "roots" / "a_flowers", classes=2, per_class=5)
    make_image_folder(tmp_path / "roots" / "b_birds", classes=3, per_class=5)
    at = new_app("en", "views/1_Data.py")
    at.radio(key="data_source").set_value("folder").run()
    at.selectbox(key="root_folder").set_value("roots/b_birds").run()
    switch_language_twice(at, {("radio", "data_source"): "folder", ("selectbox", "root_folder"): "roots/b_birds"})
    at.radio(key="data_source").set_value("lab").run()
    at.select_slider(key="lab_per_class").set_value(50).run()
    at.slider(key="lab_similarity").set_value(0.8).run()
    switch_language_twice(at, {("radio", "data_source"): "lab", ("select_slider", "lab_per_class"): 50,
                               ("slider", "lab_similarity"): 0.8})

    goto(at, "views/2_Decision_map.py")
    at.radio(key="sim_choice").set_value("very_different").run()
    at.number_input(key="map_ipc").set_value(3000).run()
    switch_language_twice(at, {("radio", "sim_choice"): "very_different", ("number_input", "map_ipc"): 3000})

    goto(at, "views/3_Train.py")
    at.selectbox(key="plan").set_value("full").run()
    at.number_input(key="epochs").set_value(7).run()
    at.selectbox(key="batch_size").set_value(64).run()
    at.select_slider(key="lr").set_value(0.003).run()
    at.checkbox(key="augment").set_value(True).run()
    switch_language_twice(at, {("selectbox", "plan"): "full", ("number_input", "epochs"): 7,
                               ("selectbox", "batch_size"): 64, ("select_slider", "lr"): 0.003,
                               ("checkbox", "augment"): True})

    goto(at, "views/4_Compare.py")
    at.multiselect(key="cmp_plans").set_value(["full", "head"]).run()
    at.toggle(key="cmp_lab_recipe").set_value(False).run()
    at.number_input(key="cmp_epochs").set_value(3).run()
    switch_language_twice(at, {("multiselect", "cmp_plans"): ["full", "head"], ("toggle", "cmp_lab_recipe"): False,
                               ("number_input", "cmp_epochs"): 3})

    lab = at.session_state["dataset"]["path"]
    first = finished_run(app_env, lab, ["a", "b"], plan="head")
    finished_run(app_env, lab, ["a", "b"], plan="full")
    goto(at, "views/6_Runs.py")
    at.selectbox(key="runs_pick").set_value(first).run()
    switch_language_twice(at, {("selectbox", "runs_pick"): first})


# ---------------------------------------------------------------------------
# Issue 13, item 5: a failed measurement is shown where it happened


@pytest.mark.parametrize("lang", LANGS)
def test_failed_measurement_keeps_the_page(app_env, lang, monkeypatch):
    from tlcore.errors import ModelError

    def no_weights(path, model, weights="pretrained", progress=None):
        progress(0.05)
        raise ModelError("Could not download the ImageNet weights for resnet18.", "Copy them to the server.",
                         code="weights_download")

    monkeypatch.setattr(service, "measure_similarity", no_weights)
    at = new_app(lang, "views/2_Decision_map.py")
    at.button(key="measure").click().run()
    assert not at.exception
    assert "efficientnet_lite0" in at.error[0].value, "the error names a fix a browser user can act on"
    assert not at.get("progress"), "the progress bar is cleared"
    assert at.subheader and at.subheader[0].value.startswith(t("map_rec_title", lang, q=3, plan="")[:5])
    assert len(at.get("plotly_chart")) >= 2, "the map and the layer diagram stay"
    assert at.button(key="map_train"), "and so does the Train button"


# ---------------------------------------------------------------------------
# Issue 13, item 6: run lists name the data, the class count and the group


def test_run_labels_and_table_name_their_data(app_env):
    lab = lab_path()
    a = finished_run(app_env, lab, ["a", "b", "c"], plan="top")
    b = finished_run(app_env, lab, ["a", "b", "c"], plan="top", group="cmp-20260101-000000-beef")
    at = new_app("en", "views/6_Runs.py")
    assert_clean(at)
    table = at.dataframe[0].value
    assert {"Data", "Classes", "Comparison", "Balanced accuracy"} <= set(table.columns)
    assert set(table["Classes"]) == {3} and "cmp-20260101-000000-beef" in set(table["Comparison"])
    labels = at.selectbox(key="runs_pick").options
    assert len(set(labels)) == 2, "two runs of one plan no longer look identical"
    assert all("lab (similarity 0.30, 10 per class), 3 classes" in label for label in labels)
    assert any("comparison cmp-20260101-000000-beef" in label for label in labels)
    assert {a, b} == set(r.run_id for r in RunStore(app_env).list())


# ---------------------------------------------------------------------------
# Issue 13, item 8: small inconsistencies


def test_run_results_say_how_many_mistakes_are_shown(app_env):
    run_id = finished_run(app_env, lab_path(), ["a", "b", "c"], mistakes=228)
    at = new_app("en", "views/3_Train.py", query={"run": run_id})
    assert_clean(at)
    assert "0 of 228 shown" in shown(at)
    assert "Balanced accuracy (best epoch)" in [m.label for m in at.metric]
    assert "balanced accuracy 65.0%" in at.success[0].value


@pytest.mark.parametrize("lang", LANGS)
def test_stopped_and_failed_runs(app_env, lang):
    lab = lab_path()
    stopped = finished_run(app_env, lab, ["a", "b"], status="stopped", epochs=20, done=2)
    at = new_app(lang, "views/3_Train.py", query={"run": stopped})
    assert_clean(at)
    bar = at.get("progress")[0]
    assert bar.proto.value == 10, "a run stopped at epoch 2 of 20 shows 10 %, not a full bar"
    assert _has_button(at, "train_next_predict"), "its best model can be tried"
    failed = finished_run(app_env, lab, ["a", "b"], status="failed", epochs=20, done=0, best_pt=False)
    at = new_app(lang, "views/3_Train.py", query={"run": failed})
    assert not _has_button(at, "train_next_predict"), "no model to try after a failed run"


def _has_button(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


@pytest.mark.parametrize("lang", LANGS)
def test_device_and_plan_texts_read_well(app_env, lang):
    at = new_app(lang, "views/3_Train.py")
    text = shown(at)
    assert "stage(s)" not in text and "top: " not in text
    if lang == "ko":
        assert "cores" not in text and "threads" not in text, "the device line is Korean too"
        assert "코어" in text
    goto(at, "views/2_Decision_map.py")
    assert t("map_rec_title", lang, q=3, plan=t("plan_top_n", lang, stages=t("stages_one", lang))) in shown(at) or \
        "→" in at.subheader[0].value


@pytest.mark.parametrize("lang", LANGS)
def test_what_if_labels_the_train_button(app_env, lang):
    at = new_app(lang, "views/2_Decision_map.py")
    own = at.button(key="map_train").label
    at.session_state["what_if"] = 1
    at.run()
    label = at.button(key="map_train").label
    assert label != own and t("map_train_whatif", lang, plan="", q=1).split("{")[0][:4] in label
    assert "1" in label, "the button says it trains quadrant 1's plan"


def test_queued_compare_rows_say_queued(app_env):
    from tlcore.service.compare import CompareRow
    from ui.compare_view import compare_table

    rows = [CompareRow("r1", "head", "completed", 0.8, 12.0, 100, 0, [(1, 0.8)], best_val_balanced_accuracy=0.7),
            CompareRow("r2", "full", "queued", 0.0, 0.0, 0, 2, [])]
    table = compare_table(rows, "en")
    assert table[0]["Best accuracy"] == "80.0%" and table[0]["Balanced accuracy"] == "70.0%"
    assert table[1]["Best accuracy"] == "queued" and table[1]["Trained parameters"] == "queued"
    assert "0.0%" not in table[1].values()


def test_star_never_covers_a_quadrant_label():
    from tlcore import viz

    for ipc, sim in [(20, 0.1), (60, 0.08), (20, 0.9), (5000, 0.1), (5000, 0.95), (1000, 0.5)]:
        fig = viz.decision_map("en", position=(ipc, sim), highlight=3)
        star = next(tr for tr in fig.data if tr.name == "dataset")
        sx, sy = np.log10(star.x[0]), star.y[0]
        for tr in fig.data:
            if tr.name and tr.name.startswith(("label", "plan_label")):
                lx, ly = np.log10(tr.x[0]), tr.y[0]
                assert not (abs(lx - sx) < 0.8 and abs(ly - sy) < 0.08), (ipc, sim, tr.name)


# ---------------------------------------------------------------------------
# Issue 18, item 2: the dataset is in the URL


@pytest.mark.parametrize("lang", LANGS)
def test_reload_keeps_the_uploaded_dataset(app_env, lang):
    at = upload(new_app(lang), "photos.zip", zip_of({"cats": 6, "dogs": 6}))
    data_id = at.query_params["data"]
    assert data_id.startswith("upload:") and "/" not in data_id, "an id, never a path"
    at.button(key="data_next").click().run()
    assert at.query_params["data"] == data_id
    # A reload (a new session with the same URL) keeps the upload, on every page.
    for page in ("views/2_Decision_map.py", "views/3_Train.py", "views/1_Data.py"):
        again = new_app(lang, page, query={"data": data_id})
        assert_clean(again)
        assert again.session_state["dataset"]["name"] == "photos.zip", page
    assert again.radio(key="data_source").value == "upload"
    assert ui_md("photos.zip") in shown(again)


@pytest.mark.parametrize("lang", LANGS)
def test_a_dataset_id_that_is_gone_says_so(app_env, lang):
    at = new_app(lang, "views/2_Decision_map.py", query={"data": "upload:0123456789abcdef-x2"})
    assert not at.exception
    assert any(t("dataset_gone", lang, error="")[:10] in w.value and ui_md("Upload its .zip again") in w.value
               for w in at.warning)
    assert at.session_state["dataset"]["source"] == "lab"
    bad = new_app(lang, "views/2_Decision_map.py", query={"data": "/etc/passwd"})
    assert any("is not a dataset id" in w.value for w in bad.warning)


def test_dataset_ids_resolve_and_refuse_paths(app_env, tmp_path):
    lab = lab_path()
    lab_id = service.dataset_id(lab)
    assert lab_id == "lab:s0.30-n10-v10-seed0"
    assert service.resolve_dataset(lab_id) == lab
    make_image_folder(tmp_path / "roots" / "flowers", classes=2, per_class=4)
    assert service.dataset_id(tmp_path / "roots" / "flowers") == "folder:roots/flowers"
    assert service.resolve_dataset("folder:roots/flowers") == (tmp_path / "roots" / "flowers").resolve()
    root = service.save_upload("x.zip", zip_of({"a": 4, "b": 4}))
    up = service.dataset_id(root)
    assert service.resolve_dataset(up) == root and service.upload_name(up) == "x.zip"
    assert service.dataset_id(tmp_path) is None, "a folder the app did not offer has no id"
    for bad in ("/etc", "folder:../../etc", "upload:../../x", "lab:s9.00-n10-v10-seed0", "built:../x", "lab:s0.30-n99999-v10-seed0"):
        with pytest.raises(service.TLError) as err:
            service.resolve_dataset(bad)
        assert err.value.code in ("bad_dataset_id", "dataset_gone"), bad


# ---------------------------------------------------------------------------
# Issue 18, item 5: names shown exactly as written


def ui_md(text: str) -> str:
    from ui.text import md

    return md(text)


def rendered(markdown: str) -> str:
    """What CommonMark shows for text whose every ASCII punctuation is backslash-escaped: the text itself.

    Fails if any punctuation character is left unescaped (it could start Markdown, HTML or a directive).
    """
    out, i = [], 0
    while i < len(markdown):
        ch = markdown[i]
        if ch == "\\" and i + 1 < len(markdown) and not markdown[i + 1].isalnum() and markdown[i + 1].isascii():
            out.append(markdown[i + 1])
            i += 2
            continue
        assert not (ch.isascii() and not ch.isalnum() and not ch.isspace()), f"unescaped {ch!r} in {markdown!r}"
        out.append(ch)
        i += 1
    return "".join(out)


def test_md_escape_shows_names_as_written():
    for name in MARKUP_NAMES + ["class_0", "a\\b", "`code`", "[link](x)", "~~s~~", "| a |", "한국어 🙂"]:
        assert rendered(ui_md(name)) == name


@pytest.mark.parametrize("lang", LANGS)
def test_markup_class_names_are_shown_as_written(app_env, lang):
    classes = dict.fromkeys(MARKUP_NAMES, 4)
    classes["# heading"] = 14  # imbalanced: the warning quotes two of the names
    at = upload(new_app(lang), "**names**.zip", zip_of(classes))
    ds = at.session_state["dataset"]
    assert sorted(ds["classes"]) == sorted(MARKUP_NAMES)
    captions = [c.value for c in at.caption]
    for name in MARKUP_NAMES:
        assert ui_md(name) in captions, f"sample caption of {name!r}"
        assert rendered(ui_md(name)) == name
    assert t("data_summary", lang, label=ui_md("**names**.zip")) == at.subheader[0].value
    imbalance = [w.value for w in at.warning if ui_md("# heading") in w.value]
    assert imbalance and ui_md("$x$ _u_") in imbalance[0], "warnings quote names as written"
    # Charts: plotly reads <b> as markup, so names go in escaped, cut, with the full name on hover.
    chart = at.get("plotly_chart")[0].proto.spec
    assert "&lt;b&gt;x&lt;" in chart and "<b>x<" not in chart.replace("<b>Q", "")
    # The map and Train captions name the upload as written.
    at.button(key="data_next").click().run()
    assert ui_md("**names**.zip") in at.caption[0].value
    run_id = finished_run(app_env, ds["path"], ds["classes"], name="**names**.zip", mistakes=3)
    goto(at, "views/6_Runs.py")
    assert "**names**.zip" in at.dataframe[0].value.to_string(), "tables show plain text"
    assert any("**names**.zip" in o for o in at.selectbox(key="runs_pick").options)
    at.switch_page("views/3_Train.py")
    at.query_params["run"] = run_id
    at.run()
    assert_clean(at)
    assert ui_md("**names**.zip") in shown(at)


# ---------------------------------------------------------------------------
# Issue 18, item 6: charts readable at any class count


def test_charts_scale_with_the_class_count():
    from tlcore import viz

    few = [f"c{i}" for i in range(5)]
    many = [f"a very long class name number {i:02d} of sixty" for i in range(60)]
    assert viz.per_class_accuracy(few, [0.5] * 5).layout.height == 300
    fig = viz.per_class_accuracy(many, [0.5] * 59 + [None])
    assert fig.layout.height >= 60 * viz.ROW_PX, "one readable row per class"
    ticks = fig.layout.yaxis.ticktext
    assert all(len(x) <= viz.LABEL_CHARS for x in ticks) and ticks[0].endswith("…")
    assert fig.data[0].customdata[0][0] == many[0], "the full name on hover"
    assert fig.data[0].text[-1] == "n/a"
    cm = viz.confusion_matrix(many[:20], [[1] * 20] * 20)
    assert cm.layout.height >= 20 * viz.ROW_PX
    top = viz.top_confusions(["a", "b", "c"], [[5, 3, 0], [1, 4, 0], [0, 2, 6]])
    assert top[0] == ("a", "b", 3, 3 / 8) and len(top) == 3
    assert viz.confusion_errors([[5, 3, 0], [1, 4, 0], [0, 2, 6]]) == 6


def test_sixty_classes_show_top_confusions_as_a_table(app_env):
    classes = [f"species {i:02d} with a long descriptive name" for i in range(60)]
    run_id = finished_run(app_env, lab_path(), classes)
    at = new_app("en", "views/3_Train.py", query={"run": run_id})
    assert_clean(at)
    assert "The most frequent confusions" in shown(at)
    table = at.dataframe[0].value
    assert list(table.columns)[:3] == ["True class", "Predicted class", "Images"] and len(table) == 15
    assert classes[2] in set(table["True class"]), "tables show full names (the most frequent confusion first)"


# ---------------------------------------------------------------------------
# Issue 18, item 7: times in the viewer's zone, with the zone stated


@pytest.mark.parametrize("lang", LANGS)
def test_times_in_the_viewers_zone(app_env, lang):
    created = 1767225600.0  # 2026-01-01 00:00 UTC
    finished_run(app_env, lab_path(), ["a", "b"], created=created)
    at = new_app(lang)
    at.context = {"timezone": "Asia/Seoul", "timezone_offset": -540}
    goto(at, "views/6_Runs.py")
    assert_clean(at)
    started = at.dataframe[0].value[t("col_created", lang)][0]
    assert started.startswith("01-01 09:00 KST"), started
    assert t("ago_days", lang, n=1)[-3:] in started or "ago" in started or "전" in started
    assert t("runs_times_in", lang, zone=ui_md("Asia/Seoul")) in shown(at)
    assert "01-01 09:00 KST" in at.selectbox(key="runs_pick").options[0]
    # Without the browser's zone the server's is used, and the page says so.
    plain = new_app(lang, "views/6_Runs.py")
    assert t("time_zone_server", lang, zone="")[-10:-1] in shown(plain)


# ---------------------------------------------------------------------------
# Issue 18, item 4: the cache size and a clear button on the Runs page


@pytest.mark.parametrize("lang", LANGS)
def test_runs_page_shows_the_cache_and_clears_it(app_env, lang, monkeypatch):
    from tlcore import diskcache

    service.save_upload("old.zip", zip_of({"a": 4, "b": 4}))
    at = new_app(lang, "views/6_Runs.py")
    assert_clean(at)
    before = service.cache_usage()["bytes"]
    assert any(t("cache_title_cap", lang, used="", limit="")[:4] in e.proto.label for e in at.expander)
    monkeypatch.setattr(diskcache, "RECENT_S", 0.0)  # nothing counts as in use but what a run protects
    at.checkbox(key="cache_confirm").check().run()
    at.button(key="cache_clear").click().run()
    assert_clean(at)
    assert at.success and service.cache_usage()["bytes"] < before


def test_current_data_first_orders_runs_for_pickers(app_env):
    import ui

    lab = lab_path()
    at = upload(new_app("en"), "photos.zip", zip_of({"cats": 6, "dogs": 6}))
    mine = finished_run(app_env, at.session_state["dataset"]["path"], ["cats", "dogs"], created=1000.0)
    other = finished_run(app_env, lab, ["a", "b"], created=2000.0)
    infos = RunStore(app_env).list()
    import streamlit as st

    st.session_state["dataset"] = at.session_state["dataset"]  # outside a script run: Streamlit's bare-mode state
    try:
        assert [r.run_id for r in ui.current_data_first(infos)] == [mine, other], "the current dataset's run first"
    finally:
        del st.session_state["dataset"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_built_in_real_photos_are_a_data_source(app_env, lang):
    """Offline real photos (issue #11): one click on the Data page; the map then offers efficientnet_lite0."""
    at = new_app(lang, page="views/1_Data.py")
    at.radio(key="data_source").set_value("photos").run()
    assert not at.exception and not at.error
    ds = at.session_state["dataset"]
    assert ds["source"] == "photos" and ds["classes"] == ["no_person", "person"] and ds["id"] == "photos:default"
    assert at.query_params["data"] == "photos:default", "a reload keeps the photos"
    again = new_app(lang, page="views/2_Decision_map.py", query={"data": "photos:default"})
    assert again.session_state["dataset"]["source"] == "photos"
    from tlcore import service

    assert service.default_model_for(ds["path"]) == "efficientnet_lite0"
