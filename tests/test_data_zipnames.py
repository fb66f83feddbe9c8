"""Real-world zips and class names (issue #12): Windows tools, legacy name encodings, NFD, merged classes."""
from __future__ import annotations

import errno
import os
import struct
import time
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest

from badinputs import base_dataset, make_zip, make_zip_raw_names, png_bytes
from tlcore.data import materialize_dataset, open_dataset, safe_extract_zip
from tlcore.data import archives
from tlcore.data.zipnames import guess_encoding
from tlcore.errors import DataError


def codes(report) -> dict[str, dict]:
    return {w["code"]: w["params"] for w in report.warnings}


def entries_for(names: list[str]) -> list[tuple[str, bytes]]:
    """Two images in each class folder."""
    return [(f"{n}/{i}.png", png_bytes(color=(30 * c % 256, 20 * i, 9))) for c, n in enumerate(names) for i in range(2)]


# ---------------------------------------------------------------------------
# Zip names: UTF-8 with or without the flag, legacy code pages, NFD


def _zip_utf8_flag(path, names):
    return make_zip(path, entries_for(names))  # zipfile flags non-ASCII names as UTF-8


def _raw_zip(encoding, normal="NFC"):
    def build(path, names):
        return make_zip_raw_names(path, [(unicodedata.normalize(normal, n).encode(encoding), d)
                                         for n, d in entries_for(names)])
    return build


def _zip_unicode_path_field(path, names):
    # 7-Zip and WinRAR keep a legacy name and add its UTF-8 form in an Info-ZIP Unicode Path field.
    entries, extra = [], {}
    for name, data in entries_for(names):
        raw = name.encode("cp949")
        utf8 = name.encode("utf-8")
        extra[raw] = struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(raw)) + utf8
        entries.append((raw, data))
    return make_zip_raw_names(path, entries, extra)


ZIP_NAME_CASES = {
    # id: (builder, class folder names, expected classes, expected encoding warning or None)
    "utf8 flagged": (_zip_utf8_flag, ["개미", "벌 🐝"], ["개미", "벌 🐝"], None),
    "utf8 without the flag": (_raw_zip("utf-8"), ["고양이", "café"], ["café", "고양이"], None),
    "cp949 without the flag": (_raw_zip("cp949"), ["사진/개미", "사진/벌"], ["개미", "벌"], "cp949"),
    "cp437 (old Windows tool)": (_raw_zip("cp437"), ["café", "thé"], ["café", "thé"], "cp437"),
    "cp1252, one reading": (_raw_zip("cp1252"), ["Müller", "straße"], ["Müller", "straße"], None),
    "cp932 (Japanese Windows)": (_raw_zip("cp932"), ["ねこ", "いぬ"], ["いぬ", "ねこ"], None),
    # 0x5C ('\\') is the second byte of 表 and ソ: names must be decoded before '\\' is read as a separator.
    "cp932 with 0x5C bytes": (_raw_zip("cp932"), ["表", "ソフト"], ["ソフト", "表"], "cp932"),
    "utf8 emoji without the flag": (_raw_zip("utf-8"), ["🐱 cats", "👨‍👩‍👧 family"], sorted(["🐱 cats", "👨‍👩‍👧 family"]), None),
    "NFD (macOS), flagged": (lambda p, n: make_zip(p, entries_for([unicodedata.normalize("NFD", x) for x in n])),
                             ["고양이", "café"], ["café", "고양이"], None),
    "NFD without the flag": (_raw_zip("utf-8", "NFD"), ["고양이", "강아지"], ["강아지", "고양이"], None),
    "Unicode Path field": (_zip_unicode_path_field, ["개미", "벌"], ["개미", "벌"], None),
}


@pytest.mark.parametrize("case", list(ZIP_NAME_CASES))
def test_zip_names_become_the_right_classes(tmp_path, case):
    build, names, classes, encoding = ZIP_NAME_CASES[case]
    report = open_dataset(build(tmp_path / "d.zip", names), work_dir=tmp_path / "work")
    assert report.classes == classes
    assert all(unicodedata.is_normalized("NFC", c) for c in report.classes)
    warned = codes(report).get("zip_name_encoding")
    if encoding is None:
        assert warned is None
    else:  # a guess is never silent: the app can say how the names were read
        assert warned["encoding"] == encoding
        assert any(c in warned["example"] for c in classes) or warned["example"].startswith("사진")
    assert not (codes(report).keys() - {"zip_name_encoding", "tiny_class"})


def test_cp949_guess_names_the_other_readings(tmp_path):
    z = _raw_zip("cp949")(tmp_path / "d.zip", ["사진/개미", "사진/벌"])
    params = codes(open_dataset(z, work_dir=tmp_path / "w"))["zip_name_encoding"]
    assert params["example"] == "사진/개미" and "gbk" in params["alternatives"]


@pytest.mark.parametrize("text,encoding,certain", [
    ("写真/猫/1.jpg", "cp932", True),
    ("图片/猫/1.jpg", "gbk", True),
    ("фото/кошки/1.jpg", "cp1251", True),
    ("фото/кошки/1.jpg", "cp866", True),
    ("ação/niño.jpg", "cp1252", True),
    ("Ángel/1.jpg", "cp850", True),
    ("고양이/1.jpg", "cp949", False),  # the same bytes read as common Chinese characters too
    ("표/1.jpg", "cp949", False),  # C7 A5 is valid UTF-8 too ('ǥ'), but not a likely letter
    ("café/1.jpg", "cp437", False),  # only the DOS fallback fits
])
def test_guess_encoding(text, encoding, certain):
    raw = [text.encode(encoding), b"plain/ascii.jpg"]
    assert guess_encoding(raw)[0] == encoding
    assert guess_encoding(raw)[2] is certain


def test_guessing_a_big_zip_is_quick():
    names = [f"사진/고양이 {i % 7}/사진 {i}.jpg".encode("cp949") for i in range(100_000)]
    t0 = time.perf_counter()
    assert guess_encoding(names)[0] == "cp949"
    assert time.perf_counter() - t0 < 5.0


def test_zip_warnings_reach_a_report_on_the_extracted_folder(tmp_path, monkeypatch):
    # The app extracts an upload once and then opens the folder: the zip's warnings must still show.
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    z = _raw_zip("cp949")(tmp_path / "d.zip", ["개미", "벌"])
    folder = materialize_dataset(z)
    report = open_dataset(folder)
    assert report.classes == ["개미", "벌"]
    assert codes(report)["zip_name_encoding"]["encoding"] == "cp949"
    assert report.skipped == []


# ---------------------------------------------------------------------------
# Windows zips: '\' separators, folder entries; accurate extraction errors


@pytest.mark.parametrize("dos_attribute", [True, False])
def test_windows_zip_with_backslashes_and_folder_entries(tmp_path, dos_attribute):
    entries = []
    for name in ("data\\", "data\\cats\\", "data\\dogs\\", "data\\empty\\"):
        info = zipfile.ZipInfo(name)
        info.external_attr = 0x10 if dos_attribute else 0
        entries.append((info, b""))
    entries += [(n.replace("/", "\\"), d) for n, d in entries_for(["data/cats", "data/dogs"])]
    report = open_dataset(make_zip(tmp_path / "d.zip", entries), work_dir=tmp_path / "w")
    assert report.classes == ["cats", "dogs"] and report.num_images == 4
    assert codes(report)["empty_folder"] == {"folders": ["empty"]}


def test_file_and_folder_of_one_name_is_refused_clearly(tmp_path):
    z = make_zip(tmp_path / "d.zip", entries_for(["cats", "dogs"]) + [("cats", b"a file named like the folder")])
    with pytest.raises(DataError) as info:
        open_dataset(z, work_dir=tmp_path / "w")
    assert info.value.code == "zip_name_clash"
    assert "'cats'" in info.value.message and "disk" not in str(info.value)
    assert not [p for p in (tmp_path / "w").rglob("*") if p.is_file()]


@pytest.mark.parametrize("err,expected,disk_hint", [
    (errno.ENOSPC, "the disk is full", True),
    (getattr(errno, "EDQUOT", errno.ENOSPC), "the disk is full", True),
    (errno.EACCES, "not writable", False),
    (errno.ENAMETOOLONG, "too long", False),
    (errno.EIO, "Input/output error", False),
])
def test_extraction_errors_say_what_happened(tmp_path, monkeypatch, err, expected, disk_hint):
    def failing_open(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(archives, "open", failing_open, raising=False)
    z = make_zip(tmp_path / "d.zip", entries_for(["cats", "dogs"]))
    with pytest.raises(DataError) as info:
        safe_extract_zip(z, tmp_path / "out")
    assert expected in info.value.message
    assert ("disk space" in (info.value.hint or "")) is disk_hint


def test_names_equal_after_nfc_are_both_kept(tmp_path):
    nfd = unicodedata.normalize("NFD", "é.png")
    z = make_zip(tmp_path / "d.zip", entries_for(["a", "b"]) + [("a/é.png", png_bytes()), (f"a/{nfd}", png_bytes())])
    report = open_dataset(z, work_dir=tmp_path / "w")
    names = sorted(Path(p).name for p, y in report.train + report.val if y == 0)
    assert names == ["0.png", "1.png", "é (2).png", "é.png"]


# ---------------------------------------------------------------------------
# Class names: NFC, merged twins; numbers, spaces, emoji


def test_nfd_and_nfc_class_folders_are_one_class(tmp_path):
    base_dataset(tmp_path, classes=("고양이", "개"), per_class=3)
    base_dataset(tmp_path, classes=(unicodedata.normalize("NFD", "고양이"),), per_class=2)
    (tmp_path / unicodedata.normalize("NFD", "개")).mkdir()  # an empty twin is not news
    report = open_dataset(tmp_path)
    assert report.classes == ["개", "고양이"]
    assert report.class_counts == {"개": 3, "고양이": 5}
    assert codes(report) == {"merged_classes": {"classes": ["고양이"]}, "tiny_class": {"classes": ["개", "고양이"], "threshold": 10}}


def test_numeric_spaced_and_emoji_class_names(tmp_path):
    names = ("0", "10", "2", "with space", "🐱 cats", "고양이 2")
    base_dataset(tmp_path, classes=names)
    report = open_dataset(tmp_path)
    assert report.classes == sorted(names)
    assert all(Path(p).parent.name == report.classes[y] for p, y in report.train + report.val)
