"""``python -m tlcore curve``: a learning curve per plan on the user's own data, in one process.

Every (plan, share, seed) is one fit on a nested, class-stratified share of the training
images (``TrainConfig.train_fraction``) against the same validation images (per seed: a folder without
its own val/ is split anew for each seed, so each seed has its own validation images). The fits run in
this process one after another and share one feature memo: a frozen backbone's features of
the whole training split (and of the validation split) are computed once per split, and each head fit
on a share indexes into them (``Trainer._shared_cached``).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_curve(path: str | Path, model: str | None = None, plans=None, fractions=None, epochs: int | None = None,
              seeds: int = 1, weights: str = "pretrained", batch_size: int | None = None, lr: float | None = None,
              top_stages: int = 1, augment: bool | None = None, device: str = "auto", quiet: bool = False) -> dict:
    """Train ``plans`` on each share of the training images over ``seeds``; returns the curve as JSON-ready data.

    With labnet on lab data and no ``epochs``, each plan trains with the lab recipe for the size
    of its share (as the lab sweep does); otherwise with the given (or default) settings.
    Returns ``{"points": [{plan, fraction, images_per_class, accuracy, spread, seeds, accuracies}],
    "crossover", "crossovers", "leader", "size_boundary", "feature_cache", ...}``.
    Raises TLError subclasses for bad data or settings.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from .. import service
    from ..data import materialize_dataset, open_dataset
    from ..plans import get_plan_spec
    from ..service import curve as svc
    from ..train import train
    from ..train.subsets import nested_subset

    data = str(materialize_dataset(path).resolve())
    model = model or service.default_model_for(data)
    plans = list(dict.fromkeys(plans or svc.DEFAULT_PLANS))  # a plan named twice would count as two seeds
    for p in plans:
        get_plan_spec(p)
    shares = svc.check_fractions(fractions or svc.DEFAULT_FRACTIONS)
    seeds = max(1, int(seeds))
    lab_recipe = epochs is None and service.lab_recipe_applies(data, model)
    base = service.make_config(data, model, plans[0], top_stages, epochs, batch_size, lr, augment, weights=weights,
                               device=device)
    service.check_run(base)
    memo: dict = {}
    fits, epochs_used = [], {}
    t0 = time.time()
    for k in range(seeds):
        report = open_dataset(data, val_fraction=base.val_fraction, seed=base.seed + k)
        labels = [y for _, y in report.train]
        for f in shares:
            ipc = len(nested_subset(labels, f, base.seed + k)) / max(1, report.num_classes)
            for plan in plans:
                cfg = svc.curve_config(base, plan, f, base.seed + k, lab_recipe, top_stages)
                res = train(cfg, feature_memo=memo)
                epochs_used[plan] = cfg.epochs
                fits.append({"plan": plan, "fraction": f, "seed": cfg.seed, "images_per_class": ipc,
                             "accuracy": res.best_val_accuracy, "best_epoch": res.best_epoch, "epochs": cfg.epochs})
                if not quiet:
                    _log(f"  {plan:<8} {f:>5.0%} ({ipc:,.0f} images per class) seed {cfg.seed}: "
                         f"val acc {res.best_val_accuracy:.3f}")
    out = svc.curve_result(svc.curve_points(fits), model)
    out.update(
        path=str(path), model=model, plans=plans, fractions=shares, seeds=seeds, epochs=epochs_used,
        lab_recipe=lab_recipe, num_classes=report.num_classes, val_images=len(report.val), fits=fits,
        feature_cache={"shared": True, "images_computed": int(sum(t.shape[0] for t in memo.values())),
                       "train_images": len(report.train), "val_images": len(report.val)},
        seconds=round(time.time() - t0, 1),
    )
    return out


def format_curve(result: dict) -> str:
    """The curve as a text table (accuracy % per plan and share) and its crossover in words."""
    plans = result["plans"]
    by = {(p["plan"], p["fraction"]): p for p in result["points"]}
    lines = [f"Learning curve on {result['path']} ({result['model']}, {result['seeds']} seed(s), "
             f"{result['seconds']:.0f} s). Best validation accuracy %:", "",
             f"{'share':>6} {'images/class':>13}" + "".join(f"{p:>14}" for p in plans)]
    for f in result["fractions"]:
        row = [by.get((p, f)) for p in plans]
        ipc = next((r["images_per_class"] for r in row if r), 0.0)
        cells = "".join((f"{100 * r['accuracy']:>8.1f} ±{100 * r['spread']:>4.1f}" if r["seeds"] > 1
                         else f"{100 * r['accuracy']:>8.1f}      ") if r else f"{'-':>14}" for r in row)
        lines.append(f"{f:>6.0%} {ipc:>13,.0f}{cells}")
    xs = result["crossovers"]
    lines.append("")
    for x in xs:
        lines.append(f"With more than about {x['images_per_class']:,.0f} training images per class, "
                     f"{x['above']} overtakes {x['below']}.")
    if not xs and result["leader"]:
        lines.append(f"No crossover in this range: {result['leader']} leads at every size measured.")
    if result["seeds"] < 2:
        lines.append("One run per plan and share: a gap of a few points can be chance; use --seeds 2 or 3 "
                     "before trusting where the lines cross.")
    b = result["size_boundary"]
    lines.append(f"The map's size boundary for {result['model']}: {b['images_per_class']:,.0f} images per class "
                 f"({b['boundaries'].replace('_', ' ')}).")
    fc = result["feature_cache"]
    if fc["images_computed"]:
        lines.append(f"Frozen features computed for {fc['images_computed']:,} images ({fc['train_images']:,} training "
                     f"+ {fc['val_images']:,} validation): once, shared by every head fit.")
    return "\n".join(lines)
