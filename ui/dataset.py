"""The session's dataset: choosing one, its id in the URL, reconnecting to a run's, and the map's answer for it."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from tlcore import service
from tlcore.errors import TLError
from tlcore.i18n import t

from .session import lang, set_kept, value
from .text import md

#: Settings that belong to one dataset: a new dataset starts them over (kept values and widget keys).
_PER_DATASET_KEPT = ("map_ipc", "sim_choice", "use_measured", "model", "plan", "top_stages", "augment", "shift_choice",
                     "block")
_PER_DATASET_WIDGETS = ("map_ipc", "sim_choice", "use_measured", "map_model", "train_model", "plan", "top_stages",
                        "augment", "shift_choice", "train_block")


@st.cache_resource(show_spinner=False, max_entries=32)
def inspect(path: str, stamp: float):
    """tlcore's dataset report, cached per folder and modification time (shared, never modified)."""
    return service.open_data(path)


def _stamp(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def use_dataset(path, source: str, name: str = "") -> dict:
    """Make ``path`` the session's dataset and put its id in the URL; returns its summary (kept in session state).

    ``source``: lab, upload, folder or built; ``name``: how the user knows it (a zip's file name,
    a folder's label); a lab dataset is named from its dials in the viewer's language.
    """
    path = str(path)
    rep = inspect(path, _stamp(path))
    counts = rep.train_counts
    smallest = min(counts, key=counts.get) if counts else ""
    ds = {
        "id": service.dataset_id(path), "path": path, "source": source, "name": name,
        "classes": list(rep.classes), "num_classes": rep.num_classes, "num_images": rep.num_images,
        "num_train": len(rep.train), "num_val": len(rep.val), "val_source": rep.val_source,
        "val_fraction": rep.val_fraction, "images_per_class": rep.images_per_class,
        "size_per_class": rep.size_per_class, "imbalanced": rep.imbalanced, "smallest_class": smallest,
        "lab": service.lab_info(path),
    }
    ss = st.session_state
    old = ss.get("dataset")
    if old and old.get("path") != path:
        # Another dataset: the map's answers, the pre-filled settings and the run views start over,
        # so that no page shows a run of the previous data under this one's name.
        ss["measured"] = None
        ss["what_if"] = None
        ss["current_run"] = None
        ss["compare_group"] = None
        for name_ in _PER_DATASET_KEPT:
            ss.pop(f"_keep_{name_}", None)
        for key in _PER_DATASET_WIDGETS:
            ss.pop(key, None)
    ss["dataset"] = ds
    service.touch_dataset(path)  # an open session's data is in use: the cache keeps it
    if ds["id"] and st.query_params.get("data") != ds["id"]:
        st.query_params["data"] = ds["id"]
    return ds


def _keep_choices_of(ds: dict) -> None:
    """The Data page's controls follow a dataset opened from a link or a run (source, dials, folder)."""
    if ds["source"] in ("lab", "photos", "upload", "folder"):
        set_kept("data_source", ds["source"])
    elif ds["source"] == "built":  # a saved set opens on the builder, which shows it as the current dataset
        set_kept("data_source", "build")
    if ds["lab"]:
        set_kept("lab_per_class", int(ds["lab"]["per_class"]))
        set_kept("lab_similarity", round(float(ds["lab"]["similarity"]), 2))
    elif ds["source"] == "folder":
        set_kept("root_folder", ds["name"])


def open_dataset_id(dataset_id: str) -> dict:
    """Make the dataset behind an id (from the URL or a run) the session's. Raises TLError when it is gone."""
    path = service.resolve_dataset(dataset_id)
    kind = service.dataset_kind(dataset_id) or "folder"
    name = {"upload": service.upload_name(dataset_id), "folder": dataset_id.partition(":")[2],
            "photos": t("source_photos", lang())}.get(kind) or Path(path).name
    ds = use_dataset(path, kind, name)
    _keep_choices_of(ds)
    return ds


def adopt_run(run_id: str) -> None:
    """A new session (a reload, a second tab) opened on a run takes that run's dataset and settings.

    A dataset named in the URL (``?data=``) comes first: the run panel then says that the run's data differ.
    """
    from .runs import store

    ss = st.session_state
    if ss.get("dataset") or ss.get("data_from_url") or ss.get("adopted") == run_id:
        return
    ss["adopted"] = run_id
    try:
        cfg = store().config(run_id)
    except Exception:  # noqa: BLE001 - an unknown or damaged run is reported by the run panel
        return
    if not use_run_data(cfg.data):
        return
    for name, val in (("model", cfg.model), ("plan", cfg.plan), ("top_stages", cfg.top_stages),
                      ("epochs", cfg.epochs), ("batch_size", cfg.batch_size), ("lr", cfg.head_lr)):
        set_kept(name, val, widget_key="train_model" if name == "model" else name)
    if cfg.augment is not None:
        set_kept("augment", cfg.augment)


def use_run_data(data_path: str) -> dict | None:
    """Make a run's dataset (its config's folder) the session's; None when it is no longer there."""
    data_id = service.dataset_id(data_path)
    try:
        if data_id:
            return open_dataset_id(data_id)
        if Path(data_path).is_dir():  # a folder given to the CLI: opened as it is, never named in a URL
            return use_dataset(data_path, "folder", Path(data_path).name)
    except TLError:
        return None
    return None


def current_dataset() -> dict:
    """The session's dataset: the one named in the URL on a new session, else the chosen one, else the lab's.

    A dataset id in the URL that no longer resolves leaves a notice (see :func:`dataset_notice`).
    """
    ss = st.session_state
    pending = ss.get("data_from_url")
    if pending:
        ss["data_from_url"] = None
        if (ss.get("dataset") or {}).get("id") != pending:
            try:
                with st.spinner(t("data_opening", lang())):
                    return open_dataset_id(pending)
            except TLError as err:
                ss["dataset_notice"] = str(err)
    ds = ss.get("dataset")
    if ds and Path(ds["path"]).exists():
        service.touch_dataset(ds["path"])  # in use while a page shows it: the cache keeps it
        return ds
    sim = value("lab_similarity", service.defaults.LAB_DEFAULT_SIMILARITY)
    per_class = value("lab_per_class", service.defaults.LAB_DEFAULT_PER_CLASS)
    with st.spinner(t("lab_preparing", lang())):
        path = service.lab_dataset(sim, per_class)
    return use_dataset(path, "lab")


def dataset_notice() -> None:
    """Say once, on the page, why the dataset in the link could not be opened."""
    notice = st.session_state.get("dataset_notice")
    if notice:
        st.session_state["dataset_notice"] = None
        st.warning(t("dataset_gone", lang(), error=md(notice)))


def report(ds: dict):
    return inspect(ds["path"], _stamp(ds["path"]))


def dataset_name(ds: dict, lang_: str | None = None) -> str:
    """How the dataset is shown (plain text: escape it with ui.md for Markdown)."""
    lab = ds.get("lab")
    if lab:
        return t("lab_label", lang_ or lang(), s=float(lab["similarity"]), n=int(lab["per_class"]))
    return ds.get("name") or Path(ds["path"]).name


def default_model(ds: dict) -> str:
    return service.default_model_for(ds["path"])


def default_sim_choice(ds: dict) -> str:
    lab = ds.get("lab")
    return service.similarity_choice_for(lab["similarity"]) if lab else "related"


def measured_for(ds: dict, model: str) -> dict | None:
    m = st.session_state.get("measured")
    return m if m and m.get("path") == ds["path"] and m.get("model") == model else None


def data_size(ds: dict) -> float:
    """The map's size input for the data: training images per class (the smallest class's when imbalanced)."""
    return float(ds["size_per_class"])


def current_recommendation(ds: dict, model: str):
    """The map's recommendation from the kept answers: (Recommendation, images per class, similarity source)."""
    ipc = value("map_ipc", None) or data_size(ds)
    m = measured_for(ds, model)
    if m and value("use_measured", True):
        sim, source = m["score"], "measured"
    else:
        choice = value("sim_choice", None) or default_sim_choice(ds)
        sim, source = service.SIMILARITY_CHOICES[choice], "user"
    return service.recommendation(ipc, ds["num_classes"], sim, source, model), float(ipc), source


def dataset_caption(ds: dict) -> str:
    """One line naming the dataset: name, images, classes and training images per class (Markdown)."""
    return t("dataset_caption", lang(), label=md(dataset_name(ds)), images=ds["num_images"],
             classes=ds["num_classes"], ipc=ds["images_per_class"])


def split_text(ds: dict, lang_: str | None = None) -> str:
    """How validation was set aside, e.g. "80 for training, 20 for validation (a random 20% of each class)"."""
    L = lang_ or lang()
    how = t("val_source_folder", L) if ds["val_source"] == "folder" else \
        t("val_source_split", L, pct=round(100 * float(ds["val_fraction"])))
    return t("data_split", L, train=ds["num_train"], val=ds["num_val"], how=how)


def size_explained(ds: dict, lang_: str | None = None) -> str:
    """Why the map's size is what it is: training images per class, or the smallest class's count (Markdown)."""
    L = lang_ or lang()
    if ds["imbalanced"]:
        return t("size_from_smallest", L, n=ds["size_per_class"], cls=md(ds["smallest_class"]),
                 mean=ds["images_per_class"])
    return t("size_from_training", L, n=ds["images_per_class"])
