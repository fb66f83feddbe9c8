"""Names shown exactly as written: escaping for Streamlit's Markdown, sizes and times in the viewer's terms."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from tlcore.i18n import t, warning_text

#: Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped
#: one is always shown as itself: headings (#), lists (1. -), emphasis (* _), links ([ ]),
#: Streamlit's directives (:red[...]), HTML (< >), math ($) and tables (|) all need one.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def md(name) -> str:
    """``name`` for any Streamlit text that renders Markdown (markdown, captions, alerts, labels, progress text).

    Dataframes and selectbox options show plain text: give them the name itself.
    """
    text = str(name).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_list(names, limit: int = 10) -> str:
    """Names joined with commas for Markdown, the first ``limit`` and a count of the rest."""
    names = list(names)
    shown = ", ".join(md(n) for n in names[:limit])
    return shown + (f" (+{len(names) - limit})" if len(names) > limit else "")


def warning_md(warning: dict, lang: str) -> str:
    """A dataset warning (tlcore.data) in ``lang``, with the class and folder names it quotes escaped."""
    params = {}
    for key, val in (warning.get("params") or {}).items():
        if isinstance(val, (list, tuple)):
            params[key] = md_list(val)
        elif isinstance(val, str):
            params[key] = md(val)
        else:
            params[key] = val
    return warning_text({"code": warning.get("code", ""), "params": params}, lang)


def size_text(num_bytes: float) -> str:
    """Bytes as B, KB, MB or GB in powers of 1,000 (as TLCORE_CACHE_MAX_GB counts), one decimal from MB on."""
    n = float(max(0, num_bytes))
    for unit, div in (("GB", 1e9), ("MB", 1e6)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    if n >= 1e3:
        return f"{n / 1e3:,.0f} KB"
    return f"{n:,.0f} B"


# ---------------------------------------------------------------------------
# Times in the viewer's zone


def viewer_zone() -> tuple[tzinfo, str, bool]:
    """(zone, its name, whether it is the browser's) for showing times.

    The browser tells Streamlit its zone (``st.context.timezone``, or at least its offset);
    without either, the server's own zone is used and said to be the server's.
    """
    try:
        name = st.context.timezone
        offset = st.context.timezone_offset
    except Exception:  # noqa: BLE001 - outside a session (bare mode) there is no browser to ask
        name, offset = None, None
    if name:
        try:
            return ZoneInfo(name), name, True
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if offset is not None:
        zone = timezone(timedelta(minutes=-int(offset)))  # the browser gives minutes *behind* UTC
        return zone, _utc_name(zone), True
    local = datetime.now().astimezone().tzinfo or timezone.utc
    return local, datetime.now(local).strftime("%Z") or _utc_name(local), False


def _utc_name(zone: tzinfo) -> str:
    delta = datetime.now(zone).utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def zone_label(lang: str) -> str:
    """The zone times are shown in, e.g. "Asia/Seoul" or "UTC (server time)"."""
    _, name, browser = viewer_zone()
    return name if browser else t("time_zone_server", lang, zone=name)


def clock(ts: float | None, lang: str, relative: bool = True) -> str:
    """A time in the viewer's zone with the zone stated, "11-30 14:05 KST", and how long ago ("3 min ago").

    ``relative=False`` leaves out "ago": for labels that must not change from one rerun to the next.
    """
    if not ts:
        return ""
    zone, _, _ = viewer_zone()
    dt = datetime.fromtimestamp(float(ts), zone)
    abbrev = dt.strftime("%Z")
    if not abbrev or abbrev[0] in "+-" or abbrev.startswith("UTC") and len(abbrev) > 3:
        abbrev = _utc_name(zone)
    stamp = f"{dt.strftime('%m-%d %H:%M')} {abbrev}"
    return t("time_with_ago", lang, time=stamp, ago=ago(ts, lang)) if relative else stamp


def ago(ts: float, lang: str, now: float | None = None) -> str:
    """How long ago ``ts`` (Unix seconds) was: "just now", "3 min ago", "2 h ago", "5 days ago"."""
    s = max(0.0, (now or time.time()) - float(ts))
    if s < 60:
        return t("ago_now", lang)
    if s < 3600:
        return t("ago_min", lang, n=int(s // 60))
    if s < 86400 * 2:
        return t("ago_hours", lang, n=int(s // 3600))
    return t("ago_days", lang, n=int(s // 86400))
