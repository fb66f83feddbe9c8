"""Every GPU figure in one go (``bench/gpu_all.sh``): the benchmark, the real-photo flow, images kept on the GPU, DDP.

``python -m tlcore.bench.gpu_all --out FILE.json [--device cuda] [--tiny] [--skip-bench]`` runs, in order:

1. the benchmark (``tlcore.bench.run_bench``: every ratio with mixed precision and channels_last on
   for ours and the baselines; ``full_throughput_ratio`` there compares our trainer, whose decoded
   images sit on the GPU from epoch 2 on, with a plain loop whose data is on the GPU too);
2. the real-photo flow: efficientnet_lite0 (ImageNet weights shipped in a package) on the built-in
   photo dataset, a ``head`` run and a ``full`` run, with their training throughput (images per
   second, epochs 2..) and accuracy; skipped, saying why, in a build without that backbone;
3. whether a fit's decoded uint8 images moved to the GPU after epoch 1 (they do when they take at
   most 40 % of its free memory), and the data time of epoch 1 against epoch 2;
4. DDP: the same full fine-tune on 1 GPU and on every visible GPU through ``train --nproc-per-node``
   (torchrun, NCCL), images per second of epochs 2.. and the speed-up; skipped with one GPU.

The JSON file is rewritten after each part, so a part that runs out of time leaves the others'
figures. Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

from .. import events as ev
from ..fsutil import write_json_atomic
from .common import _log, machine_description

PHOTO_MODEL = "efficientnet_lite0"
#: Epochs of each real-photo run and of each DDP run (the first is a warm-up: not counted).
FLOW_EPOCHS = 4
DDP_EPOCHS = 4
#: The new output layer's learning rate in the real-photo runs (``full`` trains the body at a tenth of it).
FLOW_LR = {"head": 1e-2, "full": 1e-3}


def _throughput(events: list[ev.Event]) -> float | None:
    """Training images per second over epochs 2.. (epoch 1 warms up: cuDNN, first decode)."""
    ends = [e for e in events if isinstance(e, ev.EpochEnd)]
    rows = ends[1:] if len(ends) > 1 else ends
    secs = sum(e.train_seconds for e in rows)
    return sum(e.images for e in rows) / secs if secs > 0 else None


def device_info(device: torch.device) -> dict:
    info = {"machine": machine_description(), "torch_version": torch.__version__, "device": str(device),
            "cuda_available": torch.cuda.is_available(), "gpus_visible": torch.cuda.device_count()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(device_name=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    bf16=torch.cuda.is_bf16_supported(), cuda_version=torch.version.cuda)
    return info


def real_photo_flow(work: Path, device: torch.device, tiny: bool) -> dict:
    """(2) efficientnet_lite0, ``head`` and ``full``, on the built-in photos (or why it was skipped)."""
    from ..errors import TLError
    from ..models import get_spec
    from ..train import train

    try:
        get_spec(PHOTO_MODEL)
        from ..photos import make_photo_dataset  # comes with efficientnet_lite0 (the backbones work)
    except (TLError, ImportError) as exc:
        return {"skipped": f"{PHOTO_MODEL} or the built-in photo dataset is not in this build ({type(exc).__name__}: "
                           f"{str(exc)[:200]}); merge the branch that adds them and run this again"}
    try:
        data = make_photo_dataset(work / "photos", **({"per_class": 24, "val_per_class": 8} if tiny else {}))
    except TLError as exc:
        return {"skipped": f"the photo dataset could not be made: {exc}"}
    out: dict = {"model": PHOTO_MODEL, "data": str(data)}
    from ..config import TrainConfig

    for plan in ("head", "full"):
        got: list[ev.Event] = []
        t0 = time.perf_counter()
        cfg = TrainConfig(data=str(data), model=PHOTO_MODEL, plan=plan, weights="pretrained",
                          epochs=2 if tiny else FLOW_EPOCHS, batch_size=64, lr=FLOW_LR[plan], seed=0, device=str(device))
        result = train(cfg, got.append)
        fit = next(e for e in got if isinstance(e, ev.FitStart))
        out[plan] = {"status": result.status, "best_val_accuracy": round(result.best_val_accuracy, 4),
                     "images_per_s": _round(_throughput(got)), "seconds": round(time.perf_counter() - t0, 2),
                     "setup_seconds": round(fit.setup_seconds, 2), "cache_seconds": round(fit.cache_seconds, 2),
                     "num_train": fit.num_train, "num_val": fit.num_val, "device": fit.device}
        _log(f"real photos, {plan}: {out[plan]}")
    return out


def gpu_resident_images(work: Path, device: torch.device, tiny: bool) -> dict:
    """(3) a full fine-tune: did the decoded images move to the GPU after epoch 1, and what did it save?"""
    from ..config import TrainConfig
    from ..lab.world import write_imagefolder
    from ..train import Trainer

    data = write_imagefolder(work / "lab-resident", 0.8, 50 if tiny else 400, 0, 20 if tiny else 100, 6)
    got: list[ev.Event] = []
    cfg = TrainConfig(data=str(data), model="resnet50" if device.type == "cuda" else "labnet", plan="full",
                      weights="none" if device.type == "cuda" else "pretrained", epochs=3, batch_size=128,
                      image_size=160 if device.type == "cuda" else 32, seed=0, device=str(device), augment=False)
    trainer = Trainer(cfg, got.append)
    try:
        trainer.fit()
        on_gpu = [s.store._on_device is not None for s in (trainer.train, trainer.val)]
    finally:
        trainer.close()
    ends = [e for e in got if isinstance(e, ev.EpochEnd)]
    return {"images_on_gpu_after_epoch1": {"train": on_gpu[0], "validation": on_gpu[1]},
            "data_seconds_by_epoch": [round(e.data_seconds, 4) for e in ends],
            "images_per_s_by_epoch": [round(e.images / max(1e-9, e.train_seconds), 1) for e in ends],
            "decodes_after_epoch1": next(e for e in got if isinstance(e, ev.FitEnd)).decodes_after_epoch1}


def ddp_scaling(work: Path, device: torch.device, tiny: bool) -> dict:
    """(4) images per second on 1 GPU and on all of them, through ``python -m tlcore train --nproc-per-node``."""
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    if gpus < 2:
        return {"skipped": f"{gpus} GPU visible: DDP needs two or more", "gpus": gpus}
    from ..lab.world import write_imagefolder

    data = write_imagefolder(work / "lab-ddp", 0.8, 100 if tiny else 800, 0, 50, 6)
    out: dict = {"gpus": gpus, "model": "resnet50", "image_size": 160, "global_batch": 256}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TLCORE_FEATURE_CACHE": "0"}
    for n in (1, gpus):
        cmd = [sys.executable, "-m", "tlcore", "train", str(data), "--model", "resnet50", "--weights", "none",
               "--plan", "full", "--image-size", "160", "--batch-size", "256", "--epochs", str(DDP_EPOCHS),
               "--no-augment", "--nproc-per-node", str(n), "--runs-dir", str(work / f"runs-ddp{n}"), "--json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            out[f"gpus_{n}"] = {"error": (proc.stderr or proc.stdout)[-1500:]}
            continue
        result = json.loads(proc.stdout)
        from ..runs import read_events

        events = read_events(result["run_dir"])[0]
        out[f"gpus_{n}"] = {"images_per_s": _round(_throughput(events)), "best_val_accuracy": result["best_val_accuracy"],
                            "device": next(e.device for e in events if isinstance(e, ev.FitStart))}
        _log(f"DDP on {n} GPU(s): {out[f'gpus_{n}']}")
    one, all_ = (out.get(f"gpus_{k}", {}).get("images_per_s") for k in (1, gpus))
    if one and all_:
        out["speedup"] = round(all_ / one, 3)
        out["efficiency"] = round(all_ / one / gpus, 3)
    return out


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tlcore.bench.gpu_all", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="the JSON file to write (rewritten after each part)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--tiny", action="store_true", help="a short smoke run of every part")
    p.add_argument("--skip-bench", action="store_true", help="leave out part 1 (the benchmark)")
    args = p.parse_args(argv)
    from ..train import pick_device

    device = pick_device(args.device)
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    result: dict = {"device": device_info(device), "tiny": args.tiny, "parts": {}}
    t_all = time.time()
    parts = [("real_photo_flow", real_photo_flow), ("gpu_resident_images", gpu_resident_images),
             ("ddp", ddp_scaling)]
    if not args.skip_bench:
        from . import run_bench

        parts.insert(0, ("bench", lambda work, dev, tiny: run_bench(tiny=tiny, device=str(dev))))
    with tempfile.TemporaryDirectory(prefix="tlcore-gpu-all-") as tmp:
        for name, part in parts:
            _log(f"gpu_all: {name}")
            t0 = time.time()
            (Path(tmp) / name).mkdir()
            try:
                result["parts"][name] = part(Path(tmp) / name, device, args.tiny)
            except Exception as exc:  # noqa: BLE001 - one part failing leaves the others' figures
                traceback.print_exc()
                result["parts"][name] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
            result["parts"][name + "_seconds"] = round(time.time() - t0, 1)
            result["seconds"] = round(time.time() - t_all, 1)
            write_json_atomic(out_path, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
