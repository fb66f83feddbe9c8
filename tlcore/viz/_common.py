"""What the figures share: the map's x range, the colours, and small plotly helpers."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from ..decision import LARGE_IMAGES_PER_CLASS

#: The map's x range in log10(images per class), centred on the size boundary.
MAP_LOG_X = (math.log10(LARGE_IMAGES_PER_CLASS) - 2.4, math.log10(LARGE_IMAGES_PER_CLASS) + 2.4)
QUADRANT_COLORS = {1: "#d62728", 2: "#2ca02c", 3: "#ff7f0e", 4: "#1f77b4"}
FROZEN_COLOR = "#8aa4c8"
TRAINED_COLOR = "#e8743b"
PLAN_COLORS = {"head": "#1f77b4", "top": "#ff7f0e", "full": "#2ca02c", "scratch": "#7f7f7f"}
CURVE_HEIGHT = 340
# research (issue 15): the research plans' colours
for _plan, _color in (("surgical", "#9467bd"), ("lp-ft", "#17becf"), ("auto-rgn", "#bcbd22")):
    PLAN_COLORS.setdefault(_plan, _color)  # the research plans' lines on the Compare chart


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _rect(x0, x1, y0, y1, fill, line_color="rgba(0,0,0,0)", width=0, dash="solid", name=""):
    return go.Scatter(
        x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0], mode="lines", fill="toself", fillcolor=fill,
        line=dict(color=line_color, width=width, dash=dash), hoverinfo="skip", showlegend=False, name=name,
    )


def clip_images_per_class(ipc: float) -> float:
    lo, hi = 10 ** MAP_LOG_X[0], 10 ** MAP_LOG_X[1]
    return min(hi * 0.9, max(lo * 1.1, float(ipc)))


def html_text(name) -> str:
    """A name as plotly's text shows it literally (plotly reads ``<b>``, ``<br>`` and entities as markup)."""
    return str(name).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
