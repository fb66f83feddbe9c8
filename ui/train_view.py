"""The Train page's pieces: the device in the viewer's language, starting a run, which run the page shows."""
from __future__ import annotations

import streamlit as st

from tlcore import service
from tlcore.i18n import t

from .dataset import dataset_name
from .runs import store
from .session import lang


def device_text() -> str:
    """"Runs on: CPU (2 cores, 2 threads)." in the viewer's language."""
    L = lang()
    d = service.device_summary()
    if d.kind == "cpu" and d.cores:
        detail = t("device_cpu_detail", L, cores=d.cores, threads=d.threads)
    elif d.kind == "cuda" and d.memory_gib:
        detail = t("device_gpu_detail", L, gib=d.memory_gib)
    else:
        detail = d.detail
    return t("device_caption", L, name=d.name, detail=detail) if detail else t("device_caption_plain", L, name=d.name)


def start_run(ds: dict, settings: dict, quadrant: int) -> None:
    """Start a run of ``settings`` on the dataset; its id goes to the session and the URL; the settings fold away."""
    config = service.make_config(ds["path"], **settings)
    run_id = service.start_run(store(), config, quadrant=quadrant, dataset=dataset_name(ds, "en"),
                               num_classes=ds["num_classes"])
    st.session_state["current_run"] = run_id
    st.session_state["train_settings_open"] = False
    st.query_params["run"] = run_id


def settings_open(run_id: str | None) -> bool:
    """The settings are open with no run to show, and when the map just sent a plan (Start then shows at once)."""
    ss = st.session_state
    if ss.pop("train_fresh", False):
        ss["train_settings_open"] = True
    return not run_id or bool(ss.get("train_settings_open", False))
