"""Measured map boundaries per backbone: fitted to a lab sweep, shipped beside it, else the rule of thumb.

**The fitting method** (:func:`fit_boundaries`). A sweep gives, for every cell (training
images per class n, similarity score s), each plan's mean best validation accuracy over
seeds. For a pair of boundaries (N, S) the decision rule (tlcore.decision.recommend) names a
plan in every cell; the cell *agrees* when that plan's mean is within the tolerance
(2 points, ``defaults.VERDICT_TOLERANCE``) of the cell's best plan. The candidates for N are
the geometric midpoints between neighbouring sweep sizes (rounded to whole images) plus one
size below the smallest and one above the largest; for S, the midpoints between neighbouring
measured similarity scores plus one value below the lowest and one above the highest. Every
pair is tried (an exhaustive search: the rule has two parameters and a sweep a few dozen
cells) and the pair with the highest share of agreeing cells wins; ties go to the lower mean
regret (the points lost to the best plan, averaged over cells), then to the pair closest to
the rule of thumb (in decades of size plus similarity units). The share is in-sample; the
leave-one-out share (refit without each cell, then judge that cell) says how well the fit
carries to a cell it has not seen.

Sizes are *training* images per class (the lab's size dial); similarity is the k-NN score
of tlcore.similarity, measured per similarity dial of the sweep.
"""
from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache
from pathlib import Path

from ..decision import LARGE_IMAGES_PER_CLASS, RULE_OF_THUMB, SIMILAR_THRESHOLD, Boundaries, DatasetProfile, recommend
from ..errors import ConfigError
from ..fsutil import read_json
from . import defaults

#: Where shipped sweeps and their fits live (package data): ``<model>_sweep.json``, ``<model>_calibration.json``.
LAB_DIR = Path(__file__).resolve().parent.parent / "lab"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def sweep_path(model: str, folder: Path | None = None) -> Path | None:
    """The shipped sweep file of a backbone (it may not exist); None for names that cannot be files."""
    return (Path(folder or LAB_DIR) / f"{model}_sweep.json") if _SAFE_NAME.match(model or "") else None


def calibration_path(model: str, folder: Path | None = None) -> Path | None:
    """The shipped calibration (fit) file of a backbone (it may not exist); None for names that cannot be files."""
    return (Path(folder or LAB_DIR) / f"{model}_calibration.json") if _SAFE_NAME.match(model or "") else None


def _stamp(path: Path | None) -> float:
    try:
        return path.stat().st_mtime if path else 0.0
    except OSError:
        return 0.0


@lru_cache(maxsize=32)
def _read(path: str, stamp: float) -> dict | None:
    return read_json(Path(path), None)


def sweep_for(model: str) -> dict | None:
    """The shipped sweep of ``model`` (the JSON of ``python -m tlcore lab sweep``), or None when there is none."""
    path = sweep_path(model)
    if path is None or not path.is_file():
        return None
    rec = _read(str(path), _stamp(path))
    if not isinstance(rec, dict) or not rec.get("cells"):
        return None
    try:  # what the map page reads: a damaged file is no sweep (the map stays), never an error
        float(rec["agreement_measured"]), float(rec["agreement_rule_of_thumb"])
        Boundaries(float(rec["boundaries"]["measured"]["size"]), float(rec["boundaries"]["measured"]["similarity"]),
                   "measured")
        for c in rec["cells"]:
            (int(c["per_class"]), float(c["similarity_dial"]), float(c["similarity"]), c["winner"],
             float(c["margin_points"]), dict(c["accuracy"]), dict(c["spread"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return rec


def calibration_for(model: str) -> dict | None:
    """The shipped fit of ``model``'s boundaries (see :func:`fit_boundaries`), or None when there is none."""
    path = calibration_path(model)
    if path is None or not path.is_file():
        return None
    rec = _read(str(path), _stamp(path))
    try:
        boundaries_from(rec)
    except (ValueError, TypeError, KeyError):
        return None  # a damaged file never takes the map down: the rule of thumb holds
    return rec


def boundaries_from(record: dict) -> Boundaries:
    """Measured Boundaries from a calibration record, with the evidence its reasons cite. Raises ValueError/KeyError."""
    fit = record["boundaries"]
    evidence = {
        "model": record.get("model", ""),
        "cells": int(record.get("cells_judged", len(record.get("cells", [])))),
        "seeds": int(record.get("seeds", 0)),
        "agreement": 100.0 * float(record.get("agreement_measured", 0.0)),
        "agreement_rot": 100.0 * float(record.get("agreement_rule_of_thumb", 0.0)),
        "tol": 100.0 * float(record.get("tolerance", defaults.VERDICT_TOLERANCE)),
        "rot_size": int(LARGE_IMAGES_PER_CLASS),
        "rot_sim": SIMILAR_THRESHOLD,
    }
    return Boundaries(float(fit["size"]), float(fit["similarity"]), "measured", evidence)


def boundaries_for(model: str) -> Boundaries:
    """The boundaries the map uses for ``model``: measured where a calibration is shipped, else the rule of thumb."""
    rec = calibration_for(model)
    return boundaries_from(rec) if rec else RULE_OF_THUMB


# ---------------------------------------------------------------------------
# The fit


def map_plan(cell: dict, boundaries: Boundaries, num_stages: int = 4) -> str:
    """The plan the map names for a sweep cell (``per_class``, ``similarity``, ``num_classes``) under ``boundaries``."""
    profile = DatasetProfile(float(cell["per_class"]), int(cell.get("num_classes", 2)), float(cell["similarity"]),
                             "measured", num_stages)
    return recommend(profile, boundaries).plan


def judge(cell: dict, plan: str, tolerance: float) -> tuple[bool, float] | None:
    """(agrees, regret) of ``plan`` in a cell: within ``tolerance`` of the best mean, and the accuracy it gives up.

    None when the sweep did not train ``plan`` in that cell (the cell cannot judge the map).
    """
    acc = cell["accuracy"]
    if plan not in acc:
        return None
    best = max(acc.values())
    regret = max(0.0, best - acc[plan])
    return regret <= tolerance + 1e-9, regret


def agreement(cells: list[dict], boundaries: Boundaries, tolerance: float | None = None,
              num_stages: int = 4) -> tuple[float, float, int]:
    """(share of judged cells that agree, mean regret, cells judged) for one pair of boundaries."""
    tol = defaults.VERDICT_TOLERANCE if tolerance is None else tolerance
    marks = [judge(c, map_plan(c, boundaries, num_stages), tol) for c in cells]
    marks = [m for m in marks if m is not None]
    if not marks:
        return 0.0, 0.0, 0
    return sum(ok for ok, _ in marks) / len(marks), sum(r for _, r in marks) / len(marks), len(marks)


def _midpoints(values: list[float], geometric: bool) -> list[float]:
    vals = sorted(set(values))
    if geometric:
        mids = [math.sqrt(a * b) for a, b in zip(vals, vals[1:])]
        return [vals[0] / 2.0] + mids + [vals[-1] * 2.0]
    mids = [(a + b) / 2.0 for a, b in zip(vals, vals[1:])]
    return [vals[0] / 2.0] + mids + [(vals[-1] + 1.0) / 2.0]


def candidates(cells: list[dict]) -> tuple[list[float], list[float]]:
    """The boundary values the fit tries: (sizes, similarities), see the module docstring."""
    sizes = sorted({max(1.0, float(round(v))) for v in _midpoints([float(c["per_class"]) for c in cells], True)})
    sims = sorted({min(0.99, max(0.01, round(v, 3))) for v in _midpoints([float(c["similarity"]) for c in cells], False)})
    return sizes, sims


def _closeness(b: Boundaries) -> float:
    return abs(math.log10(b.size / LARGE_IMAGES_PER_CLASS)) + abs(b.similarity - SIMILAR_THRESHOLD)


def fit_boundaries(cells: list[dict], tolerance: float | None = None, num_stages: int = 4) -> dict:
    """Fit the map's size and similarity boundaries to sweep cells (the method: see the module docstring).

    ``cells``: dicts with ``per_class`` (training images per class), ``similarity`` (the score),
    ``num_classes`` and ``accuracy`` (plan -> mean best validation accuracy, 0..1).
    Returns ``{"size", "similarity", "agreement", "regret", "cells_judged", "agreement_loo"}``
    (shares 0..1, regret in accuracy 0..1). Raises ConfigError when no cell can judge the map.
    """
    if not cells:
        raise ConfigError("There are no sweep cells to fit the boundaries to.", "Run the sweep first.",
                          code="no_sweep_cells")
    best = _search(cells, tolerance, num_stages)
    if best is None:
        raise ConfigError("No sweep cell trained the plans the map names, so the boundaries cannot be fitted.",
                          "Sweep the plans head, top and full.", code="no_judged_cells")
    (share, regret, judged), b = best
    loo = []
    for i, cell in enumerate(cells):
        rest = cells[:i] + cells[i + 1:]
        fit = _search(rest, tolerance, num_stages) if rest else None
        if fit is None:
            continue
        mark = judge(cell, map_plan(cell, fit[1], num_stages), defaults.VERDICT_TOLERANCE if tolerance is None else tolerance)
        if mark is not None:
            loo.append(mark[0])
    return {"size": b.size, "similarity": b.similarity, "agreement": share, "regret": regret, "cells_judged": judged,
            "agreement_loo": (sum(loo) / len(loo)) if loo else None}


def _search(cells, tolerance, num_stages):
    sizes, sims = candidates(cells)
    best = None
    for n in sizes:
        for s in sims:
            b = Boundaries(n, s, "measured")
            share, regret, judged = agreement(cells, b, tolerance, num_stages)
            if not judged:
                continue
            key = (round(share, 9), -round(regret, 9), -_closeness(b))
            if best is None or key > best[0]:
                best = (key, ((share, regret, judged), b))
    return best[1] if best else None


def calibration_record(sweep: dict, sweep_file: str | Path | None = None) -> dict:
    """The calibration file's content for a sweep result (``python -m tlcore lab sweep --json``).

    It holds the fitted boundaries, the agreement of the fitted rule and of the rule of thumb,
    and the data it was fitted on (each cell's plans' mean accuracies and spreads), so that the
    fit can be checked without the sweep. Raises ConfigError (see :func:`fit_boundaries`).
    """
    cells = sweep.get("cells") or []
    tol = float(sweep.get("tolerance", defaults.VERDICT_TOLERANCE))
    fit = fit_boundaries(cells, tol)
    rot, rot_regret, _ = agreement(cells, RULE_OF_THUMB, tol)
    rec = {
        "model": sweep.get("model", "labnet"),
        "boundaries": {"size": fit["size"], "similarity": fit["similarity"]},
        "rule_of_thumb": {"size": RULE_OF_THUMB.size, "similarity": RULE_OF_THUMB.similarity},
        "size_axis": "training images per class",
        "similarity_axis": "k-NN similarity score of frozen features (tlcore.similarity)",
        "method": ("exhaustive search over midpoints between neighbouring sweep values; maximize the share of cells "
                   "whose map plan is within the tolerance of the best plan; ties: lower mean regret, then closer "
                   "to the rule of thumb (tlcore/service/calibration.py)"),
        "tolerance": tol,
        "agreement_measured": fit["agreement"],
        "agreement_measured_loo": fit["agreement_loo"],
        "agreement_rule_of_thumb": rot,
        "regret_measured": fit["regret"],
        "regret_rule_of_thumb": rot_regret,
        "cells_judged": fit["cells_judged"],
        "seeds": sweep.get("seeds", 0),
        "sweep_command": sweep.get("command", ""),
        "sweep_commit": sweep.get("commit", ""),
        "cells": [{k: c[k] for k in ("per_class", "similarity_dial", "similarity", "num_classes", "accuracy", "spread",
                                    "winner") if k in c} for c in cells],
    }
    if sweep_file is not None:
        p = Path(sweep_file)
        rec["sweep"] = p.name
        rec["sweep_sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return rec
