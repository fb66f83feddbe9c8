"""The trainer: events, checkpoints, feature cache, stop signal, NaN and out-of-memory handling."""
import math

import pytest
import torch

from tlcore import events as ev
from tlcore.config import TrainConfig
from tlcore.errors import ConfigError, TrainingError
from tlcore.train import save_checkpoint_atomic, train


def _cfg(data, **kw):
    base = dict(data=str(data), model="labnet", plan="head", weights="none", epochs=2, batch_size=8, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def _collect():
    got = []
    return got, got.append


def test_config_round_trips_and_validates(tiny_dataset):
    cfg = _cfg(tiny_dataset, plan="top", top_stages=2, augment=True)
    assert TrainConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ConfigError):
        _cfg(tiny_dataset, epochs=0)
    with pytest.raises(ConfigError):
        _cfg(tiny_dataset, plan="half")
    with pytest.raises(ConfigError):
        TrainConfig.from_json({**cfg.to_json(), "bogus": 1})


def test_events_in_order_and_checkpoint(tiny_dataset, tmp_path):
    got, emit = _collect()
    ckpt = tmp_path / "best.pt"
    res = train(_cfg(tiny_dataset, plan="top", epochs=2), emit, checkpoint_path=ckpt)
    kinds = [e.kind for e in got]
    assert res.status == "completed" and res.epochs_completed == 2
    assert kinds.index("fit_start") < kinds.index("epoch_start") < kinds.index("batch") < kinds.index("epoch_end")
    assert kinds[-1] == "fit_end" and "evaluation" in kinds
    ends = [e for e in got if e.kind == "epoch_end"]
    assert [e.epoch for e in ends] == [1, 2]
    for e in ends:
        assert 0.0 <= e.val_accuracy <= 1.0 and math.isfinite(e.train_loss) and math.isfinite(e.val_loss)
    state = torch.load(ckpt, weights_only=True)
    assert state["classes"] == ["class_0", "class_1", "class_2"]
    assert state["val_accuracy"] == pytest.approx(max(e.val_accuracy for e in ends))
    evaluation = next(e for e in got if e.kind == "evaluation")
    assert len(evaluation.confusion) == 3 and len(evaluation.per_class_accuracy) == 3
    assert sum(map(sum, evaluation.confusion)) == next(e for e in got if e.kind == "fit_start").num_val


def test_seeded_cpu_runs_repeat(tiny_dataset):
    a, emit_a = _collect()
    b, emit_b = _collect()
    train(_cfg(tiny_dataset, plan="full", epochs=2, augment=True), emit_a)
    train(_cfg(tiny_dataset, plan="full", epochs=2, augment=True), emit_b)
    ea = [(e.train_loss, e.val_accuracy) for e in a if e.kind == "epoch_end"]
    eb = [(e.train_loss, e.val_accuracy) for e in b if e.kind == "epoch_end"]
    assert ea == eb


def test_feature_cache_matches_naive_loop(tmp_path):
    from tests.conftest import make_image_folder

    data = make_image_folder(tmp_path / "d", classes=3, per_class=30)
    got_c, emit_c = _collect()
    got_n, emit_n = _collect()
    res_c = train(_cfg(data, plan="head", epochs=4, lr=1e-2, cache_features=True), emit_c)
    res_n = train(_cfg(data, plan="head", epochs=4, lr=1e-2, cache_features=False), emit_n)
    assert next(e for e in got_c if e.kind == "fit_start").feature_cache is True
    assert next(e for e in got_n if e.kind == "fit_start").feature_cache is False
    assert abs(res_c.best_val_accuracy - res_n.best_val_accuracy) <= 0.01


def test_stop_signal_ends_with_stopped_and_keeps_checkpoint(tiny_dataset, tmp_path):
    got, emit = _collect()
    ckpt = tmp_path / "best.pt"

    def stop():
        return any(e.kind == "epoch_end" for e in got)

    res = train(_cfg(tiny_dataset, plan="top", epochs=50), emit, stop=stop, checkpoint_path=ckpt)
    assert res.status == "stopped" and res.epochs_completed == 1
    assert got[-1].kind == "cancelled"
    assert torch.load(ckpt, weights_only=True)["epoch"] == 1


def test_nan_loss_fails_with_a_clear_message(tiny_dataset):
    got, emit = _collect()
    with pytest.raises(TrainingError) as err:
        train(_cfg(tiny_dataset, plan="scratch", epochs=3, lr=1e6), emit)
    assert "learning rate" in str(err.value)
    assert got[-1].kind == "failed" and got[-1].code == "non_finite_loss"


def test_out_of_memory_retries_with_half_batch(tiny_dataset):
    from tlcore.faults import inject

    got, emit = _collect()
    emit, stop = inject("oom_once", emit, lambda: False)  # a subscriber raises on the first training batch
    res = train(_cfg(tiny_dataset, plan="top", epochs=1, batch_size=8), emit, stop)
    warn = [e for e in got if e.kind == "warning"]
    assert res.status == "completed"
    assert warn and warn[0].code == "oom_retry" and "(4)" in warn[0].message


def test_checkpoint_write_failure_keeps_the_good_file(tmp_path, monkeypatch):
    path = tmp_path / "best.pt"
    save_checkpoint_atomic({"v": torch.tensor(1)}, path)

    def broken_save(obj, f, *a, **k):
        with open(f, "wb") as fh:
            fh.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(TrainingError) as err:
        save_checkpoint_atomic({"v": torch.tensor(2)}, path)
    assert "No space left" in str(err.value)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True)["v"].item() == 1
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]


def test_body_learning_rate_follows_the_plan_or_the_override(tiny_dataset):
    def fit_start(**kw):
        got, emit = _collect()
        train(_cfg(tiny_dataset, epochs=1, lr=1e-2, **kw), emit)
        return next(e for e in got if e.kind == "fit_start")

    assert fit_start(plan="full").body_lr == pytest.approx(1e-3)  # the plan's 0.1x
    assert fit_start(plan="full", body_lr_mult=0.3).body_lr == pytest.approx(3e-3)
    assert fit_start(plan="top", top_stages=1).body_lr == pytest.approx(1e-2)
    head = fit_start(plan="head", body_lr_mult=0.3)
    assert head.body_lr == 0.0 and head.lr == pytest.approx(1e-2)
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ConfigError, match="multiplier"):
            _cfg(tiny_dataset, plan="full", body_lr_mult=bad)
