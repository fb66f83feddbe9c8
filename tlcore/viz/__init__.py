"""Plotly figure builders for the app: the decision map, live curves, layer diagrams, comparisons."""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..decision import (
    LARGE_IMAGES_PER_CLASS,
    QUADRANTS,
    SIMILAR_THRESHOLD,
    SIMILARITY_BORDERLINE,
    SIZE_BORDERLINE_FACTOR,
)
from ..i18n import t

#: The map's x range in log10(images per class), centred on the size boundary.
MAP_LOG_X = (math.log10(LARGE_IMAGES_PER_CLASS) - 2.4, math.log10(LARGE_IMAGES_PER_CLASS) + 2.4)
QUADRANT_COLORS = {1: "#d62728", 2: "#2ca02c", 3: "#ff7f0e", 4: "#1f77b4"}
FROZEN_COLOR = "#8aa4c8"
TRAINED_COLOR = "#e8743b"
PLAN_COLORS = {"head": "#1f77b4", "top": "#ff7f0e", "full": "#2ca02c", "scratch": "#7f7f7f"}
CURVE_HEIGHT = 340


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _quadrant_box(q: int, size_b: float = LARGE_IMAGES_PER_CLASS,
                  sim_b: float = SIMILAR_THRESHOLD) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of a quadrant, x in images per class, for the boundaries ``size_b`` and ``sim_b``."""
    size, sim = QUADRANTS[q]
    lo, hi = 10 ** MAP_LOG_X[0], 10 ** MAP_LOG_X[1]
    x0, x1 = (size_b, hi) if size == "large" else (lo, size_b)
    y0, y1 = (sim_b, 1.0) if sim == "similar" else (0.0, sim_b)
    return x0, x1, y0, y1


def _rect(x0, x1, y0, y1, fill, line_color="rgba(0,0,0,0)", width=0, dash="solid", name=""):
    return go.Scatter(
        x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0], mode="lines", fill="toself", fillcolor=fill,
        line=dict(color=line_color, width=width, dash=dash), hoverinfo="skip", showlegend=False, name=name,
    )


def _label_rows(y0: float, y1: float, lx0: float, lx1: float, position,
                sim_b: float = SIMILAR_THRESHOLD) -> tuple[float, float]:
    """The y of a quadrant's name and plan lines: its outer edge, or its inner edge when the star sits there."""
    outer_top = y0 >= sim_b
    rows = {True: (y1 - 0.05, y1 - 0.11), False: (y0 + 0.11, y0 + 0.05)}  # by "at the top edge"
    if position is not None:
        ipc, sim = position
        lx = math.log10(clip_images_per_class(ipc))
        sy = min(0.98, max(0.02, sim))
        name_y, plan_y = rows[outer_top]
        # The star and its "your data" caption span about 0.12 in y; the labels about a third of the width.
        near_x = abs(lx - (lx0 + lx1) / 2) < (lx1 - lx0) * 0.36
        near_y = min(plan_y, name_y) - 0.09 < sy < max(plan_y, name_y) + 0.05
        if near_x and near_y:
            return rows[not outer_top]
    return rows[outer_top]


def clip_images_per_class(ipc: float) -> float:
    lo, hi = 10 ** MAP_LOG_X[0], 10 ** MAP_LOG_X[1]
    return min(hi * 0.9, max(lo * 1.1, float(ipc)))


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
    fig = go.Figure()
    for q in (1, 2, 3, 4):
        x0, x1, y0, y1 = _quadrant_box(q, size_b, sim_b)
        color = QUADRANT_COLORS[q]
        alpha = 0.36 if q == highlight else (0.22 if q == what_if else 0.10)
        width = 4 if q in (highlight, what_if) else 0
        dash = "dash" if q == what_if and q != highlight else "solid"
        fig.add_trace(_rect(x0, x1, y0, y1, _rgba(color, alpha), color, width, dash))
    # Borderline bands: near a boundary the neighbouring plan is worth comparing.
    lo, hi = 10 ** MAP_LOG_X[0], 10 ** MAP_LOG_X[1]
    band = "rgba(90,90,90,0.16)"
    b_lo, b_hi = size_b / SIZE_BORDERLINE_FACTOR, size_b * SIZE_BORDERLINE_FACTOR
    fig.add_trace(_rect(b_lo, b_hi, 0.0, 1.0, band, name="size_band"))
    fig.add_trace(_rect(lo, hi, sim_b - SIMILARITY_BORDERLINE, sim_b + SIMILARITY_BORDERLINE,
                        band, name="similarity_band"))
    # The clickable quadrants.
    for q in (1, 2, 3, 4):
        x0, x1, y0, y1 = _quadrant_box(q, size_b, sim_b)
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
        y_name, y_plan = _label_rows(y0, y1, lx0, lx1, position, sim_b)
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
            x=[clip_images_per_class(ipc)], y=[min(0.98, max(0.02, sim))], mode="markers+text",
            marker=dict(size=20, symbol="star", color="#111", line=dict(color="white", width=1.5)),
            text=[t("map_you", lang)], textposition="top center", customdata=[0], showlegend=False,
            hovertemplate=t("map_marker_hover", lang, ipc=ipc, sim=sim) + "<extra></extra>",
            selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)), name="dataset",
        ))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), hovermode="closest", hoverdistance=-1,
        clickmode="event+select", dragmode=False, plot_bgcolor="white",
    )
    ticks = [10 ** k for k in range(math.ceil(MAP_LOG_X[0]), math.floor(MAP_LOG_X[1]) + 1)]
    fig.update_xaxes(type="log", range=list(MAP_LOG_X), title=t("map_x", lang), showgrid=False, fixedrange=True,
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


def training_curves(epochs: list, total_epochs: int, lang: str = "en", height: int = CURVE_HEIGHT) -> go.Figure:
    """Train/validation accuracy and loss per epoch (tlcore.events.EpochEnd), on fixed axes so a live chart stays calm."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(t("curve_accuracy", lang), t("curve_loss", lang)),
                        horizontal_spacing=0.1)
    xs = [e.epoch for e in epochs]
    series = [
        ("train_accuracy", t("curve_train", lang), "#1f77b4", 1, "dash"),
        ("val_accuracy", t("curve_val", lang), "#d62728", 1, "solid"),
        ("train_loss", t("curve_train", lang), "#1f77b4", 2, "dash"),
        ("val_loss", t("curve_val", lang), "#d62728", 2, "solid"),
    ]
    for key, name, color, col, dash in series:
        fig.add_trace(go.Scatter(
            x=xs, y=[getattr(e, key) for e in epochs], mode="lines+markers", name=name, legendgroup=key.split("_")[0],
            showlegend=col == 1, line=dict(color=color, dash=dash), marker=dict(size=7),
        ), row=1, col=col)
    total = max(1, int(total_epochs), len(xs))
    losses = [getattr(e, k) for e in epochs for k in ("train_loss", "val_loss")]
    top = max([2.0] + [v * 1.1 for v in losses if v is not None and v == v and v < 50])
    fig.update_xaxes(range=[0.5, total + 0.5], dtick=max(1, math.ceil(total / 10)), title=t("curve_epoch", lang))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(range=[0, top], row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.2), uirevision="curves")
    return fig


def layer_diagram(plan_report: dict, lang: str = "en", height: int = 260) -> go.Figure:
    """The backbone's groups, stem to head, each colored frozen or trained, with parameter counts."""
    groups = plan_report.get("groups", [])
    names = [g["name"] for g in groups]
    params = [int(g["params"]) for g in groups]
    colors = [TRAINED_COLOR if g["trainable"] else FROZEN_COLOR for g in groups]
    labels = [t("layer_trained", lang) if g["trainable"] else t("layer_frozen", lang) for g in groups]
    fig = go.Figure(go.Bar(
        x=names, y=[max(1, p) for p in params], marker_color=colors,
        text=[f"{_short_count(p)}<br>{lab}" for p, lab in zip(params, labels)], textposition="outside",
        customdata=labels, hovertemplate="%{x}: %{text}<extra></extra>",
    ))
    top = max([1] + params)
    fig.update_yaxes(type="log", range=[0, math.log10(top) + 1.4], title=t("layer_params", lang))
    fig.update_xaxes(title=t("layer_groups", lang))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), showlegend=False)
    return fig


def _short_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 1_000:
        return f"{n / 1e3:.1f}k"
    return str(n)


def compare_overlay(curves: dict[str, list[tuple[int, float]]], total_epochs: int, lang: str = "en",
                    height: int = CURVE_HEIGHT) -> go.Figure:
    """Validation accuracy of several runs on one chart (one line per plan)."""
    fig = go.Figure()
    for label, points in curves.items():
        plan = label.split(":")[0].split(" ")[0]  # labels start with the plan's code ("head: ...")
        fig.add_trace(go.Scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers", name=label,
            line=dict(color=PLAN_COLORS.get(plan), width=3), marker=dict(size=7),
        ))
    total = max([1, int(total_epochs)] + [len(p) for p in curves.values()])
    fig.update_xaxes(range=[0.5, total + 0.5], dtick=max(1, math.ceil(total / 10)), title=t("curve_epoch", lang))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title=t("curve_val_accuracy", lang))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


#: Above this many classes a confusion matrix stops being readable: the app shows its top confusions as a table.
MANY_CLASSES = 20
#: Class names on chart axes are cut to this many characters (the full name is in the hover text).
LABEL_CHARS = 24
#: Height of one class's row in charts that list classes (pixels).
ROW_PX = 22


def html_text(name) -> str:
    """A name as plotly's text shows it literally (plotly reads ``<b>``, ``<br>`` and entities as markup)."""
    return str(name).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short_label(name, limit: int = LABEL_CHARS) -> str:
    """A class name cut to ``limit`` characters with an ellipsis, escaped for plotly."""
    text = str(name)
    return html_text(text if len(text) <= limit else text[: limit - 1] + "…")


def _class_axis(classes: list[str]) -> dict:
    """Axis settings that list classes by position with short labels (names may repeat once cut)."""
    return dict(tickmode="array", tickvals=list(range(len(classes))), ticktext=[short_label(c) for c in classes],
                automargin=True)


def class_counts(counts: dict[str, int], lang: str = "en", height: int = 300) -> go.Figure:
    """Images per class: vertical bars for a few classes, one row per class (scaled height) for many."""
    names, values = list(counts), list(counts.values())
    full = [html_text(c) for c in names]
    hover = t("counts_hover", lang) + "<extra></extra>"
    if len(names) <= 8:
        fig = go.Figure(go.Bar(x=list(range(len(names))), y=values, marker_color="#4c78a8", text=values,
                               textposition="auto", customdata=full, hovertemplate=hover))
        fig.update_xaxes(title=t("counts_class", lang), **_class_axis(names))
        fig.update_yaxes(title=t("counts_images", lang))
    else:
        height = max(height, 60 + ROW_PX * len(names))
        fig = go.Figure(go.Bar(y=list(range(len(names))), x=values, orientation="h", marker_color="#4c78a8",
                               text=values, textposition="auto", customdata=full, hovertemplate=hover))
        fig.update_yaxes(autorange="reversed", **_class_axis(names))
        fig.update_xaxes(title=t("counts_images", lang))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10))
    return fig


def per_class_accuracy(classes: list[str], accuracy: list, lang: str = "en", height: int = 300) -> go.Figure:
    """One bar per class; a class without validation images (None) shows "n/a", not 0 %.

    Up to 8 classes: vertical bars. More: one horizontal row per class, the figure growing
    with the class count, names cut to LABEL_CHARS with the full name on hover.
    """
    text = [t("no_data", lang) if a is None else f"{a:.0%}" for a in accuracy]
    values = [a or 0.0 for a in accuracy]
    full = [html_text(c) for c in classes]
    hover = t("per_class_hover", lang) + "<extra></extra>"
    pos = list(range(len(classes)))
    if len(classes) <= 8:
        fig = go.Figure(go.Bar(x=pos, y=values, marker_color="#54a24b", text=text, textposition="auto",
                               customdata=list(zip(full, text)), hovertemplate=hover))
        fig.update_yaxes(range=[0, 1.05], tickformat=".0%", title=t("curve_val_accuracy", lang))
        fig.update_xaxes(**_class_axis(classes))
    else:
        height = max(height, 60 + ROW_PX * len(classes))
        fig = go.Figure(go.Bar(y=pos, x=values, orientation="h", marker_color="#54a24b", text=text,
                               textposition="auto", customdata=list(zip(full, text)), hovertemplate=hover))
        fig.update_xaxes(range=[0, 1.05], tickformat=".0%", title=t("curve_val_accuracy", lang))
        fig.update_yaxes(autorange="reversed", **_class_axis(classes))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10))
    return fig


def confusion_matrix(classes: list[str], confusion: list[list[int]], lang: str = "en", height: int = 380) -> go.Figure:
    """Rows: true class; columns: predicted class; each cell counts validation images.

    The figure grows with the class count (names cut, full names on hover); the app shows
    :func:`top_confusions_table` instead above MANY_CLASSES classes.
    """
    n = len(classes)
    full = [html_text(c) for c in classes]
    custom = [[[full[i], full[j]] for j in range(n)] for i in range(n)]
    fig = go.Figure(go.Heatmap(
        z=confusion, x=list(range(n)), y=list(range(n)), colorscale="Blues", showscale=False,
        texttemplate="%{z}" if n <= 12 else None, customdata=custom,
        hovertemplate=t("confusion_hover", lang) + "<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", title=t("confusion_true", lang), **_class_axis(classes))
    fig.update_xaxes(title=t("confusion_pred", lang), side="bottom", tickangle=-45 if n > 6 else 0,
                     **_class_axis(classes))
    fig.update_layout(height=max(height, 160 + ROW_PX * n), margin=dict(l=10, r=10, t=10, b=10))
    return fig


def confusion_errors(confusion: list[list[int]]) -> int:
    """Misclassified validation images: everything off the matrix's diagonal."""
    return sum(v for i, row in enumerate(confusion) for j, v in enumerate(row) if i != j)


def top_confusions(classes: list[str], confusion: list[list[int]], k: int = 15) -> list[tuple[str, str, int, float]]:
    """The ``k`` most frequent mistakes: (true class, predicted class, images, share of the true class's images)."""
    out = []
    for i, row in enumerate(confusion):
        total = sum(row)
        for j, v in enumerate(row):
            if i != j and v:
                out.append((classes[i], classes[j], int(v), v / total if total else 0.0))
    out.sort(key=lambda r: (-r[2], -r[3], r[0], r[1]))
    return out[:k]


def top_confusions_table(classes: list[str], confusion: list[list[int]], lang: str = "en", k: int = 15) -> list[dict]:
    """:func:`top_confusions` as table rows with headings in ``lang`` (names as written: tables show plain text)."""
    return [{t("confusion_true", lang): a, t("confusion_pred", lang): b, t("confusion_count", lang): n,
             t("confusion_share", lang): f"{share:.0%}"} for a, b, n, share in top_confusions(classes, confusion, k)]


# --- research (issue 15): the gradient probe's chart and LP-FT's phase marks --------------------------------------
PROBE_COLOR = "#4c78a8"
PROBE_REF_COLOR = "#b8c7dd"
PROBE_PICK_COLOR = "#e8743b"
for _plan, _color in (("surgical", "#9467bd"), ("lp-ft", "#17becf"), ("auto-rgn", "#bcbd22")):
    PLAN_COLORS.setdefault(_plan, _color)  # the research plans' lines on the Compare chart


def probe_chart(probe: dict, lang: str = "en", height: int = 300) -> go.Figure:
    """The gradient probe (tlcore.probe.ProbeResult.to_json()): relative gradient norm per layer group.

    Bars: |grad| / |weight| on the data, one per group from input to output (log scale); with a
    reference, lighter bars beside them give the same on the backbone's pretraining images, and
    each pair is labelled with their ratio. The suggested block is drawn in the "trained" colour.
    """
    groups = probe.get("groups", [])
    names = [g["name"] if g["name"] != "head" else t("probe_head", lang) for g in groups]
    rgn = [max(1e-6, float(g["rgn"])) for g in groups]
    pick = probe.get("block", "")
    colors = [PROBE_PICK_COLOR if g["name"] == pick else PROBE_COLOR for g in groups]
    fig = go.Figure()
    if probe.get("reference"):
        ref = [r / max(1e-12, float(g["relative"])) for r, g in zip(rgn, groups)]
        fig.add_trace(go.Bar(x=names, y=ref, marker_color=PROBE_REF_COLOR, name=t("probe_ref_series", lang),
                             hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Bar(
        x=names, y=rgn, marker_color=colors, name=t("probe_data_series", lang),
        text=[f"×{g['relative']:.1f}" if probe.get("reference") else "" for g in groups], textposition="outside",
        hovertemplate="%{x}: %{y:.4f}<extra></extra>",
    ))
    top = max(rgn + [1e-6])
    low = min(rgn + [top])
    fig.update_yaxes(type="log", range=[math.log10(low) - 1.0, math.log10(top) + 0.6], title=t("probe_axis_rgn", lang),
                     dtick=1, exponentformat="power")
    fig.update_xaxes(title=t("probe_axis_group", lang))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), barmode="group",
                      showlegend=bool(probe.get("reference")), legend=dict(orientation="h", y=1.12))
    return fig


def mark_phases(fig: go.Figure, phases: list, lang: str = "en") -> go.Figure:
    """Dashed lines on a training_curves figure where a plan's phases begin (tlcore.events.PhaseStart, LP-FT).

    Each phase after the first starts at its line; every phase's name sits at its start. Returns ``fig``.
    """
    for i, p in enumerate(phases):
        epoch, phase = (p.epoch, p.phase) if hasattr(p, "epoch") else (p["epoch"], p["phase"])
        x = epoch - 0.5
        name = t(f"phase_{phase}", lang)
        for col in (1, 2):
            if i:
                fig.add_vline(x=x, line_dash="dash", line_color="#777", row=1, col=col)
            fig.add_annotation(x=x, y=1.0, yref="y domain" if col == 1 else "y2 domain", xref="x" if col == 1 else "x2",
                               text=name, showarrow=False, xanchor="left", yanchor="top",
                               font=dict(size=11, color="#555"))
    return fig


# -- measured regions (issue 14): the lab sweep drawn over the size-similarity map --------------------------------

TIE_COLOR = "#9e9e9e"
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
            text=[t("map_you", lang)], textposition="top center", showlegend=False, name="dataset",
            hovertext=[t("map_marker_hover", lang, ipc=ipc, sim=sim)], hoverinfo="text",
        ))
    ticks = [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) if lo <= v <= hi]
    fig.update_xaxes(type="log", range=[math.log10(lo), math.log10(hi)], title=t("measured_x", lang), showgrid=False,
                     fixedrange=True, tickvals=ticks, ticktext=[f"{v:,}" for v in ticks])
    fig.update_yaxes(range=[0, 1], title=t("map_y", lang), showgrid=False, fixedrange=True)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="closest", hoverdistance=-1,
                      dragmode=False, plot_bgcolor="white", legend=dict(orientation="h", y=-0.18))
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
    fig.update_xaxes(type="log", range=[math.log10(max(lo, 0.5)), math.log10(hi)], title=t("curve_x", lang))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title=t("curve_y", lang))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25))
    return fig
