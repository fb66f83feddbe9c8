"""The size-similarity decision rule: a pure function from a dataset profile to a plan."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: Images per class at and above which a dataset counts as "large".
#: Why 1,000: the Keras transfer-learning guide treats datasets "too small to
#: train from scratch" as those far below ImageNet's ~1,000 images per class, and
#: VTAB (Zhai et al. 2019) uses 1,000 examples per task as its "full data" regime
#: against 1,000 examples in all (VTAB-1k) for the low-data regime. Near this
#: number fine-tuning deep layers stops overfitting in practice.
LARGE_IMAGES_PER_CLASS = 1000

#: A size within this factor of the boundary (either side) is borderline:
#: one more or fewer collection round could change the answer.
SIZE_BORDERLINE_FACTOR = 1.5

#: Similarity score (0 = unrelated to what the backbone learned, 1 = the same
#: world) at and above which a dataset counts as "similar". The measured score is
#: a normalized k-NN accuracy on frozen features (see tlcore.similarity): 0.5
#: means the frozen features close half of the gap between the best feature-free
#: baseline and perfect accuracy, the point where a linear head on frozen
#: features starts to be competitive with learning new features.
SIMILAR_THRESHOLD = 0.5

#: Scores within this distance of the threshold are borderline.
SIMILARITY_BORDERLINE = 0.1

#: Plain-language answers a user can give for similarity, mapped to a score.
USER_SIMILARITY_CHOICES = {
    "same_world": 0.9,
    "related": 0.65,
    "somewhat_different": 0.35,
    "very_different": 0.1,
}

QUADRANTS = {
    1: ("large", "different"),
    2: ("large", "similar"),
    3: ("small", "different"),
    4: ("small", "similar"),
}


@dataclass(frozen=True)
class DatasetProfile:
    images_per_class: float
    num_classes: int
    similarity: float
    similarity_source: str = "user"  # "measured" or "user"
    num_stages: int = 4  # stages of the chosen backbone; sets how deep "top" goes


@dataclass(frozen=True)
class PlanChoice:
    plan: str  # head | top | full | scratch
    top_stages: int = 0  # for "top": how many of the last stages train
    augment: bool = False


@dataclass(frozen=True)
class Recommendation:
    quadrant: int
    size: str
    similarity: float
    similarity_source: str
    plan: str
    top_stages: int
    augment: bool
    images_per_class: float = 0.0
    alternatives: list[str] = field(default_factory=list)
    #: Why, as keys that tlcore.i18n words in each language (``reason_<key>``, filled in from this record).
    reason_keys: list[str] = field(default_factory=list)
    size_borderline: bool = False
    similarity_borderline: bool = False

    def to_json(self) -> dict:
        return asdict(self)


def size_category(images_per_class: float) -> str:
    return "large" if images_per_class >= LARGE_IMAGES_PER_CLASS else "small"


def similarity_category(similarity: float) -> str:
    return "similar" if similarity >= SIMILAR_THRESHOLD else "different"


def quadrant_of(size: str, similarity: str) -> int:
    for q, key in QUADRANTS.items():
        if key == (size, similarity):
            return q
    raise ValueError(f"bad size/similarity: {size}/{similarity}")


def is_size_borderline(images_per_class: float) -> bool:
    lo = LARGE_IMAGES_PER_CLASS / SIZE_BORDERLINE_FACTOR
    hi = LARGE_IMAGES_PER_CLASS * SIZE_BORDERLINE_FACTOR
    return lo <= images_per_class < hi


def is_similarity_borderline(similarity: float) -> bool:
    return abs(similarity - SIMILAR_THRESHOLD) < SIMILARITY_BORDERLINE


def plan_for_quadrant(quadrant: int, num_stages: int = 4) -> PlanChoice:
    """The freeze plan each quadrant calls for (the seed article's decision map)."""
    if quadrant == 4:  # small + similar: the frozen features already fit; only a new output layer
        return PlanChoice("head", 0, False)
    if quadrant == 3:  # small + different: keep generic early layers, retrain the later half, augment
        return PlanChoice("top", max(1, num_stages // 2), True)
    if quadrant == 2:  # large + similar: retrain the output-side layers (or everything)
        return PlanChoice("top", 1, False)
    if quadrant == 1:  # large + different: fine-tune everything from the pretrained start
        return PlanChoice("full", num_stages, False)
    raise ValueError(f"quadrant must be 1-4, not {quadrant}")


_ALTERNATIVES = {4: ["top"], 3: ["head", "full"], 2: ["full"], 1: ["scratch", "top"]}


def recommend(profile: DatasetProfile) -> Recommendation:
    """Quadrant, plan and the keys of its reasons for a dataset profile. Pure: no I/O.

    Raises ValueError for a negative size or no classes.
    """
    if profile.images_per_class < 0 or profile.num_classes < 1:
        raise ValueError("images_per_class must be >= 0 and num_classes >= 1")
    sim = min(1.0, max(0.0, float(profile.similarity)))
    size = size_category(profile.images_per_class)
    simcat = similarity_category(sim)
    q = quadrant_of(size, simcat)
    choice = plan_for_quadrant(q, profile.num_stages)
    size_bl = is_size_borderline(profile.images_per_class)
    sim_bl = is_similarity_borderline(sim)

    keys = ["size_large" if size == "large" else "size_small",
            "sim_similar" if simcat == "similar" else "sim_different",
            f"quadrant{q}"]
    if size_bl:
        keys.append("size_borderline")
    if sim_bl:
        keys.append("sim_borderline")
    return Recommendation(
        quadrant=q,
        size=size,
        similarity=sim,
        similarity_source=profile.similarity_source,
        plan=choice.plan,
        top_stages=choice.top_stages,
        augment=choice.augment,
        images_per_class=float(profile.images_per_class),
        alternatives=list(_ALTERNATIVES[q]),
        reason_keys=keys,
        size_borderline=size_bl,
        similarity_borderline=sim_bl,
    )
