"""The decision map for the app and the CLI: similarity (measured or answered), the recommendation, plan previews."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..decision import USER_SIMILARITY_CHOICES, DatasetProfile, PlanChoice, Recommendation, plan_for_quadrant, recommend
from ..errors import ConfigError


def list_models() -> list[str]:
    from ..models import list_models as _list

    return _list()


def num_stages(model: str) -> int:
    """How many stages the backbone has (what ``top`` can unfreeze), from its registry entry."""
    from ..models import get_spec

    return get_spec(model).num_stages


def similarity_value(answer: str | None) -> float | None:
    """``auto`` or None -> None (measure it); a number in 0..1; or a named answer. Raises ConfigError."""
    if answer is None or answer == "auto":
        return None
    if answer in USER_SIMILARITY_CHOICES:
        return USER_SIMILARITY_CHOICES[answer]
    try:
        v = float(answer)
    except ValueError:
        raise ConfigError(
            f"--similarity must be auto, a number from 0 to 1, or one of {', '.join(USER_SIMILARITY_CHOICES)}; not {answer!r}."
        ) from None
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"--similarity must be between 0 and 1, not {v}.")
    return v


def similarity_choice_for(value: float) -> str:
    """The plain-language similarity answer nearest to a score."""
    return min(USER_SIMILARITY_CHOICES, key=lambda k: abs(USER_SIMILARITY_CHOICES[k] - float(value)))


def measure_similarity(path: str | Path, model: str, weights: str = "pretrained", progress=None):
    """Measure how well the backbone's frozen features fit the data (a tlcore.similarity.SimilarityResult)."""
    from ..similarity import measure_similarity as _measure

    return _measure(str(path), model_name=model, weights=weights, progress=progress)


def recommendation(images_per_class: float, num_classes: int, similarity: float, source: str, model: str) -> Recommendation:
    """The map's answer for this profile and backbone, with the backbone's measured boundaries where a sweep
    calibrated them (tlcore.service.calibration), else the rule of thumb."""
    from .calibration import boundaries_for

    return recommend(DatasetProfile(float(images_per_class), max(1, int(num_classes)), float(similarity), source,
                                    num_stages(model)), boundaries_for(model))


def what_if(quadrant: int, model: str) -> PlanChoice:
    """The plan another quadrant would call for (the map's "what if" view)."""
    return plan_for_quadrant(int(quadrant), num_stages(model))


def recommend_for(path: str | Path, model: str, similarity: float | None, weights: str = "pretrained",
                  progress=None) -> dict:
    """``python -m tlcore recommend --json``: inspect, measure or take the similarity, and apply the rule.

    ``reasons`` are the recommendation's reasons in English (``reason_keys`` for other languages).
    """
    from ..data import materialize_dataset, open_dataset
    from ..i18n import reason_lines
    from ..models import get_spec

    get_spec(model)
    path = materialize_dataset(path)
    report = open_dataset(path)
    measured = None
    if similarity is None:
        measured = measure_similarity(path, model, weights, progress)
        similarity, source = measured.score, "measured"
    else:
        source = "user"
    rec = recommendation(report.size_per_class, report.num_classes, similarity, source, model)
    out = rec.to_json()
    out.update(reasons=reason_lines(rec, "en"), model=model, images_per_class=report.images_per_class,
               size_per_class=report.size_per_class, imbalanced=report.imbalanced,
               num_classes=report.num_classes, num_images=report.num_images)
    if measured is not None:
        out["similarity_detail"] = measured.to_json()
    return out


@lru_cache(maxsize=64)
def plan_preview(model: str, plan: str, top_stages: int, num_classes: int, block: str = "", lr_decay: float = 1.0,
                 bn: str | None = None):
    """The PlanReport (per-group frozen/trained parameter counts, relative rates) of a plan on a backbone.

    ``block``, ``lr_decay`` and ``bn`` are the plan's options (see tlcore.plans.get_plan). The network
    is built on PyTorch's ``meta`` device: shapes and counts only, no memory, no weights.
    """
    import torch

    from ..models import build_model
    from ..plans import apply_plan, get_plan

    with torch.device("meta"):
        net = build_model(model, max(1, int(num_classes)), "none")
    return apply_plan(net, get_plan(plan, max(1, int(top_stages)), block=block, lr_decay=lr_decay, bn=bn))
