"""The lab's surgical experiment: its cells of each kind of shift, its JSON contract and table (on a shrunken world)."""
import json

import numpy as np
import pytest

from tlcore.experiments import surgical as ex
from tlcore.lab import recipes, world


def tiny_recipe(plan, size):
    return recipes.Recipe(1, 8, 1e-2, None if plan == "head" else 0.3, 1 if plan == "lp-ft" else 0)


@pytest.mark.slow
def test_surgical_json_contract_and_table(tmp_path, monkeypatch):
    """The whole pipeline (1 epoch, 3 images per class, 2 seeds) in 2 worker processes."""
    jobs = 2
    monkeypatch.setattr(ex, "PER_CLASS", 3)
    monkeypatch.setattr(ex, "VAL_PER_CLASS", 3)
    monkeypatch.setattr(ex, "RECIPE", tiny_recipe)
    result = ex.run_surgical(quick=True, seeds=2, workdir=tmp_path, quiet=True, jobs=jobs)
    json.dumps(result)
    assert result["seeds"] == 2 and result["jobs"] == jobs and result["per_class"] == 3
    assert [c["shift"] for c in result["cells"]] == ["input", "feature", "output"]
    for c in result["cells"]:
        assert set(c) >= {"shift", "accuracy", "spread", "best"}
        assert set(c["accuracy"]) == set(ex.QUICK_PLANS) and "lp-ft" in c["accuracy"] and "full" in c["accuracy"]
        assert all(0.0 <= a <= 1.0 for a in c["accuracy"].values())
        assert c["best"] == max(c["accuracy"], key=c["accuracy"].get)
        assert c["probe_suggests"] in ("first", "middle", "last")
        assert c["first_minus_last"] == pytest.approx(
            100 * (c["accuracy"]["surgical:first"] - c["accuracy"]["surgical:last"]), abs=0.01)
    table = ex.format_table(result)
    assert "surgical:first" in table and "output" in table


def test_shift_cells_are_deterministic_balanced_and_keep_the_similarity_dial():
    before = world.world_fingerprint()
    for kind in world.SHIFT_KINDS:
        x, y, names = world.make_shift(kind, 4, seed=3)
        x2, y2, _ = world.make_shift(kind, 4, seed=3)
        xv, _, _ = world.make_shift(kind, 4, seed=3, split="val")
        assert x.dtype == np.uint8 and x.shape == (4 * len(names), 32, 32, 3)
        assert np.array_equal(x, x2) and np.array_equal(y, y2), "the same seed draws the same cell"
        assert not np.array_equal(x, xv), "validation images are drawn apart"
        assert np.bincount(y).tolist() == [4] * len(names)
    assert world.world_fingerprint() == before, "the similarity dial's world is untouched"
    assert world.make_shift("input", 2, 0)[2] == list(world.SHIFT_INPUT_SHAPES)
    assert set(world.SHIFT_INPUT_SHAPES) <= set(world.SOURCE_SHAPES), "input-level: the pretraining shapes"
    assert world.make_shift("feature", 2, 0)[2] == world.target_classes(6), "feature-level: new shapes"


def test_output_cell_labels_are_where_the_figure_is():
    x, y, names = world.make_shift("output", 30, seed=1)
    assert names == list(world.SHIFT_OUTPUT_CLASSES)
    # The figure differs from the mean background colour most where it is: compare the image halves' spread.
    f = x.astype(float).std(axis=3)  # colour contrast per pixel
    left, top = f[:, :, :16].mean((1, 2)) - f[:, :, 16:].mean((1, 2)), f[:, :16].mean((1, 2)) - f[:, 16:].mean((1, 2))
    right_label, bottom_label = y % 2 == 1, y >= 2
    assert (left[~right_label].mean() > left[right_label].mean()) and (top[~bottom_label].mean() > top[bottom_label].mean())


def test_input_cell_is_the_source_world_through_a_camera():
    x, y, _ = world.make_shift("input", 6, seed=2)
    clean = world._render(y, world.SHIFT_INPUT_SHAPES, world.world_params(1.0),
                          world._draw(np.random.default_rng([2, 11, 0]), len(y)))
    assert x.std() < clean.std(), "lower contrast"
    assert np.abs(x.astype(float) - clean).mean() > 10, "a visible pixel-level change"
    assert np.corrcoef(x.astype(float).ravel(), clean.astype(float).ravel())[0, 1] > 0.3, "the same scenes"


@pytest.mark.slow
def test_estimators_json_contract_and_record(tmp_path, monkeypatch):
    """The estimators' grid (shrunken: 2 dials, one shift, 1 epoch) and the record the app reads."""
    from tlcore.experiments import estimators as est

    monkeypatch.setattr(est, "DIALS", (0.0, 1.0))
    monkeypatch.setattr(est, "SHIFTS", ("output",))
    monkeypatch.setattr(est, "PER_CLASS", 4)
    monkeypatch.setattr(est, "VAL_PER_CLASS", 3)
    monkeypatch.setattr(est, "RECIPE", tiny_recipe)
    monkeypatch.setattr(est, "RECORD_PATH", tmp_path / "record.json")
    result = est.run_estimators(quick=True, workdir=tmp_path, quiet=True, jobs=1, save=True)
    json.dumps(result)
    assert [c["cell"] for c in result["cells"]] == ["s=0.0", "s=1.0", "output"]
    assert set(result["spearman"]) == {"knn", "logme", "linear_probe"}
    assert all(-1.0 <= v <= 1.0 for v in result["spearman"].values())
    for c in result["cells"]:
        assert c["best_accuracy"] == max(c["accuracy"].values())
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["cells"] == 3 and set(record["spearman"]) == set(result["spearman"])
    assert "Spearman" in est.format_table(result)
