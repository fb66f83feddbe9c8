"""The app's Streamlit helpers, shared by app.py and the pages: session and navigation, the dataset, run views.

Only this package, app.py and views/ import streamlit. Pages import ``ui`` and the
application layer (tlcore.service), plus tlcore.i18n and tlcore.viz for text and charts.
"""
from .cache_view import cache_panel
from .compare_view import comparison
from .data_view import data_summary
from .dataset import (
    adopt_run,
    current_dataset,
    current_recommendation,
    data_size,
    dataset_caption,
    dataset_name,
    dataset_notice,
    default_model,
    default_sim_choice,
    measured_for,
    report,
    size_explained,
    split_text,
    use_dataset,
)
from .mapping import measure, to_train, train_button_label, what_if_reason
from .runs import (
    LIVE_POLL_S,
    current_data_first,
    has_model,
    run_data,
    run_from_url,
    run_info,
    run_label,
    run_panel,
    run_results,
    runs_table,
    store,
)
from .session import PAGES, errors, go, hold, keep, lang, nav_params, next_button, set_kept, setup, sidebar, value
from .text import clock, md, size_text, warning_md, zone_label
from .train_view import device_text, settings_open, start_run

__all__ = [
    "LIVE_POLL_S", "PAGES", "adopt_run", "cache_panel", "clock", "comparison", "current_data_first",
    "current_dataset", "current_recommendation", "data_size", "data_summary", "dataset_caption", "dataset_name",
    "dataset_notice", "default_model", "default_sim_choice", "device_text", "errors", "go", "has_model", "hold",
    "keep", "lang", "md", "measure", "measured_for", "nav_params", "next_button", "report", "run_data",
    "run_from_url", "run_info", "run_label", "run_panel", "run_results", "runs_table", "set_kept", "settings_open",
    "setup", "sidebar", "size_explained", "size_text", "split_text", "start_run", "store", "to_train",
    "train_button_label", "use_dataset", "value", "warning_md", "what_if_reason", "zone_label",
]
