"""Every user-visible text of the app, in English and Korean, looked up by key.

The texts live in ``tlcore/i18n/text/<area>.py``, each module holding ``EN`` and ``KO``
dicts with the same keys; a key may appear in one module only.
"""
from __future__ import annotations

import importlib
import pkgutil

from ..decision import LARGE_IMAGES_PER_CLASS, SIMILAR_THRESHOLD
from . import text as _text_pkg

LANGS = ("en", "ko")
LANG_NAMES = {"en": "English", "ko": "한국어"}


def _collect() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {"en": {}, "ko": {}}
    for info in sorted(pkgutil.iter_modules(_text_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_text_pkg.__name__}.{info.name}")
        for lang, part in (("en", module.EN), ("ko", module.KO)):
            clash = set(part) & set(table[lang])
            if clash:
                raise RuntimeError(f"i18n keys defined twice ({info.name}): {sorted(clash)}")
            table[lang].update(part)
    return table


TEXT: dict[str, dict[str, str]] = _collect()



def t(key: str, lang: str = "en", **fmt) -> str:
    """The text for ``key`` in ``lang`` (English when missing), formatted with ``fmt``."""
    table = TEXT.get(lang) or TEXT["en"]
    text = table.get(key)
    if text is None:
        text = TEXT["en"].get(key, key)
    defaults = {"large": LARGE_IMAGES_PER_CLASS}
    try:
        return text.format(**{**defaults, **fmt})
    except (KeyError, IndexError, ValueError):
        return text


def has(key: str) -> bool:
    return key in TEXT["en"]


def stages_text(n: int, lang: str = "en") -> str:
    """"1 stage", "2 stages" (the words for a count of backbone stages, in ``lang``)."""
    return t("stages_one" if int(n) == 1 else "stages_many", lang, n=int(n))


def plan_name(plan: str, lang: str = "en", top_stages: int | None = None) -> str:
    if plan == "top" and top_stages:
        return t("plan_top_n", lang, stages=stages_text(top_stages, lang))
    return t(f"plan_{plan}", lang) if has(f"plan_{plan}") else plan


def reason_lines(rec, lang: str = "en") -> list[str]:
    """The recommendation's reasons (``rec.reason_keys``, a tlcore.decision.Recommendation) in ``lang``."""
    params = {
        "ipc": float(rec.images_per_class),
        "sim": float(rec.similarity),
        "src": t(f"src_{'measured' if rec.similarity_source == 'measured' else 'user'}", lang),
        "threshold": getattr(rec, "similarity_boundary", SIMILAR_THRESHOLD),
        "large": int(round(getattr(rec, "size_boundary", LARGE_IMAGES_PER_CLASS))),
        "top_stages": rec.top_stages,
        "stages": stages_text(max(1, rec.top_stages), lang),
        **(getattr(rec, "reason_params", None) or {}),  # the evidence behind measured boundaries
    }
    return [t(f"reason_{k}", lang, **params) for k in rec.reason_keys]


def _join(value) -> str:
    if isinstance(value, (list, tuple)):
        shown = ", ".join(str(v) for v in value[:10])
        return shown + (f" (+{len(value) - 10})" if len(value) > 10 else "")
    return value


def warning_text(warning: dict, lang: str = "en") -> str:
    """A dataset warning ({"code", "params"}) in ``lang``."""
    code = warning.get("code", "")
    params = {k: _join(v) for k, v in (warning.get("params") or {}).items()}
    if has(f"warn_{code}"):
        return t(f"warn_{code}", lang, **params)
    return t("warn_other", lang, code=code, params=", ".join(f"{k}={v}" for k, v in params.items()))


def skip_text(reason: str, lang: str = "en") -> str:
    return t(f"skip_{reason}", lang) if has(f"skip_{reason}") else reason


def verdict_text(verdict, lang: str = "en") -> str:
    """A comparison verdict (tlcore.service.Verdict) in ``lang``, with plan names spelled out."""
    params = dict(verdict.params)
    for k in ("plan", "best_plan"):
        if k in params:
            params[k] = plan_name(params[k], lang)
    return t(verdict.key, lang, **params)
