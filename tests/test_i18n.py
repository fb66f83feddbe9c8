"""UI text: both languages complete and consistent; the app's layering rules (no streamlit in tlcore, no torch in pages)."""
from __future__ import annotations

import ast
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from tlcore.data import SKIP_REASONS
from tlcore.decision import QUADRANTS, USER_SIMILARITY_CHOICES, DatasetProfile, recommend
from tlcore.i18n import LANGS, TEXT, has, plan_name, reason_lines, skip_text, t, verdict_text, warning_text
from tlcore.plans import PLAN_NAMES
from tlcore.runs import ACTIVE_STATES, FINAL_STATES
from tlcore.service import Verdict

ROOT = Path(__file__).resolve().parents[1]
APP_FILES = [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "views").glob("*.py"))]


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_both_languages_have_the_same_keys():
    assert set(LANGS) == set(TEXT) == {"en", "ko"}
    assert set(TEXT["en"]) == set(TEXT["ko"]), set(TEXT["en"]) ^ set(TEXT["ko"])


@pytest.mark.parametrize("key", sorted(TEXT["en"]))
def test_placeholders_match_and_korean_is_translated(key):
    en, ko = TEXT["en"][key], TEXT["ko"][key]
    assert placeholders(en) == placeholders(ko), key
    assert ko.strip(), key


def test_every_text_the_app_asks_for_exists():
    used = set()
    for path in APP_FILES + sorted((ROOT / "tlcore" / "viz").glob("*.py")):
        used |= set(re.findall(r"\bt\(\s*\"([a-z0-9_]+)\"", path.read_text(encoding="utf-8")))
    assert used, "the pages look texts up"
    assert sorted(k for k in used if not has(k)) == []
    # Families the pages build keys for.
    families = (
        [f"status_{s}" for s in ACTIVE_STATES + FINAL_STATES]
        + [f"plan_{p}" for p in PLAN_NAMES]
        + [f"sim_{c}" for c in USER_SIMILARITY_CHOICES] + [f"sim_{c}_example" for c in USER_SIMILARITY_CHOICES]
        + [f"q{q}_{part}" for q in QUADRANTS for part in ("title", "body", "short", "plan")]
        + [f"reason_quadrant{q}" for q in QUADRANTS]
        + [f"skip_{r}" for r in SKIP_REASONS]
        + [f"warn_{c}" for c in ("imbalance", "tiny_class", "small_images", "empty_folder", "val_missing_class",
                                             "zip_name_encoding", "merged_classes")]
        + [f"phase_{p}" for p in ("queue", "data", "weights", "features")]
        + [f"source_{s}" for s in ("lab", "upload", "folder")]
        + [f"val_source_{s}" for s in ("folder", "split")]
        + [f"verdict_{v}" for v in ("pending", "not_run", "no_map", "agree_best", "agree_close", "disagree")]
    )
    assert [k for k in families if not has(k)] == []


def test_t_formats_and_falls_back():
    assert t("run_completed", "en", acc=0.5) == "Done: best validation accuracy 50.0%."
    assert t("run_completed", "ko", acc=0.5) == "완료: 최고 검증 정확도 50.0%."
    assert t("run_completed", "xx", acc=0.5) == t("run_completed", "en", acc=0.5)
    assert t("no_such_key") == "no_such_key"
    assert "1,000" in t("home_map_body", "en")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("ipc,sim,source", [(20, 0.9, "user"), (20, 0.1, "measured"), (5000, 0.9, "user"),
                                            (5000, 0.1, "user"), (1000, 0.55, "measured")])
def test_reasons_are_spelled_out_in_each_language(lang, ipc, sim, source):
    rec = recommend(DatasetProfile(ipc, 5, sim, source))
    lines = reason_lines(rec, lang)
    assert len(lines) == len(rec.reason_keys) >= 3
    assert not any("{" in line or "reason_" in line for line in lines)
    if lang == "ko":
        assert all(re.search("[\uac00-\ud7a3]", line) for line in lines)
    else:
        assert lines[2].startswith(("Large", "Small")), "the third reason is the quadrant's"


def test_data_warnings_skips_and_verdicts_read_well():
    w = {"code": "imbalance", "params": {"max_class": "a", "max_count": 40, "min_class": "b", "min_count": 4, "ratio": 10.0}}
    assert "'a' has 40 images but 'b' only 4" in warning_text(w)
    assert "'a'" in warning_text(w, "ko")
    tiny = {"code": "tiny_class", "params": {"classes": ["x", "y"], "threshold": 10}}
    assert "x, y" in warning_text(tiny)
    assert "odd" in warning_text({"code": "odd", "params": {"n": 1}})
    assert skip_text("truncated", "ko") == "파일이 잘림" and skip_text("mystery") == "mystery"
    v = Verdict(False, "verdict_disagree", {"plan": "head", "acc": 50.0, "best_plan": "full", "best_acc": 70.0,
                                           "gap": 20.0, "tol": 2.0})
    text = verdict_text(v, "en")
    assert plan_name("full") in text and "20.0 points" in text
    assert plan_name("top", "en", 2) == "top (last 2 stages + output layer)"
    assert plan_name("top", "en", 1) == "top (last stage + output layer)"


def test_pages_import_no_torch():
    for path in APP_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] in ("torch", "torchvision") for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in ("torch", "torchvision"), path
    # And what they import at module level does not pull torch in either: the first page loads fast.
    code = "import sys, ui, tlcore.service, tlcore.viz, tlcore.i18n; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


#: Calls that put text on the screen; their text must come from tlcore.i18n.
_DISPLAY = {"title", "header", "subheader", "markdown", "write", "caption", "info", "warning", "error", "success",
            "button", "metric", "radio", "selectbox", "slider", "select_slider", "number_input", "checkbox",
            "file_uploader", "multiselect", "expander", "toast", "progress", "download_button", "page_link",
            "text", "spinner", "text_input"}


def _literal_text(node) -> str | None:
    """Letters written into the source (a str constant, or the fixed parts of an f-string)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def test_pages_show_no_literal_text():
    found = []
    for path in APP_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _DISPLAY):
                continue
            args = list(node.args) + [k.value for k in node.keywords if k.arg in ("label", "body", "help", "text", "caption")]
            for arg in args:
                text = _literal_text(arg)
                if text and re.search(r"[A-Za-z\uac00-\ud7a3]{2,}", text):
                    found.append(f"{path.name}:{node.lineno}: {text!r}")
    assert found == []
