"""Beyond the four quadrants: the third question (kind of shift), the gradient probe and the transferability estimators.

The app's map page and the CLI (``recommend --shift``, ``probe``, ``estimate``) call these.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..shift import SHIFT_KINDS, ShiftAdvice, refine

#: The record of ``python -m tlcore lab estimators`` shipped with the package (which estimator to trust).
ESTIMATORS_RECORD = Path(__file__).resolve().parents[1] / "lab" / "estimators_record.json"


def shift_advice(kind: str | None, model: str, size: str) -> ShiftAdvice | None:
    """The third question's refinement for a backbone (None when it is not answered). Raises ConfigError."""
    if not kind:
        return None
    if kind not in SHIFT_KINDS:
        raise ConfigError(f"Unknown kind of difference {kind!r}.", f"Choose one of: {', '.join(SHIFT_KINDS)}.",
                          code="unknown_shift")
    from ..models import get_spec

    return refine(kind, get_spec(model).groups, size)


def shift_reason_lines(advice: ShiftAdvice, lang: str = "en") -> list[str]:
    """The refinement's reasons in ``lang``."""
    from ..i18n import t

    return [t(r.key, lang, **r.params) for r in advice.reasons]


def probe(path: str | Path, model: str, weights: str = "pretrained", seed: int = 0, progress=None):
    """The gradient probe on a dataset (a tlcore.probe.ProbeResult): one relative gradient norm per group."""
    from ..data import materialize_dataset
    from ..probe import probe_dataset

    return probe_dataset(materialize_dataset(path), model, weights, seed=seed, progress=progress)


def probe_suggestion(result, lang: str = "en") -> str:
    """What the probe's largest relative gradient norm suggests, in ``lang``."""
    from ..i18n import t

    if not result.reference:
        return t("probe_no_reference", lang, model=result.model)
    if not result.block:
        return t("probe_no_block", lang)
    return t(f"probe_suggest_{result.why}", lang, group=result.block)


def transferability(path: str | Path, model: str, weights: str = "pretrained", seed: int = 0, progress=None):
    """k-NN, LogME and linear-probe accuracy on frozen features, with their costs (a TransferabilityReport)."""
    from ..data import materialize_dataset
    from ..transferability import estimate

    return estimate(materialize_dataset(path), model, weights, seed=seed, progress=progress)


def estimators_record() -> dict | None:
    """The lab's measured correlation of each estimator with the best fine-tuned accuracy (None if not shipped)."""
    from ..fsutil import read_json

    return read_json(ESTIMATORS_RECORD, None)


def plan_options(plan: str) -> dict:
    """Which options a plan takes (from its registry entry): ``block`` (and its default), ``lr_decay``, ``bn``."""
    from ..plans import get_plan_spec

    spec = get_plan_spec(plan)
    return {"block": spec.trains == "block", "default_block": spec.block,
            "lr_decay": spec.retrains_pretrained and spec.trains != "block", "bn": spec.retrains_pretrained}


def block_groups(model: str) -> dict[str, str]:
    """first / middle / last -> the backbone's group each names (from its registry entry)."""
    from ..models import get_spec
    from ..plans import BLOCK_CHOICES, resolve_block

    groups = get_spec(model).groups
    return {b: resolve_block(groups, b) for b in BLOCK_CHOICES}
