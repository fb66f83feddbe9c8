"""Nested, class-stratified training subsets: what a learning curve trains on at each fraction of the data."""
from __future__ import annotations

import math
import random
from typing import Sequence


def nested_subset(labels: Sequence[int], fraction: float, seed: int) -> list[int]:
    """Positions (sorted) of a class-stratified ``fraction`` of ``labels``; at least one image of every class.

    Each class keeps ``max(1, round(fraction * its count))`` images, taken from the front of
    one shuffle of that class per ``seed``, so for one seed a smaller fraction's subset is
    always inside a larger one's (nested subsets: a learning curve adds images, it never
    swaps them). ``fraction`` 1 (or more) returns every position. Raises ValueError unless
    0 < fraction.
    """
    if not fraction > 0:
        raise ValueError(f"fraction must be above 0, not {fraction}")
    if fraction >= 1:
        return list(range(len(labels)))
    by_class: dict[int, list[int]] = {}
    for i, y in enumerate(labels):
        by_class.setdefault(int(y), []).append(i)
    keep: list[int] = []
    for y in sorted(by_class):
        positions = by_class[y]
        order = list(positions)
        random.Random(f"{seed}:{y}").shuffle(order)
        keep += order[:max(1, min(len(order), math.floor(fraction * len(order) + 0.5)))]
    return sorted(keep)
