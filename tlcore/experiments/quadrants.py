"""The lab experiment (``python -m tlcore lab experiment``): every plan in every quadrant, over seeds, against the map."""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

from ..lab.recipes import plan_config, recipe
from .parallel import default_jobs, run_units, settings_of, work_folder
from ..plans import COMPARE_DEFAULT

#: The four corners of the map in the lab world: (similarity dial, train images per class).
#: "large" sits above decision.LARGE_IMAGES_PER_CLASS and "small" far below it.
QUADRANT_SETTINGS = {
    1: (0.0, 1000),
    2: (1.0, 1000),
    3: (0.0, 20),
    4: (1.0, 20),
}
VAL_PER_CLASS = 100
NUM_CLASSES = 6
PLANS = COMPARE_DEFAULT
SIMILARITY_DIALS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SIMILARITY_PER_CLASS = 100


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman rank correlation (average ranks for ties)."""

    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2.0 + 1.0
            i = j + 1
        return r

    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else 0.0


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_seed(q: int, seed: int, workdir: str | Path, quiet: bool = False) -> dict:
    """One quadrant, one seed: draw the data, measure its similarity, train every plan."""
    from ..config import TrainConfig
    from ..data import open_dataset
    from ..decision import DatasetProfile, recommend
    from ..lab.world import write_imagefolder
    from ..similarity import measure_similarity
    from ..train import train

    sim_dial, per_class = QUADRANT_SETTINGS[q]
    size = "large" if per_class >= 1000 else "small"
    data = write_imagefolder(Path(workdir) / f"q{q}-s{seed}", sim_dial, per_class, seed=1000 * q + seed,
                             val_per_class=VAL_PER_CLASS, num_classes=NUM_CLASSES)
    report = open_dataset(data)
    sim = measure_similarity(data, model_name="labnet", seed=seed)
    rec = recommend(DatasetProfile(report.size_per_class, report.num_classes, sim.score, "measured", 4))
    base = TrainConfig(data=str(data), model="labnet", weights="pretrained", seed=seed)
    acc, secs, epochs = {}, {}, {}
    for plan in PLANS:
        t0 = time.time()
        res = train(plan_config(base, plan, size, rec, recipe_for=recipe))
        secs[plan] = time.time() - t0
        acc[plan] = res.best_val_accuracy
        epochs[plan] = res.epochs_completed
        if not quiet:
            _log(f"  quadrant {q} seed {seed} {plan:<8} val acc {acc[plan]:.3f} ({secs[plan]:.0f} s)")
    return {"quadrant": q, "seed": seed, "measured_similarity": sim.score, "map_quadrant": rec.quadrant,
            "recommended": rec.plan, "accuracy": acc, "seconds": secs, "epochs": epochs}


def summarize_quadrant(q: int, units: list[dict]) -> dict:
    """Mean and spread over seeds of one quadrant's ``run_seed`` results (the map's plan: the first seed's)."""
    units = sorted(units, key=lambda u: u["seed"])
    sim_dial, per_class = QUADRANT_SETTINGS[q]
    acc = {p: [u["accuracy"][p] for u in units] for p in PLANS}
    mean = {p: statistics.fmean(v) for p, v in acc.items()}
    spread = {p: (statistics.stdev(v) if len(v) > 1 else 0.0) for p, v in acc.items()}
    best = max(PLANS, key=lambda p: mean[p])
    recommended = units[0]["recommended"]
    return {
        "quadrant": q,
        "similarity_dial": sim_dial,
        "per_class": per_class,
        "measured_similarity": statistics.fmean(u["measured_similarity"] for u in units),
        "map_quadrant": units[0]["map_quadrant"],
        "recommended": recommended,
        "best": best,
        "accuracy": mean,
        "spread": spread,
        "seconds": {p: statistics.fmean(u["seconds"][p] for u in units) for p in PLANS},
        "epochs": {p: units[0]["epochs"][p] for p in PLANS},
        "recommended_gap": round(100.0 * (mean[best] - mean[recommended]), 2),
    }


def similarity_curve(seed: int = 0) -> dict:
    from ..lab.world import make_target
    from ..similarity import similarity_from_arrays

    points = []
    for s in SIMILARITY_DIALS:
        images, labels, _ = make_target(s, SIMILARITY_PER_CLASS, seed=seed + 77, num_classes=NUM_CLASSES)
        r = similarity_from_arrays(images, labels, model_name="labnet", seed=seed)
        points.append({"dial": s, "score": r.score, "stderr": r.stderr})
    rho = spearman([p["dial"] for p in points], [p["score"] for p in points])
    return {"points": points, "spearman": rho}


#: Module settings a worker process takes from its parent (so that a changed setting, or a
#: test's smaller world, holds in every job).
_SETTINGS = ("QUADRANT_SETTINGS", "VAL_PER_CLASS", "NUM_CLASSES", "SIMILARITY_DIALS", "SIMILARITY_PER_CLASS", "recipe")


def _job(q: int, seed: int, workdir: str, quiet: bool) -> dict:
    return similarity_curve() if q == 0 else run_seed(q, seed, workdir, quiet)


def run_experiment(quick: bool = True, seeds: int = 0, workdir: str | Path | None = None, quiet: bool = False,
                   jobs: int = 0) -> dict:
    """Every plan in every quadrant over seeds, and the similarity curve.

    ``jobs`` > 1 runs that many (quadrant, seed) units at once in worker processes with one
    thread each: labnet's layers are too small to keep two threads busy, so two one-thread
    runs finish sooner than two two-thread runs in a row. 0: ``default_jobs()``.
    """
    # Before torch loads: idle OpenMP threads that spin make every step crawl on a busy machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    n_seeds = seeds or (2 if quick else 3)
    seed_list = list(range(n_seeds))
    jobs = jobs or default_jobs()
    t0 = time.time()
    # Longest first (large data, then the curve, then small data), so parallel jobs end together.
    units = [(q, seed) for q in (1, 2) for seed in seed_list] + [(0, 0)] + [(q, seed) for q in (3, 4) for seed in seed_list]
    with work_folder(workdir, "tlcore-lab-") as folder:
        results = run_units(_job, [(q, s, str(folder), quiet) for q, s in units], jobs, settings_of(__name__, _SETTINGS))
    curve = results[units.index((0, 0))]
    if not quiet:
        _log("similarity score by dial: " + ", ".join(f"{p['dial']:.1f}->{p['score']:.2f}" for p in curve["points"])
             + f" (Spearman {curve['spearman']:.2f})")
    quadrants = [summarize_quadrant(q, [r for (uq, _), r in zip(units, results) if uq == q]) for q in (1, 2, 3, 4)]
    return {
        "quadrants": quadrants,
        "similarity_spearman": curve["spearman"],
        "similarity_points": curve["points"],
        "seeds": n_seeds,
        "quick": quick,
        "jobs": jobs,
        "seconds": round(time.time() - t0, 1),
    }


def format_table(result: dict) -> str:
    lines = [
        f"Lab experiment: {result['seeds']} seeds, {result['seconds']:.0f} s. Validation accuracy %, mean ± spread.",
        "",
        f"{'quadrant':<22}" + "".join(f"{p:>14}" for p in PLANS) + f"{'map says':>10}{'best':>9}{'gap (pts)':>11}",
    ]
    for r in result["quadrants"]:
        name = f"Q{r['quadrant']} s={r['similarity_dial']:.1f} n={r['per_class']}"
        cells = "".join(f"{100 * r['accuracy'][p]:>8.1f} ±{100 * r['spread'][p]:>4.1f}" for p in PLANS)
        lines.append(f"{name:<22}{cells}{r['recommended']:>10}{r['best']:>9}{r['recommended_gap']:>11.1f}")
        if r["map_quadrant"] != r["quadrant"]:
            lines.append(f"   note: the measured similarity {r['measured_similarity']:.2f} put this data in quadrant {r['map_quadrant']}")
    pts = ", ".join(f"{p['dial']:.1f}: {p['score']:.2f}" for p in result["similarity_points"])
    lines += ["", f"Similarity score by dial ({pts}); Spearman {result['similarity_spearman']:.2f}"]
    return "\n".join(lines)


def main_experiment(quick: bool = False, as_json: bool = False, seeds: int = 0, workdir: str | None = None,
                    jobs: int = 0) -> int:
    result = run_experiment(quick=quick, seeds=seeds, workdir=workdir, quiet=False, jobs=jobs)
    if as_json:
        print(json.dumps(result))
    else:
        print(format_table(result))
    return 0
