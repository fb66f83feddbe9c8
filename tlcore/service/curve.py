"""Learning curves: plans trained on nested subsets of the training images, and the size at which they cross.

The app queues one run per (plan, share, seed) as a group and reads them back here; the
command line (``python -m tlcore curve``, tlcore.experiments.curve) trains them in one process
so that the head fits share one set of frozen features. Both summarize with :func:`curve_points`
and :func:`crossovers`.
"""
from __future__ import annotations

import math
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigError, RunError
from ..runs import FINAL_STATES
from ..stats import mean_spread
from .calibration import boundaries_for
from .compare import lab_recipe_size
from .training import start_run

if TYPE_CHECKING:
    from ..config import TrainConfig
    from ..events import Progress
    from ..runs import RunStore

#: Shares of the training images a learning curve trains on by default, smallest first.
DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
#: The plans a learning curve compares by default: a frozen backbone against fine-tuning all of it.
DEFAULT_PLANS = ("head", "full")


def check_fractions(fractions) -> list[float]:
    """Sorted, distinct shares in (0, 1]. Raises ConfigError naming the bad value."""
    out = []
    for f in fractions:
        try:
            v = float(f)
        except (TypeError, ValueError):
            raise ConfigError(f"A share of the training images must be a number, not {f!r}.",
                              "For example: --fractions 0.1,0.25,0.5,1.", code="bad_fraction") from None
        if not 0.0 < v <= 1.0:
            raise ConfigError(f"A share of the training images must be above 0 and at most 1, not {v}.",
                              "For example: --fractions 0.1,0.25,0.5,1.", code="bad_fraction")
        out.append(v)
    if not out:
        raise ConfigError("No shares of the training images given.", "For example: --fractions 0.1,0.25,0.5,1.",
                          code="bad_fraction")
    return sorted(set(out))


@dataclass
class CurvePoint:
    """One plan at one share of the training images: its mean best validation accuracy over seeds."""

    plan: str
    fraction: float
    images_per_class: float  # training images per class at this share (mean over classes)
    accuracy: float  # mean best validation accuracy, 0..1
    spread: float  # standard deviation over seeds (0 for one)
    seeds: int
    accuracies: list[float] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def curve_points(results: list[dict]) -> list[CurvePoint]:
    """Points from finished fits: dicts with ``plan``, ``fraction``, ``images_per_class`` and ``accuracy`` (0..1).

    Fits of one plan at one share are seeds: their mean and spread make one point. Sorted by
    plan (as first seen), then share.
    """
    groups: dict[tuple[str, float], list[dict]] = {}
    for r in results:
        groups.setdefault((r["plan"], float(r["fraction"])), []).append(r)
    order = list(dict.fromkeys(r["plan"] for r in results))
    points = []
    for (plan, frac), rs in sorted(groups.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        accs = [float(r["accuracy"]) for r in rs]
        mean, sd = mean_spread(accs)
        ipc = sum(float(r["images_per_class"]) for r in rs) / len(rs)
        points.append(CurvePoint(plan, frac, ipc, mean, sd, len(rs), accs))
    return points


def crossovers(points: list[CurvePoint]) -> list[dict]:
    """Where the leading plan changes as the training images grow.

    At every share that all plans reached, the leader is the plan with the highest mean. Between
    two neighbouring shares where the leader changes from A to B, the crossover is where B's
    lead over A (linear in log images per class between the two points) reaches zero. Returns
    ``[{"below": A, "above": B, "images_per_class": x, "between": [x0, x1]}, ...]`` in order
    of size; empty when one plan leads throughout (or fewer than two plans or shares).
    """
    plans = list(dict.fromkeys(p.plan for p in points))
    by = {(p.plan, p.fraction): p for p in points}
    shares = sorted({p.fraction for p in points if all((q, p.fraction) in by for q in plans)})
    if len(plans) < 2 or len(shares) < 2:
        return []

    def leader(f):
        return max(plans, key=lambda q: (by[(q, f)].accuracy, -plans.index(q)))

    out = []
    for f0, f1 in zip(shares, shares[1:]):
        a, b = leader(f0), leader(f1)
        if a == b:
            continue
        x0, x1 = by[(a, f0)].images_per_class, by[(a, f1)].images_per_class
        d0 = by[(b, f0)].accuracy - by[(a, f0)].accuracy  # <= 0: A led
        d1 = by[(b, f1)].accuracy - by[(a, f1)].accuracy  # > 0: B leads
        t = 0.0 if d1 == d0 else min(1.0, max(0.0, -d0 / (d1 - d0)))
        lx0, lx1 = math.log(max(x0, 1e-9)), math.log(max(x1, 1e-9))
        out.append({"below": a, "above": b, "images_per_class": math.exp(lx0 + t * (lx1 - lx0)), "between": [x0, x1]})
    return out


def curve_result(points: list[CurvePoint], model: str) -> dict:
    """The JSON-ready summary shared by the CLI and the app: points, the crossover(s), the map's size boundary."""
    xs = crossovers(points)
    b = boundaries_for(model)
    last = max((p.fraction for p in points), default=0.0)
    leaders = [p for p in points if p.fraction == last]
    return {
        "points": [p.to_json() for p in points],
        "crossover": xs[0] if xs else None,
        "crossovers": xs,
        "leader": max(leaders, key=lambda p: p.accuracy).plan if leaders else None,
        "size_boundary": {"images_per_class": b.size, "boundaries": b.source},
    }


# ---------------------------------------------------------------------------
# The app: one run per (plan, share, seed), queued as a group


def curve_config(base: "TrainConfig", plan: str, fraction: float, seed: int, lab_recipe: bool,
                 top_stages: int = 1) -> "TrainConfig":
    """The config of one point of a learning curve: ``plan`` on ``fraction`` of the training images.

    With ``lab_recipe`` (labnet on lab data), the plan trains with the lab recipe for the size
    of its subset, as the sweep trains it; otherwise with ``base``'s settings.
    """
    from ..lab.recipes import plan_config, size_for

    if lab_recipe:
        from .datasets import lab_info

        per_class = (lab_info(base.data) or {}).get("per_class")
        size = size_for(max(1, round(fraction * per_class))) if per_class else lab_recipe_size(base.data)
        cfg = plan_config(base, plan, size, None)
    else:
        cfg = base.with_(plan=plan, top_stages=max(1, int(top_stages)))
    return cfg.with_(train_fraction=float(fraction), seed=int(seed))


def start_curve(store: "RunStore", base: "TrainConfig", plans: list[str], fractions, seeds: int = 1,
                lab_recipe: bool = False, *, top_stages: int = 1, quadrant: int = 0, dataset: str = "",
                num_classes: int = 0) -> str:
    """Queue the runs of a learning curve (smallest share first, so the chart fills from the left); returns the group id.

    Raises RunError without plans and ConfigError for a bad share.
    """
    if not plans:
        raise RunError("Choose at least one plan for the learning curve.", code="no_plans")
    shares = check_fractions(fractions)
    group = f"crv-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    for k in range(max(1, int(seeds))):
        for f in shares:
            for plan in plans:
                cfg = curve_config(base, plan, f, base.seed + k, lab_recipe, top_stages)
                label = f"{plan} · {f:.0%}" + (f" · seed {cfg.seed}" if seeds > 1 else "")
                start_run(store, cfg, label=label, group=group, quadrant=quadrant, dataset=dataset,
                          num_classes=num_classes)
    return group


@dataclass
class CurveRow:
    run_id: str
    plan: str
    fraction: float
    seed: int
    status: str
    best_val_accuracy: float
    images_per_class: float  # training images per class of the subset (0 until the run has started)


@dataclass
class CurveSummary:
    rows: list[CurveRow]
    result: dict  # curve_result() over the finished runs
    model: str
    done: int
    active: bool


def curve_summary(store: "RunStore", group: str, progress: dict[str, "Progress"] | None = None) -> CurveSummary:
    """A learning-curve group's runs, and the curve over those that completed."""
    progress = progress if progress is not None else {}
    rows, model = [], ""
    for info in sorted((r for r in store.list() if r.group == group), key=lambda r: r.created):
        p = progress[info.run_id] = store.progress(info.run_id, progress.get(info.run_id))
        try:
            cfg = store.config(info.run_id)
        except Exception:  # noqa: BLE001 - a damaged run folder leaves the curve, the others still draw
            continue
        model = model or cfg.model
        ipc = (p.fit_start.num_train / max(1, len(p.fit_start.classes))) if p.fit_start else 0.0
        rows.append(CurveRow(info.run_id, info.plan, cfg.train_fraction, cfg.seed, info.status,
                             info.best_val_accuracy, ipc))
    finished = [{"plan": r.plan, "fraction": r.fraction, "images_per_class": r.images_per_class,
                 "accuracy": r.best_val_accuracy} for r in rows if r.status == "completed" and r.images_per_class]
    result = curve_result(curve_points(finished), model or "labnet")
    return CurveSummary(rows, result, model, sum(r.status in FINAL_STATES for r in rows),
                        any(r.status not in FINAL_STATES for r in rows))
