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

#: Where the boundaries come from: the rule of thumb above, or a sweep that measured them for one backbone.
BOUNDARY_SOURCES = ("rule_of_thumb", "measured")


@dataclass(frozen=True)
class Boundaries:
    """The map's two boundaries: the size (images per class) at and above which data counts as
    large, and the similarity score at and above which it counts as similar.

    ``source`` says where they come from; ``evidence`` carries what the reasons cite for
    measured boundaries (the backbone, the sweep's size and agreement; see
    tlcore.service.calibration), and plays no part in the rule itself.
    """

    size: float = LARGE_IMAGES_PER_CLASS
    similarity: float = SIMILAR_THRESHOLD
    source: str = "rule_of_thumb"
    evidence: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if (not (0 < self.size < float("inf")) or not 0.0 < self.similarity < 1.0
                or self.source not in BOUNDARY_SOURCES):
            raise ValueError(f"bad boundaries: size {self.size} (> 0), similarity {self.similarity} (0..1), "
                             f"source {self.source!r} (one of {BOUNDARY_SOURCES})")


#: The rule of thumb: what the map uses for a backbone that no sweep has measured.
RULE_OF_THUMB = Boundaries()

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
    #: Where the two boundaries came from ("measured" | "rule_of_thumb") and their values.
    boundaries: str = "rule_of_thumb"
    size_boundary: float = LARGE_IMAGES_PER_CLASS
    similarity_boundary: float = SIMILAR_THRESHOLD
    #: Values the reasons cite beyond the profile (the evidence behind measured boundaries).
    reason_params: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def size_category(images_per_class: float, boundary: float = LARGE_IMAGES_PER_CLASS) -> str:
    return "large" if images_per_class >= boundary else "small"


def similarity_category(similarity: float, boundary: float = SIMILAR_THRESHOLD) -> str:
    return "similar" if similarity >= boundary else "different"


def quadrant_of(size: str, similarity: str) -> int:
    for q, key in QUADRANTS.items():
        if key == (size, similarity):
            return q
    raise ValueError(f"bad size/similarity: {size}/{similarity}")


def is_size_borderline(images_per_class: float, boundary: float = LARGE_IMAGES_PER_CLASS) -> bool:
    lo = boundary / SIZE_BORDERLINE_FACTOR
    hi = boundary * SIZE_BORDERLINE_FACTOR
    return lo <= images_per_class < hi


def is_similarity_borderline(similarity: float, boundary: float = SIMILAR_THRESHOLD) -> bool:
    return abs(similarity - boundary) < SIMILARITY_BORDERLINE


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


def recommend(profile: DatasetProfile, boundaries: Boundaries = RULE_OF_THUMB) -> Recommendation:
    """Quadrant, plan and the keys of its reasons for a dataset profile. Pure: no I/O.

    ``boundaries``: the size and similarity boundaries (default: the rule of thumb; the
    application layer passes a backbone's measured ones where a sweep calibrated them). With
    measured boundaries the size and similarity reasons are the ``*_measured`` keys, and a last
    reason, ``boundaries_measured`` or ``boundaries_rule_of_thumb``, names the evidence.
    Raises ValueError for a negative size or no classes.
    """
    if profile.images_per_class < 0 or profile.num_classes < 1:
        raise ValueError("images_per_class must be >= 0 and num_classes >= 1")
    b = boundaries
    sim = min(1.0, max(0.0, float(profile.similarity)))
    size = size_category(profile.images_per_class, b.size)
    simcat = similarity_category(sim, b.similarity)
    q = quadrant_of(size, simcat)
    choice = plan_for_quadrant(q, profile.num_stages)
    size_bl = is_size_borderline(profile.images_per_class, b.size)
    sim_bl = is_similarity_borderline(sim, b.similarity)

    suffix = "_measured" if b.source == "measured" else ""
    keys = [("size_large" if size == "large" else "size_small") + suffix,
            ("sim_similar" if simcat == "similar" else "sim_different") + suffix,
            f"quadrant{q}"]
    if size_bl:
        keys.append("size_borderline")
    if sim_bl:
        keys.append("sim_borderline")
    keys.append(f"boundaries_{b.source}")
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
        boundaries=b.source,
        size_boundary=float(b.size),
        similarity_boundary=float(b.similarity),
        reason_params=dict(b.evidence),
    )
