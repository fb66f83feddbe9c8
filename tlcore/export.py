"""Models that leave the app: ONNX, TorchScript or a state dict, each with a model card, verified when written.

An export is a folder written aside and renamed into place (never half-written):

- the model file (``model.onnx``, ``model.torchscript.pt`` or ``state_dict.pt``);
- ``model_card.json``: classes in order, the input the model takes, backbone, plan, metrics,
  dataset, training config, the model file's SHA-256 and the verification result;
- ``README.txt``: how to load it and predict, in about ten lines.

ONNX and TorchScript models take what a decoded image is: uint8 RGB in 0..255, shape
(batch, 3, S, S), resized and centre-cropped as in training; the normalization and the
softmax are inside the exported graph, so the output is one probability per class. The
state dict holds the network's weights only (the card gives the normalization).

:class:`ExportedModel` loads a folder back through its card, checking the checksum first.
"""
from __future__ import annotations

import hashlib
import inspect
import math
import os
import secrets
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, ModelError
from .fsutil import dumps, read_json

if TYPE_CHECKING:  # torch is imported where it is used: the CLI lists the formats without it
    import torch

    from .inference import LoadedModel

#: The exported formats, and the model file each writes.
MODEL_FILES: dict[str, str] = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt", "state_dict": "state_dict.pt"}
FORMATS: tuple[str, ...] = tuple(MODEL_FILES)
CARD_NAME = "model_card.json"
README_NAME = "README.txt"
CARD_FORMAT = "tlcore-export-1"
#: ONNX opset 17: onnxruntime 1.13 and later run it (as do current TensorRT and OpenVINO), and it has every
#: operator our backbones need. Newer opsets would shut out older runtimes for no gain here.
ONNX_OPSET = 17
#: An export passes when its probabilities differ from PyTorch's by at most this much (max abs difference).
TOLERANCE = 1e-4
#: The exported graph's input and output names.
INPUT_NAME, OUTPUT_NAME = "images", "probabilities"


def exported_module(mean, std, net) -> "torch.nn.Module":
    """What ONNX and TorchScript exports compute: uint8 images (B, 3, S, S) -> probabilities (B, C).

    The training's own normalization (``tlcore.models.Normalize``), the network, then softmax.
    """
    from torch import nn

    from .models import Normalize

    return nn.Sequential(Normalize(mean, std), net, nn.Softmax(dim=1)).eval()


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Writing each format


def _write_onnx(module, example: "torch.Tensor", path: Path) -> dict:
    import onnx
    import torch

    kwargs = dict(input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], opset_version=ONNX_OPSET,
                  dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    # The TorchScript-based exporter: the torch.export-based one (the default from torch 2.9) needs onnxscript.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), **kwargs)
    onnx.checker.check_model(str(path))
    return {"opset": ONNX_OPSET, "exporter": f"torch.onnx (TorchScript-based), torch {torch.__version__}"}


def _write_torchscript(module, example: "torch.Tensor", path: Path) -> dict:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)  # verify() checks it, on real images
        torch.jit.save(traced, str(path))
    return {"exporter": f"torch.jit.trace, torch {torch.__version__}"}


def _write_state_dict(model: "LoadedModel", path: Path) -> dict:
    import torch

    torch.save({k: v.detach().cpu() for k, v in model.net.state_dict().items()}, str(path))
    return {"exporter": f"torch.save, torch {torch.__version__}"}


# ---------------------------------------------------------------------------
# Loading each format back


def _runtime(fmt: str, path: Path, card: dict):
    """A callable uint8 (B, 3, S, S) tensor -> probabilities (B, C) float tensor, from the model file alone."""
    import torch

    if fmt == "onnx":
        import numpy as np
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

        def run(x: "torch.Tensor") -> "torch.Tensor":
            return torch.from_numpy(np.asarray(session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]))

        return run
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch.jit.load(str(path), map_location="cpu").eval()
    else:
        from .models import build_model

        state = torch.load(str(path), map_location="cpu", weights_only=True)
        net = build_model(card["backbone"], len(card["classes"]), "none")
        net.load_state_dict(state)
        module = exported_module(card["mean"], card["std"], net.eval())

    def run_torch(x: "torch.Tensor") -> "torch.Tensor":
        with torch.no_grad():
            return module(x).float()

    return run_torch


def runtime_name(fmt: str) -> str:
    import torch

    if fmt == "onnx":
        import onnxruntime as ort

        return f"onnxruntime {ort.__version__}"
    return f"torch {torch.__version__}" + (" (torch.jit.load)" if fmt == "torchscript" else " (tlcore build_model)")


# ---------------------------------------------------------------------------
# Verification


def verify(run, model: "LoadedModel", images: "torch.Tensor", source: str, batch_size: int = 16) -> dict:
    """Compare ``run`` (uint8 batch -> probabilities) with PyTorch's own ``model`` on ``images`` (N, 3, S, S).

    Batches of ``batch_size`` and of 1 (an export takes any batch size). Returns the record kept in
    the card: ``passed`` (max abs difference of probabilities within :data:`TOLERANCE`),
    ``max_abs_diff``, ``top1_agreement``, ``mean_top1_probability`` (PyTorch's; near 1 the
    probabilities are saturated and the check is weaker), ``images``, ``inputs`` (``source``), ``seconds``.
    """
    import torch

    t0 = time.time()
    if not len(images):
        raise ConfigError("No images to verify the export on.", code="export_no_images")
    with torch.no_grad():
        ref = model.probabilities(images).float()
    got = torch.cat([run(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
    single = run(images[:1])
    diff = max(float((got - ref).abs().max()), float((single - ref[:1]).abs().max()))
    if got.shape != ref.shape:
        diff = float("inf")
    agree = float((got.argmax(1) == ref.argmax(1)).float().mean()) if got.shape == ref.shape else 0.0
    # How sure the model is on these images: near 1, probabilities are saturated and hide small differences.
    sure = float(ref.max(1).values.mean())
    return {"passed": bool(diff <= TOLERANCE), "max_abs_diff": diff, "tolerance": TOLERANCE,
            "top1_agreement": agree, "mean_top1_probability": sure, "images": int(len(images)), "inputs": source,
            "batch_sizes": sorted({min(batch_size, len(images)), 1}), "seconds": round(time.time() - t0, 3)}


# ---------------------------------------------------------------------------
# The card and the README


def _input_spec(fmt: str, size: int, mean, std, crop_pct: float = 1.0) -> dict:
    short = max(size, int(math.floor(size / crop_pct + 1e-9)))
    spec = {
        "name": INPUT_NAME, "shape": ["batch", 3, size, size], "layout": "NCHW", "channels": "RGB",
        "size": size, "crop_pct": crop_pct,
        "resize": f"the shorter side resized to {short} px (bilinear), then the centre {size}x{size} square; "
                  "EXIF orientation applied first",
        "mean": list(mean), "std": list(std),
    }
    if fmt == "state_dict":
        spec.update(dtype="float32", range=[0.0, 1.0],
                    normalization="yours to apply before the network: (x - mean) / std, x in 0..1 "
                                  "(tlcore.models.Normalize does it from uint8)")
    else:
        spec.update(dtype="uint8", range=[0, 255],
                    normalization="inside the model: (x / 255 - mean) / std; give it the raw pixels")
    return spec


def _output_spec(fmt: str, num_classes: int) -> dict:
    if fmt == "state_dict":
        return {"name": "logits", "shape": ["batch", num_classes], "dtype": "float32",
                "meaning": "class scores of the network (apply softmax for probabilities), in the order of `classes`"}
    return {"name": OUTPUT_NAME, "shape": ["batch", num_classes], "dtype": "float32",
            "meaning": "softmax probabilities, one per class in the order of `classes`, summing to 1"}


_PREPROCESS = '''from PIL import Image, ImageOps
def load(path, size, crop_pct=1.0):  # as in training: shorter side to size/crop_pct, centre crop, uint8 (3, size, size)
    img = Image.open(path); img.draft("RGB", (size, size))  # big JPEGs decode at a reduced scale
    img = ImageOps.exif_transpose(img).convert("RGB"); w, h = img.size; s = max(size, int(size / crop_pct + 1e-9))
    nw, nh = (s, max(s, int(s * h / w))) if w <= h else (max(s, int(s * w / h)), s)
    img = img.resize((nw, nh), Image.BILINEAR, reducing_gap=3.0); l, t = round((nw - size) / 2), round((nh - size) / 2)
    return np.asarray(img.crop((l, t, l + size, t + size)), dtype=np.uint8).transpose(2, 0, 1)
'''

_EXAMPLES = {
    "onnx": '''import json, numpy as np, onnxruntime as ort
{preprocess}card = json.load(open("model_card.json"))
session = ort.InferenceSession("model.onnx")
x = np.stack([load("photo.jpg", card["input"]["size"], card["input"]["crop_pct"])])       # (1, 3, S, S) uint8, no normalization
probs = session.run(["probabilities"], {{"images": x}})[0][0]
print(card["classes"][int(probs.argmax())], float(probs.max()))
''',
    "torchscript": '''import json, numpy as np, torch
{preprocess}card = json.load(open("model_card.json"))
model = torch.jit.load("model.torchscript.pt").eval()
x = torch.from_numpy(np.stack([load("photo.jpg", card["input"]["size"], card["input"]["crop_pct"])]))  # (1, 3, S, S) uint8
probs = model(x)[0]
print(card["classes"][int(probs.argmax())], float(probs.max()))
''',
    "state_dict": '''import json, torch                  # needs tlcore (this app's package) for the architecture
from tlcore.inference import load_images
from tlcore.models import Normalize, build_model
card = json.load(open("model_card.json"))
net = build_model(card["backbone"], len(card["classes"]), "none")
net.load_state_dict(torch.load("state_dict.pt", weights_only=True)); net.eval()
x = load_images(["photo.jpg"], card["input"]["size"])      # (1, 3, S, S) uint8, as in training
probs = net(Normalize(card["mean"], card["std"])(x)).softmax(1)[0]
print(card["classes"][int(probs.argmax())], float(probs.max()))
''',
}


def readme_text(card: dict) -> str:
    """README.txt of an export: what is in the folder, what the model takes, ten lines that predict."""
    fmt = card["export_format"]
    ver = card["verification"]
    inp = card["input"]
    code = _EXAMPLES[fmt].format(preprocess=_PREPROCESS if fmt != "state_dict" else "")
    takes = (f"uint8 RGB pixels (0..255), shape (batch, 3, {inp['size']}, {inp['size']}); normalization and softmax "
             "are inside the model" if fmt != "state_dict" else
             f"float RGB (batch, 3, {inp['size']}, {inp['size']}) normalized with the card's mean and std; it returns logits")
    return (
        f"{card['backbone']} ({card['plan']} plan) trained on {card['dataset'].get('name') or 'a dataset'}: "
        f"{len(card['classes'])} classes, exported as {fmt} by tlcore.\n\n"
        f"Files: {card['model_file']} (the model), {CARD_NAME} (classes in order, input, metrics, training config,\n"
        f"the model file's SHA-256), {README_NAME} (this file).\n\n"
        f"The model takes {takes}.\n"
        f"Images: {inp['resize']}.\n"
        f"Classes: {', '.join(card['classes'][:20])}{' ...' if len(card['classes']) > 20 else ''}\n\n"
        f"Verified when written: on {ver['images']} {ver['inputs']} images its probabilities differ from PyTorch's\n"
        f"by at most {ver['max_abs_diff']:.2e} (tolerance {ver['tolerance']:.0e}, {ver['runtime']}).\n\n"
        f"Predict with the app's command line (checks the SHA-256 first):\n"
        f"    python -m tlcore predict THIS_FOLDER photo.jpg [--json]\n\n"
        f"Or in Python (pip install {'onnxruntime' if fmt == 'onnx' else 'torch'} pillow numpy):\n\n{code}"
    )


# ---------------------------------------------------------------------------
# Export


@dataclass
class ExportResult:
    path: Path
    card: dict
    seconds: float


def _check_destination(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file, not a folder.", "Give a new folder name with --out.", code="export_out")
    if out.is_dir() and any(out.iterdir()) and not (out / CARD_NAME).is_file():
        raise ConfigError(f"{out} already holds other files.",
                          "Give a new or empty folder with --out (an earlier export of a model is replaced).",
                          code="export_out")


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``; an earlier export there is replaced only once the new one is complete."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except OSError:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_model(model: "LoadedModel", fmt: str, out: str | Path, images: "torch.Tensor", *, inputs: str = "validation",
                 info: dict | None = None) -> ExportResult:
    """Export ``model`` as ``fmt`` into the folder ``out``, verified on ``images`` (uint8 (N, 3, S, S)).

    ``inputs`` says what the images are (for the card); ``info`` adds to the card (plan, metrics,
    dataset, training config, run id). The folder is written aside and renamed into place, so it is
    either complete and verified or absent; an earlier export in ``out`` is replaced.
    Raises ConfigError (unknown format, ``out`` holds other files), ModelError (verification failed:
    nothing is written), OSError from the file system.
    """
    import torch

    if fmt not in MODEL_FILES:
        raise ConfigError(f"Unknown export format {fmt!r}.", f"Choose one of: {', '.join(FORMATS)}.", code="export_format")
    t0 = time.time()
    out = Path(out).expanduser().resolve()
    _check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        model_path = tmp / MODEL_FILES[fmt]
        module = exported_module(model.mean, model.std, model.net)
        example = images[:2] if len(images) else torch.zeros((2, 3, model.image_size, model.image_size), dtype=torch.uint8)
        if fmt == "onnx":
            details = _write_onnx(module, example, model_path)
        elif fmt == "torchscript":
            details = _write_torchscript(module, example, model_path)
        else:
            details = _write_state_dict(model, model_path)
        card = {
            "format": CARD_FORMAT,
            "export_format": fmt,
            "model_file": MODEL_FILES[fmt],
            "sha256": sha256(model_path),
            "classes": list(model.classes),
            "image_size": model.image_size,
            "crop_pct": model.crop_pct,  # resize the short side to image_size / crop_pct, keep the centre
            "mean": list(model.mean),
            "std": list(model.std),
            "input": _input_spec(fmt, model.image_size, model.mean, model.std, model.crop_pct),
            "output": _output_spec(fmt, len(model.classes)),
            "backbone": model.model,
            **details,
            "plan": "", "metrics": {}, "dataset": {}, "training_config": {},
            **(info or {}),
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "torch_version": torch.__version__,
        }
        ver = verify(_runtime(fmt, model_path, card), model, images, inputs)
        ver["runtime"] = runtime_name(fmt)
        card["verification"] = ver
        if not ver["passed"]:
            raise ModelError(
                f"The {fmt} export does not reproduce the model: its probabilities differ by up to "
                f"{ver['max_abs_diff']:.2e} (more than {TOLERANCE:.0e}); nothing was written.",
                "Try another format, and please report it with the backbone's name.", code="export_mismatch")
        (tmp / CARD_NAME).write_text(dumps(card, indent=1), encoding="utf-8")
        (tmp / README_NAME).write_text(readme_text(card), encoding="utf-8")
        _swap_into_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return ExportResult(out, card, round(time.time() - t0, 3))


# ---------------------------------------------------------------------------
# Loading an export back


def read_card(folder: str | Path) -> dict:
    """The model card of an export folder. Raises ModelError when it is missing or not a tlcore card."""
    folder = Path(folder)
    card = read_json(folder / CARD_NAME)
    if not isinstance(card, dict):
        raise ModelError(f"{folder} has no readable {CARD_NAME}: it is not an exported model.",
                         "Give a run id, a run folder, or a folder written by 'python -m tlcore export'.",
                         code="not_an_export")
    if card.get("format") != CARD_FORMAT or card.get("export_format") not in MODEL_FILES or \
            not card.get("classes") or not card.get("sha256"):
        raise ModelError(f"{folder / CARD_NAME} is not a model card written by this app.",
                         "Export the model again with 'python -m tlcore export'.", code="not_an_export")
    return card


def is_export(folder: str | Path) -> bool:
    return (Path(folder) / CARD_NAME).is_file()


class ExportedModel:
    """An exported folder loaded back through its card, after checking its model file's SHA-256.

    The same interface as :class:`tlcore.inference.LoadedModel` for prediction: ``classes``,
    ``image_size``, ``load_images``, ``probabilities``, ``predict``.
    """

    def __init__(self, folder: str | Path):
        self.path = Path(folder)
        self.card = read_card(self.path)
        self.format: str = self.card["export_format"]
        self.classes: list[str] = list(self.card["classes"])
        self.image_size: int = int(self.card["image_size"])
        self.crop_pct: float = float(self.card.get("crop_pct") or 1.0)
        model_path = self.path / self.card["model_file"]
        if not model_path.is_file():
            raise ModelError(f"The model file {self.card['model_file']} is missing from {self.path}.",
                             "Export the model again.", code="export_corrupted")
        if sha256(model_path) != self.card["sha256"]:
            raise ModelError(
                f"{self.card['model_file']} in {self.path} does not match the checksum in {CARD_NAME}: "
                "the file is damaged or was changed after export.",
                "Export the model again (or copy the whole folder again).", code="export_corrupted")
        try:
            self._run = _runtime(self.format, model_path, self.card)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - a runtime's own error on a file that passed its checksum
            raise ModelError(f"Could not load {self.card['model_file']}: {type(exc).__name__}: {str(exc)[:200]}.",
                             "Check that the installed runtime is recent enough, or export again.",
                             code="export_unloadable") from None

    def load_images(self, images: list) -> "torch.Tensor":
        """uint8 (N, 3, S, S), preprocessed as in training (see :func:`tlcore.inference.load_images`)."""
        from .inference import load_images

        return load_images(images, self.image_size, self.crop_pct)

    def probabilities(self, uint8_batch: "torch.Tensor") -> "torch.Tensor":
        """(N, 3, S, S) uint8 -> (N, classes) probabilities, computed by the exported model."""
        import torch

        if not len(uint8_batch):
            return torch.zeros((0, len(self.classes)))
        return self._run(uint8_batch)

    def predict(self, images: list, top_k: int = 3) -> list[list[tuple[str, float]]]:
        probs = self.probabilities(self.load_images(images))
        top = probs.topk(min(top_k, len(self.classes)), dim=1)
        return [[(self.classes[int(i)], float(v)) for v, i in zip(vals, idx)]
                for vals, idx in zip(top.values, top.indices)]
