"""The third question (tlcore.shift), the transferability estimators (LogME, linear probe), their CLI and texts."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from tlcore.i18n import TEXT, t
from tlcore.models import get_spec
from tlcore.plans import PLAN_NAMES
from tlcore.shift import SHIFT_KINDS, refine
from tlcore.transferability import linear_probe, logme


@pytest.mark.parametrize("model, kind, group", [
    ("labnet", "look", "stem"), ("labnet", "objects", "stage2"), ("labnet", "labels", "stage4"),
    ("resnet18", "look", "stem"), ("resnet18", "labels", "stage4"),
    ("efficientnet_b0", "objects", "stage3"), ("efficientnet_b0", "labels", "stage5"),
])
def test_the_third_question_names_the_block(model, kind, group):
    small = refine(kind, get_spec(model).groups, "small")
    assert small.group == group and small.plan == "surgical"
    assert small.block == {"look": "first", "objects": "middle", "labels": "last"}[kind]
    large = refine(kind, get_spec(model).groups, "large")
    assert large.group == group and large.plan == "", "with much data the map's plan stays"
    keys = [r.key for r in small.reasons]
    assert keys == [f"shift_why_{kind}", f"shift_evidence_{kind}", "shift_plan_small"]
    for lang in ("en", "ko"):
        for r in small.reasons + large.reasons:
            line = t(r.key, lang, **r.params)
            assert line and "{" not in line and r.key != line
    assert "Lee et al." in t(f"shift_evidence_{kind}", "en")


def test_the_third_question_is_pure_and_refuses_unknown_kinds():
    groups = get_spec("labnet").groups
    assert refine("look", groups) == refine("look", groups)
    with pytest.raises(ValueError):
        refine("colour", groups)
    assert SHIFT_KINDS == ("look", "objects", "labels")


def test_every_plan_has_a_label_in_both_languages():
    for p in PLAN_NAMES:
        assert f"plan_{p}" in TEXT["en"] and f"plan_{p}" in TEXT["ko"]


def _dense_evidence(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    n, d = f.shape
    a = alpha * np.eye(d) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    return float((d / 2 * np.log(alpha) + n / 2 * np.log(beta) - n / 2 * np.log(2 * np.pi)
                  - beta / 2 * np.sum((f @ m - y) ** 2) - alpha / 2 * m @ m - np.linalg.slogdet(a)[1] / 2) / n)


@pytest.mark.parametrize("n, d", [(120, 8), (20, 40)])  # more images than features, and fewer
def test_logme_is_the_maximized_evidence_of_the_paper(n, d):
    rng = np.random.default_rng(0)
    f = rng.standard_normal((n, d))
    labels = (f[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    score = logme(f, labels)
    # The same evidence computed densely, maximized over a grid of the two precisions: never higher.
    grid = np.logspace(-3, 3, 25)
    per_class = [max(_dense_evidence(f, (labels == c).astype(float), a, b) for a in grid for b in grid) for c in (0, 1)]
    assert score >= np.mean(per_class) - 1e-3
    assert score == pytest.approx(np.mean(per_class), abs=0.02)


def test_logme_ranks_informative_features_above_noise():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 50)
    informative = np.eye(4)[labels] * 3 + rng.standard_normal((200, 4)) * 0.5
    noise = rng.standard_normal((200, 4))
    assert logme(np.hstack([informative, noise]), labels) > logme(np.hstack([noise, rng.standard_normal((200, 4))]),
                                                                    labels)


def test_linear_probe_accuracy():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat(40)
    x = torch.nn.functional.one_hot(y, 3).float() * 4 + torch.randn(120, 3, generator=g)
    assert linear_probe(x[:90], y[:90], x[90:], y[90:]) > 0.9
    noise = torch.randn(120, 16, generator=g)
    assert linear_probe(noise[:90], y[:90], noise[90:], y[90:]) < 0.7


@pytest.mark.slow
def test_estimators_on_lab_data_rank_a_similar_world_above_a_different_one():
    from tlcore.lab.world import make_target
    from tlcore.transferability import estimate_from_arrays

    reports = {}
    for s in (0.0, 1.0):
        x, y, _ = make_target(s, 30, seed=0)
        xv, yv, _ = make_target(s, 20, seed=0, split="val")
        reports[s] = estimate_from_arrays(x, y, xv, yv, "labnet")
    for k in ("knn", "logme", "linear_probe"):
        assert getattr(reports[1.0], k) > getattr(reports[0.0], k), k
    assert set(reports[1.0].seconds) == {"knn", "features", "logme", "linear_probe"}


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "tlcore", *args], capture_output=True, text=True, timeout=timeout)


def test_cli_recommend_with_the_third_question(tiny_dataset):
    out = _cli("recommend", str(tiny_dataset), "--model", "labnet", "--similarity", "0.8", "--shift", "look", "--json")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert rec["plan"] == "head", "the two-question map's answer is unchanged"
    assert rec["shift"]["group"] == "stem" and rec["shift"]["plan"] == "surgical"
    assert len(rec["shift"]["reason_lines"]) == 3
    bad = _cli("recommend", str(tiny_dataset), "--shift", "colour")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_cli_train_refuses_an_unknown_block(tiny_dataset, runs_dir):
    out = _cli("train", str(tiny_dataset), "--plan", "surgical", "--block", "stage9", "--runs-dir", str(runs_dir))
    assert out.returncode == 2 and out.stderr.startswith("error:") and "stage9" in out.stderr
    assert "Traceback" not in out.stderr
    out = _cli("train", str(tiny_dataset), "--plan", "full", "--lr-decay", "0.5", "--runs-dir", str(runs_dir))
    assert out.returncode == 2 and "decay" in out.stderr


@pytest.mark.slow
def test_cli_train_surgical_with_options(tiny_dataset, runs_dir):
    out = _cli("train", str(tiny_dataset), "--model", "labnet", "--plan", "surgical", "--block", "middle", "--bn", "frozen",
               "--epochs", "1", "--runs-dir", str(runs_dir), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    cfg = json.loads((runs_dir / result["run_id"] / "config.json").read_text())
    assert (cfg["plan"], cfg["block"], cfg["bn"]) == ("surgical", "middle", "frozen")
    fit = [json.loads(line) for line in (runs_dir / result["run_id"] / "events.jsonl").read_text().splitlines()]
    report = next(e for e in fit if e["kind"] == "fit_start")["plan_report"]
    trained = {g["name"] for g in report["groups"] if g["trainable"]}
    assert trained == {"stage2", "head"}
    assert {g["name"]: g["bn"] for g in report["groups"]}["stage2"] == "frozen"


def test_probe_chart_and_phase_marks():
    from tlcore import events as ev
    from tlcore import viz

    probe = {"reference": True, "block": "stem", "groups": [
        {"name": "stem", "rgn": 2.0, "relative": 10.0}, {"name": "stage1", "rgn": 0.5, "relative": 2.0},
        {"name": "head", "rgn": 0.1, "relative": 1.0}]}
    fig = viz.probe_chart(probe, "ko")
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert len(bars) == 2 and list(bars[1].y) == [2.0, 0.5, 0.1]
    assert list(bars[0].y) == pytest.approx([0.2, 0.25, 0.1]), "the pretraining images' values beside the data's"
    assert bars[1].marker.color[0] != bars[1].marker.color[1], "the suggested block stands out"
    assert list(bars[0].x)[-1] == t("probe_head", "ko")
    raw = viz.probe_chart({**probe, "reference": False, "block": ""}, "en")
    assert len([tr for tr in raw.data if tr.type == "bar"]) == 1
    curves = viz.training_curves([], 6, "en")
    phases = [ev.PhaseStart(phase="linear_probe", epoch=1, epochs=3), ev.PhaseStart(phase="fine_tune", epoch=4, epochs=3)]
    viz.mark_phases(curves, phases, "en")
    assert [sh.x0 for sh in curves.layout.shapes] == [3.5, 3.5], "one line per chart where fine-tuning starts"
    assert {a.text for a in curves.layout.annotations} >= {"linear probe", "fine-tuning"}
