"""Command-line interface: python -m tlcore inspect | recommend | train | runs | lab | bench | models.

This module only parses arguments and prints; the work is done by tlcore.service (and by the
lab's applications in tlcore.experiments and the benchmark in tlcore.bench).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .errors import TLError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one ``error:`` line (exit 2)."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _print_json(obj) -> None:
    from .fsutil import dumps

    print(dumps(obj))


# ---------------------------------------------------------------------------
# Commands


def cmd_inspect(args) -> int:
    from . import service

    info = service.inspect_dataset(args.path)
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
    from . import service

    model = args.model or service.default_model_for(args.path)
    out = service.recommend_for(args.path, model, service.similarity_value(args.similarity), args.weights)
    if args.json:
        _print_json(out)
        return 0
    print(f"Quadrant {out['quadrant']} ({out['size']}, similarity {out['similarity']:.2f} {out['similarity_source']})")
    print(f"Plan: {out['plan']}" + (f" (last {out['top_stages']} stages)" if out["plan"] == "top" else "")
          + (", with augmentation" if out["augment"] else ""))
    for r in out["reasons"]:
        print(f"  - {r}")
    return 0


def _progress_line(b, epochs: int, last_val: float | None) -> str:
    frac = b.step / max(1, b.steps)
    bar = "#" * int(frac * 20) + "." * (20 - int(frac * 20))
    eta = int(b.eta_s)
    val = f"  val acc {last_val:.3f}" if last_val is not None else ""
    return (f"\repoch {b.epoch}/{epochs} [{bar}] {frac * 100:3.0f}% "
            f"{b.images_per_sec:.0f} img/s ETA {eta // 60}:{eta % 60:02d}{val}   ")


def print_events(events, progress, out=sys.stderr) -> None:
    """Draw a run's new events as progress lines on ``out``; ``progress`` (tlcore.events.Progress) folds them."""
    from . import events as ev

    for e in events:
        progress.feed([e])
        if isinstance(e, ev.FitStart):
            out.write(f"training {e.model} with plan '{e.plan}' on {e.device}: {e.num_train} train / {e.num_val} val "
                      f"images, {e.trainable_params:,} trainable of {e.trainable_params + e.frozen_params:,} parameters"
                      f"{' (frozen features cached)' if e.feature_cache else ''}\n")
        elif isinstance(e, ev.Status):
            out.write(f"\r{e.message}" + (f" {e.fraction * 100:.0f}%" if e.fraction else "") + "          ")
        elif isinstance(e, ev.BatchProgress):
            last = progress.epochs[-1].val_accuracy if progress.epochs else None
            out.write(_progress_line(e, progress.total_epochs, last))
        elif isinstance(e, ev.EpochEnd):
            val_loss = f"{e.val_loss:.3f}" if e.val_loss is not None else "n/a"
            out.write(f"\repoch {e.epoch}/{progress.total_epochs}: train acc {e.train_accuracy:.3f} loss "
                      f"{e.train_loss:.3f} | val acc {e.val_accuracy:.3f} (balanced {e.val_balanced_accuracy:.3f}) "
                      f"loss {val_loss} ({e.seconds:.1f} s){' *' if e.best else ''}                    \n")
        elif isinstance(e, ev.Warning_):
            out.write(f"\nwarning: {e.message}\n")
        out.flush()


def cmd_train(args) -> int:
    from . import service
    from .data import materialize_dataset

    data = str(materialize_dataset(args.path).resolve()) if os.path.exists(args.path) else args.path
    model = args.model or service.default_model_for(data)
    plan, quadrant, top_stages, augment = args.plan, 0, args.top_stages, args.augment
    if plan == "auto":
        rec = service.recommend_for(data, model, service.similarity_value(args.similarity), args.weights)
        plan, quadrant = rec["plan"], rec["quadrant"]
        top_stages = top_stages or rec["top_stages"] or 1
        if augment is None:
            augment = rec["augment"]
    config = service.make_config(data, model, plan, top_stages or 1, args.epochs, args.batch_size, args.lr, augment,
                                 weights=args.weights, image_size=args.image_size or 0,
                                 body_lr_mult=args.body_lr_mult, seed=args.seed, device=args.device)
    service.check_run(config)  # bad data, sizes or files are refused here, before a process starts
    store = service.run_store(args.runs_dir)
    run_id = service.start_run(store, config, quadrant=quadrant, dataset=Path(args.path).name, check=False)
    if not args.json:
        print(f"run {run_id} in {store.run_dir(run_id)}", file=sys.stderr)
    try:
        from .events import Progress

        progress = Progress()
        for events in service.watch(store, run_id):
            if not args.json:
                print_events(events, progress)
        if not args.json:
            sys.stderr.write("\n")
        info = store.get(run_id)
    except KeyboardInterrupt:
        sys.stderr.write("\nstopping...\n")
        info = store.stop(run_id, wait=True)
    result = service.run_result(info, config)
    if info.status == "failed":
        if args.json:
            _print_json(result)
        print(f"error: {info.message or 'the run failed'}", file=sys.stderr)
        return 1 if info.error_code in ("internal", "process_died") else 2
    if args.json:
        _print_json(result)
    else:
        print(f"{info.status}: best validation accuracy {info.best_val_accuracy:.3f} (balanced "
              f"{info.best_val_balanced_accuracy:.3f}) after {info.epochs_completed} epochs; model saved to "
              f"{Path(info.run_dir) / 'best.pt'}")
    return 0


def cmd_runs(args) -> int:
    from . import service

    store = service.run_store(args.runs_dir)
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
        if args.json:
            _print_json(service.run_details(store, args.run_id))
        else:
            info = store.get(args.run_id)
            print(f"{info.run_id}: {info.status} {info.model}/{info.plan} best {info.best_val_accuracy:.3f} "
                  f"(balanced {info.best_val_balanced_accuracy:.3f}) {info.message}")
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
              f"best {r['best_val_accuracy']:.3f} bal {r['best_val_balanced_accuracy']:.3f}  "
              f"epochs {r['epochs_completed']}/{r['epochs']}  {r['dataset']}  {when}")
    return 0


def cmd_worker(args) -> int:
    from .worker import run_worker

    return run_worker(args.run_dir)


def cmd_lab(args) -> int:
    if args.lab_cmd == "make":
        from . import service

        info = service.make_lab_dataset(Path(args.out), args.similarity, args.per_class, seed=args.seed,
                                        val_per_class=args.val_per_class, num_classes=args.classes)
        print(json.dumps(info) if args.json else f"wrote lab dataset to {info['path']}")
        return 0
    if args.lab_cmd == "pretrain":
        from .experiments.pretrain import DEFAULT_EPOCHS, DEFAULT_PER_CLASS, pretrain

        record = pretrain(seed=args.seed, per_class=args.per_class or DEFAULT_PER_CLASS, epochs=args.epochs or DEFAULT_EPOCHS)
        print(json.dumps(record) if args.json else f"labnet pretrained: source accuracy {record.get('source_accuracy')}")
        return 0
    if args.lab_cmd == "experiment":
        from .experiments.quadrants import format_table, run_experiment

        result = run_experiment(quick=args.quick, seeds=args.seeds, workdir=args.workdir, quiet=False, jobs=args.jobs)
        print(json.dumps(result) if args.json else format_table(result))
        return 0
    # -- lab sweep / lab calibrate (issue 14) --
    if args.lab_cmd == "sweep":
        from .experiments.sweep import format_table as sweep_table, main_sweep

        result = main_sweep(args, command=_command_line())
        if args.json:
            _print_json(result)
        else:
            print(sweep_table(result))
        return 0
    if args.lab_cmd == "calibrate":
        from .experiments.sweep import calibrate

        rec = calibrate(args.sweep, args.out)
        if args.json:
            _print_json(rec)
        else:
            b = rec["boundaries"]
            print(f"fitted boundaries: {b['size']:.0f} training images per class, similarity {b['similarity']:.2f}; "
                  f"the map's plan is within {100 * rec['tolerance']:.0f} points of the winner in "
                  f"{100 * rec['agreement_measured']:.0f} % of {rec['cells_judged']} cells "
                  f"(rule of thumb: {100 * rec['agreement_rule_of_thumb']:.0f} %)"
                  + (f"; written to {args.out}" if args.out else ""))
        return 0
    raise AssertionError(args.lab_cmd)


def _command_line() -> str:
    """How this process was started, as a user would type it (recorded with results)."""
    return " ".join(["python -m tlcore", *sys.argv[1:]])


def _number_list(kind):
    """An argparse type: comma-separated numbers ("10,20,50")."""
    def parse(text: str):
        try:
            return [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, not {text!r}") from None
    return parse


def _name_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


# -- curve (issue 14) --
def cmd_curve(args) -> int:
    from .experiments.curve import format_curve, run_curve

    result = run_curve(args.path, args.model, args.plans, args.fractions, args.epochs, args.seeds, args.weights,
                       args.batch_size, args.lr, args.top_stages, args.augment, args.device, quiet=args.json)
    if args.json:
        _print_json(result)
    else:
        print(format_curve(result))
    return 0


def cmd_bench(args) -> int:
    from .bench import format_table, run_bench

    result = run_bench(tiny=args.tiny, device=args.device)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .config import default
    from .decision import USER_SIMILARITY_CHOICES
    from .plans import PLAN_NAMES

    p = _Parser(prog="python -m tlcore", description="Transfer Learning Decision Map: inspect, recommend, train.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    s = sub.add_parser("inspect", help="count images per class and list unusable files")
    s.add_argument("path", help="a folder with one subfolder per class, or a .zip")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_inspect)

    similarity_help = f"auto (measure), a number 0..1, or {'|'.join(USER_SIMILARITY_CHOICES)}"
    s = sub.add_parser("recommend", help="place the dataset on the size-similarity map and recommend a plan")
    s.add_argument("path")
    s.add_argument("--model", default=None, help="backbone (default: labnet for lab data, else resnet18)")
    s.add_argument("--weights", default="pretrained", help="pretrained|imagenet|FILE, used to measure similarity")
    s.add_argument("--similarity", default="auto", help=similarity_help)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_recommend)

    s = sub.add_parser("train", help="train a model with a freeze plan (a run process with its own run directory)")
    s.add_argument("path")
    s.add_argument("--model", default=None)
    s.add_argument("--plan", default="auto", choices=["auto", *PLAN_NAMES])
    s.add_argument("--top-stages", type=int, default=0, help="for --plan top: how many last stages train (default: 1, or the map's choice)")
    s.add_argument("--weights", default="pretrained", help="pretrained (imagenet)|none|FILE (labnet: its shipped lab weights)")
    s.add_argument("--similarity", default="auto", help="for --plan auto: auto or a value (see recommend)")
    s.add_argument("--epochs", type=int, default=default("epochs"))
    s.add_argument("--batch-size", type=int, default=default("batch_size"))
    s.add_argument("--lr", type=float, default=default("lr"))
    s.add_argument("--body-lr-mult", type=float, default=None,
                   help="the retrained body's learning rate relative to --lr, in (0, 1] (default: the plan's; full: 0.1)")
    s.add_argument("--image-size", type=int, default=0)
    aug = s.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None)
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    s.add_argument("--device", default=default("device"))
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--seed", type=int, default=default("seed"))
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
    # -- lab sweep / lab calibrate (issue 14) --
    m = lab.add_parser("sweep", help="train every plan on a grid of sizes and similarities; fit the map's boundaries")
    m.add_argument("--model", default="labnet", choices=["labnet"], help="the backbone (the lab sweeps labnet)")
    m.add_argument("--sizes", type=_number_list(int), default=None,
                   help="training images per class, e.g. 10,20,50,100,200,500,1000 (the default; --quick: 20,50,100,200)")
    m.add_argument("--similarities", type=_number_list(float), default=None,
                   help="similarity dials 0..1, e.g. 0,0.25,0.5,0.75,1 (the default; --quick: 0,0.5,1)")
    m.add_argument("--plans", type=_name_list, default=None, help="plans to train (default: head,top,full,scratch)")
    m.add_argument("--seeds", type=int, default=0, help="seeds per cell (default: 3; --quick: 2)")
    m.add_argument("--quick", action="store_true", help="4 sizes x 3 similarities x 2 seeds")
    m.add_argument("--jobs", type=int, default=0, help="runs at once, one thread each (default: one per core, at most 4)")
    m.add_argument("--workdir", default=None)
    m.add_argument("--out", default=None, help="also write the result to this JSON file")
    m.add_argument("--calibration", default=None, help="also write the fitted boundaries to this JSON file")
    m.add_argument("--json", action="store_true")
    m = lab.add_parser("calibrate", help="fit the map's boundaries to a stored sweep result")
    m.add_argument("sweep", help="the JSON that 'lab sweep --out FILE' wrote")
    m.add_argument("--out", default=None, help="write the calibration to this JSON file")
    m.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_lab)

    # -- curve (issue 14) --
    s = sub.add_parser("curve", help="learning curves: train plans on growing shares of the training images")
    s.add_argument("path", help="a folder with one subfolder per class, or a .zip")
    s.add_argument("--model", default=None, help="backbone (default: labnet for lab data, else resnet18)")
    s.add_argument("--plans", type=_name_list, default=None, help="comma-separated plans (default: head,full)")
    s.add_argument("--fractions", type=_number_list(float), default=None,
                   help="shares of the training images, stratified per class (default: 0.1,0.25,0.5,1)")
    s.add_argument("--epochs", type=int, default=None,
                   help="epochs per fit (default: the lab recipe for labnet on lab data, else the train default)")
    s.add_argument("--seeds", type=int, default=1, help="fits per plan and share, with seeds 0, 1, ...")
    s.add_argument("--weights", default="pretrained")
    s.add_argument("--batch-size", type=int, default=None)
    s.add_argument("--lr", type=float, default=None)
    s.add_argument("--top-stages", type=int, default=1, help="for the top plan: how many last stages train")
    aug = s.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None)
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    s.add_argument("--device", default=default("device"))
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_curve)

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
