"""Grad-CAM heatmaps (Captum's LayerGradCam on the last convolutional group) and their overlays on the image."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .errors import ConfigError
from .inference import LoadedModel
from .models import GroupedNet

#: How strongly the heatmap covers the image in an overlay (0: image only, 1: heatmap only).
OVERLAY_ALPHA = 0.45
#: The colour map of heatmaps (matplotlib's name): dark blue (no evidence) to yellow (most evidence).
COLORMAP = "jet"


def target_group(net: GroupedNet) -> str:
    """The name of the last convolutional group: the one just before ``pool`` (``stage4`` for labnet and resnets).

    Raises ConfigError for a network without a ``pool`` group or with nothing before it, and for a
    network that is not a chain of groups (a vision transformer: its tokens form no convolutional
    feature map that Grad-CAM could weigh).
    """
    if not getattr(net, "splittable", True):
        raise ConfigError(
            f"{net.arch or 'This network'} is a transformer-style network: its layers form no convolutional feature "
            "map, so this app cannot draw Grad-CAM for it.",
            "Explain a run of a convolutional backbone (efficientnet_lite0, resnet18, labnet, ...).",
            code="no_conv_group")
    names = net.group_names
    if "pool" not in names or names.index("pool") == 0:
        raise ConfigError(f"{net.arch or 'this network'} has no convolutional group before 'pool' to explain.",
                          code="no_conv_group")
    return names[names.index("pool") - 1]


class _Scores(nn.Module):
    """Normalization then the network: float images in 0..255 -> class scores (logits)."""

    def __init__(self, model: LoadedModel):
        super().__init__()
        self.normalize = model.normalize
        self.net = model.net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(x))


@dataclass
class Explanation:
    """One image explained: what the model saw, what it answered and where the evidence for ``class_index`` lies.

    ``image``: uint8 (S, S, 3), the model's own view (resized and centre-cropped as in training).
    ``heatmap``: float32 (S, S) in [0, 1], Grad-CAM for ``class_index`` upsampled to the image and
    scaled from its least (0) to its most (1) evidence; all zeros when nothing in the image speaks for the class.
    ``probabilities``: one per class, in the model's class order, summing to 1.
    """

    image: np.ndarray
    heatmap: np.ndarray
    class_index: int
    probabilities: np.ndarray
    cam_max: float  # the largest Grad-CAM value before scaling to [0, 1] (0: no positive evidence)
    grid: tuple[int, int]  # the explained group's feature-map size: how coarse the heatmap really is

    @property
    def predicted_index(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def peak(self) -> tuple[int, int]:
        """(x, y) in image pixels where the heatmap is largest."""
        y, x = np.unravel_index(int(np.argmax(self.heatmap)), self.heatmap.shape)
        return int(x), int(y)


@dataclass
class GradCam:
    """Grad-CAM of a batch: ``heatmaps`` float32 (N, S, S) in [0, 1] (each scaled from its own minimum to maximum),
    ``maxima`` (N,) the raw maxima, ``probabilities`` (N, C), ``targets`` the class explained per image,
    ``grid`` (h, w) the explained group's feature-map size (the heatmap's true resolution)."""

    heatmaps: torch.Tensor
    maxima: torch.Tensor
    probabilities: torch.Tensor
    targets: list[int]
    grid: tuple[int, int]


def grad_cam(model: LoadedModel, images: torch.Tensor, classes: list[int | None] | None = None) -> GradCam:
    """Grad-CAM of ``model`` on uint8 ``images`` (N, 3, S, S).

    Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
    Gradient-based Localization", ICCV 2017): the last convolutional group's feature maps,
    weighted by the mean gradient of the class score (the logit) over each map, summed and
    passed through ReLU; computed by ``captum.attr.LayerGradCam`` and upsampled bilinearly
    to S x S by ``LayerAttribution.interpolate``.

    ``classes[i]``: the class to explain for image i (None: its predicted class).
    Raises ConfigError for a class index out of range.
    """
    from captum.attr import LayerAttribution, LayerGradCam

    n, _, h, w = images.shape
    scores = _Scores(model).eval()
    x = images.float()
    with torch.no_grad():
        probs = scores(x).softmax(1)
    num_classes = probs.shape[1]
    chosen = list(classes) if classes is not None else [None] * n
    if len(chosen) != n:
        raise ConfigError(f"{len(chosen)} classes given for {n} images.", code="explain_classes")
    targets = [int(probs[i].argmax()) if c is None else int(c) for i, c in enumerate(chosen)]
    if any(not 0 <= c < num_classes for c in targets):
        raise ConfigError(f"Class index out of range (the model has {num_classes} classes).", code="explain_classes")
    if n == 0:
        return GradCam(torch.zeros((0, h, w)), torch.zeros(0), probs, [], (0, 0))
    layer = model.net.groups[target_group(model.net)]
    with torch.enable_grad():
        cam = LayerGradCam(scores, layer).attribute(x, target=targets, relu_attributions=True)
    grid = (int(cam.shape[-2]), int(cam.shape[-1]))
    cam = LayerAttribution.interpolate(cam.detach(), (h, w), interpolate_mode="bilinear")[:, 0]
    cam = cam.clamp_min(0)  # bilinear upsampling of non-negative maps stays non-negative; rounding aside
    # Scaled per image from its least to its most evidence, as the Grad-CAM authors draw it: a coarse map
    # whose cells all hold some evidence would otherwise be warm everywhere. A map without any evidence stays 0.
    peak = cam.flatten(1).amax(1)
    low = cam.flatten(1).amin(1)
    spread = (peak - low)[:, None, None]
    scaled = (cam - low[:, None, None]) / spread.clamp_min(1e-12)
    flat = (cam > 0).float()  # the same evidence everywhere: all 1 (or all 0 when there is none)
    heat = torch.where(spread > 1e-6 * peak[:, None, None].clamp_min(1e-12), scaled, flat)
    return GradCam(heat.float(), peak.float(), probs, targets, grid)


def explain(model: LoadedModel, images: list, class_index: int | None = None) -> list[Explanation]:
    """Grad-CAM for each image (a path, bytes or (name, bytes); see ``LoadedModel.load_images``).

    ``class_index``: the class to explain for every image (None: each image's predicted class).
    Raises DataError for an unusable image, ConfigError for a class out of range.
    """
    batch = model.load_images(images)
    cam = grad_cam(model, batch, None if class_index is None else [class_index] * len(batch))
    return [Explanation(image=batch[i].permute(1, 2, 0).numpy().copy(), heatmap=cam.heatmaps[i].numpy(),
                        class_index=cam.targets[i], probabilities=cam.probabilities[i].numpy().astype(np.float64),
                        cam_max=float(cam.maxima[i]), grid=cam.grid)
            for i in range(len(batch))]


def colorize(heatmap: np.ndarray) -> np.ndarray:
    """float (H, W) in [0, 1] -> uint8 (H, W, 3) RGB through :data:`COLORMAP`."""
    from matplotlib import colormaps  # a dependency of Captum

    rgba = colormaps[COLORMAP](np.clip(heatmap, 0.0, 1.0))
    return (rgba[..., :3] * 255.0 + 0.5).astype(np.uint8)


def overlay(image: np.ndarray, heatmap: np.ndarray, size: int | None = None, alpha: float = OVERLAY_ALPHA) -> np.ndarray:
    """The heatmap laid over the image: uint8 (size, size, 3) (``size`` None: the image's own size).

    A small image (labnet's 32 px) is enlarged with its pixels kept sharp and the heatmap
    upsampled smoothly, so a class can see both at a readable size.
    """
    from PIL import Image

    h, w = heatmap.shape
    size = size or max(h, w)
    img = np.asarray(Image.fromarray(image).resize((size, size), Image.NEAREST if size >= 2 * w else Image.BILINEAR),
                     dtype=np.float32)
    heat = np.asarray(Image.fromarray(heatmap.astype(np.float32), mode="F").resize((size, size), Image.BILINEAR))
    color = colorize(heat).astype(np.float32)
    return (img * (1.0 - alpha) + color * alpha + 0.5).clip(0, 255).astype(np.uint8)


def display_size(image_size: int, at_least: int = 192) -> int:
    """A size to show an image of ``image_size`` px at: whole multiples of it, at least ``at_least`` px."""
    return image_size * max(1, -(-at_least // image_size)) if image_size < at_least else image_size
