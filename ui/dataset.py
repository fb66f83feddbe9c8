"""The session's dataset: choosing one, reconnecting to a run's, and the map's answer for it."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from tlcore import service
from tlcore.i18n import t

from .session import lang, set_kept, value


@st.cache_resource(show_spinner=False, max_entries=32)
def inspect(path: str, stamp: float):
    """tlcore's dataset report, cached per folder and modification time (shared, never modified)."""
    return service.open_data(path)


def _stamp(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def use_dataset(path, source: str, label: str) -> dict:
    """Make ``path`` the session's dataset; returns its summary (also kept in session state)."""
    path = str(path)
    rep = inspect(path, _stamp(path))
    ds = {
        "path": path, "source": source, "label": label, "classes": list(rep.classes),
        "num_classes": rep.num_classes, "num_images": rep.num_images,
        "images_per_class": rep.images_per_class, "lab": service.lab_info(path),
    }
    old = st.session_state.get("dataset")
    if not old or old.get("path") != path:
        # A new dataset: the map's answers and the pre-filled settings start over.
        st.session_state["measured"] = None
        st.session_state["what_if"] = None
        for name in ("map_ipc", "sim_choice", "use_measured", "model", "plan", "top_stages", "augment"):
            st.session_state.pop(f"_keep_{name}", None)
        for key in ("map_ipc", "sim_choice", "use_measured", "map_model", "train_model", "plan", "top_stages", "augment"):
            st.session_state.pop(key, None)
    st.session_state["dataset"] = ds
    service.touch_dataset(path)  # an open session's data is in use: the cache keeps it
    return ds


def adopt_run(run_id: str) -> None:
    """A new session (a reload, a second tab) opened on a run takes that run's dataset and settings."""
    from .runs import store

    if st.session_state.get("dataset") or st.session_state.get("adopted") == run_id:
        return
    st.session_state["adopted"] = run_id
    try:
        cfg = store().config(run_id)
    except Exception:  # noqa: BLE001 - an unknown or damaged run is reported by the run panel
        return
    if not Path(cfg.data).is_dir():
        return
    lab = service.lab_info(cfg.data)
    label = t("lab_label", lang(), s=lab["similarity"], n=lab["per_class"]) if lab else Path(cfg.data).name
    use_dataset(cfg.data, "lab" if lab else "folder", label)
    for name, val in (("model", cfg.model), ("plan", cfg.plan), ("top_stages", cfg.top_stages),
                      ("epochs", cfg.epochs), ("batch_size", cfg.batch_size), ("lr", cfg.lr)):
        set_kept(name, val, widget_key="train_model" if name == "model" else name)
    if cfg.augment is not None:
        set_kept("augment", cfg.augment)


def report(ds: dict):
    return inspect(ds["path"], _stamp(ds["path"]))


def current_dataset() -> dict:
    """The session's dataset; the default lab dataset when none was chosen (or it vanished)."""
    ds = st.session_state.get("dataset")
    if ds and Path(ds["path"]).exists():
        return ds
    sim = value("lab_similarity", service.defaults.LAB_DEFAULT_SIMILARITY)
    per_class = value("lab_per_class", service.defaults.LAB_DEFAULT_PER_CLASS)
    with st.spinner(t("lab_preparing", lang())):
        path = service.lab_dataset(sim, per_class)
    return use_dataset(path, "lab", t("lab_label", lang(), s=sim, n=per_class))


def default_model(ds: dict) -> str:
    return service.default_model_for(ds["path"])


def default_sim_choice(ds: dict) -> str:
    lab = ds.get("lab")
    return service.similarity_choice_for(lab["similarity"]) if lab else "related"


def measured_for(ds: dict, model: str) -> dict | None:
    m = st.session_state.get("measured")
    return m if m and m.get("path") == ds["path"] and m.get("model") == model else None


def current_recommendation(ds: dict, model: str):
    """The map's recommendation from the kept answers: (Recommendation, images per class, similarity source)."""
    ipc = value("map_ipc", None) or ds["images_per_class"]
    m = measured_for(ds, model)
    if m and value("use_measured", True):
        sim, source = m["score"], "measured"
    else:
        choice = value("sim_choice", None) or default_sim_choice(ds)
        sim, source = service.SIMILARITY_CHOICES[choice], "user"
    return service.recommendation(ipc, ds["num_classes"], sim, source, model), float(ipc), source


def dataset_caption(ds: dict) -> str:
    return t("dataset_caption", lang(), label=ds["label"], images=ds["num_images"], classes=ds["num_classes"],
             ipc=ds["images_per_class"])
