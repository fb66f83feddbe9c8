"""The lab's procedural image world: a source task and target tasks with two dials.

Every image is a *figure* (one shape; the shape is the class) on a *background*,
32x32 RGB, rendered in numpy from random draws that a seed fixes. Nothing is
downloaded; the same seed and the same dials always give identical arrays.

**The source world** (``make_source``) has ``len(SOURCE_SHAPES)`` shape classes
(circle, triangle, star5, ...). It is the world at similarity 1: a figure filled
with a saturated colour on a smooth two-colour gradient, with faint pixel noise
and two small distractors (discs or squares, not tied to the class) behind it.
The figure's radius (6.5-12.5 px), position, rotation and colours vary freely, so
the only cue to the class is the figure's outline, seen through a colour
(first-order) edge. labnet is pretrained on it, so its features become outline
detectors that ignore colour, position, size and rotation.

**Target tasks** (``make_target``) use ``TARGET_SHAPES``: shapes labnet never saw.
Two dials:

* ``per_class`` -- the *size* dial: images per class. Nothing else changes.
* ``similarity`` s in [0, 1] -- the *similarity* dial. Shapes, positions, sizes,
  rotations and colours are drawn the same way at every s (with the same seed, the
  same draws), and s only changes how they are rendered (``world_params``), so the
  images change continuously with s:

  - *cue* (``edge_contrast``, 1 at s=1 down to 0 at s=0): how different the
    figure's colour is from the background's. At s=1 the outline is a plain colour
    edge, as in the source world; at s=0 figure and background have the same mean
    colour, so there is no colour edge at all.
  - *structure* (``texture_amp``, 0 at s=1 up to 0.45 at s=0): both regions are
    covered by a grating; the figure's grating is at right angles to the
    background's. At s=0 this is the only cue: the shape is a *texture-defined*
    (second-order) region, which labnet's colour-edge detectors do not see and a
    linear read-out of its frozen features cannot separate; new features are needed.
  - *spatial frequency* (``texture_period`` from 5 px at s=1 to 4 px at s=0): the
    world at s=0 is dominated by fine, high-frequency structure; the source world has
    almost none. (Not finer: a 3 px grating is so close to the 2 px limit of a 32 px
    image that only a retrained full-resolution first layer resolves it, which makes
    the s=0 world a test of that one layer rather than of the later ones.)
  - *colour statistics* (``saturation`` = 0.1 + 0.9 s, ``gradient`` = s): the source
    world is colourful with smooth gradients; at s=0 it is nearly grey and flat.
  - *noise* (``noise`` from 0.03 at s=1 to 0.08 at s=0): more pixel noise.

  Cue and structure follow a calibrated piecewise-linear schedule (``S_KNOTS``,
  ``EDGE_KNOTS``, ``TEXTURE_KNOTS``), the others are linear in s.

  So s=1 is "the same visual world with new classes" (a frozen labnet already
  separates them: transfer by a new head works, even with few images) and s=0 is
  "a very different world" with other statistics, structures and cues (a frozen
  labnet's features separate its classes poorly: one must fine-tune the body,
  which needs many images).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

SIZE = 32
#: Raise when the rendering changes in a way ``world_fingerprint`` cannot see (the drawing code):
#: cached lab datasets are kept per fingerprint, so none of an older world is served again.
WORLD_VERSION = 2
_SS = 2  # supersampling factor of the figure mask (anti-aliased outlines)

# ---------------------------------------------------------------------------
# Shapes: each maps rotated, scaled coordinates (u, v) (the figure's extent is
# about the unit disc) to a boolean "inside" mask.


def _polar(u, v):
    return np.hypot(u, v), np.arctan2(v, u)


def _star_radius(theta, n: int, q: float):
    """Radius of an n-point star (outer radius 1, inner radius q) in direction theta.

    ``q = cos(pi / n)`` gives the regular n-gon.
    """
    sector = 2 * np.pi / n
    a = np.mod(theta, sector)
    b = np.minimum(a, sector - a)  # 0 = towards an outer vertex
    nx = q * np.sin(np.pi / n)
    ny = 1 - q * np.cos(np.pi / n)
    return nx / (nx * np.cos(b) + ny * np.sin(b))


def _polygon(n: int, scale: float = 1.0):
    def f(u, v):
        r, t = _polar(u, v)
        return r <= scale * _star_radius(t, n, np.cos(np.pi / n))

    return f


def _star(n: int, q: float):
    def f(u, v):
        r, t = _polar(u, v)
        return r <= _star_radius(t, n, q)

    return f


def _flower(k: int, depth: float):
    def f(u, v):
        r, t = _polar(u, v)
        return r <= (1 - depth) + depth * np.cos(k * t)

    return f


def _circle(u, v):
    return np.hypot(u, v) <= 0.85


def _ring(u, v):
    r = np.hypot(u, v)
    return (r <= 0.95) & (r >= 0.5)


def _square_ring(u, v):
    m = np.maximum(np.abs(u), np.abs(v))
    return (m <= 0.75) & (m >= 0.38)


def _ellipse(u, v):
    return (u / 1.0) ** 2 + (v / 0.5) ** 2 <= 1


def _rhombus(u, v):
    return np.abs(u) / 1.0 + np.abs(v) / 0.55 <= 1


def _plus(u, v):
    au, av = np.abs(u), np.abs(v)
    return ((au <= 0.95) & (av <= 0.3)) | ((av <= 0.95) & (au <= 0.3))


def _heart(u, v):
    x, y = u * 1.25, -v * 1.25 + 0.15
    return (x * x + y * y - 1) ** 3 - x * x * y**3 <= 0


def _crescent(u, v):
    return (u * u + v * v <= 0.9) & ((u - 0.45) ** 2 + v * v > 0.55)


def _half_disc(u, v):
    return (u * u + (v + 0.4) ** 2 <= 1.0) & (v >= -0.4)


def _three_arm(u, v):
    inside = np.zeros(np.broadcast(u, v).shape, dtype=bool)
    for k in range(3):
        a = 2 * np.pi * k / 3 + np.pi / 2
        ua = u * np.cos(a) + v * np.sin(a)
        va = -u * np.sin(a) + v * np.cos(a)
        inside |= (ua >= -0.2) & (ua <= 0.95) & (np.abs(va) <= 0.27)
    return inside


def _triangle_ring(u, v):
    r, t = _polar(u, v)
    rad = _star_radius(t, 3, 0.5)
    return (r <= rad) & (r >= 0.45 * rad)


def _rectangle(u, v):
    return (np.abs(u) <= 0.95) & (np.abs(v) <= 0.4)


def _arrow(u, v):
    head = (u >= 0.05) & (u <= 0.95) & (np.abs(v) <= 0.75 * (0.95 - u))
    shaft = (u >= -0.9) & (u < 0.1) & (np.abs(v) <= 0.22)
    return head | shaft


_SHAPES = {
    # source world
    "circle": _circle,
    "triangle": _polygon(3),
    "square": _polygon(4, 0.95),
    "pentagon": _polygon(5, 0.95),
    "hexagon": _polygon(6, 0.92),
    "star4": _star(4, 0.42),
    "star5": _star(5, 0.45),
    "star6": _star(6, 0.5),
    "star8": _star(8, 0.6),
    "plus": _plus,
    "ring": _ring,
    "ellipse": _ellipse,
    "rhombus": _rhombus,
    "flower3": _flower(3, 0.35),
    "flower5": _flower(5, 0.28),
    "square_ring": _square_ring,
    # targets (never seen in pretraining)
    "heart": _heart,
    "crescent": _crescent,
    "arrow": _arrow,
    "half_disc": _half_disc,
    "three_arm": _three_arm,
    "star3": _star(3, 0.35),
    "triangle_ring": _triangle_ring,
    "rectangle": _rectangle,
    "flower4": _flower(4, 0.3),
}

SOURCE_SHAPES: tuple[str, ...] = (
    "circle", "triangle", "square", "pentagon", "hexagon", "star4", "star5", "star6",
    "star8", "plus", "ring", "ellipse", "rhombus", "flower3", "flower5", "square_ring",
)  # fmt: skip
#: Target classes, in the order ``num_classes`` takes them.
TARGET_SHAPES: tuple[str, ...] = (
    "heart", "crescent", "arrow", "half_disc", "three_arm", "star3", "triangle_ring", "rectangle", "flower4",
)  # fmt: skip
MAX_TARGET_CLASSES = len(TARGET_SHAPES)

# Geometry of every world: figure radius (px) and centre shift, and the distractors.
SCALE_RANGE = (6.5, 12.5)
SHIFT = 5.0
DISTRACTORS = 2
DISTRACTOR_RADIUS = (1.5, 3.5)

# Seed streams: the same seed gives unrelated draws for source, target train and target val.
_STREAM_SOURCE, _STREAM_TARGET, _STREAM_VAL = 0, 1, 2


# ---------------------------------------------------------------------------
# The similarity dial


#: The similarity schedule: knots of s and the cue strengths there; between knots
#: the values are interpolated linearly (so images change continuously with s).
#: The knots were calibrated against the shipped labnet weights so that its
#: similarity score T (``tlcore.similarity``) rises steadily with s (about 0.16,
#: 0.26, 0.45, 0.73, 0.93, 0.96 at s = 0, 0.2, ..., 1) instead of jumping near s = 1:
#: labnet's colour-edge features are very sensitive to even a faint grating, so
#: the grating appears as soon as s < 1 but stays faint (<= 0.02) down to s = 0.2
#: while the colour edge fades; below s = 0.2 the grating takes over. (Re-pretrain
#: labnet differently and the T curve moves; the world itself does not change.)
S_KNOTS: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
EDGE_KNOTS: tuple[float, ...] = (0.0, 0.45, 0.5, 0.72, 0.95, 1.0)
TEXTURE_KNOTS: tuple[float, ...] = (0.45, 0.02, 0.02, 0.02, 0.015, 0.0)


@dataclass(frozen=True)
class WorldParams:
    """How a world at similarity ``similarity`` is rendered (see the module docstring)."""

    similarity: float
    edge_contrast: float  # colour difference figure vs background (first-order cue), 0..1
    texture_amp: float  # amplitude of the orthogonal gratings (second-order cue)
    texture_period: float  # grating period in pixels (spatial frequency)
    saturation: float  # colour saturation scale
    gradient: float  # strength of the smooth background colour gradient
    noise: float  # std of the Gaussian pixel noise


def world_params(similarity: float) -> WorldParams:
    """The rendering parameters of the world at similarity ``similarity`` (1 = the source world)."""
    s = _check_similarity(similarity)
    return WorldParams(
        similarity=s,
        edge_contrast=float(np.interp(s, S_KNOTS, EDGE_KNOTS)),
        texture_amp=float(np.interp(s, S_KNOTS, TEXTURE_KNOTS)),
        texture_period=4.0 + 1.0 * s,
        saturation=0.1 + 0.9 * s,
        gradient=s,
        noise=0.03 + 0.05 * (1 - s),
    )


def world_fingerprint() -> str:
    """A short hash of everything that decides how a world is drawn: version, shapes, geometry, dials."""
    import hashlib

    parts = {
        "version": WORLD_VERSION,
        "size": SIZE,
        "shapes": [SOURCE_SHAPES, TARGET_SHAPES],
        "geometry": [SCALE_RANGE, SHIFT, DISTRACTORS, DISTRACTOR_RADIUS],
        "dials": [asdict(world_params(s / 20)) for s in range(21)],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:10]


def _check_similarity(similarity: float) -> float:
    try:
        s = float(similarity)
    except (TypeError, ValueError):
        raise ConfigError(f"similarity must be a number in [0, 1], not {similarity!r}.") from None
    if not 0.0 <= s <= 1.0:
        raise ConfigError(f"similarity must be in [0, 1], not {s}.", "Use 1 for the source's own world, 0 for a very different one.")
    return s


def _check_count(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, not {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------
# Rendering


def _hsv_to_rgb(h, s, v):
    """Vectorised HSV -> RGB; inputs (N,), output (N, 3), all in [0, 1]."""
    i = np.floor(h * 6.0) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    table = np.stack(
        [np.stack(c, -1) for c in ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))], 0
    )  # (6, N, 3)
    return table[i.astype(int), np.arange(len(h))]


def _draw(rng: np.random.Generator, n: int) -> dict:
    """All random draws of ``n`` images; independent of the dials' rendering."""
    d = {
        "rot": rng.uniform(0, 2 * np.pi, n),
        "scale": rng.uniform(SCALE_RANGE[0], SCALE_RANGE[1], n),
        "cx": SIZE / 2 + rng.uniform(-SHIFT, SHIFT, n),
        "cy": SIZE / 2 + rng.uniform(-SHIFT, SHIFT, n),
        "bg_h1": rng.uniform(0, 1, n),
        "bg_h2": rng.uniform(0, 1, n),
        "bg_s": rng.uniform(0.35, 1.0, n),
        "bg_v1": rng.uniform(0.25, 0.9, n),
        "bg_v2": rng.uniform(0.25, 0.9, n),
        "fg_h": rng.uniform(0, 1, n),
        "fg_s": rng.uniform(0.35, 1.0, n),
        "fg_dv": rng.uniform(0.3, 0.55, n) * rng.choice([-1.0, 1.0], n),
        "grad_dir": rng.uniform(0, 2 * np.pi, n),
        "tex_dir": rng.uniform(0, np.pi, n),
        "tex_ph_fg": rng.uniform(0, 2 * np.pi, n),
        "tex_ph_bg": rng.uniform(0, 2 * np.pi, n),
        "noise": rng.standard_normal((n, SIZE, SIZE, 3), dtype=np.float32),
        # distractors: small discs and squares behind the figure, not tied to the class
        "dis_x": rng.uniform(1, SIZE - 1, (n, DISTRACTORS)),
        "dis_y": rng.uniform(1, SIZE - 1, (n, DISTRACTORS)),
        "dis_r": rng.uniform(DISTRACTOR_RADIUS[0], DISTRACTOR_RADIUS[1], (n, DISTRACTORS)),
        "dis_square": rng.random((n, DISTRACTORS)) < 0.5,
        "dis_rot": rng.uniform(0, np.pi / 2, (n, DISTRACTORS)),
        "dis_h": rng.uniform(0, 1, (n, DISTRACTORS)),
        "dis_dv": rng.uniform(0.2, 0.5, (n, DISTRACTORS)) * rng.choice([-1.0, 1.0], (n, DISTRACTORS)),
    }
    return d


def _masks(labels: np.ndarray, names: tuple[str, ...], d: dict, sl: slice) -> np.ndarray:
    """Anti-aliased figure masks (n, SIZE, SIZE) in [0, 1]."""
    n = sl.stop - sl.start
    g = (np.arange(SIZE * _SS) + 0.5) / _SS
    ys, xs = np.meshgrid(g, g, indexing="ij")
    dx = xs[None] - d["cx"][sl, None, None]
    dy = ys[None] - d["cy"][sl, None, None]
    c, s_ = np.cos(d["rot"][sl])[:, None, None], np.sin(d["rot"][sl])[:, None, None]
    r = d["scale"][sl, None, None]
    u = (dx * c + dy * s_) / r
    v = (-dx * s_ + dy * c) / r
    inside = np.zeros((n, SIZE * _SS, SIZE * _SS), dtype=bool)
    lab = labels[sl]
    for k in np.unique(lab):
        idx = np.nonzero(lab == k)[0]
        inside[idx] = _SHAPES[names[k]](u[idx], v[idx])
    return inside.reshape(n, SIZE, _SS, SIZE, _SS).mean(axis=(2, 4), dtype=np.float32)


def _distractor_masks(d: dict, sl: slice) -> np.ndarray:
    """Anti-aliased distractor masks (n, DISTRACTORS, SIZE, SIZE) in [0, 1]."""
    g = (np.arange(SIZE * _SS) + 0.5) / _SS
    ys, xs = np.meshgrid(g, g, indexing="ij")
    dx = xs[None, None] - d["dis_x"][sl, :, None, None]
    dy = ys[None, None] - d["dis_y"][sl, :, None, None]
    r = d["dis_r"][sl, :, None, None]
    c, s_ = np.cos(d["dis_rot"][sl])[..., None, None], np.sin(d["dis_rot"][sl])[..., None, None]
    square = np.maximum(np.abs(dx * c + dy * s_), np.abs(-dx * s_ + dy * c)) <= 0.85 * r
    disc = dx * dx + dy * dy <= r * r
    inside = np.where(d["dis_square"][sl, :, None, None], square, disc)
    n = inside.shape[0]
    return inside.reshape(n, DISTRACTORS, SIZE, _SS, SIZE, _SS).mean(axis=(3, 5), dtype=np.float32)


def _render(labels: np.ndarray, names: tuple[str, ...], wp: WorldParams, d: dict, chunk: int = 1024) -> np.ndarray:
    n = len(labels)
    out = np.empty((n, SIZE, SIZE, 3), dtype=np.uint8)
    pix = np.arange(SIZE) + 0.5 - SIZE / 2
    ys, xs = np.meshgrid(pix, pix, indexing="ij")
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        m = _masks(labels, names, d, sl)[..., None]  # (b, H, W, 1)
        # colours: background gradient c1 -> c2, figure of another hue and brightness
        c1 = _hsv_to_rgb(d["bg_h1"][sl], d["bg_s"][sl], d["bg_v1"][sl])
        c2 = _hsv_to_rgb(d["bg_h2"][sl], d["bg_s"][sl], d["bg_v2"][sl])
        cbar = (c1 + c2) / 2
        vbar = cbar.max(axis=1)
        fv = vbar + d["fg_dv"][sl]
        fv = np.where((fv < 0.05) | (fv > 1.0), vbar - d["fg_dv"][sl], fv).clip(0.05, 1.0)
        cf = _hsv_to_rgb(d["fg_h"][sl], d["fg_s"][sl], fv)
        cf = cbar + wp.edge_contrast * (cf - cbar)
        proj = xs[None] * np.cos(d["grad_dir"][sl])[:, None, None] + ys[None] * np.sin(d["grad_dir"][sl])[:, None, None]
        t = (proj / (SIZE / 2)).clip(-1, 1)[..., None]
        img = cbar[:, None, None, :] + wp.gradient * t * ((c2 - c1) / 2)[:, None, None, :]
        # distractors (behind the figure), coloured like figures: same cue strength
        md = _distractor_masks(d, sl)
        m_any = m[..., 0]
        for j in range(DISTRACTORS):
            dv = (vbar + d["dis_dv"][sl, j])
            dv = np.where((dv < 0.05) | (dv > 1.0), vbar - d["dis_dv"][sl, j], dv).clip(0.05, 1.0)
            cd = _hsv_to_rgb(d["dis_h"][sl, j], d["fg_s"][sl], dv)
            cd = cbar + wp.edge_contrast * (cd - cbar)
            mj = md[:, j, :, :, None]
            img = mj * cd[:, None, None, :] + (1 - mj) * img
            m_any = np.maximum(m_any, md[:, j])
        img = m * cf[:, None, None, :] + (1 - m) * img
        # colour statistics: desaturate towards each pixel's grey level
        grey = img @ np.array([0.299, 0.587, 0.114])
        img = grey[..., None] + wp.saturation * (img - grey[..., None])
        # structure: orthogonal gratings inside and outside the figure
        if wp.texture_amp > 0:
            a = d["tex_dir"][sl][:, None, None]
            k = 2 * np.pi / wp.texture_period
            g_fg = np.sin(k * (xs * np.cos(a) + ys * np.sin(a)) + d["tex_ph_fg"][sl][:, None, None])
            g_bg = np.sin(k * (-xs * np.sin(a) + ys * np.cos(a)) + d["tex_ph_bg"][sl][:, None, None])
            tex = np.tanh(2.0 * (m_any * g_fg + (1 - m_any) * g_bg)) / np.tanh(2.0)
            img = img + wp.texture_amp * tex[..., None]
        img = img + wp.noise * d["noise"][sl]
        out[sl] = np.round(img.clip(0, 1) * 255).astype(np.uint8)
    return out


def _generate(names: tuple[str, ...], similarity: float, per_class: int, seed: int, stream: int):
    per_class = _check_count("per_class", per_class)
    wp = world_params(similarity)
    rng = np.random.default_rng([int(seed), stream])
    n = per_class * len(names)
    # class-interleaved: labels 0,1,..,C-1,0,1,..; any prefix of C*k images is balanced
    labels = np.tile(np.arange(len(names), dtype=np.int64), per_class)
    d = _draw(rng, n)
    return _render(labels, names, wp, d), labels


def make_source(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The source task: ``len(SOURCE_SHAPES)`` classes, uint8 (N, 32, 32, 3) and int64 labels."""
    return _generate(SOURCE_SHAPES, 1.0, per_class, seed, _STREAM_SOURCE)


def target_classes(num_classes: int = 6) -> list[str]:
    num_classes = _check_count("num_classes", num_classes, 2)
    if num_classes > MAX_TARGET_CLASSES:
        raise ConfigError(f"The lab has at most {MAX_TARGET_CLASSES} target classes, not {num_classes}.")
    return list(TARGET_SHAPES[:num_classes])


def make_target(
    similarity: float, per_class: int, seed: int, num_classes: int = 6, split: str = "train"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A target task: uint8 (N, 32, 32, 3), int64 labels and the class names.

    ``split="val"`` draws from a separate seed stream (never overlaps the training images).
    """
    streams = {"train": _STREAM_TARGET, "val": _STREAM_VAL}
    if split not in streams:
        raise ConfigError(f"split must be 'train' or 'val', not {split!r}.")
    names = target_classes(num_classes)
    x, y = _generate(tuple(names), similarity, per_class, seed, streams[split])
    return x, y, names


def make_target_val(
    similarity: float, per_class: int, seed: int, num_classes: int = 6
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``make_target(..., split="val")``."""
    return make_target(similarity, per_class, seed, num_classes, split="val")


def write_imagefolder(
    out: Path,
    similarity: float,
    per_class: int,
    seed: int = 0,
    val_per_class: int = 100,
    num_classes: int = 6,
) -> Path:
    """Write a target task as ``out/train/<class>/<i>.png`` and ``out/val/<class>/<i>.png``.

    Also writes ``out/lab.json`` with the dials. Returns ``out``.
    """
    out = Path(out)
    val_per_class = _check_count("val_per_class", val_per_class)
    x, y, names = make_target(similarity, per_class, seed, num_classes)
    xv, yv, _ = make_target_val(similarity, val_per_class, seed, num_classes)
    _write_splits(out, names, (("train", x, y), ("val", xv, yv)))
    record = {
        "generator": "tlcore.lab.world",
        "similarity": float(similarity),
        "per_class": int(per_class),
        "val_per_class": int(val_per_class),
        "seed": int(seed),
        "num_classes": len(names),
        "classes": names,
        "image_size": SIZE,
        "world": asdict(world_params(similarity)),
        "world_fingerprint": world_fingerprint(),
    }
    return _write_record(out, record)


def _write_splits(out: Path, names: list[str], splits) -> None:
    """Each ``(split, images, labels)`` as ``out/<split>/<class>/<i>.png`` (images: uint8 HxWx3 arrays)."""
    from PIL import Image

    for split, xs, ys in splits:
        counters = [0] * len(names)
        for name in names:
            (out / split / name).mkdir(parents=True, exist_ok=True)
        for img, lab in zip(xs, ys):
            i = counters[lab]
            counters[lab] += 1
            Image.fromarray(img).save(out / split / names[lab] / f"{i}.png")


def _write_record(out: Path, record: dict) -> Path:
    """``out/lab.json`` (written aside, then renamed into place, so a reader never sees half of it); returns ``out``."""
    tmp = out / ".lab.json.tmp"
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / "lab.json")
    return out


# ---------------------------------------------------------------------------
# Kinds of shift (a separate generator: the similarity dial above is untouched)
#
# Lee et al. (ICLR 2023) sort distribution shifts by where they enter a network. Each kind
# below is one lab cell that labnet (pretrained on the source world) meets:
#
# * ``input``: the source world's own shapes, photographed by a poor camera: blurred, with low
#   contrast, a colour cast and sensor noise (a pixel-level change; the shapes and the task are
#   the pretraining ones). What no longer fits is the first layer, which sees the pixels.
# * ``feature``: new shapes (``TARGET_SHAPES``) drawn exactly like the source world (the target
#   task at similarity 1): new objects, made of the same kind of edges and parts.
# * ``output``: the source world's own images, labelled by another attribute: which quarter of
#   the image the figure's centre lies in. labnet learned to ignore where a figure is (its
#   pooled features are position-free), so the new label must be read from its last block.

SHIFT_KINDS: tuple[str, ...] = ("input", "feature", "output")
#: The input-level cell's classes: six source shapes (the pretraining task's own classes).
SHIFT_INPUT_SHAPES: tuple[str, ...] = ("circle", "triangle", "star5", "plus", "ring", "hexagon")
#: The output-level cell's classes: the quarter of the image holding the figure's centre.
SHIFT_OUTPUT_CLASSES: tuple[str, ...] = ("top_left", "top_right", "bottom_left", "bottom_right")


@dataclass(frozen=True)
class CameraParams:
    """The input-level cell's pixel-level change, applied to source-world images in [0, 1]."""

    blur_sigma: float = 1.0  # Gaussian blur, pixels
    contrast: float = 0.5  # contrast kept around mid-grey
    cast: tuple[float, float, float] = (1.15, 0.95, 0.75)  # per-channel gain (a warm colour cast)
    cast_offset: tuple[float, float, float] = (0.0, 0.03, 0.1)
    noise: float = 0.1  # std of the Gaussian sensor noise


CAMERA = CameraParams()
# Seed streams of the shift cells (unrelated to the ones above).
_STREAM_SHIFT = {"train": 11, "val": 12}


def _gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of (N, H, W, C) float images, reflecting at the borders."""
    if sigma <= 0:
        return img
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    out = img
    for axis in (1, 2):
        pad = [(0, 0)] * img.ndim
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode="reflect")
        n = out.shape[axis]
        out = sum(w * np.take(p, np.arange(i, i + n), axis=axis) for i, w in enumerate(k))
    return out


def camera(images_uint8: np.ndarray, rng: np.random.Generator, params: CameraParams = CAMERA) -> np.ndarray:
    """The input-level change: blur, lower contrast, a colour cast and sensor noise (uint8 in, uint8 out)."""
    f = images_uint8.astype(np.float32) / 255.0
    f = _gaussian_blur(f, params.blur_sigma)
    f = 0.5 + params.contrast * (f - 0.5)
    f = f * np.array(params.cast, dtype=np.float32) + np.array(params.cast_offset, dtype=np.float32)
    f = f + params.noise * rng.standard_normal(f.shape, dtype=np.float32)
    return np.round(np.clip(f, 0, 1) * 255).astype(np.uint8)


def make_shift(kind: str, per_class: int, seed: int, split: str = "train") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One cell of a kind of shift (see ``SHIFT_KINDS``): uint8 (N, 32, 32, 3), int64 labels, class names.

    Class-interleaved like ``make_target``; ``split="val"`` draws from a separate seed stream.
    """
    if kind not in SHIFT_KINDS:
        raise ConfigError(f"kind must be one of {', '.join(SHIFT_KINDS)}, not {kind!r}.")
    if split not in _STREAM_SHIFT:
        raise ConfigError(f"split must be 'train' or 'val', not {split!r}.")
    per_class = _check_count("per_class", per_class)
    if kind == "feature":
        return make_target(1.0, per_class, seed, split=split)
    rng = np.random.default_rng([int(seed), _STREAM_SHIFT[split], SHIFT_KINDS.index(kind)])
    if kind == "input":
        names = SHIFT_INPUT_SHAPES
        labels = np.tile(np.arange(len(names), dtype=np.int64), per_class)
        images = _render(labels, names, world_params(1.0), _draw(rng, len(labels)))
        return camera(images, rng), labels, list(names)
    # output: source-world images of every source shape; the label is where the figure is.
    names = SHIFT_OUTPUT_CLASSES
    n = per_class * len(names)
    labels = np.tile(np.arange(len(names), dtype=np.int64), per_class)
    d = _draw(rng, n)
    # Each image's centre is redrawn inside its label's quarter (the same range of positions as the
    # source world, split at the middle), so that the classes stay balanced.
    right, bottom = labels % 2 == 1, labels >= 2
    dx = np.abs(d["cx"] - SIZE / 2)
    dy = np.abs(d["cy"] - SIZE / 2)
    d["cx"] = SIZE / 2 + np.where(right, dx, -dx)
    d["cy"] = SIZE / 2 + np.where(bottom, dy, -dy)
    shapes = rng.integers(0, len(SOURCE_SHAPES), n)
    return _render(shapes, SOURCE_SHAPES, world_params(1.0), d), labels, list(names)


def write_shift_imagefolder(out: Path, kind: str, per_class: int, seed: int = 0, val_per_class: int = 100) -> Path:
    """Write one shift cell as ``out/train/<class>/<i>.png`` and ``out/val/...``, with ``out/lab.json``. Returns ``out``."""
    out = Path(out)
    val_per_class = _check_count("val_per_class", val_per_class)
    x, y, names = make_shift(kind, per_class, seed)
    xv, yv, _ = make_shift(kind, val_per_class, seed, split="val")
    _write_splits(out, names, (("train", x, y), ("val", xv, yv)))
    record = {
        "generator": "tlcore.lab.world.make_shift",
        "shift": kind,
        "similarity": 1.0,
        "per_class": int(per_class),
        "val_per_class": int(val_per_class),
        "seed": int(seed),
        "num_classes": len(names),
        "classes": names,
        "image_size": SIZE,
        "camera": asdict(CAMERA) if kind == "input" else None,
        "world_fingerprint": world_fingerprint(),
    }
    return _write_record(out, record)
