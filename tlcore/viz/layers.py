"""Bar charts over a backbone's layer groups: which are frozen or trained, and the gradient probe."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from ..i18n import t
from ._common import FROZEN_COLOR, TRAINED_COLOR


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


# --- research (issue 15): the gradient probe's chart ---------------------------------------------------------------
PROBE_COLOR = "#4c78a8"
PROBE_REF_COLOR = "#b8c7dd"
PROBE_PICK_COLOR = "#e8743b"


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
