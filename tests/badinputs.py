"""A corpus of bad (and awkward but valid) dataset inputs, each built on demand into a folder.

Every builder takes an empty folder, writes one case into it and returns
``(path_to_give, Expected)``. ``Expected`` starts like the tuples
``("skipped", reason)`` / ``("error", substring)``; ``"ok"`` means the dataset
loads and ``file`` (when set) is a usable image.
"""
from __future__ import annotations

import io
import stat
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
from PIL import Image


class Expected(NamedTuple):
    kind: str  # "ok" | "skipped" | "error"
    value: str = ""  # skip reason, or a substring of the error message
    file: str | None = None  # dataset-relative posix path of the file under test
    num_classes: int | None = None
    warning: str | None = None  # a warning code the report must carry
    check: Callable[[Image.Image], None] | None = None  # extra check on load_rgb(file)
    forbidden: tuple[Path, ...] = ()  # paths that must never be created
    classes: tuple[str, ...] | None = None  # the report's class names, exactly


Builder = Callable[[Path], "tuple[Path, Expected]"]
CASES: dict[str, Builder] = {}
SLOW_CASES: set[str] = set()


def case(name: str, slow: bool = False):
    def register(fn: Builder) -> Builder:
        CASES[name] = fn
        if slow:
            SLOW_CASES.add(name)
        return fn
    return register


# ---------------------------------------------------------------------------
# Helpers


def png_bytes(size=(32, 32), color=(120, 60, 30), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


def noise(size=(64, 64), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def encoded(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def base_dataset(root: Path, classes=("cats", "dogs"), per_class=2, size=(32, 32)) -> Path:
    """Classes of small solid-colour PNGs: a dataset that loads on its own."""
    for c, cls in enumerate(classes):
        for i in range(per_class):
            write(root / cls / f"img{i}.png", png_bytes(size, (40 * c % 256, 30 * i % 256, 90)))
    return root


def base_entries(prefix="") -> list[tuple[str, bytes]]:
    return [(f"{prefix}{cls}/img{i}.png", png_bytes(color=(80 * c, 20 * i, 50)))
            for c, cls in enumerate(("cats", "dogs")) for i in range(2)]


def make_zip(path: Path, entries, compression=zipfile.ZIP_DEFLATED) -> Path:
    """entries: (name or ZipInfo, bytes); a ZipInfo keeps its name exactly as given."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries:
            if isinstance(name, str):
                name = zipfile.ZipInfo(name)
                name.compress_type = compression
            zf.writestr(name, data)
    return path


def make_zip_raw_names(path: Path, entries: list[tuple[bytes, bytes]], extra: dict[bytes, bytes] | None = None) -> Path:
    """A zip whose entry names are the given bytes, stored without the UTF-8 flag (as legacy tools write them).

    zipfile always flags non-ASCII names as UTF-8, so each entry is written under an ASCII
    placeholder of the same length and the placeholder bytes are replaced afterwards.
    ``extra`` gives an entry (by raw name) an extra field.
    """
    placeholders = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (raw, data) in enumerate(entries):
            tail = raw[-1:] if raw.endswith((b"/", b"\\")) else b""
            ph = (f"@{i}@".encode() + b"x" * len(raw))[: len(raw) - len(tail)] + tail
            assert len(ph) == len(raw) and ph not in placeholders
            placeholders.append(ph)
            info = zipfile.ZipInfo(ph.decode("ascii"))
            info.compress_type = zipfile.ZIP_DEFLATED
            if extra and raw in extra:
                info.extra = extra[raw]
            zf.writestr(info, data)
    blob = path.read_bytes()
    for ph, (raw, _) in zip(placeholders, entries):
        assert blob.count(ph) == 2, ph  # the local header and the central directory
        blob = blob.replace(ph, raw)
    path.write_bytes(blob)
    return path


def jpeg_bytes(im: Image.Image, **kw) -> bytes:
    return encoded(im, "JPEG", **kw)


def smooth_photo(size=(8000, 6250), seed=0) -> Image.Image:
    """A camera-sized image of smooth colour (noise upscaled): it compresses like a photo, quickly."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (max(2, size[1] // 125), max(2, size[0] // 125), 3), dtype=np.uint8))
    return small.resize(size, Image.BILINEAR)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims width x height: a decompression bomb."""
    data = bytearray(jpeg_bytes(noise((16, 16))))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def huge_png_header(width=20000, height=20000) -> bytes:
    """A valid PNG that declares width x height pixels but is ~100 bytes on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    idat = zlib.compress(b"\x00" * (width + 1))  # one row; the rest is missing, never decoded
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _rgb(im: Image.Image, xy=(0, 0)) -> tuple[int, int, int]:
    assert im.mode == "RGB", im.mode
    return im.getpixel(xy)


# ---------------------------------------------------------------------------
# Single bad files (each sits in a dataset that is otherwise fine)


def _with_file(root: Path, rel: str, data: bytes, expected: Expected) -> tuple[Path, Expected]:
    base_dataset(root)
    write(root / rel, data)
    return root, expected._replace(file=rel)


@case("corrupt_jpeg_header")
def corrupt_jpeg_header(root):
    data = bytearray(encoded(noise(), "JPEG"))
    data[2:60] = bytes(58)  # SOI kept, the marker segments after it zeroed
    return _with_file(root, "cats/corrupt.jpg", bytes(data), Expected("skipped", "not_an_image"))


@case("truncated_jpeg")
def truncated_jpeg(root):
    data = encoded(noise(), "JPEG", quality=95)
    return _with_file(root, "cats/truncated.jpg", data[: len(data) // 2], Expected("skipped", "truncated"))


@case("truncated_png")
def truncated_png(root):
    data = encoded(noise(), "PNG")
    return _with_file(root, "cats/truncated.png", data[: len(data) // 2], Expected("skipped", "truncated"))


@case("zero_byte_file")
def zero_byte_file(root):
    return _with_file(root, "cats/empty.jpg", b"", Expected("skipped", "empty_file"))


@case("text_named_jpg")
def text_named_jpg(root):
    return _with_file(root, "cats/notes.jpg", b"hello, this is not an image\n" * 10, Expected("skipped", "not_an_image"))


@case("html_named_png")
def html_named_png(root):
    html = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>Not found</body></html>\n"
    return _with_file(root, "dogs/download.png", html, Expected("skipped", "not_an_image"))


@case("unsupported_extension")
def unsupported_extension(root):
    return _with_file(root, "dogs/readme.txt", b"class notes\n", Expected("skipped", "unsupported_type"))


@case("png_huge_header")
def png_huge_header(root):
    return _with_file(root, "cats/bomb.png", huge_png_header(), Expected("skipped", "too_many_pixels"))


# ---------------------------------------------------------------------------
# Awkward but valid files: they must load, as RGB


def _check_16bit(im):
    a = np.asarray(im)
    assert a.min() < 30 and a.max() > 225, (a.min(), a.max())  # the full range, not clipped to white
    assert 100 < a.mean() < 155, a.mean()


@case("png_16bit")
def png_16bit(root):
    grad = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (32, 1))
    return _with_file(root, "cats/deep.png", encoded(Image.fromarray(grad), "PNG"), Expected("ok", check=_check_16bit))


def _check_red(im):
    r, g, b = _rgb(im, (im.width // 2, im.height // 2))
    assert r > 200 and g < 60 and b < 60, (r, g, b)


@case("cmyk_jpeg")
def cmyk_jpeg(root):
    data = encoded(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95)
    return _with_file(root, "cats/cmyk.jpg", data, Expected("ok", check=_check_red))


def _check_palette(im):
    assert _rgb(im, (2, 2)) == (255, 255, 255)  # transparent half composited on white
    r, g, b = _rgb(im, (im.width - 3, 2))
    assert r > 200 and g < 60 and b < 60


@case("palette_png_transparency")
def palette_png_transparency(root):
    im = Image.new("P", (32, 32), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (16, 0, 32, 32))
    return _with_file(root, "cats/palette.png", encoded(im, "PNG", transparency=0),
                      Expected("ok", check=_check_palette))


def _check_one_pixel(im):
    assert im.size == (1, 1), im.size


@case("one_pixel_images")
def one_pixel_images(root):
    base_dataset(root, size=(1, 1))  # all images 1x1, so the median short side is 1
    return root, Expected("ok", file="cats/img0.png", warning="small_images", check=_check_one_pixel)


@case("animated_gif")
def animated_gif(root):
    frames = [Image.new("RGB", (32, 32), (255, 0, 0)), Image.new("RGB", (32, 32), (0, 0, 255))]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return _with_file(root, "cats/anim.gif", data, Expected("ok", check=_check_red))


def _check_rotated(im):
    assert im.size == (20, 40), im.size  # stored 40x20, orientation 6 = rotate 90 degrees


@case("exif_rotated_jpeg")
def exif_rotated_jpeg(root):
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(Image.new("RGB", (40, 20), (0, 128, 0)), "JPEG", exif=exif.tobytes())
    return _with_file(root, "dogs/rotated.jpg", data, Expected("ok", check=_check_rotated))


@case("webp")
def webp(root):
    return _with_file(root, "dogs/photo.webp", encoded(noise((32, 32)), "WEBP"), Expected("ok"))


@case("tiff")
def tiff(root):
    return _with_file(root, "dogs/scan.tif", encoded(noise((32, 32)), "TIFF"), Expected("ok"))


@case("unicode_names")
def unicode_names(root):
    base_dataset(root, classes=("고양이 cats", "dogs 🐶"))
    rel = "고양이 cats/사진 1 😀.png"
    write(root / rel, png_bytes())
    return root, Expected("ok", file=rel, num_classes=2)


# ---------------------------------------------------------------------------
# Dataset structure


@case("empty_class_folder")
def empty_class_folder(root):
    # Choice: a folder with no files at all is not a class. It is dropped (with an
    # "empty_folder" warning) as long as 2 real classes remain; see the next case.
    base_dataset(root, classes=("cats", "dogs"))
    (root / "birds").mkdir()
    return root, Expected("ok", num_classes=2, warning="empty_folder")


@case("empty_class_folder_leaves_one")
def empty_class_folder_leaves_one(root):
    base_dataset(root, classes=("cats",))
    (root / "birds").mkdir()
    return root, Expected("error", "only 1 class")


@case("single_class")
def single_class(root):
    base_dataset(root, classes=("cats",), per_class=5)
    return root, Expected("error", "only 1 class")


@case("class_with_one_image")
def class_with_one_image(root):
    base_dataset(root, classes=("cats",), per_class=3)
    base_dataset(root, classes=("lonely_dogs",), per_class=1)
    return root, Expected("error", "'lonely_dogs'")


@case("images_without_class_folders")
def images_without_class_folders(root):
    for i in range(3):
        write(root / f"img{i}.png", png_bytes())
    return root, Expected("error", "no class subfolders")


@case("empty_folder")
def empty_folder(root):
    root.mkdir(parents=True, exist_ok=True)
    return root, Expected("error", "No images found")


@case("missing_path")
def missing_path(root):
    return root / "does-not-exist", Expected("error", "does not exist")


@case("thousand_classes", slow=True)
def thousand_classes(root):
    data = png_bytes((8, 8))
    for c in range(1000):
        for i in range(2):
            write(root / f"class{c:04d}" / f"{i}.png", data)
    return root, Expected("ok", file="class0999/1.png", num_classes=1000)


@case("train_val_class_missing_in_val")
def train_val_class_missing_in_val(root):
    base_dataset(root / "train", classes=("cats", "dogs", "birds"))
    base_dataset(root / "val", classes=("cats", "dogs"))
    return root, Expected("ok", num_classes=3, warning="val_missing_class")


@case("train_val_extra_class_in_val")
def train_val_extra_class_in_val(root):
    base_dataset(root / "train", classes=("cats", "dogs"))
    base_dataset(root / "val", classes=("cats", "dogs", "birds"))
    return root, Expected("error", "no training images")


@case("noise_in_folder")
def noise_in_folder(root):
    base_dataset(root)
    write(root / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write(root / "cats" / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write(root / "cats" / "Thumbs.db", b"\xd0\xcf\x11\xe0")
    write(root / "dogs" / "desktop.ini", b"[.ShellClassInfo]\n")
    write(root / "__MACOSX" / "cats" / "._img0.png", b"\x00\x05\x16\x07AppleDouble")
    write(root / "cats" / "._img0.png", b"\x00\x05\x16\x07AppleDouble")
    write(root / "dogs" / ".ipynb_checkpoints" / "img0-checkpoint.png", png_bytes())
    return root, Expected("ok", num_classes=2)


# ---------------------------------------------------------------------------
# Zip files


@case("zip_dotdot_entry")
def zip_dotdot_entry(root):
    root.mkdir(parents=True, exist_ok=True)
    target = root / "escaped_dotdot.txt"
    # Enough '../' to reach '/' from wherever it is extracted, then down to target.
    evil = "../" * 40 + str(target).lstrip("/")
    z = make_zip(root / "data.zip", base_entries() + [(evil, b"pwned")])
    return z, Expected("error", "unsafe", forbidden=(target,))


@case("zip_absolute_entry")
def zip_absolute_entry(root):
    root.mkdir(parents=True, exist_ok=True)
    target = root / "escaped_absolute.txt"
    z = make_zip(root / "data.zip", base_entries() + [(str(target), b"pwned")])
    return z, Expected("error", "unsafe", forbidden=(target,))


@case("zip_drive_letter_entry")
def zip_drive_letter_entry(root):
    root.mkdir(parents=True, exist_ok=True)
    z = make_zip(root / "data.zip", base_entries() + [("C:\\Windows\\evil.txt", b"pwned")])
    return z, Expected("error", "unsafe")


@case("zip_symlink_entry")
def zip_symlink_entry(root):
    root.mkdir(parents=True, exist_ok=True)
    link = zipfile.ZipInfo("cats/link.png")
    link.create_system = 3  # unix, so external_attr holds a st_mode
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    z = make_zip(root / "data.zip", base_entries() + [(link, b"/etc/passwd")])
    return z, Expected("skipped", "unsupported_type", file="cats/link.png")


@case("zip_bomb")
def zip_bomb(root):
    root.mkdir(parents=True, exist_ok=True)
    z = root / "data.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in base_entries():
            zf.writestr(name, data)
        with zf.open("cats/huge.png", "w") as f:  # streamed: 20 MiB of zeros -> ~20 KiB
            zeros = bytes(2**20)
            for _ in range(20):
                f.write(zeros)
    return z, Expected("error", "zip bomb")


@case("not_a_zip")
def not_a_zip(root):
    return write(root / "data.zip", b"this is just text, not a zip archive\n" * 20), Expected("error", "not a valid zip file")


@case("encrypted_zip")
def encrypted_zip(root):
    root.mkdir(parents=True, exist_ok=True)
    z = make_zip(root / "data.zip", [("cats/img0.png", png_bytes())], compression=zipfile.ZIP_STORED)
    data = bytearray(z.read_bytes())
    # Set the "encrypted" general-purpose flag bit in the local header and the central directory.
    assert data[:4] == b"PK\x03\x04"
    data[6] |= 0x01
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x01
    z.write_bytes(bytes(data))
    return z, Expected("error", "encrypted")


@case("zip_one_top_folder")
def zip_one_top_folder(root):
    root.mkdir(parents=True, exist_ok=True)
    entries = [("my photos/", b""), ("my photos/cats/", b""), ("my photos/dogs/", b"")] + base_entries("my photos/")
    entries.append(("my photos/README.txt", b"loose files in the root are ignored\n"))
    z = make_zip(root / "data.zip", entries)
    return z, Expected("ok", file="cats/img0.png", num_classes=2)


@case("zip_mac_noise")
def zip_mac_noise(root):
    root.mkdir(parents=True, exist_ok=True)
    entries = base_entries("photos/") + [
        ("__MACOSX/photos/cats/._img0.png", b"\x00\x05\x16\x07AppleDouble"),
        ("__MACOSX/photos/._cats", b"\x00\x05\x16\x07AppleDouble"),
        ("photos/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("photos/cats/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("photos/dogs/Thumbs.db", b"\xd0\xcf\x11\xe0"),
        ("photos/.ipynb_checkpoints/x.png", png_bytes()),
    ]
    z = make_zip(root / "data.zip", entries)
    return z, Expected("ok", num_classes=2)


# ---------------------------------------------------------------------------
# Real-world files (issue #12): Windows and legacy zips, Unicode forms, suffixes, big photos


@case("zip_windows_backslashes")
def zip_windows_backslashes(root):
    # Windows tools: '\\' separators and folder entries of their own, marked with the DOS folder attribute.
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for name in ("data\\", "data\\cats\\", "data\\dogs\\"):
        info = zipfile.ZipInfo(name)
        info.external_attr = 0x10
        entries.append((info, b""))
    entries += [(n.replace("/", "\\"), d) for n, d in base_entries("data/")]
    z = make_zip(root / "data.zip", entries)
    return z, Expected("ok", file="cats/img0.png", num_classes=2, classes=("cats", "dogs"))


@case("zip_cp949_names")
def zip_cp949_names(root):
    # Korean Windows: names in cp949, no UTF-8 flag (zipfile alone reads them as cp437 mojibake).
    root.mkdir(parents=True, exist_ok=True)
    entries = [(f"사진/{cls}/{i}.png".encode("cp949"), png_bytes(color=(40 * c, 9 * i, 0)))
               for c, cls in enumerate(("개미", "벌")) for i in range(2)]
    z = make_zip_raw_names(root / "data.zip", entries)
    return z, Expected("ok", file="개미/0.png", num_classes=2, classes=("개미", "벌"), warning="zip_name_encoding")


@case("zip_cp437_names")
def zip_cp437_names(root):
    # An old Windows tool in Western Europe: 'café' as cp437 bytes, no flag; only cp437 fits, so it warns.
    root.mkdir(parents=True, exist_ok=True)
    entries = [(f"{cls}/{i}.png".encode("cp437"), png_bytes(color=(90 * c, 9 * i, 0)))
               for c, cls in enumerate(("café", "thé")) for i in range(2)]
    z = make_zip_raw_names(root / "data.zip", entries)
    return z, Expected("ok", file="café/0.png", num_classes=2, classes=("café", "thé"), warning="zip_name_encoding")


@case("zip_nfd_names")
def zip_nfd_names(root):
    # macOS writes decomposed (NFD) names; classes come out composed (NFC).
    root.mkdir(parents=True, exist_ok=True)
    nfd = unicodedata.normalize("NFD", "고양이")
    entries = [(f"{nfd}/{i}.png", png_bytes()) for i in range(2)] + [(f"개/{i}.png", png_bytes()) for i in range(2)]
    z = make_zip(root / "data.zip", entries)
    return z, Expected("ok", file="고양이/0.png", num_classes=2, classes=("개", "고양이"))


@case("zip_nfd_and_nfc_folders")
def zip_nfd_and_nfc_folders(root):
    # The same folder name in both forms (files added from two systems): one class, with a warning.
    root.mkdir(parents=True, exist_ok=True)
    nfd = unicodedata.normalize("NFD", "고양이")
    entries = [(f"{nfd}/a{i}.png", png_bytes()) for i in range(2)] + [(f"고양이/b{i}.png", png_bytes()) for i in range(2)]
    entries += [(f"개/{i}.png", png_bytes()) for i in range(2)]
    z = make_zip(root / "data.zip", entries)
    return z, Expected("ok", file="고양이/b0.png", num_classes=2, classes=("개", "고양이"), warning="merged_classes")


@case("folder_nfd_and_nfc_classes")
def folder_nfd_and_nfc_classes(root):
    base_dataset(root, classes=("고양이", "개"))
    base_dataset(root, classes=(unicodedata.normalize("NFD", "고양이"),))  # a second folder, printed the same
    return root, Expected("ok", num_classes=2, classes=("개", "고양이"), warning="merged_classes")


@case("jpeg_other_suffixes")
def jpeg_other_suffixes(root):
    # .jfif (Windows' save-as from browsers), .jpe, .pjpeg and no suffix at all: decided by content.
    base_dataset(root)
    for i, name in enumerate(("photo.jfif", "scan.jpe", "web.pjpeg", "IMG_0001")):
        write(root / "cats" / name, jpeg_bytes(noise((32, 32), seed=i)))
    return root, Expected("ok", file="cats/photo.jfif")


@case("jpeg_huge_header")
def jpeg_huge_header(root):
    # 60000x60000 claimed by a ~1 KB file: refused from the header, never decoded.
    return _with_file(root, "cats/bomb.jpg", jpeg_declaring(60000, 60000), Expected("skipped", "too_many_pixels"))


@case("large_photo_jpeg")
def large_photo_jpeg(root):
    # A 50 MP camera photo: used (checked at 1/8 scale), not skipped as too big.
    base_dataset(root)
    write(root / "dogs" / "camera.jpg", jpeg_bytes(smooth_photo((8000, 6250)), quality=70))
    return root, Expected("ok", file="dogs/camera.jpg")


@case("heic_photo")
def heic_photo(root):
    import pytest

    pillow_heif = pytest.importorskip("pillow_heif")
    buf = io.BytesIO()
    pillow_heif.from_pillow(noise((64, 48))).save(buf, format="HEIF", quality=80)
    return _with_file(root, "dogs/IMG_0001.HEIC", buf.getvalue(), Expected("ok"))
