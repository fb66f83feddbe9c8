"""Learning curves: nested subsets, the crossover on constructed tables, shared head features, the `curve` CLI."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tlcore.config import TrainConfig
from tlcore.errors import ConfigError
from tlcore.service.curve import CurvePoint, check_fractions, crossovers, curve_points, curve_result
from tlcore.train.subsets import nested_subset
from tests.conftest import make_image_folder


def test_nested_subsets_are_stratified_nested_and_seeded():
    labels = [0] * 40 + [1] * 20 + [2] * 10
    small, half, full = (nested_subset(labels, f, seed=3) for f in (0.1, 0.5, 1.0))
    assert full == list(range(70))
    assert set(small) < set(half) < set(full), "a smaller share is inside a larger one"
    count = lambda idx, c: sum(labels[i] == c for i in idx)  # noqa: E731
    assert [count(half, c) for c in (0, 1, 2)] == [20, 10, 5], "the same share of every class"
    assert [count(small, c) for c in (0, 1, 2)] == [4, 2, 1]
    assert [count(nested_subset(labels, 0.01, 0), c) for c in (0, 1, 2)] == [1, 1, 1], "never an empty class"
    assert nested_subset(labels, 0.5, 3) == half and nested_subset(labels, 0.5, 4) != half
    with pytest.raises(ValueError):
        nested_subset(labels, 0.0, 0)
    with pytest.raises(ConfigError):
        TrainConfig(data="x", train_fraction=1.5)
    assert check_fractions(["1", 0.25, 0.1, 0.25]) == [0.1, 0.25, 1.0]
    with pytest.raises(ConfigError):
        check_fractions([0.5, 0])


def _table(rows):
    """Points from (plan, fraction, images per class, accuracy) tuples."""
    return curve_points([{"plan": p, "fraction": f, "images_per_class": n, "accuracy": a} for p, f, n, a in rows])


def test_crossover_is_interpolated_in_log_size_where_the_leader_changes():
    pts = _table([("head", 0.1, 10, 0.60), ("head", 0.25, 25, 0.65), ("head", 0.5, 50, 0.68), ("head", 1.0, 100, 0.70),
                  ("full", 0.1, 10, 0.40), ("full", 0.25, 25, 0.55), ("full", 0.5, 50, 0.75), ("full", 1.0, 100, 0.85)])
    xs = crossovers(pts)
    assert len(xs) == 1
    x = xs[0]
    assert (x["below"], x["above"], x["between"]) == ("head", "full", [25, 50])
    # full's lead goes from -10 points at 25 to +7 at 50: zero at 10/17 of the way in log size
    assert x["images_per_class"] == pytest.approx(math.exp(math.log(25) + 10 / 17 * math.log(2)), rel=1e-9)
    assert 25 < x["images_per_class"] < 50
    res = curve_result(pts, "resnet18")
    assert res["crossover"] == x and res["leader"] == "full"
    assert res["size_boundary"] == {"images_per_class": 1000, "boundaries": "rule_of_thumb"}


def test_no_crossover_when_one_plan_leads_everywhere_and_several_with_three_plans():
    assert crossovers(_table([("head", 0.5, 5, 0.9), ("head", 1.0, 10, 0.95),
                              ("full", 0.5, 5, 0.5), ("full", 1.0, 10, 0.94)])) == []
    assert crossovers(_table([("head", 1.0, 10, 0.9)])) == [], "one plan: nothing to cross"
    three = _table([("head", 0.1, 10, 0.70), ("top", 0.1, 10, 0.60), ("full", 0.1, 10, 0.50),
                    ("head", 0.5, 50, 0.72), ("top", 0.5, 50, 0.78), ("full", 0.5, 50, 0.74),
                    ("head", 1.0, 100, 0.73), ("top", 1.0, 100, 0.80), ("full", 1.0, 100, 0.86)])
    xs = crossovers(three)
    assert [(x["below"], x["above"]) for x in xs] == [("head", "top"), ("top", "full")]
    assert xs[0]["images_per_class"] < xs[1]["images_per_class"]


def test_seeds_make_one_point_with_mean_and_spread():
    pts = curve_points([{"plan": "head", "fraction": 0.5, "images_per_class": 10, "accuracy": a} for a in (0.6, 0.8)])
    assert len(pts) == 1 and isinstance(pts[0], CurvePoint)
    assert pts[0].accuracy == pytest.approx(0.7) and pts[0].spread == pytest.approx(math.sqrt(0.02)) and pts[0].seeds == 2


def test_head_fits_share_features_and_match_separate_fits(tmp_path):
    """A feature memo gives the same results as separate fits, and computes each image's features once."""
    from tlcore.train import train

    data = make_image_folder(tmp_path / "d", classes=3, per_class=12)
    base = TrainConfig(data=str(data), model="labnet", plan="head", epochs=3, lr=1e-2, batch_size=8)
    memo: dict = {}
    for f in (0.25, 1.0, 0.5):
        shared, alone = train(base.with_(train_fraction=f), feature_memo=memo), train(base.with_(train_fraction=f))
        assert shared.best_val_accuracy == alone.best_val_accuracy and shared.best_epoch == alone.best_epoch
    sizes = sorted(int(t.shape[0]) for t in memo.values())
    assert sizes == [6, 30], "validation (6) and the whole training split (30): computed once each"


@pytest.mark.slow
def test_curve_cli_json_on_a_generated_dataset(tmp_path):
    data = make_image_folder(tmp_path / "d", classes=3, per_class=20)
    proc = subprocess.run([sys.executable, "-m", "tlcore", "curve", str(data), "--model", "labnet", "--plans",
                           "head,full", "--fractions", "0.25,0.5,1", "--epochs", "2", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["plans"] == ["head", "full"] and out["fractions"] == [0.25, 0.5, 1.0]
    assert {(p["plan"], p["fraction"]) for p in out["points"]} == {(p, f) for p in ("head", "full")
                                                                     for f in (0.25, 0.5, 1.0)}
    train_ipc = out["feature_cache"]["train_images"] / 3
    for p in out["points"]:
        assert 0.0 <= p["accuracy"] <= 1.0 and p["seeds"] == 1
        assert p["images_per_class"] == pytest.approx(round(p["fraction"] * train_ipc))
    # The crossover (or none) follows from the points themselves.
    assert out["crossovers"] == crossovers(curve_points(
        [{"plan": p["plan"], "fraction": p["fraction"], "images_per_class": p["images_per_class"],
          "accuracy": p["accuracy"]} for p in out["points"]]))
    assert out["crossover"] == (out["crossovers"][0] if out["crossovers"] else None)
    fc = out["feature_cache"]
    assert fc["images_computed"] == fc["train_images"] + fc["val_images"], "head features: once, not per share"
    bad = subprocess.run([sys.executable, "-m", "tlcore", "curve", str(data), "--fractions", "0,2"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr


def test_log_axes_are_labelled_in_whole_numbers_and_the_map_centres_on_its_line():
    from tlcore import viz
    from tlcore.viz._common import map_log_x
    from tlcore.viz.measured import log_ticks

    assert log_ticks(3.2, 2300) == [5, 10, 20, 50, 100, 200, 500, 1000, 2000]
    assert log_ticks(0.5, 150) == [1, 2, 5, 10, 20, 50, 100]
    assert map_log_x(1000) == pytest.approx((0.6, 5.4))  # the rule of thumb: 2.4 decades either side
    lo, hi = map_log_x(14)  # labnet's measured line: never below one image per class, the small side visible
    assert lo == 0.0 and hi == pytest.approx(math.log10(14) + 2.4)
    fig = viz.decision_map("en", position=(100, 0.35), boundaries=(14.0, 0.77))
    assert tuple(fig.layout.xaxis.range) == (lo, hi)


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_shared_features_leave_out_a_file_that_fails_in_every_fit(tmp_path, monkeypatch, fraction):
    """A learning curve's fits share one feature memo: a training and a validation file that fail to decode
    are left out of every fit (with a warning), never fatal, never trained on as a black image."""
    from tests.conftest import make_image_folder
    from tlcore.data import open_dataset
    from tlcore.train import train

    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TLCORE_FULL_CHECK_MAX_FILES", "0")  # header checks only: the damage shows when decoded
    data = make_image_folder(tmp_path / "d", classes=3, per_class=12, size=32)
    rep = open_dataset(data)

    def damage(path):
        raw = bytearray(path.read_bytes())
        i = raw.find(b"IDAT")
        raw[i + 20] ^= 0xFF
        path.write_bytes(bytes(raw))

    damage(Path(rep.train[4][0]))
    damage(Path(rep.val[1][0]))
    memo: dict = {}
    for _ in range(2):
        events = []
        cfg = TrainConfig(data=str(data), model="labnet", plan="head", epochs=2, batch_size=8, lr=0.01,
                          augment=False, seed=0, train_fraction=fraction)
        result = train(cfg, events.append, feature_memo=memo)
        assert result.status == "completed"
        warnings = [e.message for e in events if e.kind == "warning" and e.code == "images_left_out"]
        assert any("validation" in w for w in warnings), warnings
        evaluated = [sum(map(sum, e.confusion)) for e in events if e.kind == "evaluation"]
        assert evaluated and all(n == len(rep.val) - 1 for n in evaluated)
        trained = [e.images for e in events if e.kind == "epoch_end"]
        if fraction == 1.0:
            assert all(n == len(rep.train) - 1 for n in trained), trained
