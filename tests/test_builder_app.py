"""The Data page's "Build it here", driven by widget key with AppTest, in English and Korean."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from tlcore.data import open_dataset
from tlcore.i18n import t
from tlcore.service import builder as B
from ui.text import md

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(cache))
    monkeypatch.setenv("TLCORE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TLCORE_DATA_ROOTS", str(tmp_path / "roots"))
    monkeypatch.delenv(B.DRAFT_MAX_MB_ENV, raising=False)
    st.cache_resource.clear()
    yield cache
    st.cache_resource.clear()


def photo(seed: int, fmt: str = "JPEG", color=(200, 40, 40), size=(80, 60)) -> bytes:
    rng = np.random.default_rng(seed)
    arr = np.clip(rng.normal(0, 20, (size[1], size[0], 3)) + np.array(color), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def builder_page(lang: str = "en", query: dict | None = None, clean: bool = True) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("views/1_Data.py").run()
    for k, v in (query or {}).items():  # switching pages keeps only the language in the URL, as a link would
        at.query_params[k] = v
    at.radio(key="data_source").set_value("build").run()
    if clean:
        assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def add_class(at: AppTest, name: str) -> AppTest:
    at.text_input(key="bld_new_class").set_value(name)
    return at.button(key="bld_add_class").click().run()


def heads(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**")]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_build_upload_capture_remove_rename_save(env, lang):
    at = builder_page(lang)
    draft = at.query_params["draft"]
    assert B.draft_exists(draft), "the draft's key is in the URL"
    assert t("bld_no_classes", lang) in [i.value for i in at.info]

    # Refused names, in the page's language; then two good ones.
    add_class(at, "../x")
    assert at.error[0].value == t("builder_err_name_unsafe", lang, name=md("../x"), chars=md("/"))
    add_class(at, "고양이" if lang == "ko" else "cats")
    add_class(at, "dogs")
    add_class(at, "DOGS")
    assert at.error[0].value == t("builder_err_class_exists", lang, name="dogs")
    add_class(at, "_a_ [b](c) #d")  # names are shown as written, never as Markdown
    assert heads(at)[-1] == t("bld_class_head", lang, cls=md("_a_ [b](c) #d"), n=0)
    at.button(key="bld_delete__a_ [b](c) #d").click().run()
    first = "고양이" if lang == "ko" else "cats"
    assert at.radio(key="bld_target").options == [first, "dogs"]

    # Upload several files into the first class: one is not an image.
    at.radio(key="bld_target").set_value(first).run()
    at.file_uploader(key="bld_upload_0").set_value(
        [(f"IMG_{i}.jpg", photo(i), "image/jpeg") for i in range(3)] + [("notes.jpg", b"just text", "image/jpeg")]).run()
    assert_clean(at)
    assert at.success[0].value == t("bld_added", lang, n=3, cls=first)
    assert md("notes.jpg") in at.warning[0].value and t("skip_not_an_image", lang) in at.warning[0].value
    assert at.file_uploader(key="bld_upload_1").value == [], "the uploader is emptied for the next files"

    # Webcam: each capture goes into the chosen class, and the camera is ready again.
    at.radio(key="bld_target").set_value("dogs").run()
    at.radio(key="bld_how").set_value("camera").run()
    for shot in range(3):
        at.camera_input(key=f"bld_camera_{shot}").set_value((f"camera{shot}.jpg", photo(100 + shot, color=(40, 40, 200)),
                                                            "image/jpeg")).run()
        assert_clean(at)
    assert heads(at) == [t("bld_class_head", lang, cls=first, n=3), t("bld_class_head", lang, cls="dogs", n=3)]
    assert len(at.get("image")) == 6, "a thumbnail per image"

    # Remove a wrong image, rename a class.
    victim = B.open_draft(draft).get("dogs").images[0]
    at.button(key=f"bld_rm_{victim.id}").click().run()
    assert_clean(at)
    assert B.open_draft(draft).class_counts == {first: 3, "dogs": 2}
    at.text_input(key="bld_rename_dogs").set_value("강아지" if lang == "ko" else "puppies")
    at.button(key="bld_rename_do_dogs").click().run()
    assert_clean(at)
    second = "강아지" if lang == "ko" else "puppies"
    assert heads(at)[1] == t("bld_class_head", lang, cls=second, n=2)
    assert at.radio(key="bld_target").value == second, "the chosen class follows its new name"

    # Save: it becomes the session's dataset, summarised like any other.
    assert at.text_input(key="bld_name").value == t("bld_default_name", lang)
    at.button(key="bld_save").click().run()
    assert_clean(at)
    ds = at.session_state["dataset"]
    assert ds["source"] == "built" and sorted(ds["classes"]) == sorted([first, second]) and ds["num_images"] == 5
    assert at.success[-1].value == t("bld_saved", lang, name=md(t("bld_default_name", lang)), images=5, classes=2)
    assert [m.value for m in at.metric][:2] == ["2", "5"]
    assert at.get("download_button")[0].label == t("bld_download", lang)
    assert open_dataset(ds["path"]).class_counts == {first: 3, second: 2}
    assert at.button(key="data_next"), "on to the map, as with any dataset"

    # The draft changed after saving: say so.
    at.radio(key="bld_how").set_value("upload").run()
    at.file_uploader(key="bld_upload_1").set_value([("late.png", photo(7, "PNG"), "image/png")]).run()
    assert t("bld_changed", lang) in [i.value for i in at.info]


def test_a_reload_finds_the_draft_and_another_session_does_not(env):
    at = builder_page()
    add_class(at, "a")
    draft = at.query_params["draft"]
    again = builder_page(query={"draft": draft})
    assert again.radio(key="bld_target").options == ["a"], "a reload with the draft's key in the URL"
    other = builder_page()
    assert other.query_params["draft"] != draft
    assert not other.get("radio")[1:] or "bld_target" not in [r.key for r in other.radio]
    # A link with a draft key opens the builder at once; a key that names no draft says so and starts a new one.
    bad = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    bad.run()
    bad.switch_page("views/1_Data.py")
    bad.query_params["draft"] = "../../etc"
    bad.run()
    assert not bad.exception and bad.radio(key="data_source").value == "build"
    assert bad.error[0].value == t("builder_err_draft_not_found", "en")
    assert B.draft_exists(bad.query_params["draft"]), "a new draft instead"


def test_a_shared_set_is_opened_from_another_session(env):
    owner = builder_page()
    for name, color in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
        add_class(owner, name)
        owner.radio(key="bld_target").set_value(name).run()
        nonce = owner.session_state["bld_upload_nonce"]
        owner.file_uploader(key=f"bld_upload_{nonce}").set_value(
            [(f"{name}{i}.png", photo(i + (50 if name == "blue" else 0), "PNG", color), "image/png") for i in range(2)]).run()
    owner.text_input(key="bld_name").set_value("colours")
    owner.checkbox(key="bld_share").check()
    owner.button(key="bld_save").click().run()
    assert_clean(owner)

    student = builder_page("ko")
    assert student.selectbox(key="bld_open_pick").options == [t("bld_open_fmt", "ko", name="colours", images=4, classes=2)]
    student.button(key="bld_open").click().run()
    assert_clean(student)
    assert student.session_state["dataset"]["name"] == "colours"
    assert student.session_state["dataset"]["num_images"] == 4
    student.button(key="bld_copy").click().run()
    assert_clean(student)
    assert student.success[0].value == t("bld_copied", "ko", n=4)
    assert B.open_draft(student.query_params["draft"]).class_counts == {"red": 2, "blue": 2}
    # The same shared name from someone else is refused, in their language.
    student.text_input(key="bld_name").set_value("COLOURS")
    student.checkbox(key="bld_share").check()
    student.button(key="bld_save").click().run()
    assert student.error[0].value == t("builder_err_set_name_taken", "ko", name="colours")


def test_a_full_draft_says_so(env, monkeypatch):
    monkeypatch.setenv(B.DRAFT_MAX_MB_ENV, "0.02")
    at = builder_page()
    add_class(at, "a")
    at.file_uploader(key="bld_upload_0").set_value(
        [(f"{i}.png", photo(i, "PNG", size=(160, 120)), "image/png") for i in range(4)]).run()
    assert_clean(at)
    assert t("builder_skip_draft_full", "en", images=1000, mb=md("0.02")) in at.warning[-1].value
    assert t("bld_full", "en") in [w.value for w in at.warning]


def test_save_refusals_are_explained(env):
    at = builder_page("ko")
    add_class(at, "하나")
    at.file_uploader(key="bld_upload_0").set_value([("1.png", photo(1, "PNG"), "image/png")]).run()
    at.button(key="bld_save").click().run()
    assert at.error[0].value == t("builder_err_save_too_few_classes", "ko", n=1)
    add_class(at, "둘")
    at.button(key="bld_save").click().run()
    assert at.error[0].value == t("builder_err_save_class_too_small", "ko", classes=md("하나, 둘"), need=2)
    assert (at.session_state["dataset"] or {}).get("source") != "built"
