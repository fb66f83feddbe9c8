"""Accuracy and loss over epochs: a run's live curves, LP-FT's phase marks, several runs compared."""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import t
from ._common import CURVE_HEIGHT, PLAN_COLORS


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


# --- research (issue 15): LP-FT's phase marks ----------------------------------------------------------------------
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
