"""The app's Streamlit helpers, shared by app.py and the pages: session and navigation, the dataset, run views.

Only this package, app.py and views/ import streamlit. Pages import ``ui`` and the
application layer (tlcore.service), plus tlcore.i18n and tlcore.viz for text and charts.
"""
from .dataset import (
    adopt_run,
    current_dataset,
    current_recommendation,
    dataset_caption,
    default_model,
    default_sim_choice,
    measured_for,
    report,
    use_dataset,
)
from .runs import LIVE_POLL_S, run_from_url, run_label, run_panel, run_results, store
from .session import PAGES, errors, go, keep, lang, next_button, set_kept, setup, sidebar, value

__all__ = [
    "LIVE_POLL_S", "PAGES", "adopt_run", "current_dataset", "current_recommendation", "dataset_caption",
    "default_model", "default_sim_choice", "errors", "go", "keep", "lang", "measured_for", "next_button",
    "report", "run_from_url", "run_label", "run_panel", "run_results", "set_kept", "setup", "sidebar", "store", "use_dataset",
    "value",
]
