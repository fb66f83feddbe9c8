"""Backbones: the registry of layer groups as data, building them, and their pretrained weights."""
from .build import PRETRAINED, RANDOM, build_model, check_weights, weights_fingerprint, weights_kind
from .grouped import GroupedNet, Normalize, count_params
from .registry import IMAGENET_MEAN, IMAGENET_STD, REGISTRY, TIMM_PREFIX, BackboneSpec, get_spec, list_models
from .weights import (
    WEIGHTS_SUFFIXES,
    WeightsFile,
    WeightsNote,
    fetch_imagenet_weights,
    fit_state,
    imagenet_weights_path,
    imagenet_weights_url,
    load_matching,
    load_weights_file,
    pretrained_location,
    pretrained_offline,
    read_weights_file,
    torch_hub_checkpoints_dir,
)

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "PRETRAINED", "RANDOM", "REGISTRY", "TIMM_PREFIX", "WEIGHTS_SUFFIXES",
    "BackboneSpec", "GroupedNet", "Normalize", "WeightsFile", "WeightsNote",
    "build_model", "check_weights", "count_params", "fetch_imagenet_weights", "fit_state", "get_spec",
    "imagenet_weights_path", "imagenet_weights_url", "list_models", "load_matching", "load_weights_file",
    "pretrained_location", "pretrained_offline", "read_weights_file", "torch_hub_checkpoints_dir",
    "weights_fingerprint", "weights_kind",
]
