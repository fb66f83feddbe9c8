"""The Predict page and the run results driven by AppTest: confidence bars, right/wrong, heatmaps, two runs
side by side, the mistakes gallery sorted by confidence, and verified downloads."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests import colour_world as world
from tlcore.events import Evaluation
from tlcore.runs import RunStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """(runs dir, full run id, head run id): the colour world, fine-tuned (right) and frozen for one epoch (often wrong)."""
    base = tmp_path_factory.mktemp("app-explain")
    data = world.make_dataset(base / "colours")
    runs = base / "runs"
    full = world.trained_run(runs, data, "full", epochs=10)
    head = world.trained_run(runs, data, "head", epochs=1)
    return runs, full, head


@pytest.fixture
def app(two_runs, tmp_path, monkeypatch):
    runs, full, head = two_runs
    monkeypatch.setenv("TLCORE_RUNS_DIR", str(runs))
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield two_runs
    st.cache_resource.clear()
    st.cache_data.clear()


def _open(page: str, query: dict | None = None, session: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (session or {}).items():
        at.session_state[k] = v
    at.run()
    at.switch_page(page).run()
    return at


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_predict_shows_every_class_right_or_wrong_and_heatmaps(app):
    runs, full, head = app
    at = _open("views/5_Predict.py", session={"current_run": full})
    assert at.selectbox(key="pred_run").value == full
    at.button(key="pred_samples").click().run()
    _clean(at)
    bars = at.get("progress")
    assert len(bars) == 6 * 3, "every class's probability (three classes) for each of six validation images"
    text = _markdown(at)
    assert text.count("✓ right") == 6, "the fine-tuned run is right on its validation images, and says so"
    assert "Grad-CAM on stage4" in text and "2×2 cells" in text
    images = at.get("image")
    assert len(images) >= 6, "each image with its heatmap"

    # Another model: the images stay; the frozen one-epoch run is wrong on some and says so.
    at.selectbox(key="pred_run").set_value(head).run()
    _clean(at)
    text = _markdown(at)
    assert len(at.get("progress")) == 18 and text.count("✓ right") + text.count("✗ wrong") == 6
    assert "✗ wrong" in text

    # A picked class: every heatmap shows the evidence for it.
    at.selectbox(key="pred_explain_class").set_value("green").run()
    _clean(at)
    assert "evidence for green" in str([_captions(i) for i in at.get("image")])


def test_predict_side_by_side_and_export_download(app):
    runs, full, head = app
    at = _open("views/5_Predict.py", session={"current_run": full})
    at.button(key="pred_samples").click().run()
    assert at.selectbox(key="pred_compare_run").value == head, "the other plan on the same data"
    text = _markdown(at)
    assert "what changed?" in "\n".join(s.value for s in at.subheader)
    assert f"({full})**" in text and f"({head})**" in text, "a column per run"
    overlays = [c for i in at.get("image") for c in _captions(i) if c.endswith("evidence for blue")]
    assert len(overlays) >= 2, "the same image explained by each run"

    # Export: pick ONNX, export and verify, then the download appears with the verification said.
    at.radio(key="pred_export_format").set_value("onnx").run()
    at.button(key="pred_export_go").click().run()
    _clean(at)
    assert at.success and "Verified: on 18 validation images" in at.success[0].value
    assert at.get("download_button"), "the verified export can be downloaded"
    assert (runs / full / "exports" / "onnx" / "model_card.json").is_file()
    # Coming back later: the export is found, not made again.
    again = _open("views/5_Predict.py", session={"current_run": full})
    again.radio(key="pred_export_format").set_value("onnx").run()
    assert again.success and "pred_export_go" not in [b.key for b in again.button]


def test_mistakes_gallery_most_confident_first_with_heatmaps(app):
    runs, full, head = app
    events, _ = RunStore(runs).events(head)
    ev = next(e for e in events if isinstance(e, Evaluation))
    assert ev.num_misclassified >= 2, "a frozen one-epoch run gets some colours wrong"
    at = _open("views/3_Train.py", query={"run": head})
    _clean(at)
    text = _markdown(at)
    shown_n = min(ev.num_misclassified, 12)
    assert f"{shown_n} of {ev.num_misclassified} shown, the most confident mistakes first" in text
    captions = [c for i in at.get("image") for c in _captions(i)]
    shown = [c for c in captions if "→" in c]
    confs = [int(c.rsplit("(", 1)[1].rstrip("%)")) for c in shown]
    assert shown and confs == sorted(confs, reverse=True), "most confident mistakes first"
    assert any(c.startswith("evidence for") for c in captions), "with what misled the model"
    at.toggle(key=f"gallery_heatmaps_{head}").set_value(False).run()
    assert not any(c.startswith("evidence for") for i in at.get("image") for c in _captions(i))
    assert at.radio(key="train_export_format"), "Train offers the verified downloads too"


def _captions(img_element) -> list[str]:
    return [i.caption for i in img_element.proto.imgs]
