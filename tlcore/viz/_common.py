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
#: A plan has the colour of the quadrant where the map names it (head: Q4, top: Q3, full: Q1), so that one
#: colour means one plan on every chart; Q2's green ("top, or full") is no plan's colour.
PLAN_COLORS = {"head": QUADRANT_COLORS[4], "top": QUADRANT_COLORS[3], "full": QUADRANT_COLORS[1], "scratch": "#7f7f7f"}
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


def map_log_x(size_boundary: float = LARGE_IMAGES_PER_CLASS) -> tuple[float, float]:
    """The map's x range in log10(images per class): 2.4 decades either side of the size boundary, never
    below one image per class (a measured boundary of 14 would otherwise leave the small quadrants a sliver)."""
    centre = math.log10(size_boundary)
    lo = max(0.0, centre - 2.4)
    return lo, max(centre + 2.4, lo + 3.0)


def clip_images_per_class(ipc: float, log_x: tuple[float, float] = MAP_LOG_X) -> float:
    lo, hi = 10 ** log_x[0], 10 ** log_x[1]
    return min(hi * 0.9, max(lo * 1.1, float(ipc)))


def html_text(name) -> str:
    """A name as plotly's text shows it literally (plotly reads ``<b>``, ``<br>`` and entities as markup)."""
    return str(name).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
