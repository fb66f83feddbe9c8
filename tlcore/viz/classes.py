"""Charts that list classes: images per class, per-class accuracy, the confusion matrix and its top mistakes."""
from __future__ import annotations

import plotly.graph_objects as go

from ..i18n import t
from ._common import html_text

#: Above this many classes a confusion matrix stops being readable: the app shows its top confusions as a table.
MANY_CLASSES = 20
#: Class names on chart axes are cut to this many characters (the full name is in the hover text).
LABEL_CHARS = 24
#: Height of one class's row in charts that list classes (pixels).
ROW_PX = 22


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
