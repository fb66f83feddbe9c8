"""The map's optional third question: what kind of difference from the pretraining images, and so which block to tune.

A pure function of the answer and the backbone's layer groups (no I/O, no torch): the two-question
map (tlcore.decision) stays the default; this refines it with surgical fine-tuning (Lee et al.,
ICLR 2023, "Surgical Fine-Tuning Improves Adaptation to Distribution Shifts"), who found that
the best single block to tune depends on where the difference enters the network:

* **look** (input-level shift: colour, blur, noise, camera, style): the first block, which sees
  the pixels (CIFAR-10-C and ImageNet-C corruptions);
* **objects** (feature-level shift: new kinds or parts of the objects): a middle block
  (Living-17, Entity-30 sub-populations);
* **labels** (output-level shift: the label depends on something else, or on a spurious cue):
  the last block (CIFAR-Flip, Waterbirds, CelebA).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

from .plans import resolve_block

#: The answers to "What is different from the pretraining images?", and the block each points to.
SHIFT_BLOCKS: dict[str, str] = {"look": "first", "objects": "middle", "labels": "last"}
#: The answers in the order the app offers them ("" = not answered: the two-question map alone).
SHIFT_KINDS: tuple[str, ...] = tuple(SHIFT_BLOCKS)
#: The level of each kind in Lee et al.'s words (input-, feature-, output-level shift).
SHIFT_LEVELS: dict[str, str] = {"look": "input", "objects": "feature", "labels": "output"}


@dataclass(frozen=True)
class Reason:
    """One reason, as a key that tlcore.i18n words in each language (``research.py``), with its parameters."""

    key: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ShiftAdvice:
    """The refinement: which block to tune for this kind of difference, on this backbone, and why.

    ``plan`` is ``surgical`` when the refinement replaces the map's plan (small data, where
    tuning less pays: the setting of Lee et al.) and ``""`` when the map's plan stays and the
    block is a cheaper alternative to compare (large data).
    """

    kind: str  # look | objects | labels
    level: str  # input | feature | output
    block: str  # first | middle | last
    group: str  # the backbone's group that block is (e.g. stem, stage2, stage4)
    plan: str  # "surgical", or "" to keep the map's plan
    reasons: tuple[Reason, ...] = ()

    def to_json(self) -> dict:
        d = asdict(self)
        d["reasons"] = [{"key": r.key, "params": dict(r.params)} for r in self.reasons]
        return d


def refine(kind: str, groups: Sequence[str], size: str = "small") -> ShiftAdvice:
    """The block to tune for a kind of shift on a backbone with ``groups`` (stem ... head, in order).

    ``size`` is the map's size answer (``small`` or ``large``). Raises ValueError for an unknown kind.
    """
    if kind not in SHIFT_BLOCKS:
        raise ValueError(f"kind must be one of {', '.join(SHIFT_KINDS)}, not {kind!r}")
    block = SHIFT_BLOCKS[kind]
    group = resolve_block(list(groups), block)
    params = {"group": group, "block": block}
    reasons = [Reason(f"shift_why_{kind}", params), Reason(f"shift_evidence_{kind}", params)]
    if size == "small":
        plan = "surgical"
        reasons.append(Reason("shift_plan_small", params))
    else:
        plan = ""
        reasons.append(Reason("shift_plan_large", params))
    return ShiftAdvice(kind, SHIFT_LEVELS[kind], block, group, plan, tuple(reasons))
