"""Backbones: the registry of layer groups as data, building them, and their pretrained weights."""
from .build import PRETRAINED, RANDOM, build_model
from .grouped import GroupedNet, Normalize, count_params
from .registry import IMAGENET_MEAN, IMAGENET_STD, REGISTRY, BackboneSpec, get_spec, list_models
from .weights import (
    fetch_imagenet_weights,
    imagenet_weights_path,
    imagenet_weights_url,
    load_matching,
    load_weights_file,
    torch_hub_checkpoints_dir,
)

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "PRETRAINED", "RANDOM", "REGISTRY",
    "BackboneSpec", "GroupedNet", "Normalize",
    "build_model", "count_params", "fetch_imagenet_weights", "get_spec", "imagenet_weights_path", "imagenet_weights_url", "list_models",
    "load_matching", "load_weights_file", "torch_hub_checkpoints_dir",
]
