"""Grad-CAM: the heatmap finds the object that decides the class; explanations of a run; the explain command."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from tests import colour_world as world
from tlcore import explain as gc
from tlcore import service
from tlcore.errors import ConfigError
from tlcore.inference import LoadedModel
from tlcore.models import GroupedNet, Normalize, build_model, list_models
from tlcore.models.registry import get_spec

MEAN, STD = (0.375, 0.376, 0.383), (0.219, 0.216, 0.218)


@pytest.fixture(scope="module")
def tiny_trained():
    """A small CNN trained in a few seconds on the colour world (deterministic: seeded, on the CPU).

    Two 3x3 convolutions: its last convolutional group sees the image on a 16x16 grid, so its
    Grad-CAM can say where the square is.
    """
    torch.manual_seed(0)
    net = GroupedNet([("stem", nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())),
                      ("stage1", nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())),
                      ("pool", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))),
                      ("head", nn.Linear(16, len(world.COLOURS)))], arch="tiny")
    norm = Normalize(MEAN, STD)
    opt = torch.optim.Adam(net.parameters(), 0.02)
    rng = np.random.default_rng(0)
    for _ in range(40):
        x, y = world.batch(32, rng)
        loss = nn.functional.cross_entropy(net(norm(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return LoadedModel(net, sorted(world.COLOURS), 32, MEAN, STD, "tiny", {})


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """(runs dir, run id, dataset): labnet fine-tuned (full plan) on the colour world at 32 px, 10 epochs."""
    base = tmp_path_factory.mktemp("explain")
    data = world.make_dataset(base / "colours")
    runs = base / "runs"
    return runs, world.trained_run(runs, data, "full", epochs=10), data


POSITIONS = [(1, 1), (23, 1), (1, 23), (23, 23), (12, 12), (5, 17)]


def test_grad_cam_peak_lies_on_the_object(tiny_trained):
    """The square alone decides the class: the heatmap of the predicted class peaks on it, wherever it is."""
    m = tiny_trained
    for name, colour in world.COLOURS.items():
        images = [world.png_bytes(world.draw(colour, x, y)) for x, y in POSITIONS]
        explained = gc.explain(m, images)
        for (x, y), e in zip(POSITIONS, explained):
            assert e.heatmap.shape == (32, 32) == e.image.shape[:2]
            assert m.classes[e.predicted_index] == name and e.probabilities.max() > 0.9
            assert e.class_index == e.predicted_index
            assert e.heatmap.min() == pytest.approx(0.0) and e.heatmap.max() == pytest.approx(1.0)
            px, py = e.peak
            assert x <= px < x + 8 and y <= py < y + 8, (name, (x, y), e.peak)
            assert e.heatmap[y:y + 8, x:x + 8].mean() > 4 * np.delete(e.heatmap.ravel(), np.ravel_multi_index(
                np.mgrid[y:y + 8, x:x + 8].reshape(2, -1), (32, 32))).mean()
            assert e.grid == (16, 16)


def test_grad_cam_for_a_picked_class_and_orientation(tiny_trained):
    """A picked class is the one explained; a square in the top-right corner gives a peak there (x, y not swapped)."""
    m = tiny_trained
    img = world.png_bytes(world.draw(world.COLOURS["red"], 23, 1))
    red = m.classes.index("red")
    e = gc.explain(m, [img], class_index=red)[0]
    assert e.class_index == red and e.peak[0] > 20 and e.peak[1] < 10
    with pytest.raises(ConfigError):
        gc.explain(m, [img], class_index=7)
    over = gc.overlay(e.image, e.heatmap, 96)
    assert over.shape == (96, 96, 3) and over.dtype == np.uint8
    # The overlay is warmest (red in the colour map) at the square, coolest (blue) far from it.
    assert over[e.peak[1] * 3, e.peak[0] * 3, 0] > over[85, 10, 0]


@pytest.mark.parametrize("name", list_models())
def test_every_backbone_explains_its_last_convolutional_group(name):
    """Grad-CAM runs on each registered backbone (random weights, its smallest input): the group before pool."""
    spec = get_spec(name)
    net = build_model(name, 3, "none").eval()
    if not net.splittable:  # a vision transformer: refused with a reason, never a Captum traceback
        with pytest.raises(ConfigError, match="transformer") as err:
            gc.target_group(net)
        assert err.value.code == "no_conv_group"
        return
    assert gc.target_group(net) == spec.groups[spec.groups.index("pool") - 1]
    size = spec.min_input_size
    m = LoadedModel(net, ["a", "b", "c"], size, spec.mean, spec.std, name, {})
    cam = gc.grad_cam(m, torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8), [0, None])
    assert cam.heatmaps.shape == (2, size, size) and cam.targets[0] == 0
    assert float(cam.heatmaps.min()) >= 0.0 and float(cam.heatmaps.max()) <= 1.0 + 1e-6
    assert cam.probabilities.sum(1).allclose(torch.ones(2))


def test_explainer_on_a_trained_run(colour_run):
    runs, run_id, data = colour_run
    explainer = service.Explainer(runs / run_id)
    paths = sorted((data / "val" / "red").glob("*.png"))[:2] + sorted((data / "val" / "blue").glob("*.png"))[:1]
    out = explainer.explain([str(p) for p in paths])
    assert [e.predicted for e in out] == ["red", "red", "blue"], "the run knows the colours"
    for e in out:
        assert e.heatmap.shape == (32, 32) and e.grid == (2, 2) and e.layer == "stage4"
        assert e.overlay.shape == e.view.shape == (192, 192, 3)
        assert sum(e.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert e.explained == e.predicted
    green = explainer.explain([str(paths[0])], "green")[0]
    assert green.explained == "green" and green.predicted == "red"
    with pytest.raises(ConfigError, match="no class 'purple'"):
        explainer.explain([str(paths[0])], "purple")


def test_explain_command_json(colour_run, tmp_path, capsys):
    from tlcore.cli import main

    runs, run_id, data = colour_run
    image = sorted((data / "val" / "green").glob("*.png"))[0]
    out = tmp_path / "cam.png"
    assert main(["explain", run_id, str(image), "--runs-dir", str(runs), "--out", str(out), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["predicted"] == "green" and got["heatmap_path"] == str(out.resolve())
    assert set(got["probabilities"]) == set(world.COLOURS) and list(got["probabilities"]) == sorted(world.COLOURS)
    assert sum(got["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert got["class"] == "green" and got["grid"] == [2, 2]
    assert Image.open(out).size == (192, 192)

    # --class, and the default file inside the run's folder; a text summary without --json.
    assert main(["explain", run_id, str(image), "--runs-dir", str(runs), "--class", "blue"]) == 0
    text = capsys.readouterr().out
    default = runs / run_id / "explain" / f"{image.stem}-blue.png"
    assert default.is_file() and str(default) in text and "Grad-CAM for blue" in text
    assert main(["explain", run_id, str(image), "--runs-dir", str(runs), "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{image.stem}-green.png").is_file(), "a folder given as --out gets the default name"
    capsys.readouterr()

    # Mistakes give one error line and exit 2.
    assert main(["explain", run_id, str(image), "--runs-dir", str(runs), "--class", "purple"]) == 2
    assert main(["explain", "no-such-run", str(image), "--runs-dir", str(runs)]) == 2
    assert main(["explain", run_id, str(tmp_path / "missing.png"), "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error:") for line in err)
    assert "purple" in err[0] and "no-such-run" in err[1] and "missing.png" in err[2]


def test_prediction_bars_show_top_five_and_sum_the_rest():
    few = service.Prediction({"a": 0.5, "b": 0.3, "c": 0.2})
    assert few.bars() == ([("a", 0.5), ("b", 0.3), ("c", 0.2)], 0, 0.0)
    many = service.Prediction({f"c{i}": p for i, p in enumerate([0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05])})
    shown, hidden, rest = many.bars()
    assert [c for c, _ in shown] == ["c0", "c1", "c2", "c3", "c4"] and hidden == 3 and rest == pytest.approx(0.15)
    six = service.Prediction({f"c{i}": 1 / 6 for i in range(6)})
    assert len(six.bars()[0]) == 6 and six.bars()[1] == 0, "a sixth bar beats a '1 more class' line"
