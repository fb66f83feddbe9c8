"""Command-line interface: python -m tlcore inspect | recommend | train | runs | lab | bench."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .errors import ConfigError, TLError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one ``error:`` line (exit 2)."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=None))


# ---------------------------------------------------------------------------
# Shared logic the app also calls


def default_model_for(path: str | Path) -> str:
    """labnet for lab datasets (they carry lab.json), resnet18 otherwise."""
    p = Path(path)
    return "labnet" if p.is_dir() and (p / "lab.json").exists() else "resnet18"


def inspect_dataset(path: str | Path, work_dir: str | Path | None = None) -> dict:
    import shutil
    import tempfile

    from .data import open_dataset
    from .decision import is_size_borderline, size_category

    scratch = None
    if work_dir is None and Path(path).is_file():
        scratch = work_dir = tempfile.mkdtemp(prefix="tlcore-inspect-")  # a zip: extract, count, clean up
    try:
        report = open_dataset(path, work_dir=work_dir)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    out = report.to_json()
    out["size"] = size_category(report.images_per_class)
    out["size_borderline"] = is_size_borderline(report.images_per_class)
    return out


def parse_similarity(value: str) -> float | None:
    """``auto`` -> None (measure it); a number in 0..1; or a named answer."""
    from .decision import USER_SIMILARITY_CHOICES

    if value is None or value == "auto":
        return None
    if value in USER_SIMILARITY_CHOICES:
        return USER_SIMILARITY_CHOICES[value]
    try:
        v = float(value)
    except ValueError:
        raise ConfigError(
            f"--similarity must be auto, a number from 0 to 1, or one of {', '.join(USER_SIMILARITY_CHOICES)}; not {value!r}."
        ) from None
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"--similarity must be between 0 and 1, not {v}.")
    return v


def recommend_for(path: str | Path, model: str, similarity: float | None, weights: str = "pretrained",
                  progress=None) -> dict:
    """Inspect, measure or take the similarity, and apply the decision rule."""
    from .data import materialize_dataset, open_dataset
    from .decision import DatasetProfile, recommend
    from .models import build_model, get_spec

    get_spec(model)
    path = materialize_dataset(path)
    report = open_dataset(path)
    measured = None
    if similarity is None:
        from .similarity import measure_similarity

        measured = measure_similarity(path, model_name=model, weights=weights, progress=progress)
        similarity, source = measured.score, "measured"
    else:
        source = "user"
    num_stages = len(build_model(model, 2, "none").stage_names)
    rec = recommend(DatasetProfile(report.images_per_class, report.num_classes, similarity, source, num_stages))
    out = rec.to_json()
    out.update(
        model=model,
        images_per_class=report.images_per_class,
        num_classes=report.num_classes,
        num_images=report.num_images,
    )
    if measured is not None:
        out["similarity_detail"] = measured.to_json()
    return out


# ---------------------------------------------------------------------------
# Commands


def cmd_inspect(args) -> int:
    info = inspect_dataset(args.path)
    if args.json:
        _print_json(info)
        return 0
    print(f"{info['num_images']} usable images in {info['num_classes']} classes "
          f"({info['images_per_class']:.0f} per class: {info['size']})")
    width = max(len(c) for c in info["class_counts"])
    for name, count in info["class_counts"].items():
        print(f"  {name:<{width}}  {count}")
    if info["skipped"]:
        print(f"{len(info['skipped'])} files skipped:")
        for s in info["skipped"][:50]:
            print(f"  {s['path']}: {s['reason']} {s.get('detail', '')}".rstrip())
    for w in info.get("warnings", []):
        print(f"warning: {w['code']} {w.get('params', '')}")
    return 0


def cmd_recommend(args) -> int:
    model = args.model or default_model_for(args.path)
    out = recommend_for(args.path, model, parse_similarity(args.similarity), args.weights)
    if args.json:
        _print_json(out)
        return 0
    print(f"Quadrant {out['quadrant']} ({out['size']}, similarity {out['similarity']:.2f} {out['similarity_source']})")
    print(f"Plan: {out['plan']}" + (f" (last {out['top_stages']} stages)" if out["plan"] == "top" else "")
          + (", with augmentation" if out["augment"] else ""))
    for r in out["reasons"]:
        print(f"  - {r}")
    return 0


def _progress_line(ev: dict, epochs: int, last_val: float | None) -> str:
    step, steps = ev.get("step", 0), max(1, ev.get("steps", 1))
    frac = step / steps
    bar = "#" * int(frac * 20) + "." * (20 - int(frac * 20))
    eta = int(ev.get("eta_s", 0))
    val = f"  val acc {last_val:.3f}" if last_val is not None else ""
    return (f"\repoch {ev.get('epoch', 0)}/{epochs} [{bar}] {frac * 100:3.0f}% "
            f"{ev.get('images_per_sec', 0):.0f} img/s ETA {eta // 60}:{eta % 60:02d}{val}   ")


def follow_run(store, run_id: str, quiet: bool) -> dict:
    """Tail a run's events until it ends, drawing a progress bar on stderr."""
    from .runs import FINAL_STATES

    offset, epochs, last_val = 0, 0, None
    out = sys.stderr
    try:
        while True:
            evs, offset = store.events(run_id, offset)
            for e in evs:
                k = e.get("kind")
                if k == "fit_start":
                    epochs = e["epochs"]
                    if not quiet:
                        out.write(f"training {e['model']} with plan '{e['plan']}' on {e['device']}: "
                                  f"{e['num_train']} train / {e['num_val']} val images, "
                                  f"{e['trainable_params']:,} trainable of {e['trainable_params'] + e['frozen_params']:,} parameters"
                                  f"{' (frozen features cached)' if e.get('feature_cache') else ''}\n")
                elif k == "status" and not quiet:
                    out.write(f"\r{e['message']}" + (f" {e['fraction'] * 100:.0f}%" if e.get("fraction") else "") + "          ")
                elif k == "batch" and not quiet:
                    out.write(_progress_line(e, epochs, last_val))
                elif k == "epoch_end":
                    last_val = e["val_accuracy"]
                    if not quiet:
                        out.write(f"\repoch {e['epoch']}/{epochs}: train acc {e['train_accuracy']:.3f} loss {e['train_loss']:.3f}"
                                  f" | val acc {e['val_accuracy']:.3f} loss {e['val_loss']:.3f} ({e['seconds']:.1f} s)"
                                  f"{' *' if e.get('best') else ''}                    \n")
                elif k == "warning" and not quiet:
                    out.write(f"\nwarning: {e['message']}\n")
                out.flush()
            info = store.get(run_id)
            if info.status in FINAL_STATES:
                evs, offset = store.events(run_id, offset)
                if evs:
                    continue
                if not quiet:
                    out.write("\n")
                return info.to_json()
            time.sleep(0.2)
    except KeyboardInterrupt:
        out.write("\nstopping...\n")
        return store.stop(run_id, wait=True).to_json()


def build_train_config(args) -> "TrainConfig":  # noqa: F821
    from .config import TrainConfig
    from .data import materialize_dataset
    from .models import get_spec

    data = str(materialize_dataset(args.path).resolve()) if os.path.exists(args.path) else args.path
    model = args.model or default_model_for(data)
    get_spec(model)
    plan, quadrant, top_stages, augment = args.plan, 0, args.top_stages, args.augment
    if plan == "auto":
        rec = recommend_for(data, model, parse_similarity(args.similarity), args.weights)
        plan, quadrant = rec["plan"], rec["quadrant"]
        top_stages = top_stages or rec["top_stages"] or 1
        if augment is None:
            augment = rec["augment"]
    weights = "pretrained" if args.weights == "imagenet" and model == "labnet" else args.weights
    return TrainConfig(
        data=data, model=model, plan=plan, weights=weights, top_stages=top_stages or 1, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, image_size=args.image_size or 0, augment=augment,
        body_lr_mult=args.body_lr_mult,
        seed=args.seed, device=args.device, quadrant=quadrant,
    )


def cmd_train(args) -> int:
    from .data import open_dataset
    from .runs import RunStore

    config = build_train_config(args)
    open_dataset(config.data)  # refuse bad data here, with the same message, before a process starts
    if config.weights not in ("none", "pretrained", "imagenet") and not Path(config.weights).is_file():
        raise ConfigError(f"Weights file not found: {config.weights}.", "Give an existing file, or use imagenet or none.")
    store = RunStore(args.runs_dir)
    run_id = store.start(config)
    if not args.json:
        print(f"run {run_id} in {store.run_dir(run_id)}", file=sys.stderr)
    info = follow_run(store, run_id, quiet=args.json)
    result = {
        "run_id": run_id,
        "run_dir": info["run_dir"],
        "status": info["status"],
        "best_val_accuracy": info["best_val_accuracy"],
        "epochs_completed": info["epochs_completed"],
        "plan": config.plan,
        "model": config.model,
        "message": info.get("message", ""),
    }
    if info["status"] == "failed":
        if args.json:
            _print_json(result)
        code = info.get("error_code") or ""
        print(f"error: {info.get('message') or 'the run failed'}", file=sys.stderr)
        return 1 if code in ("internal", "process_died") else 2
    if args.json:
        _print_json(result)
    else:
        print(f"{info['status']}: best validation accuracy {info['best_val_accuracy']:.3f} after "
              f"{info['epochs_completed']} epochs; model saved to {Path(info['run_dir']) / 'best.pt'}")
    return 0


def cmd_runs(args) -> int:
    from .runs import RunStore

    store = RunStore(args.runs_dir)
    if args.action == "stop":
        info = store.stop(args.run_id, wait=True)
        print(json.dumps(info.to_json()) if args.json else f"{info.run_id}: {info.status}")
        return 0
    if args.action == "delete":
        store.delete(args.run_id)
        if not args.json:
            print(f"deleted {args.run_id}")
        return 0
    if args.action == "show":
        info = store.get(args.run_id)
        if args.json:
            evs, _ = store.events(args.run_id)
            _print_json({**info.to_json(), "epochs_log": [e for e in evs if e.get("kind") == "epoch_end"]})
        else:
            print(f"{info.run_id}: {info.status} {info.model}/{info.plan} best {info.best_val_accuracy:.3f} {info.message}")
        return 0
    runs = [r.to_json() for r in store.list()]
    if args.json:
        _print_json(runs)
        return 0
    if not runs:
        print(f"no runs in {store.runs_dir}")
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created"]))
        print(f"{r['run_id']:<40} {r['status']:<10} {r['model']:<18} {r['plan']:<8} "
              f"best {r['best_val_accuracy']:.3f}  epochs {r['epochs_completed']}/{r['epochs']}  {when}")
    return 0


def cmd_worker(args) -> int:
    from .worker import run_worker

    return run_worker(args.run_dir)


def cmd_lab(args) -> int:
    if args.lab_cmd == "make":
        from .lab.world import write_imagefolder

        if not 0.0 <= args.similarity <= 1.0:
            raise ConfigError(f"--similarity must be between 0 and 1, not {args.similarity}.")
        if args.per_class < 2:
            raise ConfigError(f"--per-class must be at least 2, not {args.per_class}.")
        out = write_imagefolder(Path(args.out), args.similarity, args.per_class, seed=args.seed,
                                val_per_class=args.val_per_class, num_classes=args.classes)
        info = {"path": str(out), "similarity": args.similarity, "per_class": args.per_class, "seed": args.seed}
        print(json.dumps(info) if args.json else f"wrote lab dataset to {out}")
        return 0
    if args.lab_cmd == "pretrain":
        from .lab.pretrain import pretrain

        from .lab.pretrain import DEFAULT_EPOCHS, DEFAULT_PER_CLASS

        record = pretrain(seed=args.seed, per_class=args.per_class or DEFAULT_PER_CLASS, epochs=args.epochs or DEFAULT_EPOCHS)
        print(json.dumps(record) if args.json else f"labnet pretrained: source accuracy {record.get('source_accuracy')}")
        return 0
    if args.lab_cmd == "experiment":
        from .lab.experiment import main_experiment

        return main_experiment(quick=args.quick, as_json=args.json, seeds=args.seeds, workdir=args.workdir,
                               jobs=args.jobs)
    raise ConfigError("Unknown lab command.")


def cmd_bench(args) -> int:
    from .bench import main_bench

    return main_bench(tiny=args.tiny, as_json=args.json, device=args.device)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m tlcore", description="Transfer Learning Decision Map: inspect, recommend, train.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    s = sub.add_parser("inspect", help="count images per class and list unusable files")
    s.add_argument("path", help="a folder with one subfolder per class, or a .zip")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("recommend", help="place the dataset on the size-similarity map and recommend a plan")
    s.add_argument("path")
    s.add_argument("--model", default=None, help="backbone (default: labnet for lab data, else resnet18)")
    s.add_argument("--weights", default="pretrained", help="pretrained|imagenet|FILE, used to measure similarity")
    s.add_argument("--similarity", default="auto", help="auto (measure), a number 0..1, or same_world|related|somewhat_different|very_different")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_recommend)

    s = sub.add_parser("train", help="train a model with a freeze plan (a run process with its own run directory)")
    s.add_argument("path")
    s.add_argument("--model", default=None)
    s.add_argument("--plan", default="auto", choices=["auto", "head", "top", "full", "scratch"])
    s.add_argument("--top-stages", type=int, default=0, help="for --plan top: how many last stages train (default: 1, or the map's choice)")
    s.add_argument("--weights", default="imagenet", help="imagenet|none|FILE (labnet: its shipped lab weights)")
    s.add_argument("--similarity", default="auto", help="for --plan auto: auto or a value (see recommend)")
    s.add_argument("--epochs", type=int, default=5)
    s.add_argument("--batch-size", type=int, default=32)
    s.add_argument("--lr", type=float, default=1e-3)
    s.add_argument("--body-lr-mult", type=float, default=None,
                   help="the retrained body's learning rate relative to --lr, in (0, 1] (default: the plan's; full: 0.1)")
    s.add_argument("--image-size", type=int, default=0)
    aug = s.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None)
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    s.add_argument("--device", default="auto")
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("runs", help="list, show, stop or delete runs")
    s.add_argument("action", nargs="?", default="list", choices=["list", "show", "stop", "delete"])
    s.add_argument("run_id", nargs="?")
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_runs)

    s = sub.add_parser("worker", help=argparse.SUPPRESS)
    s.add_argument("run_dir")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("lab", help="the offline lab world: make data, pretrain labnet, run the experiment")
    lab = s.add_subparsers(dest="lab_cmd", required=True, parser_class=_Parser)
    m = lab.add_parser("make", help="write a lab dataset as an image folder")
    m.add_argument("out")
    m.add_argument("--similarity", type=float, required=True)
    m.add_argument("--per-class", type=int, required=True)
    m.add_argument("--val-per-class", type=int, default=100)
    m.add_argument("--classes", type=int, default=6)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--json", action="store_true")
    m = lab.add_parser("pretrain", help="pretrain labnet on the source world and save its weights")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--per-class", type=int, default=0, help="source images per class (default: the recorded recipe)")
    m.add_argument("--epochs", type=int, default=0, help="epochs (default: the recorded recipe)")
    m.add_argument("--json", action="store_true")
    m = lab.add_parser("experiment", help="train every plan in every quadrant and check the map")
    m.add_argument("--quick", action="store_true")
    m.add_argument("--seeds", type=int, default=0)
    m.add_argument("--workdir", default=None)
    m.add_argument("--jobs", type=int, default=0, help="runs at once, one thread each (default: one per core, at most 4)")
    m.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_lab)

    s = sub.add_parser("bench", help="measure training speed against plain PyTorch baselines")
    s.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (for tests)")
    s.add_argument("--device", default="auto")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "runs" and args.action in ("stop", "delete", "show") and not args.run_id:
        print(f"error: 'runs {args.action}' needs a run id (see 'python -m tlcore runs --json')", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except TLError as exc:
        print(f"error: {exc.user_message()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback for a user
        if os.environ.get("TLCORE_DEBUG"):
            raise
        first = (str(exc).splitlines() or [""])[0][:300]
        print(f"error: unexpected {type(exc).__name__}: {first} (set TLCORE_DEBUG=1 for details; please report it)", file=sys.stderr)
        return 1
