"""The lab experiment: every plan in every quadrant, over seeds, against the map's recommendation."""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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
PLANS = ("head", "top", "full", "scratch")
SIMILARITY_DIALS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SIMILARITY_PER_CLASS = 100


@dataclass(frozen=True)
class Recipe:
    """Training recipe for one plan on one data size: the same for every quadrant of that size."""

    epochs: int
    batch_size: int
    lr: float


def recipe(plan: str, size: str) -> Recipe:
    """Recipes sized so each run is short on a laptop CPU; small data gets more epochs over fewer steps."""
    if size == "small":
        return {
            "head": Recipe(40, 16, 1e-2),
            "top": Recipe(30, 16, 3e-3),
            "full": Recipe(30, 16, 3e-3),
            "scratch": Recipe(30, 16, 3e-3),
        }[plan]
    return {
        "head": Recipe(8, 128, 1e-2),
        "top": Recipe(6, 128, 3e-3),
        "full": Recipe(6, 128, 3e-3),
        "scratch": Recipe(6, 128, 3e-3),
    }[plan]


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


def run_quadrant(q: int, seeds: list[int], workdir: Path, quiet: bool = False) -> dict:
    from ..config import TrainConfig
    from ..data import open_dataset
    from ..decision import DatasetProfile, recommend
    from ..similarity import measure_similarity
    from ..train import train
    from .world import write_imagefolder

    sim_dial, per_class = QUADRANT_SETTINGS[q]
    size = "large" if per_class >= 1000 else "small"
    acc: dict[str, list[float]] = {p: [] for p in PLANS}
    secs: dict[str, list[float]] = {p: [] for p in PLANS}
    measured = []
    recommended = None
    for seed in seeds:
        data = write_imagefolder(workdir / f"q{q}-s{seed}", sim_dial, per_class, seed=1000 * q + seed,
                                 val_per_class=VAL_PER_CLASS, num_classes=NUM_CLASSES)
        report = open_dataset(data)
        sim = measure_similarity(data, model_name="labnet", seed=seed)
        measured.append(sim.score)
        rec = recommend(DatasetProfile(report.images_per_class, report.num_classes, sim.score, "measured", 4))
        recommended = recommended or rec
        for plan in PLANS:
            r = recipe(plan, size)
            top_stages = rec.top_stages if (plan == "top" and rec.plan == "top") else (2 if size == "small" else 1)
            augment = rec.augment if plan == rec.plan else (size == "small" and plan != "head")
            cfg = TrainConfig(data=str(data), model="labnet", plan=plan, weights="pretrained", epochs=r.epochs,
                              batch_size=r.batch_size, lr=r.lr, top_stages=top_stages, augment=augment, seed=seed,
                              quadrant=q)
            t0 = time.time()
            res = train(cfg)
            secs[plan].append(time.time() - t0)
            acc[plan].append(res.best_val_accuracy)
            if not quiet:
                _log(f"  quadrant {q} seed {seed} {plan:<8} val acc {res.best_val_accuracy:.3f} ({secs[plan][-1]:.0f} s)")
    mean = {p: statistics.fmean(v) for p, v in acc.items()}
    spread = {p: (statistics.stdev(v) if len(v) > 1 else 0.0) for p, v in acc.items()}
    best = max(PLANS, key=lambda p: mean[p])
    return {
        "quadrant": q,
        "similarity_dial": sim_dial,
        "per_class": per_class,
        "measured_similarity": statistics.fmean(measured),
        "map_quadrant": recommended.quadrant,
        "recommended": recommended.plan,
        "best": best,
        "accuracy": mean,
        "spread": spread,
        "seconds": {p: statistics.fmean(v) for p, v in secs.items()},
        "recommended_gap": round(100.0 * (mean[best] - mean[recommended.plan]), 2),
    }


def similarity_curve(seed: int = 0) -> dict:
    from ..similarity import similarity_from_arrays
    from .world import make_target

    points = []
    for s in SIMILARITY_DIALS:
        images, labels, _ = make_target(s, SIMILARITY_PER_CLASS, seed=seed + 77, num_classes=NUM_CLASSES)
        r = similarity_from_arrays(images, labels, model_name="labnet", seed=seed)
        points.append({"dial": s, "score": r.score, "stderr": r.stderr})
    rho = spearman([p["dial"] for p in points], [p["score"] for p in points])
    return {"points": points, "spearman": rho}


def run_experiment(quick: bool = True, seeds: int = 0, workdir: str | Path | None = None, quiet: bool = False) -> dict:
    import os

    # Before torch loads: idle OpenMP threads that spin make every step crawl on a busy machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    n_seeds = seeds or (2 if quick else 3)
    seed_list = list(range(n_seeds))
    torch.set_num_threads(max(1, torch.get_num_threads()))
    t0 = time.time()
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="tlcore-lab-")
        workdir = tmp.name
    workdir = Path(workdir)
    try:
        curve = similarity_curve()
        if not quiet:
            _log("similarity score by dial: " + ", ".join(f"{p['dial']:.1f}->{p['score']:.2f}" for p in curve["points"])
                 + f" (Spearman {curve['spearman']:.2f})")
        quadrants = []
        for q in (4, 3, 2, 1):
            if not quiet:
                _log(f"quadrant {q}: similarity dial {QUADRANT_SETTINGS[q][0]}, {QUADRANT_SETTINGS[q][1]} images per class")
            quadrants.append(run_quadrant(q, seed_list, workdir, quiet))
    finally:
        if tmp is not None:
            tmp.cleanup()
    quadrants.sort(key=lambda r: r["quadrant"])
    return {
        "quadrants": quadrants,
        "similarity_spearman": curve["spearman"],
        "similarity_points": curve["points"],
        "seeds": n_seeds,
        "quick": quick,
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


def main_experiment(quick: bool = False, as_json: bool = False, seeds: int = 0, workdir: str | None = None) -> int:
    result = run_experiment(quick=quick, seeds=seeds, workdir=workdir, quiet=False)
    if as_json:
        print(json.dumps(result))
    else:
        print(format_table(result))
    return 0
