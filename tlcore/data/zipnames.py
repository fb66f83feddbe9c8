"""Zip entry names: the encoding of names not marked as UTF-8, guessed once per zip, and NFC."""
from __future__ import annotations

import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8
_UNICODE_PATH_EXTRA = 0x7075  # Info-ZIP Unicode Path extra field: a UTF-8 copy of a legacy name

#: Tried in this order after UTF-8; on a tie the earlier wins. Korean first: the app's users.
LEGACY_ENCODINGS = ("cp949", "cp932", "gbk", "big5", "cp1252", "cp1251", "cp437", "cp850", "cp866")
_CJK = ("cp949", "cp932", "gbk", "big5")
_SCRIPTS = frozenset({"latin", "greek", "cyrillic", "hangul", "han", "kana", "arabic", "hebrew", "thai"})
_SCORED_FILE_NAMES = 2000
#: At most this much penalty per non-ASCII character for a decoding to read as real names.
_PLAUSIBLE = 0.2


@dataclass
class DecodedNames:
    """Every entry's name as decoded (not yet NFC-normalized), and how names without the UTF-8 flag were read."""

    names: list[str]  # one per ZipInfo
    encoding: str | None = None  # None: every name was UTF-8 or ASCII
    alternatives: list[str] = field(default_factory=list)  # other encodings that read as plausibly
    certain: bool = True
    example: str = ""

    def warning(self) -> dict | None:
        """A dataset warning when the encoding was a guess (several fit, or only the DOS fallback)."""
        if self.encoding is None or self.certain:
            return None
        return {"code": "zip_name_encoding",
                "params": {"encoding": self.encoding, "example": self.example, "alternatives": self.alternatives}}


def decode_names(infos: list[zipfile.ZipInfo]) -> DecodedNames:
    """Names for every entry: UTF-8 where flagged (or given in the Unicode Path field), else one guessed encoding."""
    raw: list[str | None] = []
    legacy: list[tuple[int, bytes]] = []
    for i, info in enumerate(infos):
        if info.flag_bits & UTF8_FLAG:
            raw.append(info.orig_filename)
            continue
        data = info.orig_filename.encode("cp437")  # zipfile decoded the bytes as cp437: a lossless round trip
        name = _unicode_path(info, data)
        if name is None and data.isascii():
            name = data.decode("ascii")
        if name is None:
            legacy.append((i, data))
        raw.append(name)
    out = DecodedNames(names=[])
    if legacy:
        encoding, alternatives, certain = guess_encoding([d for _, d in legacy])
        for i, data in legacy:
            raw[i] = data.decode(encoding)
        out.encoding, out.alternatives, out.certain = encoding, alternatives, certain
        out.example = _example(raw[legacy[0][0]] or "")
    out.names = [r or "" for r in raw]
    out.example = unicodedata.normalize("NFC", out.example)
    return out


def _example(name: str) -> str:
    """The folder part of a path (where the class names are), shortened."""
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    shown = "/".join(parts[:-1]) or "/".join(parts)
    return shown if len(shown) <= 60 else "..." + shown[-57:]


def _unicode_path(info: zipfile.ZipInfo, data: bytes) -> str | None:
    """The UTF-8 name from an Info-ZIP Unicode Path field (7-Zip, WinRAR), if it matches this entry's name."""
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + size]
        pos += 4 + size
        if kind == _UNICODE_PATH_EXTRA and len(body) >= 5 and body[0] == 1:
            (crc,) = struct.unpack_from("<I", body, 1)
            if crc == zlib.crc32(data) & 0xFFFFFFFF:  # else the name was changed after the field was written
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


def guess_encoding(names: list[bytes]) -> tuple[str, list[str], bool]:
    """The encoding that reads every name as plausible text: (encoding, other plausible ones, certain).

    UTF-8 first (macOS and Linux tools often write it without the flag; on a tie it wins), then
    LEGACY_ENCODINGS, each scored on every path component at once (one encoding per zip). The guess is uncertain
    when another encoding reads the names differently but as plausibly, when nothing reads them
    plausibly, or when only cp437 (which decodes any byte) fits.
    """
    # Split on '/' only: 0x5C ('\\') is also the second byte of many Shift-JIS and GBK characters.
    folders = {c for n in names for c in n.split(b"/")[:-1] if not c.isascii()}
    files = sorted({n.rsplit(b"/", 1)[-1] for n in names} - folders)
    files = [c for c in files if not c.isascii()]
    # Every name must decode; the plausibility is scored on the folders (the class names) and a
    # sample of file names, so that a zip of 200,000 photos is read in a second, not a minute.
    sample = sorted(folders) + files[:_SCORED_FILE_NAMES]
    scored: list[tuple[float, str, tuple[str, ...]]] = []
    for enc in ("utf-8",) + LEGACY_ENCODINGS:
        try:
            texts = tuple(c.decode(enc) for c in sample)
            for c in files[_SCORED_FILE_NAMES:]:
                c.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _penalty(texts, enc)
        if any(texts == t for _, _, t in scored):
            continue  # the same names as an encoding tried before (cp850 often reads like cp437)
        scored.append((score, enc, texts))
    if not scored:  # cp437 decodes any byte, so this cannot happen; kept for safety
        return "cp437", [], False
    best_score, best, _ = min(scored, key=lambda s: s[0])  # min keeps the first of equal scores
    plausible = [enc for score, enc, _ in scored if score <= _PLAUSIBLE and enc != best]
    certain = best_score <= _PLAUSIBLE and not plausible and best != "cp437"
    return best, plausible, certain


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith("CJK"):
        return "han"
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return "kana"
    return name.split(" ", 1)[0].lower()  # latin, greek, cyrillic, hangul, halfwidth, fullwidth, ...


def _penalty(texts: tuple[str, ...], encoding: str) -> float:
    """Penalty per non-ASCII character: how little ``texts`` look like names someone typed.

    Mojibake shows as control or private-use characters (refused outright), symbols and box
    drawing, scripts mixed inside one name (Latin letters against Greek, Cyrillic or Han; Hangul
    with Han), a capital after a small letter, runs of accented letters, and letters a code page
    holds only for other languages (for the East Asian ones: outside their standard's common block).
    """
    total = 0.0
    count = 0
    for text in texts:
        scripts: dict[str, str] = {}  # non-ASCII letter -> script
        for ch in text:
            if ch.isascii():
                continue
            count += 1
            cat = unicodedata.category(ch)
            if cat[0] == "C" and not (cat == "Cf" and encoding == "utf-8"):  # ZWJ in emoji sequences is fine
                return float("inf")  # control, format, unassigned, private use, surrogate
            if cat == "So" and encoding == "utf-8":
                pass  # emoji; legacy code pages hold no emoji, so there it is box drawing and the like
            elif cat[0] in "SPZ" or cat == "No":
                total += 1.0
            elif cat[0] == "L":
                script = scripts[ch] = _script(ch)
                if script not in _SCRIPTS:
                    total += 1.0  # half-width katakana, full-width Latin, the micro sign, ordinal indicators
                if encoding in _CJK:
                    total += _cjk_rarity(ch, encoding)
                elif encoding == "utf-8":
                    total += _latin_rarity(ch) if script == "latin" else 0.0
                else:
                    total += _byte_rarity(ch, encoding, script)
        for a, b in zip(text, text[1:]):
            if a.isascii() and b.isascii():
                continue
            if b.isupper() and unicodedata.category(a) == "Ll":
                total += 1.0  # 'cafÚ', 'çÁ', 'öL'
            ascii_letter = a if a.isascii() and a.isalpha() else b if b.isascii() and b.isalpha() else ""
            other = scripts.get(b if ascii_letter == a else a, "")
            if ascii_letter and other in ("greek", "cyrillic"):
                total += 1.0  # 'cafВ', 'Шl': Latin letters against another alphabet in one word
            elif ascii_letter and other in ("han", "kana", "hangul"):
                total += 0.5  # '登gel'
        run = 0
        for ch in text:
            run = run + 1 if scripts.get(ch) == "latin" else 0
            if run > 2:
                total += 1.0  # 'ôîòî': Cyrillic or Korean bytes read as Latin-1
        found = set(scripts.values())
        alphabets = found - {"han", "kana"}
        if len(alphabets) > 1 or (alphabets and alphabets != {"hangul"} and found & {"han", "kana"}):
            total += 1.0
        elif alphabets == {"hangul"} and "han" in found:
            total += 0.5  # Korean names rarely mix in Hanja
    return total / count if count else 0.0


def _latin_rarity(ch: str) -> float:
    """Latin letters beyond the European ones (U+0180 on) and Vietnamese: what 2-byte CJK codes read as UTF-8 become."""
    code = ord(ch)
    return 0.0 if code < 0x180 or 0x1E00 <= code <= 0x1EFF else 1.0


def _byte_rarity(ch: str, encoding: str, script: str) -> float:
    """Letters a single-byte code page holds for other languages: rarer than its main alphabet."""
    if encoding == "cp1251" and ch.encode(encoding)[0] < 0xC0:
        return 0.5  # Serbian, Macedonian, Ukrainian letters; Russian is 0xC0-0xFF
    if encoding == "cp866" and ch.encode(encoding)[0] >= 0xF0:
        return 0.5
    if encoding in ("cp437", "cp850") and script == "greek":
        return 1.0  # cp437's few maths letters (Greek names use cp737)
    return 0.0


def _cjk_rarity(ch: str, encoding: str) -> float:
    """0 for a character in its standard's common block, 0.5 for the rarer block, 1 beyond."""
    b = ch.encode(encoding)
    if len(b) != 2:
        return 1.0  # half-width katakana and the like
    code, trail = b[0] << 8 | b[1], b[1]
    if encoding == "cp949":  # KS X 1001: 2,350 Hangul syllables, then Hanja
        common, rarer = 0xB0A1 <= code <= 0xC8FE and trail >= 0xA1, 0xCAA1 <= code <= 0xFDFE and trail >= 0xA1
    elif encoding == "gbk":  # GB2312 level 1, then level 2
        common, rarer = 0xB0A1 <= code <= 0xD7FE and trail >= 0xA1, 0xD8A1 <= code <= 0xF7FE and trail >= 0xA1
    elif encoding == "big5":  # frequent, then less frequent hanzi
        common, rarer = 0xA440 <= code <= 0xC67E, 0xC940 <= code <= 0xF9D5
    else:  # cp932: kana and JIS level 1 kanji, then level 2
        common, rarer = 0x829F <= code <= 0x8396 or 0x889F <= code <= 0x9872, 0x989F <= code <= 0xEAA4
    return 0.0 if common else 0.5 if rarer else 1.0
