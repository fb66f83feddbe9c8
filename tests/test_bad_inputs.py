"""Every case of the bad-input corpus, through open_dataset and through `python -m tlcore inspect`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from badinputs import CASES, SLOW_CASES, Expected
from tlcore.data import load_rgb, open_dataset
from tlcore.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def _params():
    return [pytest.param(name, id=name, marks=[pytest.mark.slow] if name in SLOW_CASES else []) for name in CASES]


def _snapshot(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def _build(name: str, tmp_path: Path) -> tuple[Path, Expected]:
    path, expected = CASES[name](tmp_path / "case")
    assert expected.kind in ("ok", "skipped", "error")
    return path, expected


@pytest.mark.parametrize("name", _params())
def test_case_in_process(name, tmp_path):
    path, exp = _build(name, tmp_path)
    work = tmp_path / "work"
    before = _snapshot(tmp_path)

    if exp.kind == "error":
        with pytest.raises(DataError) as info:
            open_dataset(path, work_dir=work)
        assert exp.value.lower() in info.value.message.lower(), info.value.message
        assert info.value.hint  # every refusal says how to fix it
        report = None
    else:
        report = open_dataset(path, work_dir=work)

    # Nothing is ever written outside the extraction folder, and no link is ever created.
    new = _snapshot(tmp_path) - before
    assert all(p == work or work in p.parents for p in new), sorted(map(str, new - {work}))[:5]
    assert not any(p.is_symlink() for p in new)
    for p in exp.forbidden:
        assert not p.exists()
    if report is None:
        if path.suffix == ".zip" and work.exists():  # a refused zip leaves no extracted files behind
            assert not [p for p in work.rglob("*") if p.is_file()]
        return

    skipped = {s.path: s for s in report.skipped}
    usable = {p for p, _ in report.train + report.val}
    if exp.kind == "skipped":
        assert exp.file in skipped, report.skipped
        assert skipped[exp.file].reason == exp.value
        assert skipped[exp.file].detail
        assert str(Path(report.root) / exp.file) not in usable
    else:
        assert report.skipped == []
        if exp.file:
            full = str(Path(report.root) / exp.file)
            assert full in usable
            img = load_rgb(full)
            assert img.mode == "RGB"
            if exp.check:
                exp.check(img)
    if exp.num_classes is not None:
        assert report.num_classes == exp.num_classes
    if exp.classes is not None:
        assert tuple(report.classes) == exp.classes
    if exp.warning:
        assert exp.warning in {w["code"] for w in report.warnings}
    json.dumps(report.to_json())  # serialisable as it is


def test_corpus_is_complete():
    required = {
        "corrupt_jpeg_header", "truncated_jpeg", "truncated_png", "zero_byte_file", "text_named_jpg",
        "html_named_png", "png_16bit", "cmyk_jpeg", "palette_png_transparency", "one_pixel_images",
        "png_huge_header", "animated_gif", "exif_rotated_jpeg", "webp", "tiff", "unicode_names",
        "empty_class_folder", "single_class", "class_with_one_image", "thousand_classes",
        "train_val_class_missing_in_val", "train_val_extra_class_in_val", "zip_dotdot_entry",
        "zip_absolute_entry", "zip_symlink_entry", "zip_bomb", "not_a_zip", "encrypted_zip",
        "zip_one_top_folder", "zip_mac_noise",
        "zip_windows_backslashes", "zip_cp949_names", "zip_cp437_names", "zip_nfd_names", "zip_nfd_and_nfc_folders",
        "folder_nfd_and_nfc_classes", "jpeg_other_suffixes", "jpeg_huge_header", "large_photo_jpeg", "heic_photo",
    }
    assert required <= set(CASES), required - set(CASES)


@pytest.mark.skipif(not (REPO / "tlcore" / "__main__.py").exists(), reason="the CLI is not written yet")
@pytest.mark.parametrize("name", _params())
def test_case_through_cli(name, tmp_path):
    path, exp = _build(name, tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "tlcore", "inspect", str(path), "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    for p in exp.forbidden:
        assert not p.exists()
    if exp.kind == "error":
        assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
        assert exp.value.lower() in lines[0].lower()
        return
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "size" in out
    skipped = {s["path"]: s["reason"] for s in out["skipped"]}
    if exp.kind == "skipped":
        assert skipped.get(exp.file) == exp.value, out["skipped"]
    else:
        assert skipped == {}
    if exp.num_classes is not None:
        assert out["num_classes"] == exp.num_classes
    if exp.classes is not None:
        assert tuple(out["classes"]) == exp.classes
    if exp.warning:
        assert exp.warning in {w["code"] for w in out["warnings"]}
