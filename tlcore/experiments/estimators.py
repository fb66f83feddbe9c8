"""Which transferability estimator to trust (``python -m tlcore lab estimators``).

On a grid of lab cells (the similarity dial from 0 to 1, and one cell of each kind of shift),
each estimator (k-NN score, LogME, linear-probe accuracy; ``tlcore.transferability``) is
computed on labnet's frozen features, and each cell is fine-tuned with the plans ``head``,
``top`` and ``full`` under the lab's recipe (without augmentation, as in the surgical
experiment). The answer is each estimator's Spearman rank correlation, over the cells, with the
best fine-tuned accuracy, and what each estimator cost.
"""
from __future__ import annotations

import datetime as _dt
import os
import statistics
import sys
import time
from pathlib import Path

from .parallel import default_jobs, run_units, settings_of, work_folder
from .quadrants import spearman

#: The grid: similarity dials of the target world, then the kinds of shift (tlcore.lab.world).
DIALS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: The feature-level cell is the s=1.0 dial's world (new shapes drawn like the source world): not counted twice.
SHIFTS = ("input", "output")
PER_CLASS = 50
VAL_PER_CLASS = 100
#: The fine-tuning plans whose best validation accuracy is the target the estimators should rank.
PLANS = ("head", "top", "full")
ESTIMATORS = ("knn", "logme", "linear_probe")
RECIPE = None  # the lab recipe's function (a test's tiny one replaces it)
#: Where ``--save`` writes the record the app's estimator panel shows.
RECORD_PATH = Path(__file__).resolve().parents[1] / "lab" / "estimators_record.json"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cell_names() -> list[str]:
    return [f"s={d:.1f}" for d in DIALS] + list(SHIFTS)


def _cell_data(name: str, seed: int, split: str):
    from ..lab import world

    if name.startswith("s="):
        return world.make_target(float(name[2:]), PER_CLASS if split == "train" else VAL_PER_CLASS, seed, split=split)
    return world.make_shift(name, PER_CLASS if split == "train" else VAL_PER_CLASS, seed, split=split)


def _write(out: Path, x, y, names, xv, yv) -> Path:
    from PIL import Image

    for split, xs, ys in (("train", x, y), ("val", xv, yv)):
        counters = [0] * len(names)
        for n in names:
            (out / split / n).mkdir(parents=True, exist_ok=True)
        for img, lab in zip(xs, ys):
            Image.fromarray(img).save(out / split / names[lab] / f"{counters[lab]}.png")
            counters[lab] += 1
    return out


def run_cell(name: str, seed: int, workdir: str | Path, quiet: bool = False) -> dict:
    """One cell, one seed: the three estimators (with their costs) and the fine-tuned accuracies."""
    from ..config import TrainConfig
    from ..lab.recipes import recipe_config
    from ..train import train
    from ..transferability import estimate_from_arrays

    x, y, names = _cell_data(name, 200 + seed, "train")
    xv, yv, _ = _cell_data(name, 200 + seed, "val")
    est = estimate_from_arrays(x, y, xv, yv, "labnet", seed=seed)
    data = _write(Path(workdir) / f"{name}-s{seed}", x, y, names, xv, yv)
    base = TrainConfig(data=str(data), model="labnet", weights="pretrained", seed=seed)
    acc = {}
    for plan in PLANS:
        res = train(recipe_config(base, plan, "small", augment=False, top_stages=2, recipe_for=RECIPE))
        acc[plan] = res.best_val_accuracy
    if not quiet:
        _log(f"  {name:<8} seed {seed}: knn {est.knn:.3f} logme {est.logme:.3f} lp {est.linear_probe:.3f} | "
             + " ".join(f"{p} {a:.3f}" for p, a in acc.items()))
    return {"cell": name, "seed": seed, "estimates": {k: getattr(est, k) for k in ESTIMATORS},
            "seconds": dict(est.seconds), "accuracy": acc}


_SETTINGS = ("DIALS", "SHIFTS", "PER_CLASS", "VAL_PER_CLASS", "RECIPE")


def run_estimators(quick: bool = True, seeds: int = 0, workdir: str | Path | None = None, quiet: bool = False,
                   jobs: int = 0, save: bool = False) -> dict:
    """Every cell of the grid over seeds (1 with ``quick``, else 2); the estimators' Spearman correlations.

    ``save`` writes the summary to :data:`RECORD_PATH` (atomically), where the app reads it.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    n_seeds = seeds or (1 if quick else 2)
    jobs = jobs or default_jobs()
    t0 = time.time()
    units = [(c, s) for c in cell_names() for s in range(n_seeds)]
    with work_folder(workdir, "tlcore-estimators-") as folder:
        results = run_units(run_cell, [(c, s, str(folder), quiet) for c, s in units], jobs,
                            settings_of(__name__, _SETTINGS))
    cells = []
    for name in cell_names():
        rs = [r for r in results if r["cell"] == name]
        acc = {p: statistics.fmean(r["accuracy"][p] for r in rs) for p in PLANS}
        cells.append({
            "cell": name,
            "estimates": {k: statistics.fmean(r["estimates"][k] for r in rs) for k in ESTIMATORS},
            "accuracy": acc,
            "best": max(PLANS, key=acc.get),
            "best_accuracy": max(acc.values()),
        })
    best = [c["best_accuracy"] for c in cells]
    rho = {k: spearman([c["estimates"][k] for c in cells], best) for k in ESTIMATORS}
    cost = {k: statistics.fmean(r["seconds"][k] for r in results) for k in (*ESTIMATORS, "features")}
    result = {"cells": cells, "spearman": rho, "seconds_per_estimate": cost, "seeds": n_seeds, "quick": quick,
              "jobs": jobs, "per_class": PER_CLASS, "val_per_class": VAL_PER_CLASS, "plans": list(PLANS),
              "seconds": round(time.time() - t0, 1)}
    if save:
        from ..fsutil import write_json_atomic

        write_json_atomic(RECORD_PATH, {
            "command": "python -m tlcore lab estimators" + (" --quick" if quick else "") + " --save",
            "cells": len(cells), "seeds": n_seeds, "spearman": {k: round(v, 3) for k, v in rho.items()},
            "seconds_per_estimate": {k: round(v, 3) for k, v in cost.items()},
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        })
    return result


def format_table(result: dict) -> str:
    lines = [
        f"Transferability estimators: labnet, {result['per_class']} images per class, {result['seeds']} seed(s), "
        f"{result['seconds']:.0f} s.",
        "",
        f"{'cell':<9}{'k-NN':>8}{'LogME':>9}{'probe':>8}" + "".join(f"{p:>8}" for p in result["plans"]) + f"{'best':>8}",
    ]
    for c in result["cells"]:
        e = c["estimates"]
        lines.append(f"{c['cell']:<9}{e['knn']:>8.3f}{e['logme']:>9.3f}{e['linear_probe']:>8.3f}"
                     + "".join(f"{100 * c['accuracy'][p]:>8.1f}" for p in result["plans"])
                     + f"{100 * c['best_accuracy']:>8.1f}")
    rho, cost = result["spearman"], result["seconds_per_estimate"]
    lines += ["", "Spearman with the best fine-tuned accuracy: "
              + ", ".join(f"{k} {rho[k]:.2f}" for k in ESTIMATORS),
              "Seconds per estimate: " + ", ".join(f"{k} {cost[k]:.2f}" for k in (*ESTIMATORS, "features"))]
    return "\n".join(lines)
