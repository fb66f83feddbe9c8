"""The measured regions (issue 14): the lab sweep drawn over the size-similarity map, and learning curves."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from ..decision import LARGE_IMAGES_PER_CLASS, SIMILAR_THRESHOLD
from ..i18n import t
from ._common import CURVE_HEIGHT, PLAN_COLORS, _rgba

TIE_COLOR = "#9e9e9e"
#: Hover boxes: dark text on white with a border, readable over any cell colour.
HOVER_LABEL = dict(bgcolor="white", bordercolor="#444", font=dict(color="#111", size=13))


def log_ticks(lo: float, hi: float) -> list[int]:
    """Tick values 1, 2, 5, 10, 20, 50, ... within [lo, hi] (a log axis labelled in whole numbers)."""
    out, k = [], 0
    while 10 ** k <= hi * 10:
        out += [m * 10 ** k for m in (1, 2, 5) if lo <= m * 10 ** k <= hi]
        k += 1
    return out
#: A cell's colour is fully saturated from this margin (points over the runner-up) on.
FULL_STRENGTH_POINTS = 10.0


def sweep_cell_color(cell: dict) -> str:
    """A sweep cell's fill: its winner's colour (ties grey), stronger for a larger margin over the runner-up."""
    if cell.get("tie"):
        return _rgba(TIE_COLOR, 0.55)
    strength = min(1.0, max(0.0, float(cell.get("margin_points", 0.0))) / FULL_STRENGTH_POINTS)
    return _rgba(PLAN_COLORS.get(cell["winner"], TIE_COLOR), round(0.3 + 0.6 * strength, 3))


def _edges(centres: list[float], log: bool) -> list[float]:
    """Cell edges around sorted centres: midpoints between neighbours, the outer edges mirrored."""
    c = [math.log10(v) for v in centres] if log else list(centres)
    if len(c) == 1:
        half = 0.25 if log else 0.1
        e = [c[0] - half, c[0] + half]
    else:
        mids = [(a + b) / 2 for a, b in zip(c, c[1:])]
        e = [c[0] - (mids[0] - c[0])] + mids + [c[-1] + (c[-1] - mids[-1])]
    return [10 ** v for v in e] if log else [min(1.0, max(0.0, v)) for v in e]


def measured_map(sweep: dict, lang: str = "en", position: tuple[float, float] | None = None,
                 boundaries: tuple[float, float] | None = None, height: int = 460) -> go.Figure:
    """The lab sweep over the map: one rectangle per cell, coloured by its winning plan (tlcore.experiments.sweep).

    x: training images per class (log), y: the similarity score of the cell's dial. Each cell is
    one filled trace named ``cell`` whose ``meta`` holds ``per_class``, ``dial``, ``winner`` and
    ``tie`` (its colour: :func:`sweep_cell_color`); an invisible marker at each cell's centre
    carries the hover text (the four accuracies). Dashed lines: the rule of thumb; solid: the
    ``boundaries`` (images per class, similarity) fitted to the sweep (default: the sweep's
    own). ``position``: the user's data (images per class, similarity), drawn as a star.
    """
    from ..i18n import plan_name

    cells = sweep.get("cells", [])
    if not cells:
        return go.Figure()
    sizes = sorted({int(c["per_class"]) for c in cells})
    dials = sorted({float(c["similarity_dial"]) for c in cells})
    score = {d: next(float(c["similarity"]) for c in cells if float(c["similarity_dial"]) == d) for d in dials}
    ys = sorted(score[d] for d in dials)
    x_edges, y_edges = _edges(sizes, True), _edges(ys, False)
    y_edges[0], y_edges[-1] = 0.0, 1.0
    fit = boundaries or (sweep["boundaries"]["measured"]["size"], sweep["boundaries"]["measured"]["similarity"])
    fig = go.Figure()
    hover, cx, cy = [], [], []
    for c in cells:
        i, j = sizes.index(int(c["per_class"])), ys.index(score[float(c["similarity_dial"])])
        x0, x1, y0, y1 = x_edges[i], x_edges[i + 1], y_edges[j], y_edges[j + 1]
        fig.add_trace(go.Scatter(
            x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0], mode="lines", fill="toself",
            fillcolor=sweep_cell_color(c), line=dict(color="white", width=1), hoverinfo="skip", showlegend=False,
            name="cell", meta={"per_class": int(c["per_class"]), "dial": float(c["similarity_dial"]),
                               "winner": c["winner"], "tie": bool(c.get("tie"))},
        ))
        plans = sorted(c["accuracy"], key=lambda p: -c["accuracy"][p])
        lines = [t("measured_cell", lang, n=int(c["per_class"]), sim=float(c["similarity"]),
                   dial=float(c["similarity_dial"]))]
        lines += [f"{plan_name(p, lang)}: {100 * c['accuracy'][p]:.1f}% ± {100 * c['spread'][p]:.1f}" for p in plans]
        lines.append(t("measured_tie" if c.get("tie") else "measured_winner", lang, plan=plan_name(c["winner"], lang),
                       margin=float(c["margin_points"])))
        hover.append("<br>".join(lines))
        cx.append(math.sqrt(x0 * x1))
        cy.append((y0 + y1) / 2)
    fig.add_trace(go.Scatter(x=cx, y=cy, mode="markers", hovertext=hover, hoverinfo="text", showlegend=False,
                             marker=dict(size=24, symbol="square", opacity=0), name="cell_hover"))
    winners = list(dict.fromkeys(c["winner"] for c in cells if not c.get("tie")))
    for p in [q for q in PLAN_COLORS if q in winners] + (["tie"] if any(c.get("tie") for c in cells) else []):
        color = TIE_COLOR if p == "tie" else PLAN_COLORS[p]
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t("measured_legend_tie", lang) if p == "tie"
                                 else plan_name(p, lang), marker=dict(size=12, symbol="square", color=color)))
    lo = min(x_edges[0], LARGE_IMAGES_PER_CLASS, fit[0]) / 1.3
    hi = max(x_edges[-1], LARGE_IMAGES_PER_CLASS, fit[0]) * 1.3
    # The boundaries on top of the cells: the rule of thumb dashed, the fitted ones solid.
    for x, y, dash, label in ((LARGE_IMAGES_PER_CLASS, SIMILAR_THRESHOLD, "dash", "measured_rule"),
                              (fit[0], fit[1], "solid", "measured_fit")):
        fig.add_trace(go.Scatter(x=[x, x, None, lo, hi], y=[0, 1, None, y, y], mode="lines", hoverinfo="skip",
                                 line=dict(color="#222", width=2.5 if dash == "solid" else 2, dash=dash),
                                 showlegend=False, name=label))
        fig.add_trace(go.Scatter(x=[x], y=[1.0], mode="text", text=[t(label, lang)], textposition="top center",
                                 textfont=dict(size=11, color="#222"), hoverinfo="skip", showlegend=False,
                                 cliponaxis=False))
    if position is not None:
        ipc, sim = position
        fig.add_trace(go.Scatter(
            x=[min(hi / 1.1, max(lo * 1.1, float(ipc)))], y=[min(0.98, max(0.02, float(sim)))], mode="markers+text",
            marker=dict(size=20, symbol="star", color="#111", line=dict(color="white", width=1.5)),
            text=[f"<b>{t('map_you', lang)}</b>"], textposition="top center", showlegend=False, name="dataset",
            textfont=dict(size=13, color="#111"),
            hovertext=[t("map_marker_hover", lang, ipc=ipc, sim=sim)], hoverinfo="text",
        ))
    ticks = log_ticks(lo, hi)
    fig.update_xaxes(type="log", range=[math.log10(lo), math.log10(hi)], title=t("measured_x", lang), showgrid=False,
                     fixedrange=True, tickvals=ticks, ticktext=[f"{v:,}" for v in ticks])
    fig.update_yaxes(range=[0, 1], title=t("map_y", lang), showgrid=False, fixedrange=True)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="closest", hoverdistance=-1,
                      dragmode=False, plot_bgcolor="white", legend=dict(orientation="h", y=-0.18),
                      hoverlabel=HOVER_LABEL)
    return fig


def learning_curve(result: dict, lang: str = "en", height: int = CURVE_HEIGHT) -> go.Figure:
    """Best validation accuracy against training images per class, one line per plan (tlcore.service.curve).

    ``result``: ``curve_result()`` (``points``, ``crossovers``, ``size_boundary``). Error bars: the
    spread over seeds. Each crossover is a dotted vertical line with its size; the map's size
    boundary a dashed one (it is drawn even outside the measured range: the axis widens to it).
    """
    from ..i18n import plan_name

    fig = go.Figure()
    points = result.get("points", [])
    for plan in dict.fromkeys(p["plan"] for p in points):
        mine = sorted((p for p in points if p["plan"] == plan), key=lambda p: p["images_per_class"])
        fig.add_trace(go.Scatter(
            x=[p["images_per_class"] for p in mine], y=[p["accuracy"] for p in mine], mode="lines+markers",
            name=plan_name(plan, lang), line=dict(color=PLAN_COLORS.get(plan), width=3), marker=dict(size=8),
            error_y=dict(type="data", array=[p["spread"] for p in mine], visible=any(p["seeds"] > 1 for p in mine)),
            customdata=[p["fraction"] for p in mine],
            hovertemplate="%{x:,.0f}: %{y:.1%} (%{customdata:.0%})<extra>" + plan_name(plan, lang) + "</extra>",
        ))
    xs = [p["images_per_class"] for p in points if p["images_per_class"] > 0]
    boundary = (result.get("size_boundary") or {}).get("images_per_class")
    lo = min(xs + ([boundary] if boundary else []), default=1.0) / 1.5
    hi = max(xs + ([boundary] if boundary else []), default=10.0) * 1.5
    marks = [(x["images_per_class"], "dot", t("curve_crossover_label", lang, n=x["images_per_class"]), 0.06)
             for x in result.get("crossovers", [])]
    if boundary:
        kind = t(f"curve_kind_{result['size_boundary'].get('boundaries', 'rule_of_thumb')}", lang)
        marks.append((boundary, "dash", t("curve_boundary", lang, kind=kind, n=boundary), 0.97))
    for x, dash, label, ytext in marks:
        fig.add_trace(go.Scatter(x=[x, x], y=[0, 1.02], mode="lines", line=dict(color="#444", width=2, dash=dash),
                                 hoverinfo="skip", showlegend=False, name=dash))
        fig.add_trace(go.Scatter(x=[x], y=[ytext], mode="text", text=[label], textposition="middle right",
                                 textfont=dict(size=11, color="#444"), hoverinfo="skip", showlegend=False))
    lo = max(lo, 0.5)
    # Whole numbers on the log axis (plotly's own minor labels read "2, 3, ... 9" for 20, 30, ... 90).
    ticks = log_ticks(lo, hi)
    fig.update_xaxes(type="log", range=[math.log10(lo), math.log10(hi)], title=t("curve_x", lang),
                     tickvals=ticks, ticktext=[f"{v:,}" for v in ticks])
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title=t("curve_y", lang))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25),
                      hoverlabel=HOVER_LABEL)
    return fig
