"""The lab: the procedural world, labnet and its shipped weights."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from tlcore import models
from tlcore.errors import ConfigError, ModelError
from tlcore.lab import labnet, world

# ---------------------------------------------------------------------------
# The world


def test_source_shapes_and_types():
    x, y = world.make_source(2, seed=0)
    n = 2 * len(world.SOURCE_SHAPES)
    assert x.shape == (n, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [2] * len(world.SOURCE_SHAPES)
    assert labnet.SOURCE_CLASSES == len(world.SOURCE_SHAPES)


def test_target_shapes_types_and_names():
    x, y, names = world.make_target(0.5, 3, seed=0, num_classes=4)
    assert x.shape == (12, 32, 32, 3) and x.dtype == np.uint8
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [3, 3, 3, 3]
    assert names == list(world.TARGET_SHAPES[:4])
    assert not set(names) & set(world.SOURCE_SHAPES), "target classes must be new"


def test_world_is_deterministic_by_seed():
    a, ya = world.make_source(2, seed=3)
    b, yb = world.make_source(2, seed=3)
    c, _ = world.make_source(2, seed=4)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.array_equal(a, c)
    t1 = world.make_target(0.3, 3, seed=5)
    t2 = world.make_target(0.3, 3, seed=5)
    t3 = world.make_target(0.3, 3, seed=6)
    assert np.array_equal(t1[0], t2[0]) and np.array_equal(t1[1], t2[1])
    assert not np.array_equal(t1[0], t3[0])


def test_val_stream_differs_from_train_stream():
    xt, _, _ = world.make_target(0.7, 3, seed=0)
    xv, _, _ = world.make_target_val(0.7, 3, seed=0)
    assert not any(np.array_equal(a, b) for a in xt for b in xv)


def test_per_class_dial_changes_counts_only():
    for per_class in (1, 4, 7):
        x, y, names = world.make_target(0.5, per_class, seed=0)
        assert len(x) == per_class * len(names)
        assert np.bincount(y, minlength=len(names)).tolist() == [per_class] * len(names)
    assert world.world_params(0.5) == world.world_params(0.5)  # size does not enter the world


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


def _saturation(x: np.ndarray) -> float:
    f = x.astype(float) / 255
    return float((f.max(-1) - f.min(-1)).mean())


def _high_freq(x: np.ndarray) -> float:
    g = x.astype(float).mean(-1) / 255
    return float(np.abs(np.diff(g, axis=1)).mean() + np.abs(np.diff(g, axis=2)).mean())


def test_similarity_dial_is_continuous():
    """Same seed: a small step in s changes the images a little, a big one a lot."""
    ref, _, _ = world.make_target(1.0, 4, seed=0)
    near, _, _ = world.make_target(0.97, 4, seed=0)
    dist = [_mean_abs(ref, world.make_target(s, 4, seed=0)[0]) for s in (0.8, 0.5, 0.2, 0.0)]
    assert _mean_abs(ref, near) < 0.3 * dist[-1]
    assert dist == sorted(dist), f"distance from s=1 should grow as s falls: {dist}"
    a, _, _ = world.make_target(0.5, 4, seed=0)
    b, _, _ = world.make_target(0.51, 4, seed=0)
    assert _mean_abs(a, b) < 0.2 * _mean_abs(a, world.make_target(0.0, 4, seed=0)[0])


def test_similarity_dial_changes_statistics_and_structure():
    sats, freqs = [], []
    for s in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, _, _ = world.make_target(s, 10, seed=1)
        sats.append(_saturation(x))
        freqs.append(_high_freq(x))
    assert sats == sorted(sats), f"colour saturation should rise with s: {sats}"
    assert freqs == sorted(freqs, reverse=True), f"high-frequency structure should fall with s: {freqs}"
    assert sats[-1] > 2 * sats[0] and freqs[0] > 2 * freqs[-1]


def test_world_params_endpoints_and_monotone():
    p1, p0 = world.world_params(1.0), world.world_params(0.0)
    assert p1.edge_contrast == 1.0 and p1.texture_amp == 0.0 and p1.saturation == 1.0  # the source world
    assert p0.edge_contrast == 0.0 and p0.texture_amp > 0.3 and p0.noise > p1.noise
    ps = [world.world_params(s / 10) for s in range(11)]
    assert [p.edge_contrast for p in ps] == sorted(p.edge_contrast for p in ps)
    assert [p.texture_amp for p in ps] == sorted((p.texture_amp for p in ps), reverse=True)


def test_target_at_similarity_one_is_rendered_like_the_source():
    xs, _ = world.make_source(20, seed=0)
    xt, _, _ = world.make_target(1.0, 50, seed=0)
    assert abs(_saturation(xs) - _saturation(xt)) < 0.05
    assert abs(_high_freq(xs) - _high_freq(xt)) < 0.02


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(similarity=1.5, per_class=2, seed=0),
        dict(similarity=-0.1, per_class=2, seed=0),
        dict(similarity="x", per_class=2, seed=0),
        dict(similarity=0.5, per_class=0, seed=0),
        dict(similarity=0.5, per_class=2, seed=0, num_classes=1),
        dict(similarity=0.5, per_class=2, seed=0, num_classes=len(world.TARGET_SHAPES) + 1),
    ],
)
def test_bad_dials_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        world.make_target(**kwargs)


def test_write_imagefolder_layout(tmp_path):
    from PIL import Image

    out = world.write_imagefolder(tmp_path / "lab", similarity=0.4, per_class=3, seed=2, val_per_class=2, num_classes=3)
    assert out == tmp_path / "lab"
    names = list(world.TARGET_SHAPES[:3])
    assert sorted(p.name for p in (out / "train").iterdir()) == sorted(names)
    assert sorted(p.name for p in (out / "val").iterdir()) == sorted(names)
    for name in names:
        assert sorted(p.name for p in (out / "train" / name).iterdir()) == ["0.png", "1.png", "2.png"]
        assert sorted(p.name for p in (out / "val" / name).iterdir()) == ["0.png", "1.png"]
    im = Image.open(out / "train" / names[0] / "0.png")
    assert im.size == (32, 32) and im.mode == "RGB"
    x, y, _ = world.make_target(0.4, 3, seed=2, num_classes=3)
    assert np.array_equal(np.asarray(im), x[np.nonzero(y == 0)[0][0]])  # lossless, same images
    meta = json.loads((out / "lab.json").read_text())
    assert meta["similarity"] == 0.4 and meta["per_class"] == 3 and meta["val_per_class"] == 2
    assert meta["seed"] == 2 and meta["classes"] == names
    assert meta["world"]["edge_contrast"] == world.world_params(0.4).edge_contrast


# ---------------------------------------------------------------------------
# labnet


def test_labnet_groups():
    groups = labnet.build_groups(5)
    assert [n for n, _ in groups] == ["stem", "stage1", "stage2", "stage3", "stage4", "pool", "head"]
    head = groups[-1][1]
    assert isinstance(head, nn.Linear) and head.out_features == 5
    assert any(isinstance(m, nn.BatchNorm2d) for _, g in groups for m in g.modules())
    net = models.GroupedNet(groups, arch="labnet")
    x = torch.zeros(2, 3, labnet.INPUT_SIZE, labnet.INPUT_SIZE)
    assert net(x).shape == (2, 5)
    assert net.features(x).shape == (2, head.in_features)
    full = models.GroupedNet(labnet.build_groups(labnet.SOURCE_CLASSES))
    assert labnet.approx_params() == models.count_params(full)
    assert labnet.approx_params() < 500_000  # the shipped weights stay under 2 MB


def test_labnet_registered_with_lab_stats():
    spec = models.get_spec("labnet")
    assert spec.input_size == 32 and spec.mean == labnet.LAB_MEAN and spec.std == labnet.LAB_STD


def test_shipped_weights_and_record():
    assert labnet.WEIGHTS_PATH.is_file(), "run: python -m tlcore lab pretrain"
    assert labnet.WEIGHTS_PATH.stat().st_size < 2_500_000
    record = json.loads(labnet.RECORD_PATH.read_text())
    assert record["command"].startswith("python -m tlcore lab pretrain")
    for key in ("seed", "source_accuracy", "date", "torch_version", "per_class", "epochs"):
        assert key in record
    assert record["source_accuracy"] > 0.8
    state = labnet.load_pretrained_state()
    assert state["groups.head.weight"].shape[0] == labnet.SOURCE_CLASSES
    assert all(v.dtype in (torch.float32, torch.int64) for v in state.values())


def test_build_model_pretrained_labnet_gets_new_head():
    net = models.build_model("labnet", 6, "pretrained")
    assert net.group_names[-1] == "head" and net.head.out_features == 6
    state = labnet.load_pretrained_state()
    assert torch.equal(net.state_dict()["groups.stage4.0.weight"], state["groups.stage4.0.weight"])
    assert torch.equal(net.state_dict()["groups.stem.1.running_mean"], state["groups.stem.1.running_mean"])


def test_missing_weights_say_how_to_make_them(tmp_path, monkeypatch):
    monkeypatch.setattr(labnet, "WEIGHTS_PATH", tmp_path / "nope.pt")
    with pytest.raises(ModelError) as info:
        labnet.load_pretrained_state()
    assert "python -m tlcore lab pretrain" in str(info.value)


def test_shipped_weights_reach_recorded_accuracy():
    from tlcore.experiments.pretrain import evaluate_source

    record = json.loads(labnet.RECORD_PATH.read_text())
    acc = evaluate_source(per_class=30, seed=777)  # a fresh sample, not the record's
    assert abs(acc - record["source_accuracy"]) < 0.05


def test_augment_keeps_shape_and_content():
    from tlcore.experiments.pretrain import augment

    x = torch.randn(8, 3, 32, 32)
    y = augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    y0 = augment(x, torch.Generator().manual_seed(0), pad=0)
    assert all(torch.equal(a, b) or torch.equal(a, b.flip(-1)) for a, b in zip(x, y0))


@pytest.mark.slow
def test_pretrain_smoke(tmp_path):
    from tlcore.experiments.pretrain import pretrain

    seen = []
    out = tmp_path / "w.pt"
    record = pretrain(seed=1, per_class=3, epochs=1, out=out, progress=lambda f, m: seen.append(f))
    assert out.is_file() and (tmp_path / "w.json").is_file()
    assert record["command"] == "python -m tlcore lab pretrain --seed 1 --per-class 3 --epochs 1"
    assert 0.0 <= record["source_accuracy"] <= 1.0
    assert json.loads((tmp_path / "w.json").read_text()) == record
    assert seen[-1] == 1.0 and seen == sorted(seen)
    state = torch.load(out, weights_only=True)
    net = models.build_model("labnet", 3, str(out))
    assert net.head.out_features == 3 and "groups.head.weight" in state
