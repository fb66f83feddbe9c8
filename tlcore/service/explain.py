"""Explain, export, predict: Grad-CAM on a run's images, verified exports of a run, any model (run or export) on images.

What the Predict page, the run results and the CLI (``explain``, ``export``, ``predict``) call.
"""
from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, DataError, ModelError, RunError
from ..fsutil import read_json

if TYPE_CHECKING:  # torch-heavy modules are imported where they are used
    from ..runs import RunStore

#: Validation images an export is verified on (spread over the validation set).
VERIFY_IMAGES = 32
#: The folder inside a run directory that holds its exports, one subfolder per format.
EXPORTS_DIR = "exports"
#: Classes shown with their probability bars before the rest are summed up (the Predict page).
MAX_BARS = 5


def export_formats() -> tuple[str, ...]:
    from ..export import FORMATS

    return FORMATS


def resolve_run(target: str | Path, store: "RunStore | None" = None) -> Path:
    """A run directory from a run id (in ``store``, default the runs directory) or a run folder's path.

    Raises RunError for an unknown run, ModelError for a run without a saved model.
    """
    p = Path(target).expanduser()
    if p.is_dir() and ((p / "best.pt").is_file() or (p / "config.json").is_file()):
        run_dir = p.resolve()
    else:
        from .training import run_store

        store = store or run_store()
        run_dir = store.run_dir(str(target))
        if not (run_dir / "config.json").is_file():
            raise RunError(f"No run {str(target)!r} in {store.runs_dir}.",
                           "See 'python -m tlcore runs' for the run ids (or pass --runs-dir).", code="no_run")
    if not (run_dir / "best.pt").is_file():
        raise ModelError(f"Run {run_dir.name} has no saved model (best.pt) yet.",
                         "Pick a run that finished at least one epoch.", code="no_checkpoint")
    return run_dir


# ---------------------------------------------------------------------------
# Predictions and explanations


@dataclass
class Prediction:
    """A model's answer for one image: every class's probability (in the model's class order)."""

    probabilities: dict[str, float]
    image: str = ""

    @property
    def predicted(self) -> str:
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.predicted]

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        """(class, probability), most probable first (all classes when ``k`` is None)."""
        ranked = sorted(self.probabilities.items(), key=lambda kv: -kv[1])
        return ranked if k is None else ranked[:k]

    def bars(self, limit: int = MAX_BARS) -> tuple[list[tuple[str, float]], int, float]:
        """What a probability chart shows: every class when there are at most ``limit`` + 1, else the top
        ``limit``; then how many classes are left out and their summed probability."""
        ranked = self.top()
        if len(ranked) <= limit + 1:
            return ranked, 0, 0.0
        rest = ranked[limit:]
        return ranked[:limit], len(rest), float(sum(p for _, p in rest))

    def to_json(self) -> dict:
        return {"image": self.image, "predicted": self.predicted, "confidence": self.confidence,
                "probabilities": dict(self.probabilities)}


@dataclass
class ImageExplanation(Prediction):
    """A prediction with its Grad-CAM: ``heatmap`` float (S, S) in [0, 1] for ``explained`` over the
    model's view ``image`` uint8 (S, S, 3); ``overlay`` uint8 (D, D, 3), both at a readable size D;
    ``grid`` the explained group's feature-map size; ``peak`` (x, y) in image pixels."""

    explained: str = ""
    image_array: np.ndarray = field(default=None, repr=False)
    heatmap: np.ndarray = field(default=None, repr=False)
    overlay: np.ndarray = field(default=None, repr=False)
    view: np.ndarray = field(default=None, repr=False)  # the model's view enlarged to the overlay's size
    grid: tuple[int, int] = (0, 0)
    peak: tuple[int, int] = (0, 0)
    layer: str = ""

    def to_json(self) -> dict:
        return {**super().to_json(), "class": self.explained, "peak": list(self.peak), "grid": list(self.grid),
                "layer": self.layer}


class Explainer:
    """A finished run's best model, ready to predict and to explain its answers with Grad-CAM."""

    def __init__(self, run_dir: str | Path):
        from ..inference import LoadedModel

        self.run_dir = Path(run_dir)
        self.model = LoadedModel.from_run(run_dir)
        self.classes = list(self.model.classes)
        # Captum hooks the explained layer for the length of a call: one call at a time on a shared model
        # (the app shares one Explainer between sessions).
        self._lock = threading.Lock()

    def class_index(self, name: str | None) -> int | None:
        """The index of class ``name`` (None stays None). Raises ConfigError naming the classes."""
        if name is None or name == "":
            return None
        if name not in self.classes:
            shown = ", ".join(self.classes[:20]) + (" ..." if len(self.classes) > 20 else "")
            raise ConfigError(f"This model has no class {name!r}.", f"Its classes: {shown}.", code="unknown_class")
        return self.classes.index(name)

    def explain(self, images: list, class_name: str | None = None, names: list[str] | None = None,
                display: int | None = None) -> list[ImageExplanation]:
        """Predictions and Grad-CAM heatmaps for ``images`` (paths, bytes or (name, bytes)).

        ``class_name``: the class whose evidence is shown for every image (None: each image's
        predicted class). ``display``: the overlay's size in pixels (default: a readable multiple of
        the model's input size). Raises DataError for an unusable image, ConfigError for an unknown class.
        """
        from .. import explain as gc

        index = self.class_index(class_name)
        size = display or gc.display_size(self.model.image_size)
        layer = gc.target_group(self.model.net)
        with self._lock:
            explained = gc.explain(self.model, images, index)
        out = []
        for i, e in enumerate(explained):
            probs = {c: float(p) for c, p in zip(self.classes, e.probabilities)}
            label = names[i] if names else _image_name(images[i])
            out.append(ImageExplanation(
                probabilities=probs, image=label, explained=self.classes[e.class_index], image_array=e.image,
                heatmap=e.heatmap, overlay=gc.overlay(e.image, e.heatmap, size), view=gc.overlay(e.image, e.heatmap, size, 0.0),
                grid=e.grid, peak=e.peak, layer=layer))
        return out


def _image_name(img) -> str:
    if isinstance(img, tuple):
        return str(img[0])
    if isinstance(img, (bytes, bytearray)):
        return ""
    return str(img)


def explain_to_file(target: str, image: str, class_name: str | None = None, out: str | Path | None = None,
                    store: "RunStore | None" = None) -> dict:
    """``python -m tlcore explain``: Grad-CAM of one image, written as a PNG overlay.

    ``out``: a PNG file, or an existing folder for ``<image stem>-<class>.png`` (default: ``RUN_DIR/explain``). Returns the JSON: ``predicted``,
    ``probabilities`` (class -> probability, in class order), ``heatmap_path``, ``class`` (the class
    explained), ``confidence``, ``peak`` ([x, y] in the model's input pixels), ``grid``, ``layer``, ``run_id``.
    Raises RunError, ModelError, DataError, ConfigError.
    """
    from PIL import Image

    from ..fsutil import atomic_write

    run_dir = resolve_run(target, store)
    if not Path(image).is_file():
        raise DataError(f"Image not found: {image}.", "Give the path of an image file.", code="not_found")
    e = Explainer(run_dir).explain([str(image)], class_name)[0]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{Path(image).stem}-{e.explained}")[:120]
    folder = out is None or Path(out).is_dir() or str(out).endswith(("/", "\\"))
    out = Path(out).expanduser() if out is not None else run_dir / "explain"
    if folder:  # the default file name inside it
        out = out / f"{safe}.png"
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: Image.fromarray(e.overlay).save(tmp, format="PNG"))
    return {**e.to_json(), "image": str(image), "heatmap_path": str(out), "run_id": run_dir.name}


# ---------------------------------------------------------------------------
# Any model on images: a run or an exported folder


@dataclass
class ModelRef:
    """A model to predict with: a run (its best.pt) or an exported folder (through its card)."""

    kind: str  # run | onnx | torchscript | state_dict
    path: Path
    model: object  # tlcore.inference.LoadedModel or tlcore.export.ExportedModel

    @property
    def classes(self) -> list[str]:
        return list(self.model.classes)

    def predict(self, images: list, names: list[str] | None = None) -> list[Prediction]:
        """Every class's probability for each image (paths, bytes or (name, bytes)). Raises DataError."""
        probs = self.model.probabilities(self.model.load_images(images))
        return [Prediction({c: float(p) for c, p in zip(self.classes, row)},
                           names[i] if names else _image_name(images[i])) for i, row in enumerate(probs.tolist())]


def open_model(target: str | Path, store: "RunStore | None" = None) -> ModelRef:
    """A run id, a run folder or an exported folder (one with ``model_card.json``), ready to predict.

    An export's model file is checked against the SHA-256 in its card first. Raises ModelError
    (``export_corrupted`` for a damaged export), RunError for an unknown run id.
    """
    from .. import export as ex

    p = Path(target).expanduser()
    if p.is_dir() and ex.is_export(p):
        model = ex.ExportedModel(p)
        return ModelRef(model.format, p.resolve(), model)
    if p.is_dir() and not (p / "best.pt").is_file() and not (p / "config.json").is_file():
        raise ModelError(f"{p} is neither a run folder (with best.pt) nor an exported model (with {ex.CARD_NAME}).",
                         "Give a run id, a run folder, or a folder written by 'python -m tlcore export'.",
                         code="not_a_model")
    from ..inference import LoadedModel

    run_dir = resolve_run(target, store)
    return ModelRef("run", run_dir, LoadedModel.from_run(run_dir))


def predict_images(target: str | Path, images: list[str], store: "RunStore | None" = None) -> dict:
    """``python -m tlcore predict``: ``{"model": {"kind", "path"}, "classes", "predictions": [...]}``,
    each prediction ``{"image", "predicted", "confidence", "probabilities"}``. Raises TLError subclasses."""
    missing = [i for i in images if not Path(i).is_file()]
    if missing:
        raise DataError(f"Image not found: {missing[0]}.", "Give paths of image files.", code="not_found")
    ref = open_model(target, store)
    preds = ref.predict([str(i) for i in images])
    return {"model": {"kind": ref.kind, "path": str(ref.path)}, "classes": ref.classes,
            "predictions": [p.to_json() for p in preds]}


# ---------------------------------------------------------------------------
# Exports


def _verification_images(cfg: dict, count: int = VERIFY_IMAGES):
    """(paths of up to ``count`` validation images spread over the run's validation set, the dataset report)
    or ([], None) when the run's data can no longer be opened."""
    from ..data import open_dataset
    from ..errors import TLError

    try:
        report = open_dataset(cfg.get("data", ""), val_fraction=float(cfg.get("val_fraction", 0.2)),
                              seed=int(cfg.get("seed", 0)))
    except TLError:
        return [], None
    val = report.val
    step = max(1, len(val) // max(1, count))
    return [p for p, _ in val[::step][:count]], report


def _card_info(run_dir: Path, ckpt: dict, report) -> dict:
    from ..export import sha256

    cfg = ckpt.get("config") or read_json(run_dir / "config.json", {}) or {}
    meta = read_json(run_dir / "meta.json", {}) or {}
    dataset = {"name": meta.get("dataset") or Path(str(cfg.get("data", ""))).name, "path": str(cfg.get("data", ""))}
    if report is not None:
        classes = list(report.classes)
        dataset.update(
            num_classes=len(classes), num_train=len(report.train), num_val=len(report.val), val_source=report.val_source,
            train_counts={c: sum(1 for _, y in report.train if y == k) for k, c in enumerate(classes)},
            val_counts={c: sum(1 for _, y in report.val if y == k) for k, c in enumerate(classes)})
    plan = str(cfg.get("plan", ""))
    return {
        "run_id": run_dir.name,
        "plan": plan,
        "top_stages": cfg.get("top_stages") if plan == "top" else None,
        "metrics": {"val_accuracy": ckpt.get("val_accuracy"), "val_balanced_accuracy": ckpt.get("val_balanced_accuracy"),
                    "epoch": ckpt.get("epoch")},
        "dataset": dataset,
        "training_config": cfg,
        "plan_report": ckpt.get("plan_report", {}),
        "checkpoint_sha256": sha256(run_dir / "best.pt"),
    }


@dataclass
class ExportSummary:
    """An export written (or found up to date): its folder, card and how long it took."""

    path: Path
    card: dict
    seconds: float = 0.0

    @property
    def verification(self) -> dict:
        return self.card.get("verification", {})

    def to_json(self) -> dict:
        files = sorted(p.name for p in self.path.iterdir()) if self.path.is_dir() else []
        return {"run_id": self.card.get("run_id"), "format": self.card.get("export_format"), "path": str(self.path),
                "files": files, "model_file": self.card.get("model_file"), "sha256": self.card.get("sha256"),
                "verification": self.verification, "seconds": self.seconds}


def export_run(target: str | Path, fmt: str, out: str | Path | None = None, store: "RunStore | None" = None) -> ExportSummary:
    """``python -m tlcore export``: the run's best model as ``fmt`` (onnx, torchscript or state_dict) in ``out``.

    ``out`` defaults to ``RUN_DIR/exports/<fmt>``. Verified on up to :data:`VERIFY_IMAGES` of the
    run's validation images (random images, said so in the card, when its data is gone).
    Raises ConfigError (format, destination), ModelError (no model; verification failed), RunError.
    """
    import torch

    from .. import export as ex
    from ..inference import LoadedModel

    if fmt not in ex.FORMATS:
        raise ConfigError(f"Unknown export format {fmt!r}.", f"Choose one of: {', '.join(ex.FORMATS)}.",
                          code="export_format")
    run_dir = resolve_run(target, store)
    model = LoadedModel.from_run(run_dir)
    paths, report = _verification_images(model.checkpoint.get("config") or read_json(run_dir / "config.json", {}) or {})
    if paths:
        images, inputs = model.load_images(paths), "validation"
    else:
        gen = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (8, 3, model.image_size, model.image_size), dtype=torch.uint8, generator=gen)
        inputs = "random (the run's validation images were not found)"
    out = Path(out) if out else run_dir / EXPORTS_DIR / fmt
    result = ex.export_model(model, fmt, out, images, inputs=inputs, info=_card_info(run_dir, model.checkpoint, report))
    return ExportSummary(result.path, result.card, result.seconds)


def existing_export(run_dir: str | Path, fmt: str) -> ExportSummary | None:
    """The run's export in ``fmt`` under ``RUN_DIR/exports`` when it is intact and of the current best.pt, else None."""
    from .. import export as ex

    folder = Path(run_dir) / EXPORTS_DIR / fmt
    if not ex.is_export(folder):
        return None
    try:
        card = ex.read_card(folder)
    except ModelError:
        return None
    model_file = folder / card["model_file"]
    best = Path(run_dir) / "best.pt"
    if not model_file.is_file() or not best.is_file() or card.get("checkpoint_sha256") != ex.sha256(best) \
            or ex.sha256(model_file) != card["sha256"]:
        return None
    return ExportSummary(folder, card)


def export_fingerprint(run_dir: str | Path, fmt: str) -> tuple:
    """Cheap to compute, and changes when the run's model or its export in ``fmt`` does (sizes and times)."""
    def stat(p: Path):
        try:
            st = p.stat()
            return st.st_size, st.st_mtime_ns
        except OSError:
            return None

    folder = Path(run_dir) / EXPORTS_DIR / fmt
    return (stat(Path(run_dir) / "best.pt"), stat(folder / "model_card.json"),
            *(stat(p) for p in sorted(folder.glob("*")) if p.is_file()))


def export_zip(summary: ExportSummary) -> bytes:
    """The export folder as a zip (one top folder named after the run and format), for a download."""
    top = f"{summary.card.get('run_id') or 'model'}-{summary.card.get('export_format')}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for p in sorted(summary.path.iterdir()):
            if p.is_file():
                zf.write(p, f"{top}/{p.name}")
    return buf.getvalue()
