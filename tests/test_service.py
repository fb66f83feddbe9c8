"""App-level operations: lab data cache, uploads, data roots, previews, run progress, verdicts, prediction."""
from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import make_image_folder
from tlcore import service
from tlcore.errors import DataError, ModelError, RunError
from tlcore.train import train


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(d))
    return d


def _zip(folder: Path, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder.parent).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_lab_dataset_is_written_once_per_dials(cache):
    a = service.lab_dataset(0.5, 3, val_per_class=2)
    assert a.parent.parent == cache.resolve() and (a / "lab.json").is_file()
    assert len(list((a / "train").rglob("*.png"))) == 6 * 3 and len(list((a / "val").rglob("*.png"))) == 6 * 2
    stamp = (a / "lab.json").stat().st_mtime_ns
    assert service.lab_dataset(0.5, 3, val_per_class=2) == a
    assert (a / "lab.json").stat().st_mtime_ns == stamp, "the cached dataset is reused, not redrawn"
    b = service.lab_dataset(0.2, 3, val_per_class=2)
    assert b != a and service.lab_info(b)["similarity"] == pytest.approx(0.2)
    assert [p.name for p in a.parent.iterdir() if p.name.startswith(".")] == [], "no half-written folders left"
    assert service.default_model_for(a) == "labnet"


def test_lab_dataset_is_redrawn_after_the_world_changes(cache, monkeypatch):
    from tlcore.lab import world

    a = service.lab_dataset(0.5, 3, val_per_class=2)
    assert service.lab_info(a)["world_fingerprint"] == world.world_fingerprint()
    monkeypatch.setattr(world, "TEXTURE_KNOTS", (0.3, 0.02, 0.02, 0.02, 0.015, 0.0))  # another world
    b = service.lab_dataset(0.5, 3, val_per_class=2)
    assert b != a and service.lab_info(b)["world_fingerprint"] == world.world_fingerprint()
    monkeypatch.setattr(world, "WORLD_VERSION", world.WORLD_VERSION + 1)  # new drawing code
    assert service.lab_dataset(0.5, 3, val_per_class=2) not in (a, b)


def test_save_upload_extracts_once_and_opens(cache, tmp_path):
    data = _zip(make_image_folder(tmp_path / "pets", classes=2, per_class=4))
    root = service.save_upload("my pets.zip", data)
    report = service.open_data(root)
    assert report.classes == ["class_0", "class_1"] and report.num_images == 8
    assert cache.resolve() in root.parents
    assert service.save_upload("again.zip", data) == root, "the same bytes are not extracted twice"


@pytest.mark.parametrize("data,code", [(b"", "empty_upload"), (b"not a zip at all", "bad_zip")])
def test_save_upload_refuses_bad_files(cache, data, code):
    with pytest.raises(DataError) as err:
        service.save_upload("x.zip", data)
    assert err.value.code == code


def test_save_upload_refuses_path_escape(cache, tmp_path):
    data = _zip(make_image_folder(tmp_path / "d", classes=2, per_class=2), {"../../evil.png": b"x"})
    with pytest.raises(DataError) as err:
        service.save_upload("evil.zip", data)
    assert err.value.code == "zip_unsafe_path"
    assert not (cache.parent / "evil.png").exists()


def test_data_roots_list_only_their_own_folders(tmp_path, monkeypatch):
    r1, r2 = tmp_path / "shared", tmp_path / "more"
    make_image_folder(r1 / "flowers", classes=2, per_class=2)
    (r2 / "birds").mkdir(parents=True)
    (r2 / ".hidden").mkdir()
    (r2 / "readme.txt").write_text("x")
    outside = make_image_folder(tmp_path / "outside", classes=2, per_class=2)
    (r1 / "sneaky").symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("TLCORE_DATA_ROOTS", os.pathsep.join([str(r1), str(r2), str(tmp_path / "missing")]))
    assert service.data_roots()[:2] == [r1.resolve(), r2.resolve()]
    assert service.list_root_folders() == ["shared/flowers", "more/birds"], "a link out of the root is not offered"
    assert service.resolve_root_folder("shared/flowers") == (r1 / "flowers").resolve()
    for label in ("shared/sneaky", "shared/../outside", "/etc", "more/.hidden", "nope"):
        with pytest.raises(DataError):
            service.resolve_root_folder(label)


def test_data_roots_default(monkeypatch):
    monkeypatch.delenv("TLCORE_DATA_ROOTS", raising=False)
    assert service.data_roots() == [Path("data").resolve()]


def test_sample_images_per_class(tiny_dataset):
    report = service.open_data(tiny_dataset)
    samples = service.sample_images(report, 4)
    assert list(samples) == report.classes
    assert all(len(v) == 4 and all(Path(p).is_file() for p in v) for v in samples.values())


@pytest.mark.parametrize("plan,top,trained", [
    ("head", 1, ["head"]),
    ("top", 2, ["stage3", "stage4", "pool", "head"]),
    ("full", 1, ["stem", "stage1", "stage2", "stage3", "stage4", "pool", "head"]),
])
def test_plan_preview_reports_frozen_and_trained_groups(plan, top, trained):
    report = service.plan_preview("labnet", plan, top, 6)
    assert [g.name for g in report.groups if g.trainable] == trained
    assert report.trainable_params + report.frozen_params == sum(g.params for g in report.groups)
    assert report.groups[-1].params == 128 * 6 + 6, "the new head has one output per class"


def test_recommendation_and_what_if():
    rec = service.recommendation(20, 6, 0.35, "user", "resnet18")  # no sweep calibrated it: the rule of thumb
    assert (rec.quadrant, rec.plan, rec.top_stages, rec.augment) == (3, "top", 2, True)
    assert rec.boundaries == "rule_of_thumb"
    lab = service.recommendation(20, 6, 0.35, "user", "labnet")  # the shipped sweep moved labnet's size line
    assert lab.boundaries == "measured" and lab.size_boundary < 20 and (lab.quadrant, lab.plan) == (1, "full")
    assert service.what_if(1, "labnet").plan == "full"
    assert service.what_if(4, "labnet").plan == "head"
    assert service.similarity_choice_for(0.3) == "somewhat_different"
    assert service.similarity_choice_for(1.0) == "same_world"


def test_device_summary_and_weights_check(monkeypatch, tmp_path):
    dev = service.device_summary()
    assert dev.kind in ("cpu", "cuda", "mps") and dev.name
    assert service.weights_missing("labnet", "head") is None
    assert service.weights_missing("resnet18", "scratch") is None
    missing = service.weights_missing("resnet18", "head")  # TORCH_HOME is an empty temp dir (conftest)
    assert missing and missing.endswith(".pth")


def test_make_config_validates():
    cfg = service.make_config("some/data", "labnet", "top", top_stages=2, epochs=3)
    assert Path(cfg.data).is_absolute() and cfg.plan == "top" and cfg.top_stages == 2 and cfg.epochs == 3
    with pytest.raises(Exception) as err:
        service.make_config("d", "labnet", "top", epochs=0)
    assert "Epochs must be" in str(err.value)


def test_run_progress_folds_events():
    from tlcore import events as ev

    p = ev.Progress()
    p.feed([
        ev.Status(phase="data", message="Reading", fraction=0.0),
        ev.FitStart(epochs=4, steps_per_epoch=10),
        ev.EpochStart(epoch=1),
        ev.BatchProgress(epoch=1, step=5, steps=10, images_per_sec=100.0, eta_s=30.0),
    ])
    assert p.fraction == pytest.approx(0.5 / 4) and p.eta_s == 30.0 and p.images_per_sec == 100.0
    p.feed([ev.EpochEnd(epoch=1, val_accuracy=0.6, train_accuracy=0.7, best=True),
            ev.Warning_(code="x", message="careful")])
    assert p.fraction == pytest.approx(0.25) and p.curve() == [(1, 0.6)] and p.warnings[0].message == "careful"
    assert p.best_val_accuracy == 0.6
    p.feed([ev.Failed(code="training", message="boom")])
    assert p.failed.message == "boom"


def test_events_round_trip_through_json():
    from tlcore import events as ev

    for e in (ev.FitStart(epochs=3, classes=["a", "b"]), ev.EpochEnd(epoch=2, val_loss=None, best=True),
              ev.Evaluation(per_class_accuracy=[0.5, None]), ev.Cancelled(epochs_completed=1), ev.Failed(code="x")):
        back = ev.Event.from_json(json.loads(json.dumps(e.to_json())))
        assert type(back) is type(e) and back == e
    unknown = ev.Event.from_json({"kind": "from_the_future", "time": 1.0, "extra": 2})
    assert type(unknown) is ev.Event and unknown.kind == "from_the_future"


def row(plan, acc, status="completed"):
    return {"plan": plan, "best_val_accuracy": acc, "status": status}


@pytest.mark.parametrize("rows,rec,agrees,key", [
    ([row("head", 0.9), row("full", 0.8)], "head", True, "verdict_agree_best"),
    ([row("head", 0.89), row("full", 0.9)], "head", True, "verdict_agree_close"),
    ([row("head", 0.6), row("full", 0.9)], "head", False, "verdict_disagree"),
    ([row("head", 0.6), row("full", 0.0, "running")], "head", None, "verdict_pending"),
    ([row("full", 0.9), row("head", 0.2, "failed")], "head", None, "verdict_not_run"),
    ([], "head", None, "verdict_pending"),
])
def test_compare_verdict(rows, rec, agrees, key):
    v = service.compare_verdict(rows, rec)
    assert (v.agrees, v.key) == (agrees, key)
    if key == "verdict_disagree":
        assert v.params["best_plan"] == "full" and v.params["gap"] == pytest.approx(30.0)


def test_start_compare_needs_plans(tmp_path):
    from tlcore.runs import RunStore

    with pytest.raises(RunError):
        service.start_compare(RunStore(tmp_path / "runs"), service.make_config(tmp_path, "labnet", "head"), [])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished labnet run directory (1 epoch, in-process) with its best.pt."""
    from tests.conftest import make_image_folder as make

    base = tmp_path_factory.mktemp("predict")
    data = make(base / "data", classes=3, per_class=8)
    run_dir = base / "run"
    run_dir.mkdir()
    cfg = service.make_config(data, "labnet", "scratch", epochs=1, batch_size=8)
    (run_dir / "config.json").write_text(cfg.dumps(), encoding="utf-8")
    train(cfg, checkpoint_path=run_dir / "best.pt")
    return run_dir, data


def test_lab_recipe_compare_trains_each_plan_as_the_experiment_does(cache, tiny_dataset):
    from tlcore.config import TrainConfig
    from tlcore.lab import recipes

    lab = service.lab_dataset(1.0, 3, val_per_class=2)
    assert service.lab_recipe_applies(lab, "labnet")
    assert not service.lab_recipe_applies(lab, "resnet18") and not service.lab_recipe_applies(tiny_dataset, "labnet")
    rec = service.recommendation(5, 6, 0.9, "measured", "labnet")  # quadrant 4: head
    started = []

    meta = []

    class Store:
        def start(self, cfg, label, group, **more):
            started.append(cfg)
            meta.append(more)

    base = service.make_config(lab, "labnet", "head", epochs=3)
    service.start_compare(Store(), base, ["head", "top", "full", "scratch"], lab_recipe=rec, quadrant=rec.quadrant)
    by_plan = {c.plan: c for c in started}
    for plan in service.COMPARE_DEFAULT:
        r = recipes.recipe(plan, "small")
        c = by_plan[plan]
        assert (c.epochs, c.batch_size, c.lr, c.body_lr_mult) == (r.epochs, r.batch_size, r.lr, r.body_lr_mult)
        assert c.data == base.data and isinstance(c, TrainConfig)
    assert all(m["quadrant"] == 4 for m in meta), "the map's quadrant is kept with each run"
    assert by_plan["full"].augment and not by_plan["head"].augment and by_plan["top"].top_stages == 2
    started.clear()
    service.start_compare(Store(), base, ["full"], top_stages=1)  # without the recipe: the page's own settings
    assert started[0].epochs == 3 and started[0].body_lr_mult is None


def test_predict_gives_top_classes(trained_run):
    run_dir, data = trained_run
    image = next((data / "class_1").glob("*.png"))
    results = service.Predictor(run_dir).predict([image.read_bytes(), ("photo.PNG", image.read_bytes()), str(image)], top_k=3)
    assert len(results) == 3
    for top in results:
        assert [c for c, _ in top] and {c for c, _ in top} <= {"class_0", "class_1", "class_2"}
        probs = [p for _, p in top]
        assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1.0, abs=1e-4)
    assert results[0] == results[2], "bytes and a path of the same image give the same answer"
    samples = service.run_samples(run_dir, 2)
    assert len(samples) == 2 and all(Path(p).is_file() and c.startswith("class_") for p, c in samples)


def test_predict_refuses_non_images_and_missing_models(trained_run, tmp_path):
    run_dir, _ = trained_run
    with pytest.raises(DataError):
        service.Predictor(run_dir).predict([("notes.txt", b"hello")])
    with pytest.raises(DataError):
        service.Predictor(run_dir).predict([("fake.png", b"hello")])
    with pytest.raises(ModelError):
        service.Predictor(tmp_path).predict([b"x"])


def test_finished_runs_and_checkpoint_bytes(tmp_path, tiny_dataset):
    from tlcore.runs import RunStore

    store = RunStore(tmp_path / "runs")
    run_id = store.create(service.make_config(tiny_dataset, "labnet", "head"))
    assert service.finished_runs(store) == [], "a run without best.pt cannot predict"
    d = store.run_dir(run_id)
    (d / "best.pt").write_bytes(b"model")
    (d / "status.json").write_text('{"status": "completed", "created": %f}' % time.time())
    assert [r.run_id for r in service.finished_runs(store)] == [run_id]
    assert service.checkpoint_bytes(d) == b"model"


@pytest.mark.parametrize("kind", ["windows", "cp949", "nfd"])
def test_real_world_zips_through_the_upload_path(cache, tmp_path, kind):
    """The app's upload path (save_upload, then the report of the extracted folder) sees the same classes and warnings."""
    import unicodedata
    import zipfile as zf_mod

    from badinputs import make_zip, make_zip_raw_names, png_bytes

    def images(names):
        return [(f"{n}/{i}.png", png_bytes(color=(40 * c % 256, 20 * i, 9))) for c, n in enumerate(names) for i in range(2)]

    z = tmp_path / "up.zip"
    if kind == "windows":
        folders = [(zf_mod.ZipInfo(n), b"") for n in ("data\\", "data\\cats\\", "data\\dogs\\")]
        make_zip(z, folders + [(n.replace("/", "\\"), d) for n, d in images(["data/cats", "data/dogs"])])
        expected, warning = ["cats", "dogs"], None
    elif kind == "cp949":
        make_zip_raw_names(z, [(n.encode("cp949"), d) for n, d in images(["개미", "벌"])])
        expected, warning = ["개미", "벌"], "zip_name_encoding"
    else:
        make_zip(z, images([unicodedata.normalize("NFD", "고양이"), "강아지"]))
        expected, warning = sorted(["고양이", "강아지"]), None
    root = service.save_upload("up.zip", z.read_bytes())
    report = service.open_data(root)
    assert report.classes == expected
    if warning:
        assert warning in {w["code"] for w in report.warnings}
