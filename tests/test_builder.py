"""tlcore.service.builder: names, images in and out, removal, atomic saves, zips, isolation between drafts, limits."""
from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlcore.data import SKIP_REASONS, open_dataset
from tlcore.errors import DataError
from tlcore.i18n import LANGS, has, t
from tlcore.service import builder as B
from tlcore.service.builder import drafts as B_drafts


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(B.DRAFT_MAX_MB_ENV, raising=False)
    return tmp_path / "cache"


def encode(color=(200, 30, 30), size=(64, 48), fmt="JPEG", seed=0, **kw) -> bytes:
    """A small noisy picture (no two seeds alike) in ``fmt``."""
    rng = np.random.default_rng(seed)
    arr = np.clip(rng.normal(0, 20, (size[1], size[0], 3)) + np.array(color), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif = pytest.importorskip("pillow_heif")
        pillow_heif.from_pillow(Image.fromarray(arr)).save(buf, format="HEIF", quality=80)
    else:
        Image.fromarray(arr).save(buf, format=fmt, **kw)
    return buf.getvalue()


def draft_with(classes: dict[str, int], **kw) -> str:
    """A draft with ``classes`` (name -> number of images), each image distinct."""
    did = B.new_draft()
    seed = 0
    for name, n in classes.items():
        B.add_class(did, name)
        files = []
        for _ in range(n):
            seed += 1
            files.append((f"p{seed}.png", encode(seed=seed, fmt="PNG")))
        assert all(o.ok for o in B.add_images(did, name, files, **kw))
    return did


def codes(call) -> str:
    with pytest.raises(DataError) as err:
        call()
    return err.value.code


# ---------------------------------------------------------------------------
# Names


@pytest.mark.parametrize("raw,expected", [
    ("cats", "cats"), ("  spaced out  ", "spaced out"), ("고양이", "고양이"), ("e\u0301clair", "\u00e9clair"),
    ("🐱 cats", "🐱 cats"), ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"), ("0", "0"), ("train set", "train set"),
    ("a.b", "a.b"), ("가" * B.MAX_NAME_CHARS, "가" * B.MAX_NAME_CHARS),
])
def test_names_in_any_language_are_kept_in_nfc(raw, expected):
    assert B.clean_name(raw) == expected


@pytest.mark.parametrize("raw,code", [
    ("", "name_empty"), ("   ", "name_empty"), ("../x", "name_unsafe"), ("..", "name_unsafe"), (".", "name_unsafe"),
    ("///", "name_unsafe"), ("./.", "name_unsafe"), ("a/b", "name_unsafe"), ("a\\b", "name_unsafe"),
    (".hidden", "name_unsafe"), ("cats.", "name_unsafe"), ("a\nb", "name_unsafe"), ("a\u202eb", "name_unsafe"),
    ("what?", "name_unsafe"), ("train", "name_reserved"), ("VAL", "name_reserved"), ("__MACOSX", "name_reserved"),
    ("con", "name_reserved"), ("CON.txt", "name_reserved"), ("x" * (B.MAX_NAME_CHARS + 1), "name_too_long"),
])
def test_unsafe_empty_and_reserved_names_are_refused(raw, code):
    assert codes(lambda: B.clean_name(raw)) == code


def test_class_names_are_unique_after_nfc_and_ignoring_case():
    did = B.new_draft()
    B.add_class(did, "e\u0301")  # NFD, as macOS types it
    assert codes(lambda: B.add_class(did, "\u00e9")) == "class_exists"
    B.add_class(did, "Cats")
    assert codes(lambda: B.add_class(did, "cats")) == "class_exists"
    assert [c.name for c in B.open_draft(did).classes] == ["\u00e9", "Cats"]


def test_rename_keeps_images_and_refuses_a_taken_name():
    did = draft_with({"cat": 2, "dog": 2})
    B.rename_class(did, "cat", "CAT")  # the same class in other capitals is fine
    assert codes(lambda: B.rename_class(did, "CAT", "Dog")) == "class_exists"
    assert codes(lambda: B.rename_class(did, "nope", "x")) == "class_not_found"
    assert codes(lambda: B.rename_class(did, "CAT", "../up")) == "name_unsafe"
    draft = B.open_draft(did)
    assert draft.class_counts == {"CAT": 2, "dog": 2}


def test_delete_class_removes_its_images():
    did = draft_with({"cat": 2, "dog": 1})
    paths = [i.path for i in B.open_draft(did).get("cat").images]
    B.delete_class(did, "cat")
    assert B.open_draft(did).class_counts == {"dog": 1}
    assert not any(os.path.exists(p) for p in paths)


# ---------------------------------------------------------------------------
# Images


def test_each_file_gets_an_outcome_and_images_are_stored_small_and_upright():
    did = B.new_draft()
    B.add_class(did, "mixed")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": a phone held upright
    big = encode(size=(3000, 2000), seed=1)
    files = [
        ("IMG_0001.JPG", big),
        ("shot.png", encode(fmt="PNG", seed=2)),
        ("pic.webp", encode(fmt="WEBP", seed=3)),
        ("IMG_0002.HEIC", encode(fmt="HEIF", seed=4)),
        ("sideways.jpg", encode(size=(40, 20), seed=5, exif=exif.tobytes())),
        ("notes.txt", b"not an image at all"),
        ("empty.jpg", b""),
        ("cut.jpg", encode(seed=6)[:300]),
        ("again.jpg", big),
        ("../../evil\x00.png", encode(fmt="PNG", seed=7)),
    ]
    calls = []
    out = B.add_images(did, "mixed", files, progress=lambda done, total: calls.append((done, total)))
    assert [o.reason for o in out] == ["added"] * 5 + ["not_an_image", "empty_file", "truncated", "duplicate", "added"]
    assert {o.reason for o in out if not o.ok} <= set(SKIP_REASONS) | set(B.SKIP_CODES)
    assert out[8].params == {"cls": "mixed"}
    assert out[9].name == "evil.png", "only the base name is kept, without control characters"
    assert calls[-1] == (10, 10)
    images = {i.name: i for i in B.open_draft(did).get("mixed").images}
    assert (images["IMG_0001.JPG"].width, images["IMG_0001.JPG"].height) == (1024, 683)
    assert (images["sideways.jpg"].width, images["sideways.jpg"].height) == (20, 40), "EXIF rotation applied"
    for im in images.values():
        with Image.open(im.path) as stored:
            assert stored.format == "JPEG" and max(stored.size) <= B.MAX_SIDE
            assert stored.size == (im.width, im.height)
        with Image.open(im.thumb) as thumb:
            assert thumb.size == (B.THUMB_SIDE, B.THUMB_SIDE)
    assert images["IMG_0001.JPG"].bytes < len(big) / 3, "a big photo is stored much smaller"
    assert not list((B_drafts._draft_dir(did) / "tmp").iterdir()), "no temporary file is left behind"


def test_a_duplicate_in_another_class_is_named():
    did = draft_with({"a": 1})
    B.add_class(did, "b")
    src = B.open_draft(did).get("a").images[0]
    again = Path(src.path).read_bytes()  # the stored copy (as a copied set would bring it)
    (o,) = B.add_images(did, "b", [("x.jpg", again)])
    assert (o.reason, o.params) == ("duplicate", {"cls": "a"})


def test_adding_to_a_missing_class_or_draft_fails_before_decoding():
    did = B.new_draft()
    assert codes(lambda: B.add_images(did, "ghost", [("a.png", encode(fmt="PNG"))])) == "class_not_found"
    assert codes(lambda: B.add_images("../../etc", "x", [])) == "draft_not_found"
    assert codes(lambda: B.open_draft("A" * 20)) == "draft_not_found"
    assert not B.draft_exists("../../etc") and not B.draft_exists(None) and B.draft_exists(did)


def test_a_file_that_cannot_be_written_is_not_added(monkeypatch):
    did = B.new_draft()
    B.add_class(did, "a")
    real = B_drafts.atomic_write
    calls = {"n": 0}

    def full_disk(path, write, **kw):
        calls["n"] += 1
        if calls["n"] == 4:  # the second file's thumbnail
            raise OSError(28, "No space left on device")
        return real(path, write, **kw)

    monkeypatch.setattr(B_drafts, "atomic_write", full_disk)
    out = B.add_images(did, "a", [(f"{i}.png", encode(fmt="PNG", seed=i)) for i in range(3)])
    assert [o.reason for o in out] == ["added", "not_stored", "added"]
    assert out[1].params == {"reason": "No space left on device"}
    draft = B.open_draft(did)
    assert draft.class_counts == {"a": 2}
    on_disk = {p.stem for p in (B_drafts._draft_dir(did) / "images").iterdir()}
    assert on_disk == {i.id for i in draft.get("a").images}, "no stray file of the one not added"


def test_remove_an_image():
    did = draft_with({"a": 3, "b": 2})
    victim = B.open_draft(did).get("a").images[1]
    assert B.remove_image(did, victim.id) is True
    assert B.remove_image(did, victim.id) is False, "a second click changes nothing"
    draft = B.open_draft(did)
    assert draft.class_counts == {"a": 2, "b": 2}
    assert victim.id not in {i.id for c in draft.classes for i in c.images}
    assert not os.path.exists(victim.path) and not os.path.exists(victim.thumb)


def test_size_bound_per_draft():
    limits = B.DraftLimits(max_images=3, max_bytes=10**9, max_classes=2)
    did = B.new_draft()
    B.add_class(did, "a", limits)
    B.add_class(did, "b", limits)
    assert codes(lambda: B.add_class(did, "c", limits)) == "too_many_classes"
    out = B.add_images(did, "a", [(f"{i}.png", encode(fmt="PNG", seed=i)) for i in range(5)], limits=limits)
    assert [o.reason for o in out] == ["added"] * 3 + ["draft_full"] * 2
    assert out[-1].params["images"] == 3
    assert B.open_draft(did, limits).full
    # Bytes: a tight budget in MB from the environment.
    os.environ[B.DRAFT_MAX_MB_ENV] = "0.05"
    try:
        small = B.DraftLimits()
        assert small.max_bytes == 50_000
        did2 = B.new_draft()
        B.add_class(did2, "a")
        out = B.add_images(did2, "a", [(f"{i}.png", encode(fmt="PNG", size=(200, 200), seed=i)) for i in range(5)],
                           limits=small)
        assert out[0].ok and out[-1].reason == "draft_full" and out[-1].params["mb"] == "0.05"
        assert B.open_draft(did2, small).num_bytes <= small.max_bytes
        os.environ[B.DRAFT_MAX_MB_ENV] = "lots"
        with pytest.raises(Exception, match="megabytes"):
            B.DraftLimits()
    finally:
        del os.environ[B.DRAFT_MAX_MB_ENV]


# ---------------------------------------------------------------------------
# Saving


def test_save_writes_an_imagefolder_the_data_package_opens(cache):
    did = draft_with({"고양이": 3, "dogs": 2})
    saved = B.save_draft(did, "내 세트")
    assert Path(saved.path).name == "내 세트"
    assert Path(saved.path).is_relative_to(cache / "built" / ".private"), "not shared: in the draft's private folder"
    assert did not in saved.path, "whoever sees where a run's data lies learns nothing of the draft's key"
    report = open_dataset(saved.path)
    assert report.classes == ["dogs", "고양이"] and report.class_counts == {"dogs": 2, "고양이": 3}
    assert not report.skipped
    assert B.open_draft(did).saved == saved
    assert B.save_draft(did, "내 세트").path == saved.path, "unchanged content: the same dataset folder"


def test_a_new_save_is_a_new_version_and_the_old_one_stays_whole(cache):
    did = draft_with({"a": 2, "b": 2})
    first = B.save_draft(did, "set", shared=True)
    first_files = sorted(p.name for p in Path(first.path).rglob("*.jpg"))
    B.remove_image(did, B.open_draft(did).get("a").images[0].id)
    B.add_images(did, "a", [("n.png", encode(fmt="PNG", seed=99))])
    second = B.save_draft(did, "set", shared=True)
    assert second.path != first.path
    assert sorted(p.name for p in Path(first.path).rglob("*.jpg")) == first_files, "a run on the first save keeps its images"
    assert B.shared_set("set").path == second.path
    for k in range(B.KEEP_VERSIONS + 1):  # older versions are pruned, the newest few kept
        B.add_images(did, "b", [(f"more{k}.png", encode(fmt="PNG", seed=200 + k))])
        B.save_draft(did, "set", shared=True)
    versions = [p for p in (cache / "built" / "set").iterdir() if p.is_dir()]
    assert len(versions) == B.KEEP_VERSIONS + 1


def test_save_refuses_too_few_classes_or_images():
    did = draft_with({"only": 3})
    assert codes(lambda: B.save_draft(did, "x")) == "save_too_few_classes"
    B.add_class(did, "thin")
    B.add_images(did, "thin", [("1.png", encode(fmt="PNG", seed=50))])
    with pytest.raises(DataError) as err:
        B.save_draft(did, "x")
    assert err.value.code == "save_class_too_small" and err.value.params == {"classes": "thin", "need": 2}
    assert codes(lambda: B.save_draft(did, "../x")) == "name_unsafe"


def test_a_failed_save_leaves_nothing_half_written(cache, monkeypatch):
    did = draft_with({"a": 2, "b": 2})
    calls = {"n": 0}
    real_link = os.link

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", flaky)
    monkeypatch.setattr("shutil.copyfile", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(DataError) as err:
        B.save_draft(did, "full disk", shared=True)
    assert err.value.code == "save_failed" and "No space left" in str(err.value)
    assert not (cache / "built" / "full disk").exists()
    assert B.list_shared_sets() == [] and B.open_draft(did).saved is None


# ---------------------------------------------------------------------------
# Isolation and sharing


def test_drafts_and_private_sets_are_not_seen_by_other_sessions(cache):
    a = draft_with({"a1": 2, "a2": 2})
    b = draft_with({"b1": 2, "b2": 2})
    assert set(B.open_draft(a).class_counts) == {"a1", "a2"}
    assert set(B.open_draft(b).class_counts) == {"b1", "b2"}
    private = B.save_draft(a, "mine")
    assert B.list_shared_sets() == []
    assert codes(lambda: B.shared_set("mine")) == "set_not_found"
    assert B.save_draft(b, "mine").path != private.path, "the same private name in two drafts: two sets"
    shared = B.save_draft(a, "class set", shared=True)
    assert [s.name for s in B.list_shared_sets()] == ["class set"]
    assert B.shared_set("class set").path == shared.path
    # Someone else cannot take or overwrite a shared name, whatever the capitals.
    assert codes(lambda: B.save_draft(b, "class set", shared=True)) == "set_name_taken"
    assert codes(lambda: B.save_draft(b, "CLASS SET", shared=True)) == "set_name_taken"
    assert open_dataset(B.shared_set("class set").path).classes == ["a1", "a2"]
    assert codes(lambda: B.shared_set("../.private")) == "set_not_found"
    owner_file = json.loads((cache / "built" / "class set" / "set.json").read_text())
    assert a not in json.dumps(owner_file), "a shared set never shows the draft's key"


def test_copy_a_shared_set_into_another_draft():
    a = draft_with({"cat": 2, "dog": 3})
    shared = B.save_draft(a, "pets", shared=True)
    b = B.new_draft()
    out = B.copy_set_into_draft(b, shared.path)
    assert sum(o.ok for o in out) == 5
    assert B.open_draft(b).class_counts == {"cat": 2, "dog": 3}
    again = B.copy_set_into_draft(b, shared.path)
    assert {o.reason for o in again} == {"duplicate"}


def test_old_drafts_and_their_private_sets_are_pruned(cache):
    old = draft_with({"a": 2, "b": 2})
    private = Path(B.save_draft(old, "private").path)
    B.save_draft(old, "public", shared=True)
    empty = B.new_draft()
    fresh = draft_with({"c": 1})
    now = time.time()
    assert B.prune_drafts(now) == 0
    assert B.prune_drafts(now + B.EMPTY_DRAFT_KEEP_S + 60) == 1  # the empty one
    assert not B.draft_exists(empty) and B.draft_exists(old)
    os.utime(B_drafts._draft_dir(fresh) / "draft.json", (now + B.DRAFT_KEEP_S, now + B.DRAFT_KEEP_S))
    assert B.prune_drafts(now + B.DRAFT_KEEP_S + 60) == 1
    assert not B.draft_exists(old) and B.draft_exists(fresh)
    assert not private.exists() and not private.parents[2].exists()
    assert [s.name for s in B.list_shared_sets()] == ["public"], "shared sets stay"


# ---------------------------------------------------------------------------
# Zip


def test_zip_round_trip(tmp_path):
    did = draft_with({"고양이": 2, "dogs": 3})
    data = B.draft_zip(did, "내 세트")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert all(n.startswith("내 세트/") for n in names)
        assert all(info.flag_bits & 0x800 for info in zf.infolist() if not info.filename.isascii()), "UTF-8 names"
    path = tmp_path / "set.zip"
    path.write_bytes(data)
    report = open_dataset(path, work_dir=tmp_path / "x")
    assert report.class_counts == {"dogs": 3, "고양이": 2}
    stored = {i.id: Path(i.path).read_bytes() for c in B.open_draft(did).classes for i in c.images}
    for p, _ in report.train + report.val:
        assert Path(p).read_bytes() == stored[Path(p).stem], "the images come back byte for byte"
    # And back into a new draft through the upload path everyone else uses.
    back = B.new_draft()
    assert sum(o.ok for o in B.copy_set_into_draft(back, report.root)) == 5


# ---------------------------------------------------------------------------


def test_every_code_has_text_in_both_languages():
    for code in B.ERROR_CODES:
        assert has(f"builder_err_{code}"), code
    for code in B.SKIP_CODES:
        assert has(f"builder_skip_{code}"), code
    for lang in LANGS:
        text = t("builder_err_name_unsafe", lang, name="../x", chars="/")
        assert "../x" in text and "{" not in text


def test_set_ids_for_links_name_no_server_path(cache):
    did = draft_with({"a": 2, "b": 2})
    private = B.save_draft(did, "사진")
    shared = B.save_draft(did, "class set", shared=True)
    pid, sid = B.set_id(private.path), B.set_id(shared.path)
    assert sid == f"shared/class set/{shared.digest}"
    assert pid.startswith("private/") and pid.endswith(f"/사진/{private.digest}") and did not in pid
    assert str(cache) not in pid + sid
    assert B.resolve_set(pid) == private.path and B.resolve_set(sid) == shared.path
    assert B.resolve_set("shared/class set") == shared.path, "without a digest: the current save"
    assert B.set_id(cache) is None and B.set_id(Path(shared.path).parent) is None and B.set_id("/etc") is None
    for bad in ("shared/../x", "shared/class set/../../..", "private/../../x/y", "shared/.private", "x",
                f"shared/class set/{'0' * 16}", "shared/Class Set", "shared/ class set", "private/short/a/0"):
        assert codes(lambda: B.resolve_set(bad)) == "set_not_found", bad
