"""The application layer: what the app's pages and the CLI call. Both go through here, and nothing here prints.

``datasets``: the lab's, uploads, folders; ``mapping``: similarity and the decision map;
``training``: configs, checks and runs; ``compare``: comparisons and their verdict;
``predict``: trained models on new images; ``explain``: Grad-CAM, verified exports and
predictions with a run or an exported folder; ``weights``: backbones' weights, the weights folders
and uploads; ``defaults``: what the app offers and pre-fills; ``calibration``: map boundaries
measured per backbone; ``curve``: learning curves.
"""
from . import defaults

# -- issue #11, item 4: build a dataset in the browser (used as ``service.builder.<name>``) --
from . import builder
# -- end issue #11, item 4 --
from .calibration import boundaries_for, calibration_for, sweep_for
from .curve import DEFAULT_FRACTIONS as CURVE_DEFAULT_FRACTIONS
from .curve import DEFAULT_PLANS as CURVE_DEFAULT_PLANS
from .curve import curve_summary, start_curve
from .compare import (
    CompareRow,
    CompareSummary,
    Verdict,
    compare_rows,
    compare_summary,
    compare_verdict,
    lab_recipe_applies,
    lab_recipe_epochs,
    start_compare,
)
from .datasets import (
    DATASET_KINDS,
    cache_usage,
    clear_cache,
    dataset_id,
    dataset_kind,
    default_model_for,
    inspect_dataset,
    lab_dataset,
    lab_info,
    list_root_folders,
    make_lab_dataset,
    open_data,
    resolve_dataset,
    photo_dataset,
    photo_info,
    resolve_root_folder,
    sample_images,
    save_upload,
    touch_dataset,
    upload_name,
)
from .explain import (
    MAX_BARS,
    Explainer,
    ExportSummary,
    ImageExplanation,
    ModelRef,
    Prediction,
    existing_export,
    explain_to_file,
    export_fingerprint,
    export_formats,
    export_run,
    export_zip,
    open_model,
    predict_images,
    resolve_run,
)
from .mapping import (
    list_models,
    measure_similarity,
    num_stages,
    plan_preview,
    recommend_for,
    recommendation,
    similarity_choice_for,
    similarity_value,
    what_if,
)
from .predict import Predictor
from .weights import (
    WeightsChoice,
    check_weights,
    list_weights_files,
    model_infos,
    model_offline,
    resolve_weights_file,
    save_weights_upload,
)
from .training import (
    DeviceSummary,
    check_run,
    checkpoint_bytes,
    device_summary,
    finished_runs,
    make_config,
    run_details,
    run_result,
    run_samples,
    run_store,
    start_run,
    watch,
    weights_missing,
)
from ..data.images import IMAGE_EXTENSIONS
from ..decision import RULE_OF_THUMB
from ..decision import USER_SIMILARITY_CHOICES as SIMILARITY_CHOICES
from ..decision import size_category
from ..errors import TLError
from ..paths import data_roots
from ..plans import COMPARE_DEFAULT, PLAN_NAMES
from ..runs import validate_run_id

__all__ = [name for name in dir() if not name.startswith("_")]
