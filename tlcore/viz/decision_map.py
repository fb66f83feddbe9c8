"""The size-similarity matrix as a clickable plotly figure, and reading a click on it."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from ..decision import (
    LARGE_IMAGES_PER_CLASS,
    QUADRANTS,
    SIMILAR_THRESHOLD,
    SIMILARITY_BORDERLINE,
    SIZE_BORDERLINE_FACTOR,
)
from ..i18n import t
from ._common import MAP_LOG_X, QUADRANT_COLORS, _rect, _rgba, clip_images_per_class, map_log_x


def _quadrant_box(q: int, size_b: float = LARGE_IMAGES_PER_CLASS, sim_b: float = SIMILAR_THRESHOLD,
                  log_x: tuple[float, float] = MAP_LOG_X) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of a quadrant, x in images per class, for the boundaries ``size_b`` and ``sim_b``."""
    size, sim = QUADRANTS[q]
    lo, hi = 10 ** log_x[0], 10 ** log_x[1]
    x0, x1 = (size_b, hi) if size == "large" else (lo, size_b)
    y0, y1 = (sim_b, 1.0) if sim == "similar" else (0.0, sim_b)
    return x0, x1, y0, y1


def _label_rows(y0: float, y1: float, lx0: float, lx1: float, position,
                sim_b: float = SIMILAR_THRESHOLD, log_x: tuple[float, float] = MAP_LOG_X) -> tuple[float, float]:
    """The y of a quadrant's name and plan lines: its outer edge, or its inner edge when the star sits there."""
    outer_top = y0 >= sim_b
    rows = {True: (y1 - 0.05, y1 - 0.11), False: (y0 + 0.11, y0 + 0.05)}  # by "at the top edge"
    if position is not None:
        ipc, sim = position
        lx = math.log10(clip_images_per_class(ipc, log_x))
        sy = min(0.98, max(0.02, sim))
        name_y, plan_y = rows[outer_top]
        # The star and its "your data" caption span about 0.12 in y; the labels about a third of the width.
        near_x = abs(lx - (lx0 + lx1) / 2) < (lx1 - lx0) * 0.36
        near_y = min(plan_y, name_y) - 0.09 < sy < max(plan_y, name_y) + 0.05
        if near_x and near_y:
            return rows[not outer_top]
    return rows[outer_top]


def decision_map(lang: str = "en", position: tuple[float, float] | None = None, highlight: int | None = None,
                 what_if: int | None = None, height: int = 460,
                 boundaries: tuple[float, float] | None = None) -> go.Figure:
    """The size-similarity matrix.

    Each quadrant is one clickable trace: a grid of invisible points whose
    ``customdata`` is the quadrant number; with ``hoverdistance=-1`` a click anywhere
    inside a quadrant selects its nearest grid point. ``position`` is the dataset
    (images per class, similarity) marker, ``highlight`` its quadrant, ``what_if``
    another quadrant the user clicked. ``boundaries``: (images per class, similarity)
    where the quadrants meet (default: the rule of thumb; a backbone's measured ones).
    """
    size_b, sim_b = boundaries or (LARGE_IMAGES_PER_CLASS, SIMILAR_THRESHOLD)
    log_x = map_log_x(size_b)
    fig = go.Figure()
    for q in (1, 2, 3, 4):
        x0, x1, y0, y1 = _quadrant_box(q, size_b, sim_b, log_x)
        color = QUADRANT_COLORS[q]
        alpha = 0.36 if q == highlight else (0.22 if q == what_if else 0.10)
        width = 4 if q in (highlight, what_if) else 0
        dash = "dash" if q == what_if and q != highlight else "solid"
        fig.add_trace(_rect(x0, x1, y0, y1, _rgba(color, alpha), color, width, dash))
    # Borderline bands: near a boundary the neighbouring plan is worth comparing.
    lo, hi = 10 ** log_x[0], 10 ** log_x[1]
    band = "rgba(90,90,90,0.16)"
    b_lo, b_hi = size_b / SIZE_BORDERLINE_FACTOR, size_b * SIZE_BORDERLINE_FACTOR
    fig.add_trace(_rect(b_lo, b_hi, 0.0, 1.0, band, name="size_band"))
    fig.add_trace(_rect(lo, hi, sim_b - SIMILARITY_BORDERLINE, sim_b + SIMILARITY_BORDERLINE,
                        band, name="similarity_band"))
    # The clickable quadrants.
    for q in (1, 2, 3, 4):
        x0, x1, y0, y1 = _quadrant_box(q, size_b, sim_b, log_x)
        lx0, lx1 = math.log10(x0), math.log10(x1)
        xs, ys = [], []
        for i in range(6):
            for j in range(5):
                xs.append(10 ** (lx0 + (i + 0.5) * (lx1 - lx0) / 6))
                ys.append(y0 + (j + 0.5) * (y1 - y0) / 5)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", name=f"quadrant{q}",
            marker=dict(size=30, symbol="square", color=_rgba(QUADRANT_COLORS[q], 0.0)),
            customdata=[q] * len(xs), showlegend=False,
            hovertemplate=t("map_hover", lang, q=q, name=t(f"q{q}_short", lang)) + "<extra></extra>",
            selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        ))
        # Labels sit at the map's outer edge, away from the boundaries where datasets tend to fall,
        # unless the dataset's star is there: then at the quadrant's other edge, so it never hides them.
        cx = 10 ** ((lx0 + lx1) / 2)
        y_name, y_plan = _label_rows(y0, y1, lx0, lx1, position, sim_b, log_x)
        fig.add_trace(go.Scatter(
            x=[cx], y=[y_name], mode="text", text=[f"<b>Q{q}</b> · {t(f'q{q}_short', lang)}"], cliponaxis=False,
            textfont=dict(size=13, color=QUADRANT_COLORS[q]), hoverinfo="skip", showlegend=False, name=f"label{q}",
        ))
        fig.add_trace(go.Scatter(
            x=[cx], y=[y_plan], mode="text", text=[t(f"q{q}_plan", lang)], cliponaxis=False,
            textfont=dict(size=11, color="#444"), hoverinfo="skip", showlegend=False, name=f"plan_label{q}",
        ))
    if position is not None:
        ipc, sim = position
        fig.add_trace(go.Scatter(
            x=[clip_images_per_class(ipc, log_x)], y=[min(0.98, max(0.02, sim))], mode="markers+text",
            marker=dict(size=20, symbol="star", color="#111", line=dict(color="white", width=1.5)),
            text=[t("map_you", lang)], textposition="top center", customdata=[0], showlegend=False,
            hovertemplate=t("map_marker_hover", lang, ipc=ipc, sim=sim) + "<extra></extra>",
            selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)), name="dataset",
        ))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), hovermode="closest", hoverdistance=-1,
        clickmode="event+select", dragmode=False, plot_bgcolor="white",
    )
    ticks = [10 ** k for k in range(math.ceil(log_x[0]), math.floor(log_x[1]) + 1)]
    fig.update_xaxes(type="log", range=list(log_x), title=t("map_x", lang), showgrid=False, fixedrange=True,
                     tickvals=ticks, ticktext=[f"{v:,}" for v in ticks])
    fig.update_yaxes(range=[0, 1], title=t("map_y", lang), showgrid=False, fixedrange=True)
    return fig


def clicked_quadrant(selection) -> int | None:
    """The quadrant a map click selected: 1-4, 0 for the dataset marker, None for nothing."""
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for p in points:
        cd = p.get("customdata")
        if isinstance(cd, list):
            cd = cd[0] if cd else None
        if cd is not None:
            try:
                return int(cd)
            except (TypeError, ValueError):
                continue
    return None
