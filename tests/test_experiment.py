"""The lab experiment's recipes, statistics, table and JSON contract (on a shrunken world)."""
import json

import pytest

from tlcore.experiments import quadrants as ex
from tlcore.lab import recipes


def test_spearman():
    assert ex.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert ex.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert ex.spearman([1, 2, 3], [5, 5, 5]) == 0.0
    assert ex.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


@pytest.mark.parametrize("size", ["small", "large"])
def test_recipes_treat_each_kind_of_layer_alike(size):
    """A new head learns at one rate and a retrained pretrained layer at another, whatever the plan."""
    head, top, full, scratch = (recipes.recipe(p, size) for p in ex.PLANS)
    assert head.lr == top.lr == full.lr == recipes.NEW_LR
    assert top.lr * top.body_lr_mult == pytest.approx(recipes.RETRAIN_LR)
    assert full.lr * full.body_lr_mult == pytest.approx(recipes.RETRAIN_LR)
    assert full.body_lr_mult < 1.0  # full: a lower rate for the backbone than for the head
    assert top.epochs == full.epochs == scratch.epochs and top.batch_size == full.batch_size
    assert scratch.body_lr_mult is None and scratch.lr == recipes.SCRATCH_LR


def test_quadrant_settings_fall_in_their_quadrants():
    from tlcore.decision import quadrant_of, similarity_category, size_category

    for q, (s, n) in ex.QUADRANT_SETTINGS.items():
        # The map's size is training images per class (inspect counts them; validation is set aside).
        assert quadrant_of(size_category(n), similarity_category(s)) == q


def tiny_recipe(plan, size):
    return recipes.Recipe(1, 8, 1e-2, None if plan == "head" else 0.3)


@pytest.mark.parametrize("jobs", [1, 2])
def test_experiment_json_contract_and_table(tmp_path, monkeypatch, jobs):
    """The whole pipeline on a shrunken world (1 epoch, a few images, 2 seeds), in-process and in 2 workers."""
    monkeypatch.setattr(ex, "QUADRANT_SETTINGS", {1: (0.0, 6), 2: (1.0, 6), 3: (0.0, 4), 4: (1.0, 4)})
    monkeypatch.setattr(ex, "VAL_PER_CLASS", 4)
    monkeypatch.setattr(ex, "NUM_CLASSES", 3)
    monkeypatch.setattr(ex, "SIMILARITY_DIALS", (0.0, 0.5, 1.0))
    monkeypatch.setattr(ex, "SIMILARITY_PER_CLASS", 12)
    monkeypatch.setattr(ex, "recipe", tiny_recipe)
    result = ex.run_experiment(quick=True, workdir=tmp_path, quiet=True, jobs=jobs)
    json.dumps(result)  # serializable
    assert result["seeds"] == 2 and result["jobs"] == jobs and len(result["quadrants"]) == 4
    assert [r["quadrant"] for r in result["quadrants"]] == [1, 2, 3, 4]
    assert -1.0 <= result["similarity_spearman"] <= 1.0 and len(result["similarity_points"]) == 3
    for r in result["quadrants"]:
        assert set(r) >= {"quadrant", "recommended", "best", "accuracy", "recommended_gap"}
        assert r["per_class"] == ex.QUADRANT_SETTINGS[r["quadrant"]][1]  # the workers drew the shrunken world
        assert set(r["accuracy"]) == set(ex.PLANS)
        assert all(0.0 <= a <= 1.0 for a in r["accuracy"].values())
        assert r["best"] == max(ex.PLANS, key=lambda p: r["accuracy"][p])
        assert r["recommended_gap"] == pytest.approx(100 * (r["accuracy"][r["best"]] - r["accuracy"][r["recommended"]]), abs=0.01)
        assert r["epochs"] == {p: 1 for p in ex.PLANS}, "the workers trained with the test's recipe"
    table = ex.format_table(result)
    assert "Spearman" in table and all(f"Q{q}" in table for q in (1, 2, 3, 4))
