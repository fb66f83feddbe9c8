"""The lab sweep (``python -m tlcore lab sweep``): every plan in every (size, similarity) cell, over seeds, against the map.

Each cell is a lab dataset drawn exactly as the app draws it (``service.lab_dataset``: the
same seed, validation size and classes, so seed 0 of a cell *is* the app's dataset at those
dials), each plan trained with the lab recipe for the data's size (``recipes.plan_config``
without the map's recommendation: the sweep measures plans, the map is judged afterwards).
Per cell: each plan's mean and spread over seeds, the winner and its margin over the
runner-up (a tie when the margin is within the seeds' noise, tlcore.stats), and whether the
map's plan is within 2 points of the winner, under the rule of thumb and under boundaries
fitted to the sweep (tlcore.service.calibration).
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from ..lab.recipes import plan_config, recipe, size_for
from ..plans import COMPARE_DEFAULT
from ..service import defaults
from ..stats import mean_spread, too_close
from .parallel import default_jobs, run_units, settings_of, work_folder
from .quadrants import spearman

DEFAULT_SIZES = (10, 20, 50, 100, 200, 500, 1000)
DEFAULT_SIMILARITIES = (0.0, 0.25, 0.5, 0.75, 1.0)
#: ``--quick``: 4 sizes x 3 similarities x 4 plans x 2 seeds, sized to finish well within 30 minutes on 2 CPU cores.
QUICK_SIZES = (20, 50, 100, 200)
QUICK_SIMILARITIES = (0.0, 0.5, 1.0)
PLANS = COMPARE_DEFAULT
NUM_CLASSES = 6
#: Images per class the similarity of each dial is measured on (training and validation, as "Measure it" does on the app's default size).
SIMILARITY_PER_CLASS = 100


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _val_per_class() -> int:
    return int(defaults.LAB_VAL_PER_CLASS)


def run_cell(per_class: int, dial: float, seed: int, plans: tuple[str, ...], workdir: str | Path,
             quiet: bool = False) -> dict:
    """One cell, one seed: draw the lab data as the app does, and train every plan with the lab recipe."""
    from ..config import TrainConfig
    from ..lab.world import write_imagefolder
    from ..train import train

    data = write_imagefolder(Path(workdir) / f"n{per_class}-s{dial:.2f}-seed{seed}", round(float(dial), 2), per_class,
                             seed=seed, val_per_class=_val_per_class(), num_classes=NUM_CLASSES)
    base = TrainConfig(data=str(data), model="labnet", weights="pretrained", seed=seed)
    out = {"per_class": per_class, "dial": dial, "seed": seed, "accuracy": {}, "best_epoch": {}, "epochs": {},
           "seconds": {}}
    for plan in plans:
        t0 = time.time()
        res = train(plan_config(base, plan, size_for(per_class), None, recipe_for=recipe))
        out["seconds"][plan] = round(time.time() - t0, 2)
        out["accuracy"][plan] = res.best_val_accuracy
        out["best_epoch"][plan] = res.best_epoch
        out["epochs"][plan] = res.epochs_completed
        if not quiet:
            _log(f"  n={per_class:<5} s={dial:.2f} seed {seed} {plan:<8} val acc {res.best_val_accuracy:.3f} "
                 f"({out['seconds'][plan]:.0f} s)")
    return out


def measure_dial(dial: float) -> dict:
    """The similarity score of one dial: "Measure it" on the app's dataset of that dial (seed 0), training and validation images."""
    import numpy as np

    from ..lab.world import make_target, make_target_val
    from ..similarity import similarity_from_arrays

    x, y, _ = make_target(dial, SIMILARITY_PER_CLASS, seed=defaults.LAB_SEED, num_classes=NUM_CLASSES)
    xv, yv, _ = make_target_val(dial, _val_per_class(), seed=defaults.LAB_SEED, num_classes=NUM_CLASSES)
    r = similarity_from_arrays(np.concatenate([x, xv]), np.concatenate([y, yv]), model_name="labnet", seed=0)
    return {"dial": dial, "score": r.score, "stderr": r.stderr}


#: Module settings a worker process takes from its parent (a test's smaller world holds in every job).
_SETTINGS = ("NUM_CLASSES", "SIMILARITY_PER_CLASS", "recipe")


def _job(kind: str, per_class: int, dial: float, seed: int, plans: tuple, workdir: str, quiet: bool) -> dict:
    """One unit of work. Its result is kept in ``workdir/results/``: a sweep run again with the same
    ``--workdir`` (after a crash, or with more sizes) reuses every unit already done."""
    import json
    import shutil

    from ..fsutil import write_json_atomic

    name = f"{kind}-n{per_class}-s{dial:.3f}-seed{seed}-v{_val_per_class()}-c{NUM_CLASSES}-{'.'.join(plans)}.json"
    done = Path(workdir) / "results" / name
    if done.is_file():
        return json.loads(done.read_text(encoding="utf-8"))
    if kind == "similarity":
        out = measure_dial(dial)
    else:
        out = run_cell(per_class, dial, seed, plans, workdir, quiet)
        shutil.rmtree(Path(workdir) / f"n{per_class}-s{dial:.2f}-seed{seed}", ignore_errors=True)
    done.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(done, out)
    return out


def _cost(per_class: int) -> float:
    """A unit's relative cost (images seen in training, plus the validation passes), to start the longest first."""
    r = recipe("full", size_for(per_class))
    return r.epochs * (per_class + _val_per_class() / 3)


def summarize_cell(units: list[dict], plans: tuple[str, ...], score: float) -> dict:
    """Mean and spread over seeds of one cell's ``run_cell`` results; the winner, its margin and whether it is a tie."""
    units = sorted(units, key=lambda u: u["seed"])
    n = len(units)
    acc, spread = {}, {}
    for p in plans:
        acc[p], spread[p] = mean_spread([u["accuracy"][p] for u in units])
    ranked = sorted(plans, key=lambda p: -acc[p])
    winner = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else winner
    margin = acc[winner] - acc[runner]
    return {
        "per_class": units[0]["per_class"],
        "similarity_dial": units[0]["dial"],
        "similarity": score,
        "num_classes": NUM_CLASSES,
        "val_per_class": _val_per_class(),
        "recipe": size_for(units[0]["per_class"]),
        "seeds": n,
        "accuracy": acc,
        "spread": spread,
        "winner": winner,
        "runner_up": runner,
        "margin_points": round(100.0 * margin, 2),
        "tie": len(ranked) > 1 and (margin <= 1e-9 or too_close(margin, spread[winner], n, spread[runner], n)),
        "best_epoch": {p: max(u["best_epoch"][p] for u in units) for p in plans},
        "epochs": {p: units[0]["epochs"][p] for p in plans},
        "seconds": {p: round(sum(u["seconds"][p] for u in units) / n, 1) for p in plans},
    }


def judge_cells(cells: list[dict], tolerance: float) -> dict:
    """Fit the boundaries to the cells and mark, in each cell, the map's plan under both rules and whether it agrees."""
    from ..decision import RULE_OF_THUMB, Boundaries
    from ..service.calibration import agreement, fit_boundaries, judge, map_plan

    fit = fit_boundaries(cells, tolerance)
    measured = Boundaries(fit["size"], fit["similarity"], "measured")
    for c in cells:
        for name, b in (("rule_of_thumb", RULE_OF_THUMB), ("measured", measured)):
            plan = map_plan(c, b)
            mark = judge(c, plan, tolerance)
            c[f"map_plan_{name}"] = plan
            c[f"agrees_{name}"] = None if mark is None else bool(mark[0])
    rot, _, _ = agreement(cells, RULE_OF_THUMB, tolerance)
    return {
        "boundaries": {"measured": {"size": measured.size, "similarity": measured.similarity},
                       "rule_of_thumb": {"size": RULE_OF_THUMB.size, "similarity": RULE_OF_THUMB.similarity}},
        "agreement_measured": fit["agreement"],
        "agreement_measured_loo": fit["agreement_loo"],
        "agreement_rule_of_thumb": rot,
        "cells_judged": fit["cells_judged"],
    }


def _commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    head = out.stdout.strip()
    return head + ("-dirty" if head and dirty.stdout.strip() else "") if out.returncode == 0 else ""


def machine() -> dict:
    """Where the sweep ran: CPU, cores this process may use, load at the start, versions."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": cores, "load_average_at_start": load, "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "device": "cuda" if torch.cuda.is_available() else "cpu"}


def run_sweep(sizes=None, similarities=None, plans=None, seeds: int = 0, quick: bool = False, jobs: int = 0,
              workdir: str | Path | None = None, quiet: bool = False, command: str = "") -> dict:
    """Train ``plans`` in every (size, similarity) cell over ``seeds`` and judge the map there.

    ``sizes``: training images per class; ``similarities``: the lab's similarity dial (0..1);
    None takes the defaults (``quick``: a smaller grid and 2 seeds). Units of work (one cell and
    one seed: draw the data, train every plan; and one similarity measurement per dial) run in
    ``jobs`` worker processes of one thread each, longest first. Returns the JSON-ready result.
    Raises ConfigError for a bad grid.
    """
    from ..errors import ConfigError
    from ..plans import get_plan_spec

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: idle threads must not spin
    # Each size, dial and plan once (a repeat would count as a seed and two units would share a folder); dials
    # at the 2 decimals the lab draws them with, so that the score is measured on the data that trains.
    sizes = tuple(dict.fromkeys(int(n) for n in (sizes or (QUICK_SIZES if quick else DEFAULT_SIZES))))
    sims = tuple(dict.fromkeys(round(float(s), 2) for s in (similarities if similarities is not None else
                                                           (QUICK_SIMILARITIES if quick else DEFAULT_SIMILARITIES))))
    plans = tuple(dict.fromkeys(plans or PLANS))
    for p in plans:
        get_plan_spec(p)
    if (not sizes or not sims or min(sizes) < 2 or any(not 0.0 <= s <= 1.0 for s in sims) or len(plans) < 2
            or seeds < 0 or jobs < 0):
        raise ConfigError("The sweep needs sizes of at least 2 images per class, similarities in 0..1, two plans or "
                          "more, and no negative --seeds or --jobs.",
                          "For example: --sizes 20,50,100 --similarities 0,0.5,1 --plans head,top,full --seeds 2.",
                          code="bad_sweep")
    n_seeds = seeds or (2 if quick else 3)
    jobs = jobs or default_jobs()
    tol = defaults.VERDICT_TOLERANCE
    start_machine = machine()
    t0 = time.time()
    units = [("cell", n, s, k) for n in sizes for s in sims for k in range(n_seeds)]
    units.sort(key=lambda u: -_cost(u[1]))
    units += [("similarity", 0, s, 0) for s in sims]
    # Workers take this module's settings and the lab's validation size (tests shrink both).
    settings = {**settings_of(__name__, _SETTINGS), **settings_of(defaults.__name__, ("LAB_VAL_PER_CLASS",))}
    with work_folder(workdir, "tlcore-sweep-") as folder:
        results = run_units(_job, [(kind, n, s, k, plans, str(folder), quiet) for kind, n, s, k in units], jobs,
                            settings)
    scores = {r["dial"]: r for (kind, *_), r in zip(units, results) if kind == "similarity"}
    cells = []
    for n in sizes:
        for s in sims:
            mine = [r for (kind, un, us, _), r in zip(units, results) if kind == "cell" and un == n and us == s]
            cells.append(summarize_cell(mine, plans, scores[s]["score"]))
    judged = judge_cells(cells, tol)
    points = [scores[s] for s in sims]
    return {
        "model": "labnet",
        "command": command,
        "commit": _commit(),
        "machine": start_machine,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sizes": list(sizes),
        "similarities": list(sims),
        "plans": list(plans),
        "seeds": n_seeds,
        "quick": quick,
        "jobs": jobs,
        "val_per_class": _val_per_class(),
        "num_classes": NUM_CLASSES,
        "tolerance": tol,
        "size_axis": "training images per class",
        "similarity_points": points,
        "similarity_spearman": spearman([p["dial"] for p in points], [p["score"] for p in points]) if len(points) > 1 else None,
        "cells": cells,
        **judged,
        "seconds": round(time.time() - t0, 1),
        # Training time of every cell unit, summed (units reused from an earlier, interrupted run included):
        # what the whole grid costs on one core per unit, whatever this invocation resumed.
        "train_seconds_total": round(sum(sum(r["seconds"].values()) for (kind, *_), r in zip(units, results)
                                         if kind == "cell"), 1),
    }


def format_table(result: dict) -> str:
    """The sweep as a text table: one row per cell, accuracies in %, the winner, and the map's plan under both rules."""
    plans = result["plans"]
    b = result["boundaries"]
    lines = [
        f"Lab sweep: {len(result['cells'])} cells x {len(plans)} plans x {result['seeds']} seeds, {result['seconds']:.0f} s. "
        "Validation accuracy %, mean ± spread over seeds.",
        "",
        f"{'n/class':>7} {'s':>5} {'score':>6}" + "".join(f"{p:>14}" for p in plans)
        + f"{'winner':>9}{'margin':>8}{'rule':>7}{'fit':>6}",
    ]
    for c in result["cells"]:
        accs = "".join(f"{100 * c['accuracy'][p]:>8.1f} ±{100 * c['spread'][p]:>4.1f}" for p in plans)
        win = c["winner"] + ("=" if c["tie"] else "")

        def mark(name):
            ok = c[f"agrees_{name}"]
            return c[f"map_plan_{name}"] + ("" if ok else "✗") if ok is not None else "-"
        lines.append(f"{c['per_class']:>7} {c['similarity_dial']:>5.2f} {c['similarity']:>6.2f}{accs}{win:>9}"
                     f"{c['margin_points']:>8.1f}{mark('rule_of_thumb'):>7}{mark('measured'):>6}")
    m, r = b["measured"], b["rule_of_thumb"]
    loo = result.get("agreement_measured_loo")
    lines += [
        "",
        "winner '=': a tie (the margin is within the seeds' noise); ✗: the map's plan is more than "
        f"{100 * result['tolerance']:.0f} points below the winner.",
        f"Rule of thumb ({r['size']:.0f} images per class, similarity {r['similarity']:.2f}): the map's plan is within "
        f"{100 * result['tolerance']:.0f} points of the winner in {100 * result['agreement_rule_of_thumb']:.0f} % of the cells.",
        f"Fitted boundaries ({m['size']:.0f} images per class, similarity {m['similarity']:.2f}): "
        f"{100 * result['agreement_measured']:.0f} % of the cells"
        + (f" ({100 * loo:.0f} % when each cell is left out of the fit)." if loo is not None else "."),
    ]
    return "\n".join(lines)


def format_matrix(result: dict) -> str:
    """The winner of every cell as a Markdown table: similarity dials down, sizes across.

    Each entry: the winning plan and its margin in points (``=``: a tie), then the map's plan
    under the fitted boundaries and under the rule of thumb, each marked ✓ (within the
    tolerance of the winner) or ✗.
    """
    cells = {(c["per_class"], c["similarity_dial"]): c for c in result["cells"]}
    sizes, dials = result["sizes"], result["similarities"]

    def mark(c, name):
        ok = c[f"agrees_{name}"]
        return f"{c[f'map_plan_{name}']} {'-' if ok is None else '✓' if ok else '✗'}"

    head = "| similarity (score) | " + " | ".join(f"{n:,}/class" for n in sizes) + " |"
    lines = [head, "|" + "---|" * (len(sizes) + 1)]
    for d in reversed(dials):
        row = [cells[(n, d)] for n in sizes]
        entries = [f"**{c['winner']}** {'=' if c['tie'] else '+'}{c['margin_points']:.1f}<br>fit: {mark(c, 'measured')}"
                   f"<br>rule: {mark(c, 'rule_of_thumb')}" for c in row]
        lines.append(f"| {d:.2f} ({row[0]['similarity']:.2f}) | " + " | ".join(entries) + " |")
    return "\n".join(lines)


def main_sweep(args, command: str) -> dict:
    """``python -m tlcore lab sweep``: run, write ``--out`` (and ``--calibration``) atomically, return the result."""
    from ..fsutil import write_json_atomic

    result = run_sweep(sizes=args.sizes, similarities=args.similarities, plans=args.plans, seeds=args.seeds,
                       quick=args.quick, jobs=args.jobs, workdir=args.workdir, quiet=False, command=command)
    if args.out:
        write_json_atomic(Path(args.out), result)
    if getattr(args, "calibration", None):
        from ..service.calibration import calibration_record

        write_json_atomic(Path(args.calibration), calibration_record(result, args.out or None))
    return result


def calibrate(sweep_file: str | Path, out: str | Path | None = None) -> dict:
    """``python -m tlcore lab calibrate SWEEP``: fit the boundaries to a stored sweep; write ``out`` when given."""
    from ..errors import ConfigError
    from ..fsutil import read_json, write_json_atomic
    from ..service.calibration import calibration_record

    sweep = read_json(Path(sweep_file), None)
    if not isinstance(sweep, dict) or not sweep.get("cells"):
        raise ConfigError(f"{sweep_file} is not a sweep result.", "Give the JSON that 'lab sweep --out FILE' wrote.",
                          code="not_a_sweep")
    rec = calibration_record(sweep, sweep_file)
    if out:
        write_json_atomic(Path(out), rec)
    return rec
