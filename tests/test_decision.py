"""The decision rule: quadrants, plans and borderline flags at and around both boundaries."""
import pytest

from tlcore.i18n import reason_lines
from tlcore.decision import (
    LARGE_IMAGES_PER_CLASS,
    SIMILAR_THRESHOLD,
    DatasetProfile,
    recommend,
)

L, S = LARGE_IMAGES_PER_CLASS, SIMILAR_THRESHOLD


@pytest.mark.parametrize(
    "ipc, sim, quadrant, plan",
    [
        (L, S, 2, "top"),
        (L - 1, S, 4, "head"),
        (L, S - 0.001, 1, "full"),
        (L - 1, S - 0.001, 3, "top"),
        (10 * L, 1.0, 2, "top"),
        (10 * L, 0.0, 1, "full"),
        (5, 1.0, 4, "head"),
        (5, 0.0, 3, "top"),
        (0, 0.5, 4, "head"),
    ],
)
def test_quadrant_and_plan_at_and_around_boundaries(ipc, sim, quadrant, plan):
    rec = recommend(DatasetProfile(ipc, 5, sim, "measured"))
    assert rec.quadrant == quadrant
    assert rec.plan == plan
    assert rec.size == ("large" if ipc >= L else "small")


@pytest.mark.parametrize(
    "ipc, sim, size_bl, sim_bl",
    [
        (L, 0.9, True, False),
        (L * 1.49, 0.9, True, False),
        (L * 1.6, 0.9, False, False),
        (L / 1.6, 0.9, False, False),
        (20, S + 0.05, False, True),
        (20, S - 0.05, False, True),
        (20, S + 0.2, False, False),
    ],
)
def test_borderline_flags(ipc, sim, size_bl, sim_bl):
    rec = recommend(DatasetProfile(ipc, 3, sim))
    assert rec.size_borderline is size_bl
    assert rec.similarity_borderline is sim_bl
    assert ("size_borderline" in rec.reason_keys) is size_bl


def test_quadrant3_augments_and_trains_later_half():
    rec = recommend(DatasetProfile(30, 4, 0.1, "measured", num_stages=4))
    assert rec.quadrant == 3 and rec.augment and rec.top_stages == 2
    assert any("augment" in r for r in reason_lines(rec, "en"))


def test_reasons_name_the_source_and_quadrant():
    rec = recommend(DatasetProfile(30, 4, 0.8, "user"))
    assert rec.reason_keys[:3] == ["size_small", "sim_similar", "quadrant4"]
    text = " ".join(reason_lines(rec, "en"))
    assert "Small and similar" in text and "your estimate" in text
    assert rec.to_json()["similarity_source"] == "user"


def test_similarity_is_clipped_and_bad_profiles_refused():
    assert recommend(DatasetProfile(30, 4, 1.7)).similarity == 1.0
    with pytest.raises(ValueError):
        recommend(DatasetProfile(-1, 4, 0.5))
