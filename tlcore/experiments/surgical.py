"""The lab's surgical experiment (``python -m tlcore lab surgical``): which block to tune, for which kind of shift.

One lab cell of each kind of shift (``tlcore.lab.world.make_shift``: input-, feature- and
output-level, after Lee et al., ICLR 2023), labnet's pretrained weights, and on each cell the
plans ``surgical`` with the first, middle and last block, ``full`` and ``lp-ft`` (plus ``head``
for reference, and ``auto-rgn`` without ``--quick``), over seeds, with the lab's recipe
(``--quick``: 3 seeds and 20 epochs instead of the recipe's 30; without: 5 seeds).

Every run trains without augmentation: the recipe's flips and crops would move a figure to
another quarter of the image and so change the output-level cell's labels; the same recipe
holds for every cell and plan.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from .parallel import default_jobs, run_units, settings_of, work_folder

#: The cells: one per kind of shift (``tlcore.lab.world.SHIFT_KINDS``).
KINDS = ("input", "feature", "output")
#: Training and validation images per class of every cell (small data: the setting of Lee et al.).
PER_CLASS = 50
VAL_PER_CLASS = 50
#: ``--quick`` trains the plans that retrain layers for this many epochs instead of the recipe's 30.
QUICK_EPOCHS = 20
#: What each cell trains: a label (the JSON key) -> (plan, plan options).
PLAN_RUNS: dict[str, tuple[str, dict]] = {
    "head": ("head", {}),
    "surgical:first": ("surgical", {"block": "first"}),
    "surgical:middle": ("surgical", {"block": "middle"}),
    "surgical:last": ("surgical", {"block": "last"}),
    "full": ("full", {}),
    "lp-ft": ("lp-ft", {}),
    "auto-rgn": ("auto-rgn", {}),
}
#: The lab recipe's function (``tlcore.lab.recipes.recipe``); a test replaces it with a tiny one.
RECIPE = None
#: ``--quick`` leaves out auto-rgn (one more whole-network run per cell and seed).
QUICK_PLANS = ("head", "surgical:first", "surgical:middle", "surgical:last", "full", "lp-ft")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_cell(kind: str, seed: int, workdir: str | Path, plans: tuple[str, ...], quiet: bool = False,
             epochs: int = 0) -> dict:
    """One cell, one seed: draw the data, probe its gradients, train every plan with the lab's recipe.

    ``epochs`` > 0 replaces the recipe's epochs of the plans that retrain layers (``--quick``).
    """
    from ..config import TrainConfig
    from ..lab.recipes import recipe_config
    from ..lab.world import write_shift_imagefolder
    from ..probe import probe_dataset
    from ..train import train

    data = write_shift_imagefolder(Path(workdir) / f"{kind}-s{seed}", kind, PER_CLASS, seed=100 + seed,
                                   val_per_class=VAL_PER_CLASS)
    probe = probe_dataset(data, "labnet", seed=seed)
    base = TrainConfig(data=str(data), model="labnet", weights="pretrained", seed=seed)
    acc, secs = {}, {}
    for label in plans:
        plan, options = PLAN_RUNS[label]
        t0 = time.time()
        cfg = recipe_config(base, plan, "small", augment=False, recipe_for=RECIPE, **options)
        if epochs and plan != "head":
            cfg = cfg.with_(epochs=epochs)
        res = train(cfg)
        secs[label] = time.time() - t0
        acc[label] = res.best_val_accuracy
        if not quiet:
            _log(f"  {kind:<7} seed {seed} {label:<16} val acc {acc[label]:.3f} ({secs[label]:.0f} s)")
    return {"shift": kind, "seed": seed, "accuracy": acc, "seconds": secs,
            "probe": {"block": probe.block, "position": probe.position,
                      "relative": {g.name: round(g.relative, 3) for g in probe.groups}}}


def summarize_cell(kind: str, units: list[dict], plans: tuple[str, ...]) -> dict:
    """Mean and spread (sample standard deviation) over seeds of one cell's results."""
    units = sorted(units, key=lambda u: u["seed"])
    acc = {p: [u["accuracy"][p] for u in units] for p in plans}
    mean = {p: statistics.fmean(v) for p, v in acc.items()}
    spread = {p: (statistics.stdev(v) if len(v) > 1 else 0.0) for p, v in acc.items()}
    surgical = [p for p in plans if p.startswith("surgical:")]
    probe_votes = [u["probe"]["position"] for u in units]
    return {
        "shift": kind,
        "per_class": PER_CLASS,
        "accuracy": mean,
        "spread": spread,
        "best": max(plans, key=lambda p: mean[p]),
        "best_surgical": max(surgical, key=lambda p: mean[p]) if surgical else "",
        "first_minus_last": round(100.0 * (mean.get("surgical:first", 0.0) - mean.get("surgical:last", 0.0)), 2),
        "lp_ft_minus_full": round(100.0 * (mean.get("lp-ft", 0.0) - mean.get("full", 0.0)), 2),
        "probe_suggests": max(set(probe_votes), key=probe_votes.count) if probe_votes else "",
        "probe": [u["probe"] for u in units],
        "seconds": {p: statistics.fmean(u["seconds"][p] for u in units) for p in plans},
    }


#: Module settings a worker process takes from its parent (so that a test's smaller cells hold in every job).
_SETTINGS = ("PER_CLASS", "VAL_PER_CLASS", "PLAN_RUNS", "RECIPE")


def _job(kind: str, seed: int, workdir: str, plans: tuple[str, ...], quiet: bool, epochs: int) -> dict:
    return run_cell(kind, seed, workdir, plans, quiet, epochs)


def run_surgical(quick: bool = True, seeds: int = 0, workdir: str | Path | None = None, quiet: bool = False,
                 jobs: int = 0, kinds: tuple[str, ...] = KINDS) -> dict:
    """Every plan on one cell of each kind of shift, over seeds (3 with ``quick``, else 5).

    ``jobs`` > 1 runs that many (cell, seed) units at once in worker processes with one thread
    each (see ``tlcore.experiments.quadrants.run_experiment``); 0: one per core, at most 4.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: idle threads must not spin
    n_seeds = seeds or (3 if quick else 5)
    plans = QUICK_PLANS if quick else tuple(PLAN_RUNS)
    epochs = QUICK_EPOCHS if quick and RECIPE is None else 0
    jobs = jobs or default_jobs()
    t0 = time.time()
    # The six-class cells first (they take longest), so that parallel jobs end together.
    order = sorted(kinds, key=lambda k: k == "output")
    units = [(k, s) for k in order for s in range(n_seeds)]
    with work_folder(workdir, "tlcore-surgical-") as folder:
        results = run_units(_job, [(k, s, str(folder), plans, quiet, epochs) for k, s in units], jobs,
                            settings_of(__name__, _SETTINGS))
    cells = [summarize_cell(k, [r for (uk, _), r in zip(units, results) if uk == k], plans) for k in kinds]
    return {"cells": cells, "plans": list(plans), "seeds": n_seeds, "quick": quick, "jobs": jobs,
            "per_class": PER_CLASS, "val_per_class": VAL_PER_CLASS, "epochs": epochs or "recipe",
            "seconds": round(time.time() - t0, 1)}


def format_table(result: dict) -> str:
    plans = result["plans"]
    lines = [
        f"Surgical experiment: labnet, {result['per_class']} images per class, {result['seeds']} seeds, "
        f"{result['seconds']:.0f} s. Validation accuracy %, mean ± spread.",
        "",
        f"{'shift':<9}" + "".join(f"{p:>17}" for p in plans) + f"{'best':>17}{'probe says':>12}",
    ]
    for c in result["cells"]:
        cells = "".join(f"{100 * c['accuracy'][p]:>10.1f} ±{100 * c['spread'][p]:>4.1f}" for p in plans)
        lines.append(f"{c['shift']:<9}{cells}{c['best']:>17}{c['probe_suggests']:>12}")
    return "\n".join(lines)
