"""The gradient probe: one relative gradient norm per layer group, no weight but the head's changed, and the
block it suggests on the lab's kinds of shift."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from tlcore import models, probe
from tlcore.lab import world


def _arrays(kind: str, per_class: int = 24, seed: int = 0):
    x, y, _ = world.make_shift(kind, per_class, seed)
    return x, y


def test_probe_returns_one_value_per_group_and_leaves_the_body_alone():
    x, y = _arrays("feature", 12)
    spec = models.get_spec("labnet")
    net = models.build_model("labnet", 6, "pretrained")
    body = {k: v.clone() for k, v in net.state_dict().items() if not k.startswith("groups.head")}
    images = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    result = probe.probe_network(net, images, torch.as_tensor(y), models.Normalize(spec.mean, spec.std))
    with_params = [n for n in net.group_names if any(True for _ in net.groups[n].parameters())]
    assert [g.name for g in result.groups] == with_params == ["stem", "stage1", "stage2", "stage3", "stage4", "head"]
    assert all(math.isfinite(g.rgn) and g.rgn > 0 for g in result.groups)
    assert [g.params for g in result.groups] == [sum(p.numel() for p in net.groups[n].parameters()) for n in with_params]
    after = net.state_dict()
    for k, v in body.items():  # no optimizer step, and BatchNorm's running statistics restored
        assert torch.equal(after[k], v), k
    assert not result.reference and result.block == "", "without a reference the probe suggests nothing"
    assert max(g.relative for g in result.groups if g.name != "head") == pytest.approx(1.0)
    assert result.batches == probe.BATCHES and result.images == len(y)


def test_probe_json_and_position():
    assert probe.block_position(["stem", "stage1", "stage2", "stage3", "stage4"], "stem") == "first"
    assert probe.block_position(["stem", "stage1", "stage2", "stage3", "stage4"], "stage2") == "middle"
    assert probe.block_position(["stem", "stage1", "stage2", "stage3", "stage4"], "stage4") == "last"
    blocks = ["stem", "stage1", "stage2", "stage3", "stage4"]
    u_shaped = {"stem": 3.8, "stage1": 2.5, "stage2": 2.2, "stage3": 2.6, "stage4": 3.1}
    assert probe.suggest(blocks, u_shaped) == ("stage4", "last", "even"), "no early departure: the output side"
    fading = {"stem": 22.0, "stage1": 16.0, "stage2": 11.0, "stage3": 8.0, "stage4": 4.0}
    assert probe.suggest(blocks, fading) == ("stem", "first", "early")
    bump = {"stem": 2.0, "stage1": 3.0, "stage2": 4.0, "stage3": 2.5, "stage4": 2.0}
    assert probe.suggest(blocks, bump) == ("stage2", "middle", "middle")


def test_probe_compares_with_the_pretraining_images_for_labnet(tiny_dataset):
    result = probe.probe_dataset(tiny_dataset, "labnet")
    assert result.reference and result.block and result.position in ("first", "middle", "last")
    ref = probe.reference_rgn("labnet", "pretrained", 3)
    for g in result.groups:
        assert g.relative == pytest.approx(g.rgn / ref[g.name])
    assert probe.reference_rgn("labnet", "none", 3) is None, "random weights were not pretrained on anything"
    assert probe.pretraining_images("resnet18", 8) is None, "no ImageNet images ship with the app"
    json.dumps(result.to_json())


@pytest.mark.slow
@pytest.mark.parametrize("kind, position", [("input", "first"), ("output", "last")])
def test_probe_points_at_the_block_the_lab_measured(kind, position):
    """The surgical experiment found the first block best on input-level shift, the last on output-level."""
    x, y = _arrays(kind, 50, seed=1)
    assert probe.probe_arrays(x, y, "labnet").position == position


def test_cli_probe_json(tiny_dataset):
    out = subprocess.run([sys.executable, "-m", "tlcore", "probe", str(tiny_dataset), "--model", "labnet", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [g["name"] for g in result["groups"]] == ["stem", "stage1", "stage2", "stage3", "stage4", "head"]
    assert "surgical" in result["suggestion"]
    assert np.isfinite([g["rgn"] for g in result["groups"]]).all()


def test_every_suggestion_has_its_text():
    from tlcore.i18n import TEXT

    for why in ("early", "middle", "even"):
        assert f"probe_suggest_{why}" in TEXT["en"] and f"probe_suggest_{why}" in TEXT["ko"]
