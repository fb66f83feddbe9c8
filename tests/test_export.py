"""Exports: each format verified on real validation images, loaded back by predict, corruption detected."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import colour_world as world
from tlcore import export as ex
from tlcore import service
from tlcore.cli import main
from tlcore.errors import ConfigError, ModelError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(runs dir, run id, dataset, export root): labnet fine-tuned on the colour world, 32 px."""
    base = tmp_path_factory.mktemp("export")
    data = world.make_dataset(base / "colours")
    runs = base / "runs"
    return runs, world.trained_run(runs, data, "full", epochs=10), data, base / "exports"


@pytest.fixture(scope="module")
def exports(run):
    """Every format exported once through the command line (``--json``), keyed by format."""
    runs, run_id, _, root = run
    out = {}
    for fmt in ex.FORMATS:
        assert main(["export", run_id, "--format", fmt, "--out", str(root / fmt), "--runs-dir", str(runs), "--json"]) == 0
    return {fmt: ex.read_card(root / fmt) for fmt in ex.FORMATS}


def _val_images(data: Path) -> list[str]:
    return [str(p) for p in sorted((data / "val").rglob("*.png"))]


@pytest.mark.parametrize("fmt", ex.FORMATS)
def test_export_verifies_within_tolerance_on_validation_images(run, exports, fmt, capsys):
    runs, run_id, data, root = run
    card = exports[fmt]
    ver = card["verification"]
    assert ver["passed"] and ver["max_abs_diff"] <= 1e-4 and ver["tolerance"] == 1e-4
    assert ver["inputs"] == "validation" and ver["images"] == len(_val_images(data)) == 18
    assert ver["top1_agreement"] == 1.0 and 1 in ver["batch_sizes"] and 1 / 3 <= ver["mean_top1_probability"] <= 1.0
    assert (fmt == "onnx") == ver["runtime"].startswith("onnxruntime")
    folder = root / fmt
    assert sorted(p.name for p in folder.iterdir()) == sorted([ex.MODEL_FILES[fmt], "README.txt", "model_card.json"])
    # The card: what a user needs to run the model without this app.
    assert card["classes"] == sorted(world.COLOURS) and card["image_size"] == 32 and card["backbone"] == "labnet"
    assert card["plan"] == "full" and card["run_id"] == run_id and card["metrics"]["val_accuracy"] == 1.0
    assert card["dataset"]["name"] == "colours" and card["dataset"]["train_counts"] == {c: 16 for c in world.COLOURS}
    assert card["dataset"]["val_counts"] == {c: 6 for c in world.COLOURS}
    assert card["training_config"]["epochs"] == 10 and card["mean"] == pytest.approx([0.375, 0.376, 0.383])
    assert card["sha256"] == ex.sha256(folder / card["model_file"])
    assert card["input"]["dtype"] == ("float32" if fmt == "state_dict" else "uint8")
    if fmt == "onnx":
        assert card["opset"] == ex.ONNX_OPSET
    readme = (folder / "README.txt").read_text()
    assert f"{ver['max_abs_diff']:.2e}" in readme and card["model_file"] in readme
    example = readme.split("pillow numpy):")[1].strip().splitlines()
    assert 8 <= len(example) <= 14 and example[-1].startswith("print(card[\"classes\"]")


@pytest.mark.parametrize("fmt", ex.FORMATS)
def test_predict_on_the_export_agrees_with_the_run(run, exports, fmt, capsys):
    runs, run_id, data, root = run
    images = _val_images(data)
    assert main(["predict", run_id, *images, "--runs-dir", str(runs), "--json"]) == 0
    on_run = json.loads(capsys.readouterr().out)
    assert main(["predict", str(root / fmt), *images, "--json"]) == 0
    on_export = json.loads(capsys.readouterr().out)
    assert on_run["model"]["kind"] == "run" and on_export["model"]["kind"] == fmt
    assert on_export["classes"] == on_run["classes"] == sorted(world.COLOURS)
    for a, b in zip(on_run["predictions"], on_export["predictions"]):
        assert a["image"] == b["image"] and a["predicted"] == b["predicted"] == Path(a["image"]).parent.name
        assert max(abs(a["probabilities"][c] - b["probabilities"][c]) for c in a["probabilities"]) <= 1e-4
    # The text output: one line per image, the top class first.
    assert main(["predict", str(root / fmt), images[0]]) == 0
    assert capsys.readouterr().out.startswith(f"{images[0]}: blue (")


def test_readme_examples_run_as_written(run, exports, tmp_path):
    """The README's Python, run as printed in each export folder, gives the class that predict gives."""
    _, _, data, root = run
    photo = sorted((data / "val" / "green").glob("*.png"))[0]
    script = ["import os, re, runpy, shutil, sys"]
    for fmt in ex.FORMATS:
        folder = tmp_path / fmt
        script.append(f"shutil.copytree({str(root / fmt)!r}, {str(folder)!r}); "
                      f"shutil.copy({str(photo)!r}, {str(folder / 'photo.jpg')!r})")
        script.append(f"os.chdir({str(folder)!r}); code = open('README.txt').read().split('pillow numpy):')[1]; "
                      f"print({fmt!r}, end=' ', flush=True); exec(code, {{'__name__': '__main__'}})")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", "\n".join(script)], capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert set(lines) == set(ex.FORMATS)
    for fmt, line in lines.items():
        cls, prob = line.split()
        assert cls == "green" and float(prob) > 0.5, (fmt, line)


def test_a_corrupted_export_is_detected(run, exports, tmp_path, capsys):
    _, _, data, root = run
    image = _val_images(data)[0]
    for fmt in ex.FORMATS:
        broken = tmp_path / fmt
        import shutil

        shutil.copytree(root / fmt, broken)
        model_file = broken / ex.MODEL_FILES[fmt]
        raw = bytearray(model_file.read_bytes())
        raw[len(raw) // 2] ^= 0xFF  # one flipped byte in the middle of the weights
        model_file.write_bytes(bytes(raw))
        with pytest.raises(ModelError) as err:
            service.open_model(broken)
        assert err.value.code == "export_corrupted" and "checksum" in str(err.value)
        assert main(["predict", str(broken), image]) == 2
        assert "does not match the checksum" in capsys.readouterr().err
    # A missing model file and a card that is not ours are refused too.
    gone = tmp_path / "gone"
    shutil.copytree(root / "onnx", gone)
    (gone / "model.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        service.open_model(gone)
    (gone / "model_card.json").write_text('{"hello": 1}')
    with pytest.raises(ModelError) as err:
        service.open_model(gone)
    assert err.value.code == "not_an_export"


def test_export_is_atomic_and_never_overwrites_other_files(run, exports, tmp_path, monkeypatch):
    runs, run_id, _, root = run
    # A folder with other files is refused, untouched.
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="already holds other files"):
        service.export_run(run_id, "onnx", other, service.run_store(runs))
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    # The default folder is inside the run; exporting again replaces the earlier export whole.
    first = service.export_run(run_id, "state_dict", None, service.run_store(runs))
    assert first.path == (runs / run_id / "exports" / "state_dict").resolve()
    assert service.existing_export(runs / run_id, "state_dict").card["sha256"] == first.card["sha256"]
    again = service.export_run(runs / run_id, "state_dict", None)
    assert again.path == first.path and again.card["exported_at"] >= first.card["exported_at"]
    # A verification that fails writes nothing, and leaves no temporary folder behind.
    monkeypatch.setattr(ex, "TOLERANCE", -1.0)
    target = tmp_path / "failed"
    with pytest.raises(ModelError) as err:
        service.export_run(run_id, "onnx", target, service.run_store(runs))
    assert err.value.code == "export_mismatch" and not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # A zip for the download holds the folder.
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(service.export_zip(first))).namelist()
    assert sorted(names) == sorted(f"{run_id}-state_dict/{n}" for n in ("README.txt", "model_card.json", "state_dict.pt"))


def test_export_without_the_data_says_what_it_verified_on(tmp_path):
    """A run whose dataset was moved away still exports, verified on random images, and the card says so."""
    data = world.make_dataset(tmp_path / "colours", per_class=4, val_per_class=2)
    run_id = world.trained_run(tmp_path / "runs", data, "head", epochs=1)
    import shutil

    shutil.rmtree(data)
    summary = service.export_run(run_id, "torchscript", tmp_path / "ts", service.run_store(tmp_path / "runs"))
    ver = summary.verification
    assert ver["passed"] and ver["inputs"].startswith("random") and ver["images"] == 8
    assert summary.card["dataset"]["name"] == "colours" and "train_counts" not in summary.card["dataset"]


def test_export_command_errors_are_one_line(run, tmp_path):
    runs, run_id, _, _ = run
    proc = subprocess.run([sys.executable, "-m", "tlcore", "export", run_id, "--format", "tflite", "--runs-dir", str(runs)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "onnx" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "tlcore", "predict", str(tmp_path), str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
