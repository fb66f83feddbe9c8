"""App-level operations the pages call: datasets, plan previews, runs, comparisons and predictions."""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from .decision import DatasetProfile, Recommendation, plan_for_quadrant, recommend
from .errors import DataError, ModelError, RunError
from .fsutil import read_json
from .paths import cache_dir, data_roots

if TYPE_CHECKING:  # torch-heavy modules are imported where they are used: the app's first page stays fast
    from .config import TrainConfig
    from .runs import RunInfo, RunStore

FINAL_STATES = ("completed", "stopped", "failed")  # as tlcore.runs.FINAL_STATES

#: The built-in lab dataset the app opens with: small and fairly different from
#: labnet's source world, so the map lands in quadrant 3 and the run trains real layers.
LAB_DEFAULT_SIMILARITY = 0.3
LAB_DEFAULT_PER_CLASS = 100
#: Sizes offered by the lab's size dial (images per class); log-spaced around the 1,000 boundary.
LAB_PER_CLASS_OPTIONS = (10, 20, 50, 100, 200, 500, 1000, 1500, 2000)
#: Validation images per lab class: enough for a steady curve, quick to evaluate.
LAB_VAL_PER_CLASS = 100
LAB_SEED = 0

#: Training defaults the app pre-fills: a lab run takes seconds to a minute on a 2-core CPU.
DEFAULT_EPOCHS = 5
DEFAULT_BATCH_SIZE = 32
DEFAULT_LR = 1e-3
BATCH_SIZE_OPTIONS = (8, 16, 32, 64, 128)
LR_OPTIONS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
COMPARE_PLANS = ("head", "top", "full", "scratch")

#: A plan "agrees" with the experiment when its best accuracy is within this of the winner's.
VERDICT_TOLERANCE = 0.02

UPLOAD_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


# ---------------------------------------------------------------------------
# Places


def _root_folders() -> dict[str, Path]:
    """Label -> folder for every visible folder directly inside a data root that stays inside it."""
    out: dict[str, Path] = {}
    for root in data_roots():
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if d.name.startswith(".") or not d.is_dir():
                continue
            resolved = d.resolve()
            if resolved.parent == root:  # a link that leads elsewhere is not offered
                out.setdefault(f"{root.name}/{d.name}", resolved)
    return out


def list_root_folders() -> list[str]:
    """Dataset folders directly inside the configured roots, as ``root-name/folder`` labels."""
    return list(_root_folders())


def resolve_root_folder(label: str) -> Path:
    """The folder behind a label from :func:`list_root_folders`; anything else (a typed path) is refused."""
    folder = _root_folders().get(label)
    if folder is None:
        raise DataError(f"'{label}' is not a dataset folder under the configured data roots.",
                        "Pick one from the list; the server's administrator sets the roots with TLCORE_DATA_ROOTS.",
                        code="not_in_roots")
    return folder


# ---------------------------------------------------------------------------
# Datasets


def lab_dataset(similarity: float, per_class: int, seed: int = LAB_SEED, val_per_class: int | None = None) -> Path:
    """The lab dataset for these dials, written once into the cache and reused."""
    from .lab.world import world_fingerprint, write_imagefolder

    val = int(val_per_class or LAB_VAL_PER_CLASS)
    s = round(float(similarity), 2)
    # The world's fingerprint is in the name: after a change to the world, nothing older is reused.
    out = cache_dir() / "lab" / f"s{s:.2f}-n{int(per_class)}-v{val}-seed{int(seed)}-w{world_fingerprint()}"
    if (out / "lab.json").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write aside, then rename: two sessions asking at once never see half a dataset.
    tmp = Path(tempfile.mkdtemp(prefix=".lab-", dir=out.parent))
    try:
        write_imagefolder(tmp, s, int(per_class), seed=int(seed), val_per_class=val)
        try:
            os.rename(tmp, out)
        except OSError:
            if not (out / "lab.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def save_upload(name: str, data: bytes) -> Path:
    """Store an uploaded .zip in the cache, extract it safely once, and return the dataset folder."""
    from .data import open_dataset

    if not data:
        raise DataError(f"'{name}' is empty.", "Upload a .zip of a folder with one subfolder per class.", code="empty_upload")
    digest = hashlib.sha256(data).hexdigest()[:16]
    base = cache_dir() / "uploads" / digest
    marker = base / "dataset.json"
    known = read_json(marker, None)
    if known and Path(known.get("root", "")).is_dir():
        return Path(known["root"])
    base.mkdir(parents=True, exist_ok=True)
    safe = UPLOAD_NAME_RE.sub("_", Path(name).name)[-100:] or "upload.zip"
    if not safe.lower().endswith(".zip"):
        safe += ".zip"
    zip_path = base / safe
    zip_path.write_bytes(data)
    report = open_dataset(zip_path, work_dir=base / "extracted")
    marker.write_text(json.dumps({"name": name, "root": report.root}), encoding="utf-8")
    return Path(report.root)


def open_data(path: str | Path):
    """Check a dataset folder: a tlcore.data.DatasetReport."""
    from .data import open_dataset

    return open_dataset(path)


def lab_info(path: str | Path) -> dict | None:
    """The dials a lab dataset was made with (its lab.json), or None for other data."""
    return read_json(Path(path) / "lab.json", None)


def sample_images(report, per_class: int = 6) -> dict[str, list[str]]:
    """A few image paths per class (from the training split) for a preview grid."""
    out: dict[str, list[str]] = {c: [] for c in report.classes}
    for path, label in list(report.train) + list(report.val):
        bucket = out[report.classes[label]]
        if len(bucket) < per_class:
            bucket.append(path)
    return out


def default_model_for(path: str | Path) -> str:
    from .cli import default_model_for as _default

    return _default(path)


def similarity_choice_for(value: float) -> str:
    """The plain-language similarity answer nearest to a score."""
    from .decision import USER_SIMILARITY_CHOICES

    return min(USER_SIMILARITY_CHOICES, key=lambda k: abs(USER_SIMILARITY_CHOICES[k] - float(value)))


def measure_similarity(path: str | Path, model: str, progress=None):
    """Measure how well the backbone's frozen features fit the data (tlcore.similarity)."""
    from .similarity import measure_similarity as _measure

    return _measure(str(path), model_name=model, weights="pretrained", progress=progress)


# ---------------------------------------------------------------------------
# Models and plans


def list_models() -> list[str]:
    from .models import list_models as _list

    return _list()


@lru_cache(maxsize=32)
def num_stages(model: str) -> int:
    """How many stages the backbone has (what "top" can unfreeze)."""
    from .models import build_model

    return len(build_model(model, 2, "none").stage_names)


def recommendation(images_per_class: float, num_classes: int, similarity: float, source: str, model: str) -> Recommendation:
    """The map's answer for this profile and backbone."""
    return recommend(DatasetProfile(float(images_per_class), max(1, int(num_classes)), float(similarity), source,
                                    num_stages(model)))


def what_if(quadrant: int, model: str):
    """The plan another quadrant would call for (the map's "what if" view)."""
    return plan_for_quadrant(int(quadrant), num_stages(model))


@lru_cache(maxsize=64)
def plan_preview(model: str, plan: str, top_stages: int, num_classes: int):
    """The PlanReport (per-group frozen/trained parameter counts) of a plan on a backbone; no weights are loaded."""
    from .models import build_model
    from .plans import apply_plan, get_plan

    net = build_model(model, max(1, int(num_classes)), "none")
    return apply_plan(net, get_plan(plan, max(1, int(top_stages))))


@dataclass(frozen=True)
class DeviceSummary:
    kind: str  # cuda | mps | cpu
    name: str
    detail: str = ""


def device_summary() -> DeviceSummary:
    """The device a new run will use (the trainer's own choice for device=auto)."""
    import torch

    from .train import pick_device

    dev = pick_device("auto")
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev.index or 0)
        return DeviceSummary("cuda", props.name, f"{props.total_memory / 2**30:.0f} GiB")
    if dev.type == "mps":
        return DeviceSummary("mps", "Apple GPU (MPS)")
    return DeviceSummary("cpu", "CPU", f"{os.cpu_count() or 1} cores, {torch.get_num_threads()} threads")


def weights_missing(model: str, plan: str) -> str | None:
    """The expected ImageNet weights file when a run would have to download it (else None)."""
    from .models import get_spec, imagenet_weights_path

    spec = get_spec(model)
    if spec.family != "torchvision" or plan == "scratch":
        return None
    path = imagenet_weights_path(spec.tv_name)
    return None if path.exists() else str(path)


# ---------------------------------------------------------------------------
# Runs


def make_config(data: str | Path, model: str, plan: str, top_stages: int = 1, epochs: int = DEFAULT_EPOCHS,
                batch_size: int = DEFAULT_BATCH_SIZE, lr: float = DEFAULT_LR, augment: bool | None = None,
                quadrant: int = 0) -> TrainConfig:
    """A validated TrainConfig from the app's settings."""
    from .config import TrainConfig

    return TrainConfig(data=str(Path(data).resolve()), model=model, plan=plan, weights="pretrained",
                       top_stages=max(1, int(top_stages)), epochs=int(epochs), batch_size=int(batch_size),
                       lr=float(lr), augment=augment, quadrant=int(quadrant))


def lab_recipe_applies(path: str | Path, model: str) -> bool:
    """Whether the lab experiment's recipes fit this comparison: labnet on lab data."""
    return model == "labnet" and lab_info(path) is not None


def lab_recipe_epochs(plans: list[str], rec: Recommendation) -> dict[str, int]:
    """Epochs each plan trains for under the lab recipe, for data of the recommendation's size."""
    from .lab.experiment import recipe

    return {plan: recipe(plan, rec.size).epochs for plan in plans}


def start_compare(store: RunStore, base: TrainConfig, plans: list[str], top_stages: int = 1,
                  lab_recipe: Recommendation | None = None) -> str:
    """Queue one run per plan on the same data and backbone; returns the group id.

    With ``lab_recipe`` (the map's recommendation for the data), each plan trains with the
    lab experiment's recipe for it (epochs, batch size, learning rates, augmentation), so a
    class sees on the chart what ``python -m tlcore lab experiment`` measured.
    """
    if not plans:
        raise RunError("Choose at least one plan to compare.", code="no_plans")
    group = f"cmp-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    for plan in plans:
        if lab_recipe is not None:
            from .lab.experiment import plan_config

            cfg = plan_config(base, plan, lab_recipe.size, lab_recipe)
        else:
            cfg = base.with_(plan=plan, top_stages=max(1, int(top_stages)))
        store.start(cfg, label=plan, group=group)
    return group


@dataclass
class RunProgress:
    """What a run's events say so far; feed it new events as they arrive."""

    offset: int = 0
    fit_start: dict | None = None
    epochs: list[dict] = field(default_factory=list)
    batch: dict | None = None
    status: dict | None = None
    evaluation: dict | None = None
    warnings: list[dict] = field(default_factory=list)
    failed: dict | None = None
    cancelled: dict | None = None
    fit_end: dict | None = None
    current_epoch: int = 0

    def feed(self, events: list[dict]) -> None:
        for e in events:
            kind = e.get("kind")
            if kind == "fit_start":
                self.fit_start = e
            elif kind == "status":
                self.status = e
            elif kind == "epoch_start":
                self.current_epoch = int(e.get("epoch", 0))
            elif kind == "batch":
                self.batch = e
            elif kind == "epoch_end":
                self.epochs.append(e)
            elif kind == "evaluation":
                self.evaluation = e
            elif kind == "warning":
                self.warnings.append(e)
            elif kind == "failed":
                self.failed = e
            elif kind == "cancelled":
                self.cancelled = e
            elif kind == "fit_end":
                self.fit_end = e

    @property
    def total_epochs(self) -> int:
        return int(self.fit_start.get("epochs", 0)) if self.fit_start else 0

    @property
    def fraction(self) -> float:
        """Overall progress through the epochs, 0..1."""
        total = self.total_epochs
        if not total:
            return 0.0
        done = len(self.epochs)
        within = 0.0
        b = self.batch
        if b and int(b.get("epoch", 0)) == done + 1 and b.get("steps"):
            within = min(1.0, b["step"] / b["steps"])
        return min(1.0, (done + within) / total)

    @property
    def eta_s(self) -> float:
        return float(self.batch.get("eta_s", 0.0)) if self.batch else 0.0

    @property
    def images_per_sec(self) -> float:
        return float(self.batch.get("images_per_sec", 0.0)) if self.batch else 0.0

    def curve(self, metric: str = "val_accuracy") -> list[tuple[int, float]]:
        return [(int(e["epoch"]), float(e.get(metric, 0.0))) for e in self.epochs]


def poll(store: RunStore, run_id: str, progress: RunProgress | None = None) -> RunProgress:
    """Read the events a run wrote since ``progress.offset`` and fold them in."""
    progress = progress or RunProgress()
    events, progress.offset = store.events(run_id, progress.offset)
    progress.feed(events)
    return progress


def run_seconds(info: RunInfo, progress: RunProgress) -> float:
    if progress.fit_end:
        return float(progress.fit_end.get("seconds", 0.0))
    if info.started:
        return float((info.ended or time.time()) - info.started)
    return 0.0


@dataclass
class CompareRow:
    run_id: str
    plan: str
    status: str
    best_val_accuracy: float
    seconds: float
    trainable_params: int
    queue_position: int
    curve: list[tuple[int, float]]
    message: str = ""


def compare_rows(store: RunStore, group: str, progress: dict[str, RunProgress] | None = None) -> list[CompareRow]:
    """One row per run of a comparison group, oldest first; ``progress`` caches parsed events by run id."""
    progress = progress if progress is not None else {}
    rows = []
    for info in sorted((r for r in store.list() if r.group == group), key=lambda r: r.created):
        p = progress[info.run_id] = poll(store, info.run_id, progress.get(info.run_id))
        rows.append(CompareRow(
            run_id=info.run_id, plan=info.plan, status=info.status, best_val_accuracy=info.best_val_accuracy,
            seconds=run_seconds(info, p),
            trainable_params=int(p.fit_start.get("trainable_params", 0)) if p.fit_start else 0,
            queue_position=info.queue_position, curve=p.curve(), message=info.message,
        ))
    return rows


@dataclass(frozen=True)
class Verdict:
    """Does the experiment agree with the map? ``key``/``params`` are for tlcore.i18n."""

    agrees: bool | None
    key: str
    params: dict


def compare_verdict(results: list, recommended_plan: str, tolerance: float = VERDICT_TOLERANCE) -> Verdict:
    """Compare finished runs' best accuracies with the map's recommended plan.

    ``results``: rows with ``plan``, ``status`` and ``best_val_accuracy`` (CompareRow or dicts).
    """
    def get(r, k):
        return r[k] if isinstance(r, dict) else getattr(r, k)

    if not results or any(get(r, "status") not in FINAL_STATES for r in results):
        return Verdict(None, "verdict_pending", {})
    done = [r for r in results if get(r, "status") == "completed"]
    by_plan = {}
    for r in done:
        by_plan[get(r, "plan")] = max(by_plan.get(get(r, "plan"), 0.0), float(get(r, "best_val_accuracy")))
    if recommended_plan not in by_plan:
        return Verdict(None, "verdict_not_run", {"plan": recommended_plan})
    best_plan = max(by_plan, key=by_plan.get)
    best, rec = by_plan[best_plan], by_plan[recommended_plan]
    params = {"plan": recommended_plan, "acc": rec * 100, "best_plan": best_plan, "best_acc": best * 100,
              "gap": (best - rec) * 100, "tol": tolerance * 100}
    if best_plan == recommended_plan or rec >= best - 1e-9:
        return Verdict(True, "verdict_agree_best", params)
    if rec >= best - tolerance:
        return Verdict(True, "verdict_agree_close", params)
    return Verdict(False, "verdict_disagree", params)


@dataclass
class CompareSummary:
    rows: list[CompareRow]
    verdict: Verdict
    recommended_plan: str
    epochs: int
    active: bool


def compare_summary(store: RunStore, group: str, progress: dict[str, RunProgress] | None = None) -> CompareSummary:
    """A comparison group's rows, and whether its result agrees with the map.

    The recommended plan comes from the runs' own config (the quadrant they were
    started with), so a reloaded page judges the same experiment the same way.
    """
    rows = compare_rows(store, group, progress)
    recommended, epochs = "", 0
    if rows:
        cfg = read_json(store.run_dir(rows[0].run_id) / "config.json", {}) or {}
        epochs = int(cfg.get("epochs", 0) or 0)
        if cfg.get("quadrant") in (1, 2, 3, 4):
            recommended = plan_for_quadrant(int(cfg["quadrant"]), num_stages(cfg.get("model", "labnet"))).plan
    if not recommended and rows and all(r.status in FINAL_STATES for r in rows):
        verdict = Verdict(None, "verdict_no_map", {})
    else:
        verdict = compare_verdict(rows, recommended)
    return CompareSummary(rows, verdict, recommended, epochs, any(r.status not in FINAL_STATES for r in rows))


def finished_runs(store: RunStore) -> list[RunInfo]:
    """Runs with a saved model (best.pt), newest first."""
    return [r for r in store.list() if not r.active and (Path(r.run_dir) / "best.pt").is_file()]


def checkpoint_bytes(run_dir: str | Path) -> bytes:
    return (Path(run_dir) / "best.pt").read_bytes()


def run_samples(run_dir: str | Path, count: int = 6) -> list[tuple[str, str]]:
    """A few validation images of a run's dataset with their true class (to try a model without uploading)."""
    cfg = read_json(Path(run_dir) / "config.json", {}) or {}
    report = open_data(cfg.get("data", ""))
    step = max(1, len(report.val) // max(1, count))
    return [(p, report.classes[y]) for p, y in report.val[::step][:count]]


# ---------------------------------------------------------------------------
# Prediction


class Predictor:
    """A finished run's best model, ready to classify images."""

    def __init__(self, run_dir: str | Path):
        import torch

        from .models import build_model

        path = Path(run_dir) / "best.pt"
        if not path.is_file():
            raise ModelError("This run has no saved model (best.pt) yet.", "Pick a run that finished at least one epoch.",
                             code="no_checkpoint")
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unpickling problem is a bad file for the user
            raise ModelError(f"Could not read the saved model: {type(exc).__name__}.",
                             "The file may be damaged; train the run again.", code="bad_checkpoint") from None
        self.classes = list(ckpt["classes"])
        self.image_size = int(ckpt["image_size"])
        self.mean, self.std = tuple(ckpt["mean"]), tuple(ckpt["std"])
        self.net = build_model(ckpt["model"], len(self.classes), "none")
        self.net.load_state_dict(ckpt["model_state"])
        self.net.eval()

    def predict(self, images: list, top_k: int = 3) -> list[list[tuple[str, float]]]:
        """Top-k (class, probability) per image; images are paths, raw bytes or (name, bytes)."""
        import torch

        from .data import ImageStore

        with tempfile.TemporaryDirectory(prefix="tl-predict-") as tmp:
            paths = []
            for i, img in enumerate(images):
                if isinstance(img, tuple):  # (file name, bytes) from an upload
                    name, img = img
                else:
                    name = "image.png"
                if isinstance(img, (bytes, bytearray)):
                    # The decoder sniffs the content; the name only has to carry an image extension.
                    stem, ext = os.path.splitext(UPLOAD_NAME_RE.sub("_", Path(name).name))
                    p = Path(tmp) / str(i) / ((stem or "image")[:80] + (ext.lower() if ext else ".png"))
                    p.parent.mkdir()
                    p.write_bytes(img)
                    paths.append(str(p))
                else:
                    paths.append(str(img))
            if not paths:
                return []
            # The same decoding as training (ImageStore): resize, centre crop, uint8.
            x = ImageStore(paths, self.image_size).get_batch(range(len(paths))).float() / 255.0
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        with torch.no_grad():
            probs = self.net((x - mean) / std).softmax(1)
        k = min(top_k, len(self.classes))
        top = probs.topk(k, dim=1)
        return [[(self.classes[int(i)], float(v)) for v, i in zip(vals, idx)] for vals, idx in zip(top.values, top.indices)]


def predict(run_dir: str | Path, images: list, top_k: int = 3) -> list[list[tuple[str, float]]]:
    """Load a run's best.pt and classify images: top-k (class, probability) for each."""
    return Predictor(run_dir).predict(images, top_k)
