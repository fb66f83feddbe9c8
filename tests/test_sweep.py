"""The lab sweep: its statistics, its judgement of the map, its JSON contract and table (on a shrunken world)."""
from __future__ import annotations

import json

import pytest

from tlcore.experiments import sweep as sw
from tlcore.lab import recipes
from tlcore.service import defaults


def tiny_recipe(plan, size):
    return recipes.Recipe(1, 8, 1e-2, None if plan in ("head", "scratch") else 0.3)


def _unit(n, s, seed, accs):
    return {"per_class": n, "dial": s, "seed": seed, "accuracy": accs, "best_epoch": {p: 1 for p in accs},
            "epochs": {p: 1 for p in accs}, "seconds": {p: 1.0 for p in accs}}


def test_summarize_cell_mean_spread_winner_margin_and_tie():
    plans = ("head", "full")
    clear = sw.summarize_cell([_unit(20, 1.0, 0, {"head": 0.90, "full": 0.80}),
                               _unit(20, 1.0, 1, {"head": 0.92, "full": 0.82})], plans, 0.9)
    assert clear["winner"] == "head" and clear["runner_up"] == "full"
    assert clear["accuracy"]["head"] == pytest.approx(0.91) and clear["spread"]["head"] == pytest.approx(0.01414, abs=1e-4)
    assert clear["margin_points"] == pytest.approx(10.0) and clear["tie"] is False
    noisy = sw.summarize_cell([_unit(20, 0.0, 0, {"head": 0.60, "full": 0.70}),
                               _unit(20, 0.0, 1, {"head": 0.70, "full": 0.62})], plans, 0.1)
    assert noisy["winner"] == "full" and noisy["margin_points"] == pytest.approx(1.0)
    assert noisy["tie"] is True, "a 1-point margin between seeds 8-10 points apart is a tie"
    one_seed = sw.summarize_cell([_unit(20, 0.0, 0, {"head": 0.60, "full": 0.61})], plans, 0.1)
    assert one_seed["tie"] is False and one_seed["seeds"] == 1


def test_sweep_json_contract_and_table(tmp_path, monkeypatch):
    """The whole pipeline on a tiny world (1 epoch, a few images), in two worker processes."""
    monkeypatch.setattr(sw, "NUM_CLASSES", 3)
    monkeypatch.setattr(sw, "SIMILARITY_PER_CLASS", 6)
    monkeypatch.setattr(sw, "recipe", tiny_recipe)
    monkeypatch.setattr(defaults, "LAB_VAL_PER_CLASS", 4)
    result = sw.run_sweep(sizes=[4, 8], similarities=[0.0, 1.0], seeds=2, jobs=2, workdir=tmp_path, quiet=True,
                          command="python -m tlcore lab sweep --test")
    json.dumps(result)
    assert result["command"] == "python -m tlcore lab sweep --test" and result["machine"]["cores"] >= 1
    assert result["sizes"] == [4, 8] and result["similarities"] == [0.0, 1.0] and result["seeds"] == 2
    assert len(result["cells"]) == 4 and result["val_per_class"] == 4
    for c in result["cells"]:
        assert set(c["accuracy"]) == set(sw.PLANS) and c["epochs"] == {p: 1 for p in sw.PLANS}, "the test's recipe"
        assert c["winner"] == max(sw.PLANS, key=lambda p: c["accuracy"][p])
        assert 0.0 <= c["similarity"] <= 1.0 and c["num_classes"] == 3
        assert c["map_plan_rule_of_thumb"] in sw.PLANS and isinstance(c["agrees_measured"], bool)
    for key in ("agreement_measured", "agreement_rule_of_thumb"):
        assert 0.0 <= result[key] <= 1.0
    assert result["agreement_measured"] >= result["agreement_rule_of_thumb"], "the fit never does worse than the rule"
    share = sum(c["agrees_measured"] for c in result["cells"]) / len(result["cells"])
    assert result["agreement_measured"] == pytest.approx(share)
    table = sw.format_table(result)
    assert "Fitted boundaries" in table and "Rule of thumb" in table
