"""The lab's training recipes: how long and how fast each plan trains on small and large lab data.

The experiment, the sweep and the app's Compare page all start lab runs through
:func:`plan_config`, so a class sees on the chart what the command line measured. A recipe
depends only on what a plan trains (its registry entry), so a new plan needs no recipe.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..plans import get_plan_spec


@dataclass(frozen=True)
class Recipe:
    """Training recipe for one plan on one data size: the same for every quadrant of that size."""

    epochs: int
    batch_size: int
    lr: float  # the new output layer's peak learning rate
    body_lr_mult: float | None = None  # the retrained body's, relative to lr (None: the plan's own)
    probe_epochs: int = 0  # LP-FT: epochs of its linear probe (a head plan's epochs)


#: Learning rates shared by every plan: a new output layer learns at NEW_LR, a pretrained
#: layer that a plan retrains at RETRAIN_LR (the plan's "lower learning rate for the
#: backbone"), and a network trained from scratch at SCRATCH_LR throughout.
NEW_LR = 1e-2
RETRAIN_LR = 3e-3
SCRATCH_LR = 3e-3

#: Training images per class at and above which lab data trains with the "large" recipe.
#: A fact about the recipes (how long a run may take), not the map's size boundary: the
#: recipe follows the data, whatever the map decides.
RECIPE_LARGE_PER_CLASS = 1000


def size_for(per_class: int) -> str:
    """The recipe size ("small" | "large") for lab data with ``per_class`` training images per class."""
    return "large" if int(per_class) >= RECIPE_LARGE_PER_CLASS else "small"


def recipe(plan: str, size: str) -> Recipe:
    """Recipes sized so each run is short on a laptop CPU; small data gets more epochs over fewer steps.

    ``top``, ``full`` and the research plans (``surgical``, ``lp-ft``, ``auto-rgn``) differ only in
    which layers they retrain and how: all train their new head at NEW_LR and every retrained
    pretrained layer at RETRAIN_LR, so that a layer moves as far under one plan as under another.
    A plan that first fits its head alone (LP-FT) fits it for as long as the ``head`` plan trains.
    """
    spec = get_plan_spec(plan)
    epochs, batch = (30, 16) if size == "small" else (6, 128)
    head_epochs = epochs + 10 if size == "small" else epochs + 2
    if spec.trains == "head":
        return Recipe(head_epochs, batch, NEW_LR)
    if spec.pretrained:
        return Recipe(epochs, batch, NEW_LR, RETRAIN_LR / NEW_LR, head_epochs if spec.linear_probe_first else 0)
    return Recipe(epochs, batch, SCRATCH_LR)


def recipe_config(base, plan: str, size: str, *, augment: bool, top_stages: int = 1, recipe_for=None, **options):
    """``base`` (a TrainConfig) set up to train ``plan`` with the lab's recipe for data of ``size``.

    ``options`` are further TrainConfig settings (``block``, ``lr_decay``, ``bn``).
    """
    r = (recipe_for or recipe)(plan, size)
    return base.with_(plan=plan, epochs=r.epochs, batch_size=r.batch_size, lr=r.lr, body_lr_mult=r.body_lr_mult,
                      probe_epochs=r.probe_epochs, top_stages=max(1, top_stages), augment=augment, **options)


def plan_config(base, plan: str, size: str, rec=None, recipe_for=None):
    """``base`` (a TrainConfig: data, seed) set up to train ``plan`` with the lab's recipe.

    ``rec`` is the map's recommendation for the data: its plan trains as recommended (its
    ``top`` depth, its augmentation); the other plans (every plan when ``rec`` is None, as in
    the sweep and the app's Compare page) retrain half of labnet's stages (small data) or the
    last one (large data) for ``top``, and augment small data unless frozen. The experiment,
    the sweep and the app's Compare page all start runs through here. ``recipe_for``
    replaces :func:`recipe` (the experiment's tests train with a tiny one).
    """
    mapped = rec is not None and plan == rec.plan
    top_stages = rec.top_stages if (mapped and plan == "top") else (2 if size == "small" else 1)
    augment = rec.augment if mapped else (size == "small" and get_plan_spec(plan).trains != "head")
    return recipe_config(base, plan, size, augment=augment, top_stages=top_stages, recipe_for=recipe_for)
