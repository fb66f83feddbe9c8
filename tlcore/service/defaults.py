"""Settings the app offers and pre-fills (the lab dials, option lists); training defaults come from TrainConfig.

Read them as ``defaults.NAME`` at the time of use, so that one change (or a test) holds everywhere.
"""
from __future__ import annotations

from ..config import default

#: The built-in lab dataset the app opens with: small and fairly different from
#: labnet's source world, so the map lands in quadrant 3 and the run trains real layers.
LAB_DEFAULT_SIMILARITY = 0.3
LAB_DEFAULT_PER_CLASS = 100
#: Sizes offered by the lab's size dial (training images per class); log-spaced around the 1,000 boundary.
LAB_PER_CLASS_OPTIONS = (10, 20, 50, 100, 200, 500, 1000, 1500, 2000)
#: Validation images per lab class: enough for a steady curve, quick to evaluate.
LAB_VAL_PER_CLASS = 100
LAB_SEED = 0

#: Training defaults the app pre-fills (TrainConfig's own): a lab run takes seconds on a 2-core CPU.
DEFAULT_EPOCHS: int = default("epochs")
DEFAULT_BATCH_SIZE: int = default("batch_size")
BATCH_SIZE_OPTIONS = (8, 16, 32, 64, 128)
LR_OPTIONS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)

#: A plan "agrees" with the experiment when its best accuracy is within this of the winner's.
VERDICT_TOLERANCE = 0.02


def default_lr(plan: str) -> float:
    """The new output layer's default peak learning rate under ``plan`` (its registry entry's)."""
    from ..plans import get_plan_spec

    return get_plan_spec(plan).lr
