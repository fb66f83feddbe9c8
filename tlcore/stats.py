"""Repeated runs in numbers: mean and spread over seeds, "too close to call", and whether a curve has plateaued.

One home for these rules: the lab sweep calls a cell a tie, and Compare's verdict says
"too close to call", by the same test.
"""
from __future__ import annotations

import math
import statistics
from typing import Sequence

#: A gap counts as real when it exceeds this many standard errors of the difference of two
#: means (about a 95 % interval for a normal difference).
NOISE_Z = 2.0

#: A validation curve has plateaued when its last quarter of epochs (at least PLATEAU_MIN_TAIL)
#: gained at most this much accuracy (0..1) over the best epoch before it.
PLATEAU_GAIN = 0.01
PLATEAU_MIN_TAIL = 2
#: Curves shorter than this cannot tell a plateau from a slow start.
PLATEAU_MIN_EPOCHS = 4


def mean_spread(values: Sequence[float]) -> tuple[float, float]:
    """(mean, sample standard deviation) of ``values``; the spread of one value is 0. Raises ValueError when empty."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("mean_spread needs at least one value")
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def gap_noise(spread_a: float, n_a: int, spread_b: float, n_b: int) -> float:
    """Standard error of the difference of two means from their spreads (standard deviations) and counts."""
    return math.sqrt(spread_a ** 2 / max(1, n_a) + spread_b ** 2 / max(1, n_b))


def too_close(gap: float, spread_a: float, n_a: int, spread_b: float, n_b: int) -> bool:
    """Is a gap between two means within the noise of repeated runs?

    True when both sides have at least two runs (seeds) and ``|gap|`` is at most ``NOISE_Z``
    standard errors of the difference (:func:`gap_noise`). With a single run per side there is
    no spread to judge by: False. Units: whatever ``gap`` and the spreads share (0..1 accuracy).
    """
    if n_a < 2 or n_b < 2:
        return False
    return abs(gap) <= NOISE_Z * gap_noise(spread_a, n_a, spread_b, n_b) + 1e-12


def plateaued(accuracies: Sequence[float]) -> bool:
    """Did a validation-accuracy curve (one value per epoch, 0..1) stop improving?

    True when the last quarter of the epochs (at least ``PLATEAU_MIN_TAIL``) reached at most
    ``PLATEAU_GAIN`` above the best epoch before it, so more epochs of the same schedule are
    unlikely to change the result. Curves of fewer than ``PLATEAU_MIN_EPOCHS`` epochs: False.
    """
    acc = [float(a) for a in accuracies]
    if len(acc) < PLATEAU_MIN_EPOCHS:
        return False
    tail = max(PLATEAU_MIN_TAIL, math.ceil(len(acc) / 4))
    return max(acc[-tail:]) - max(acc[:-tail]) <= PLATEAU_GAIN + 1e-12
