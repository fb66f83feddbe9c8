"""Calibrated boundaries: the rule with boundaries as inputs, the fit to a sweep, the shipped calibration, the verdict."""
from __future__ import annotations

import json
import math

import pytest

from tlcore import service
from tlcore.decision import RULE_OF_THUMB, Boundaries, DatasetProfile, recommend
from tlcore.i18n import reason_lines
from tlcore.service import calibration as cal
from tlcore.service.compare import compare_verdict
from tlcore.stats import plateaued, too_close

MEASURED = Boundaries(70, 0.45, "measured", {"model": "labnet", "cells": 12, "seeds": 2, "agreement": 100.0,
                                              "agreement_rot": 50.0, "tol": 2.0, "rot_size": 1000, "rot_sim": 0.5})


@pytest.mark.parametrize("ipc, sim, quadrant, plan", [
    (70, 0.45, 2, "top"), (69, 0.45, 4, "head"), (70, 0.449, 1, "full"), (69, 0.449, 3, "top"),
    (200, 0.35, 1, "full"), (20, 0.9, 4, "head"), (5000, 0.9, 2, "top"),
])
def test_measured_boundaries_move_the_quadrants(ipc, sim, quadrant, plan):
    rec = recommend(DatasetProfile(ipc, 6, sim, "measured"), MEASURED)
    assert (rec.quadrant, rec.plan) == (quadrant, plan)
    assert (rec.boundaries, rec.size_boundary, rec.similarity_boundary) == ("measured", 70.0, 0.45)


def test_rule_of_thumb_stays_the_default_and_says_so():
    rec = recommend(DatasetProfile(200, 6, 0.35, "user"))
    assert rec.quadrant == 3 and rec.boundaries == "rule_of_thumb" and rec.size_boundary == 1000
    assert rec.reason_keys == ["size_small", "sim_different", "quadrant3", "boundaries_rule_of_thumb"]
    assert recommend(DatasetProfile(200, 6, 0.35, "user"), RULE_OF_THUMB) == rec
    js = rec.to_json()
    assert (js["boundaries"], js["size_boundary"], js["similarity_boundary"]) == ("rule_of_thumb", 1000, 0.5)
    with pytest.raises(ValueError):
        Boundaries(0, 0.5)
    with pytest.raises(ValueError):
        Boundaries(100, 0.5, "guessed")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_measured_reasons_name_the_boundaries_and_the_evidence(lang):
    rec = recommend(DatasetProfile(200, 6, 0.35, "user"), MEASURED)
    assert rec.reason_keys == ["size_large_measured", "sim_different_measured", "quadrant1", "boundaries_measured"]
    lines = reason_lines(rec, lang)
    assert "200" in lines[0] and "70" in lines[0] and "labnet" in lines[0]
    assert "0.45" in lines[1]
    assert all(s in lines[-1] for s in ("labnet", "12", "100", "50", "1,000")), lines[-1]
    assert not any("{" in line for line in lines), "every placeholder is filled"


def _cell(n, s, acc, num_classes=6):
    return {"per_class": n, "similarity": s, "num_classes": num_classes, "accuracy": acc}


#: A constructed sweep: retraining the body (full) wins from 50 images per class when different;
#: a frozen backbone (head) wins when small and similar; everything ties near the top when large and similar.
TABLE = [
    _cell(20, 0.1, {"head": 0.30, "top": 0.40, "full": 0.39, "scratch": 0.25}),
    _cell(50, 0.1, {"head": 0.32, "top": 0.45, "full": 0.55, "scratch": 0.30}),
    _cell(100, 0.1, {"head": 0.33, "top": 0.50, "full": 0.65, "scratch": 0.35}),
    _cell(20, 0.35, {"head": 0.50, "top": 0.58, "full": 0.57, "scratch": 0.30}),
    _cell(50, 0.35, {"head": 0.52, "top": 0.62, "full": 0.72, "scratch": 0.35}),
    _cell(100, 0.35, {"head": 0.55, "top": 0.65, "full": 0.80, "scratch": 0.40}),
    _cell(20, 0.9, {"head": 0.97, "top": 0.94, "full": 0.90, "scratch": 0.30}),
    _cell(50, 0.9, {"head": 0.98, "top": 0.975, "full": 0.97, "scratch": 0.50}),
    _cell(100, 0.9, {"head": 0.98, "top": 0.985, "full": 0.99, "scratch": 0.60}),
]


def test_fit_finds_the_boundaries_a_constructed_sweep_implies():
    fit = cal.fit_boundaries(TABLE)
    assert fit["agreement"] == 1.0 and fit["cells_judged"] == 9
    assert 20 < fit["size"] <= 50, "between the sizes where top and where full wins"
    assert 0.35 < fit["similarity"] <= 0.9
    assert fit["size"] == round(math.sqrt(20 * 50)), "the geometric midpoint"
    assert fit["similarity"] == pytest.approx((0.35 + 0.9) / 2), "the midpoint, closest to the rule of thumb's 0.5"
    share, _, _ = cal.agreement(TABLE, RULE_OF_THUMB)
    assert share == pytest.approx(5 / 9), "the rule of thumb calls top where full wins by 10 to 15 points"
    assert 0.0 <= fit["agreement_loo"] <= 1.0


def test_fit_breaks_ties_toward_the_rule_of_thumb_and_needs_judged_cells():
    flat = [_cell(n, s, {"head": 0.9, "top": 0.9, "full": 0.9}) for n in (20, 200) for s in (0.2, 0.8)]
    fit = cal.fit_boundaries(flat)
    assert fit["agreement"] == 1.0 and fit["size"] == 400 and fit["similarity"] == pytest.approx(0.5)
    with pytest.raises(service.TLError):
        cal.fit_boundaries([_cell(20, 0.2, {"scratch": 0.5})])


def test_calibration_file_sets_the_apps_boundaries(tmp_path, monkeypatch):
    sweep = {"model": "labnet", "cells": TABLE, "seeds": 2, "command": "python -m tlcore lab sweep --test"}
    (tmp_path / "labnet_sweep.json").write_text(json.dumps(sweep))
    rec_file = cal.calibration_record(sweep, tmp_path / "labnet_sweep.json")
    assert rec_file["sweep"] == "labnet_sweep.json" and len(rec_file["sweep_sha256"]) == 64
    assert rec_file["agreement_measured"] == 1.0 and len(rec_file["cells"]) == 9
    monkeypatch.setattr(cal, "LAB_DIR", tmp_path)
    assert service.boundaries_for("labnet") == RULE_OF_THUMB, "no calibration file yet"
    (tmp_path / "labnet_calibration.json").write_text(json.dumps(rec_file))
    b = service.boundaries_for("labnet")
    assert b.source == "measured" and b.size == rec_file["boundaries"]["size"]
    assert b.evidence["cells"] == 9 and b.evidence["agreement"] == 100.0
    assert service.boundaries_for("resnet18") == RULE_OF_THUMB
    assert service.boundaries_for("timm:../../x") == RULE_OF_THUMB, "a name that is no file name"
    rec = service.recommendation(100, 6, 0.35, "user", "labnet")
    assert rec.boundaries == "measured" and rec.plan == "full"
    (tmp_path / "labnet_calibration.json").write_text('{"boundaries": {"size": -3}}')
    assert service.boundaries_for("labnet") == RULE_OF_THUMB, "a damaged file never takes the map down"


def test_recommend_json_says_which_boundaries(tmp_path):
    from tlcore.cli import main

    from tests.conftest import make_image_folder

    data = make_image_folder(tmp_path / "d", classes=2, per_class=6)
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["recommend", str(data), "--model", "resnet18", "--similarity", "0.3", "--json"]) == 0
    out = json.loads(buf.getvalue())
    assert out["boundaries"] == "rule_of_thumb" and out["size_boundary"] == 1000 and out["similarity_boundary"] == 0.5
    assert "rule of thumb" in out["reasons"][-1]


# ---------------------------------------------------------------------------
# The verdict


def _row(plan, acc, curve=None):
    return {"plan": plan, "status": "completed", "best_val_accuracy": acc, "curve": curve or []}


RISING = [(e, 0.4 + 0.02 * e) for e in range(1, 11)]
FLAT = [(e, min(0.8, 0.5 + 0.1 * e)) for e in range(1, 11)]


def test_stats_rules():
    assert too_close(0.02, 0.02, 2, 0.02, 2) and not too_close(0.10, 0.02, 2, 0.02, 2)
    assert not too_close(0.001, 0.05, 1, 0.05, 3), "one run has no spread to judge by"
    assert plateaued([a for _, a in FLAT]) and not plateaued([a for _, a in RISING])
    assert not plateaued([0.5, 0.6, 0.6]), "too short to tell"


def test_verdict_single_runs_keep_their_meaning():
    assert compare_verdict([_row("top", 0.80), _row("full", 0.79)], "top").key == "verdict_agree_best"
    assert compare_verdict([_row("top", 0.785), _row("full", 0.80)], "top").key == "verdict_agree_close"
    v = compare_verdict([_row("top", 0.655, RISING), _row("full", 0.827, RISING)], "top")
    assert (v.agrees, v.key) == (False, "verdict_disagree") and v.params["gap"] == pytest.approx(17.2)


def test_verdict_uses_the_spread_over_seeds():
    close = [_row("top", 0.70), _row("top", 0.78), _row("full", 0.76), _row("full", 0.80)]
    v = compare_verdict(close, "top")
    assert (v.agrees, v.key) == (None, "verdict_too_close")
    assert v.params["acc"] == pytest.approx(74.0) and v.params["best_acc"] == pytest.approx(78.0)
    assert v.params["seeds"] == 2 and v.params["spread"] > 5
    clear = [_row("top", 0.60), _row("top", 0.61), _row("full", 0.80), _row("full", 0.81)]
    assert compare_verdict(clear, "top").key == "verdict_disagree"


def test_verdict_never_asks_for_more_epochs_after_a_plateau():
    v = compare_verdict([_row("top", 0.62, FLAT), _row("full", 0.80, FLAT)], "top")
    assert (v.agrees, v.key) == (False, "verdict_disagree_plateau")
    from tlcore.i18n import verdict_text

    for lang in ("en", "ko"):
        text = verdict_text(v, lang)
        assert "epochs" not in text.lower() or "would not change" in text
        assert "try more epochs" not in text.lower() and "늘려 보세요" not in text
    mixed = compare_verdict([_row("top", 0.62, FLAT), _row("full", 0.80, RISING)], "top")
    assert mixed.key == "verdict_disagree", "a plan still rising may gain from more epochs"
