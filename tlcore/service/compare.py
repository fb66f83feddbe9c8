"""Comparisons: several plans on the same data and backbone, queued as one group, and the verdict on the map."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..decision import Recommendation, plan_for_quadrant
from ..errors import RunError
from ..events import Progress
from ..runs import FINAL_STATES
from ..stats import mean_spread, plateaued, too_close
from . import defaults
from .datasets import lab_info
from .mapping import num_stages
from .training import start_run

if TYPE_CHECKING:
    from ..config import TrainConfig
    from ..runs import RunInfo, RunStore


def lab_recipe_applies(path: str | Path, model: str) -> bool:
    """Whether the lab experiment's recipes fit this comparison: labnet on lab data."""
    return model == "labnet" and lab_info(path) is not None


def lab_recipe_size(path: str | Path | None, rec: Recommendation | None = None) -> str:
    """The lab recipe's size ("small" | "large") for lab data: from its training images per class.

    The recipe follows the data, not the map's size boundary (which a calibration moves), so
    Compare trains each plan as the lab sweep did in that cell. Without a lab record, the
    recommendation's images per class decide.
    """
    from ..lab.recipes import size_for

    lab = lab_info(path) if path else None
    if lab and lab.get("per_class"):
        return size_for(int(lab["per_class"]))
    return size_for(int(rec.images_per_class) if rec is not None else 0)


def lab_recipe_epochs(plans: list[str], rec: Recommendation, path: str | Path | None = None) -> dict[str, int]:
    """Epochs each plan trains for under the lab recipe, for the data at ``path`` (else of the recommendation's size)."""
    from ..lab.recipes import recipe

    size = lab_recipe_size(path, rec)
    return {plan: recipe(plan, size).epochs for plan in plans}


def start_compare(store: "RunStore", base: "TrainConfig", plans: list[str], top_stages: int = 1,
                  lab_recipe: Recommendation | None = None, *, quadrant: int = 0, dataset: str = "",
                  num_classes: int = 0, seeds: int = 1) -> str:
    """Queue one run per plan (and seed) on the same data and backbone; returns the group id.

    With ``lab_recipe`` (the map's recommendation for the data), each plan trains with the
    lab's recipe for it (epochs, batch size, learning rates, augmentation) for the data's size,
    exactly as ``python -m tlcore lab sweep`` trained it in that cell, so a class sees on the
    chart what the sweep measured. ``seeds`` > 1 trains each plan with seeds ``base.seed``,
    ``base.seed + 1``, ... (the verdict then weighs the gap against their spread). ``quadrant``
    (the map's, kept with each run) lets the verdict name the map's plan. Raises RunError
    without plans.
    """
    from ..lab.recipes import plan_config

    if not plans:
        raise RunError("Choose at least one plan to compare.", code="no_plans")
    seeds = max(1, int(seeds))
    group = f"cmp-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    size = lab_recipe_size(base.data, lab_recipe) if lab_recipe is not None else ""
    for k in range(seeds):
        for plan in plans:
            if lab_recipe is not None:
                cfg = plan_config(base, plan, size, None)
            else:
                cfg = base.with_(plan=plan, top_stages=max(1, int(top_stages)))
            cfg = cfg.with_(seed=base.seed + k)
            label = plan if seeds == 1 else f"{plan} · seed {cfg.seed}"
            start_run(store, cfg, label=label, group=group, quadrant=quadrant, dataset=dataset, num_classes=num_classes)
    return group


def run_seconds(info: "RunInfo", progress: Progress) -> float:
    if progress.fit_end:
        return progress.fit_end.seconds
    if info.started:
        return float((info.ended or time.time()) - info.started)
    return 0.0


@dataclass
class CompareRow:
    run_id: str
    plan: str
    status: str
    best_val_accuracy: float
    seconds: float
    trainable_params: int
    queue_position: int
    curve: list[tuple[int, float]]
    message: str = ""
    best_val_balanced_accuracy: float = 0.0
    label: str = ""
    seed: int = 0


def _seed(store: "RunStore", run_id: str) -> int:
    try:
        return int(store.config(run_id).seed)
    except Exception:  # noqa: BLE001 - a damaged config is reported by the run itself
        return 0


def compare_rows(store: "RunStore", group: str, progress: dict[str, Progress] | None = None) -> list[CompareRow]:
    """One row per run of a comparison group, oldest first; ``progress`` caches folded events by run id."""
    progress = progress if progress is not None else {}
    rows = []
    for info in sorted((r for r in store.list() if r.group == group), key=lambda r: r.created):
        p = progress[info.run_id] = store.progress(info.run_id, progress.get(info.run_id))
        rows.append(CompareRow(
            run_id=info.run_id, plan=info.plan, status=info.status, best_val_accuracy=info.best_val_accuracy,
            seconds=run_seconds(info, p), trainable_params=p.fit_start.trainable_params if p.fit_start else 0,
            queue_position=info.queue_position, curve=p.curve(), message=info.message,
            best_val_balanced_accuracy=info.best_val_balanced_accuracy, label=info.label or info.plan,
            seed=_seed(store, info.run_id),
        ))
    return rows


@dataclass(frozen=True)
class Verdict:
    """Does the experiment agree with the map? ``key``/``params`` are for tlcore.i18n."""

    agrees: bool | None
    key: str
    params: dict


def compare_verdict(results: list, recommended_plan: str, tolerance: float | None = None) -> Verdict:
    """Compare finished runs' best accuracies with the map's recommended plan.

    ``results``: rows with ``plan``, ``status`` and ``best_val_accuracy`` (CompareRow or dicts),
    and optionally ``curve`` (the validation accuracy per epoch, ``[(epoch, acc), ...]``).
    Several runs of one plan are seeds: each plan counts with its mean, and its spread (standard
    deviation). Keys, from best to worst for the map: ``verdict_agree_best`` (the map's plan
    wins), ``verdict_agree_close`` (within ``tolerance``), ``verdict_too_close`` (the gap is
    within the seeds' noise, tlcore.stats.too_close: neither agrees nor disagrees),
    ``verdict_disagree`` (with a hint to train longer) and ``verdict_disagree_plateau`` (every
    run of both plans trained to a plateau, tlcore.stats.plateaued, so more epochs would not
    change the answer).
    """
    tolerance = defaults.VERDICT_TOLERANCE if tolerance is None else tolerance

    def get(r, k, default=None):
        return r.get(k, default) if isinstance(r, dict) else getattr(r, k, default)

    if not results or any(get(r, "status") not in FINAL_STATES for r in results):
        return Verdict(None, "verdict_pending", {})
    done = [r for r in results if get(r, "status") == "completed"]
    runs: dict[str, list] = {}
    for r in done:
        runs.setdefault(get(r, "plan"), []).append(r)
    if recommended_plan not in runs:
        return Verdict(None, "verdict_not_run", {"plan": recommended_plan})
    stats = {p: mean_spread([float(get(r, "best_val_accuracy")) for r in rs]) for p, rs in runs.items()}
    best_plan = max(stats, key=lambda p: stats[p][0])
    (best, best_sd), (rec, rec_sd) = stats[best_plan], stats[recommended_plan]
    n_best, n_rec = len(runs[best_plan]), len(runs[recommended_plan])
    params = {"plan": recommended_plan, "acc": rec * 100, "best_plan": best_plan, "best_acc": best * 100,
              "gap": (best - rec) * 100, "tol": tolerance * 100, "seeds": min(n_best, n_rec),
              "spread": rec_sd * 100, "best_spread": best_sd * 100}
    if best_plan == recommended_plan or rec >= best - 1e-9:
        return Verdict(True, "verdict_agree_best", params)
    if rec >= best - tolerance:
        return Verdict(True, "verdict_agree_close", params)
    if too_close(best - rec, best_sd, n_best, rec_sd, n_rec):
        return Verdict(None, "verdict_too_close", params)
    curves = [[a for _, a in (get(r, "curve") or [])] for r in runs[best_plan] + runs[recommended_plan]]
    if all(plateaued(c) for c in curves):
        return Verdict(False, "verdict_disagree_plateau", params)
    return Verdict(False, "verdict_disagree", params)


@dataclass
class CompareSummary:
    rows: list[CompareRow]
    verdict: Verdict
    recommended_plan: str
    epochs: int
    active: bool
    seeds: int = 1  # runs per plan (seeds); above 1 the verdict weighs the gap against their spread


def compare_summary(store: "RunStore", group: str, progress: dict[str, Progress] | None = None) -> CompareSummary:
    """A comparison group's rows, and whether its result agrees with the map.

    The recommended plan comes from the quadrant the runs were started with (kept in their
    meta.json), so a reloaded page judges the same experiment the same way.
    """
    rows = compare_rows(store, group, progress)
    recommended, epochs = "", 0
    if rows:
        first = store.get(rows[0].run_id)
        epochs = store.config(rows[0].run_id).epochs
        if first.quadrant in (1, 2, 3, 4):
            recommended = plan_for_quadrant(first.quadrant, num_stages(first.model or "labnet")).plan
    if not recommended and rows and all(r.status in FINAL_STATES for r in rows):
        verdict = Verdict(None, "verdict_no_map", {})
    else:
        verdict = compare_verdict(rows, recommended)
    per_plan = [sum(1 for r in rows if r.plan == p) for p in {r.plan for r in rows}]
    return CompareSummary(rows, verdict, recommended, epochs, any(r.status not in FINAL_STATES for r in rows),
                          max(per_plan, default=1))
