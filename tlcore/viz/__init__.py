"""Plotly figure builders for the app: the decision map, live curves, layer diagrams, comparisons."""
from ._common import (
    CURVE_HEIGHT,
    FROZEN_COLOR,
    MAP_LOG_X,
    PLAN_COLORS,
    QUADRANT_COLORS,
    TRAINED_COLOR,
    clip_images_per_class,
    html_text,
)
from .classes import (
    LABEL_CHARS,
    MANY_CLASSES,
    ROW_PX,
    class_counts,
    confusion_errors,
    confusion_matrix,
    per_class_accuracy,
    short_label,
    top_confusions,
    top_confusions_table,
)
from .curves import compare_overlay, mark_phases, training_curves
from .decision_map import clicked_quadrant, decision_map
from .layers import PROBE_COLOR, PROBE_PICK_COLOR, PROBE_REF_COLOR, layer_diagram, probe_chart
from .measured import FULL_STRENGTH_POINTS, TIE_COLOR, learning_curve, measured_map, sweep_cell_color

# The private helpers stay reachable as tlcore.viz._name, as they were in the single module.
from ._common import _rect, _rgba  # noqa: F401
from .classes import _class_axis  # noqa: F401
from .decision_map import _label_rows, _quadrant_box  # noqa: F401
from .layers import _short_count  # noqa: F401
from .measured import _edges  # noqa: F401

__all__ = [
    "CURVE_HEIGHT", "FROZEN_COLOR", "FULL_STRENGTH_POINTS", "LABEL_CHARS", "MANY_CLASSES", "MAP_LOG_X", "PLAN_COLORS",
    "PROBE_COLOR", "PROBE_PICK_COLOR", "PROBE_REF_COLOR", "QUADRANT_COLORS", "ROW_PX", "TIE_COLOR", "TRAINED_COLOR",
    "class_counts", "clicked_quadrant", "clip_images_per_class", "compare_overlay", "confusion_errors",
    "confusion_matrix", "decision_map", "html_text", "layer_diagram", "learning_curve", "mark_phases", "measured_map",
    "per_class_accuracy", "probe_chart", "short_label", "sweep_cell_color", "top_confusions", "top_confusions_table",
    "training_curves",
]
