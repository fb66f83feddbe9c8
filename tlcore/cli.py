"""Command-line interface: python -m tlcore inspect | recommend | train | probe | estimate | runs | explain | export
| predict | lab | bench.

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
    counts = info["train_counts"]
    print(f"{info['num_images']} usable images in {info['num_classes']} classes; {info['num_train']} to train on "
          f"({info['images_per_class']:.0f} training images per class), {info['num_val']} for validation")
    if info["imbalanced"]:
        smallest = min(counts, key=counts.get)
        print(f"size: {info['size']}, judged on the smallest class ('{smallest}': {counts[smallest]} training images) "
              f"because the classes are imbalanced")
    else:
        print(f"size: {info['size']}")
    width = max(len(c) for c in info["class_counts"])
    for name, count in info["class_counts"].items():
        print(f"  {name:<{width}}  {count}")
    if info["skipped"]:
        print(f"{len(info['skipped'])} files skipped:")
        for s in info["skipped"][:50]:
            print(f"  {s['path']}: {s['reason']} {s.get('detail', '')}".rstrip())
    for w in info.get("warnings", []):
        print(f"warning: {w['code']} {w.get('params', '')}")
    if info.get("checked") == "header":
        print("checked from file headers (a large folder): an image that fails to decode is skipped, and named, "
              "when training first reads it")
    return 0


def cmd_recommend(args) -> int:
    from . import service

    from .service import research

    model = args.model or service.default_model_for(args.path)
    out = service.recommend_for(args.path, model, service.similarity_value(args.similarity), args.weights)
    advice = research.shift_advice(args.shift, model, out["size"])
    if advice is not None:
        out["shift"] = {**advice.to_json(), "reason_lines": research.shift_reason_lines(advice, "en")}
    if args.json:
        _print_json(out)
        return 0
    print(f"Quadrant {out['quadrant']} ({out['size']}, similarity {out['similarity']:.2f} {out['similarity_source']})")
    print(f"Plan: {out['plan']}" + (f" (last {out['top_stages']} stages)" if out["plan"] == "top" else "")
          + (", with augmentation" if out["augment"] else ""))
    for r in out["reasons"]:
        print(f"  - {r}")
    if advice is not None:
        print(f"Kind of difference: {advice.kind} ({advice.level}-level): "
              + (f"plan surgical --block {advice.block} ({advice.group})" if advice.plan
                 else f"keep the plan; to tune one block, tune {advice.group} (surgical --block {advice.block})"))
        for r in out["shift"]["reason_lines"]:
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
                                 body_lr_mult=args.body_lr_mult, seed=args.seed, device=args.device,
                                 block=args.block, lr_decay=args.lr_decay, bn=args.bn, probe_epochs=args.probe_epochs,
                                 **_scale_settings(args))
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


def cmd_probe(args) -> int:
    from . import service
    from .service import research

    model = args.model or service.default_model_for(args.path)
    result = research.probe(args.path, model, args.weights, seed=args.seed)
    if args.json:
        _print_json({**result.to_json(), "suggestion": research.probe_suggestion(result, "en")})
        return 0
    print(f"Relative gradient norm |grad| / |weight| per layer group of {model} ({result.images} images, "
          f"{result.batches} batches, {result.seconds:.1f} s):")
    width = max(len(g.name) for g in result.groups)
    for g in result.groups:
        bar = "#" * max(1, round(30 * min(1.0, g.relative))) if g.name != "head" else ""
        print(f"  {g.name:<{width}}  {g.rgn:9.4f}  {bar}")
    print(research.probe_suggestion(result, "en"))
    return 0


def cmd_estimate(args) -> int:
    from . import service
    from .service import research

    model = args.model or service.default_model_for(args.path)
    rep = research.transferability(args.path, model, args.weights, seed=args.seed)
    if args.json:
        _print_json(rep.to_json())
        return 0
    s = rep.seconds
    print(f"Transferability of {model} ({rep.n_train} training, {rep.n_val} validation images):")
    print(f"  k-NN score T        {rep.knn:7.3f}   ({s['knn']:.1f} s)")
    print(f"  LogME               {rep.logme:7.3f}   ({s['logme']:.2f} s + {s['features']:.1f} s for the features)")
    print(f"  linear probe        {rep.linear_probe:7.3f}   ({s['linear_probe']:.2f} s + the same features)")
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


# -- explain, export, predict (issue #16) -------------------------------------


def cmd_explain(args) -> int:
    from . import service

    out = service.explain_to_file(args.run_id, args.image, args.class_name, args.out, service.run_store(args.runs_dir))
    if args.json:
        _print_json(out)
        return 0
    print(f"{out['predicted']} ({out['confidence']:.1%}); Grad-CAM for {out['class']} on {out['layer']} "
          f"({out['grid'][0]}x{out['grid'][1]} cells): {out['heatmap_path']}")
    for cls, p in sorted(out["probabilities"].items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {cls:<24} {p:7.2%}")
    return 0


def cmd_export(args) -> int:
    from . import service

    if not args.json:
        print(f"exporting {args.run_id} as {args.format} and verifying it...", file=sys.stderr)
    summary = service.export_run(args.run_id, args.format, args.out, service.run_store(args.runs_dir))
    if args.json:
        _print_json(summary.to_json())
        return 0
    v = summary.verification
    print(f"{args.format} model written to {summary.path} ({summary.seconds:.1f} s)")
    print(f"verified on {v['images']} {v['inputs']} images with {v['runtime']}: max abs difference of probabilities "
          f"{v['max_abs_diff']:.2e} (tolerance {v['tolerance']:.0e}), top-1 agreement {v['top1_agreement']:.0%}")
    print(f"see {summary.path / 'README.txt'} to use it")
    return 0


def cmd_predict(args) -> int:
    from . import service

    out = service.predict_images(args.model, args.images, service.run_store(args.runs_dir))
    if args.json:
        _print_json(out)
        return 0
    for p in out["predictions"]:
        top = sorted(p["probabilities"].items(), key=lambda kv: -kv[1])[:args.top_k]
        print(f"{p['image']}: {p['predicted']} ({p['confidence']:.1%})"
              + ("  [" + ", ".join(f"{c} {v:.1%}" for c, v in top[1:]) + "]" if len(top) > 1 else ""))
    return 0


def _add_explain_commands(sub) -> None:
    from .export import FORMATS

    s = sub.add_parser("explain", help="Grad-CAM: where in an image a run's model finds its evidence (a PNG overlay)")
    s.add_argument("run_id", help="a run id (see 'runs') or a run folder")
    s.add_argument("image")
    s.add_argument("--class", dest="class_name", default=None, help="the class to explain (default: the predicted one)")
    s.add_argument("--out", default=None, help="the PNG to write (default: RUN_DIR/explain/<image>-<class>.png)")
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("export", help="export a run's model (ONNX, TorchScript or state dict), verified, with a model card")
    s.add_argument("run_id", help="a run id (see 'runs') or a run folder")
    s.add_argument("--format", required=True, choices=list(FORMATS))
    s.add_argument("--out", default=None, help="the folder to write (default: RUN_DIR/exports/FORMAT)")
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("predict", help="classify images with a run or an exported model folder")
    s.add_argument("model", help="a run id, a run folder, or a folder written by 'export'")
    s.add_argument("images", nargs="+", metavar="IMAGE")
    s.add_argument("--top-k", type=int, default=3, help="classes shown per image (text output)")
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_predict)


# -- end of explain, export, predict -----------------------------------------


def cmd_worker(args) -> int:
    from .worker import run_worker

    return run_worker(args.run_dir)


# -- scale (issue 17): streaming and torchrun ------------------------------------


def _scale_settings(args) -> dict:
    """The train command's streaming and multi-process settings, as TrainConfig fields."""
    return {"memory_budget_mb": args.memory_budget_mb, "workers": args.workers, "nproc_per_node": args.nproc_per_node,
            "nnodes": args.nnodes, "rdzv_endpoint": args.rdzv_endpoint}


def _add_scale_flags(s) -> None:
    from .config import default

    s.add_argument("--memory-budget-mb", type=int, default=default("memory_budget_mb"),
                   help="decoded images kept in memory up to this size; above it they stream from disk (0: always stream)")
    s.add_argument("--workers", type=int, default=None,
                   help="processes decoding images while they stream (default: from the cores; 0: none)")
    s.add_argument("--nproc-per-node", type=int, default=1,
                   help="training processes on this machine, under torchrun (one per GPU on CUDA; gloo on CPUs)")
    s.add_argument("--nnodes", type=int, default=1, help="machines taking part (run the same command on each)")
    s.add_argument("--rdzv-endpoint", default="", help="HOST:PORT of the first machine, where they meet (with --nnodes)")


def cmd_rank(args) -> int:
    from .launch import run_rank

    return run_rank(args.run_dir)


# -- end of scale ----------------------------------------------------------------


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
    if args.lab_cmd == "surgical":
        from .experiments.surgical import format_table, run_surgical

        result = run_surgical(quick=args.quick, seeds=args.seeds, workdir=args.workdir, jobs=args.jobs)
        print(json.dumps(result) if args.json else format_table(result))
        return 0
    if args.lab_cmd == "estimators":
        from .experiments.estimators import format_table, run_estimators

        result = run_estimators(quick=args.quick, seeds=args.seeds, workdir=args.workdir, jobs=args.jobs,
                                save=args.save)
        print(json.dumps(result) if args.json else format_table(result))
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


def cmd_models(args) -> int:
    from . import service

    infos = service.model_infos()
    if args.json:
        _print_json(infos)
        return 0
    width = max(len(m["name"]) for m in infos)
    for m in infos:
        where = "offline" if m["offline"] else "downloads once"
        print(f"{m['name']:<{width}}  {m['source']:<11} {m['input_size']:>4} px  {len(m['groups']) - 3:>2} stages  "
              f"{m['params_m']:>5.1f} M  {where:<14}  {m['description']}")
    print("\nAny timm model also works as --model timm:NAME (its pretrained weights download once).")
    return 0


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

    result = run_bench(tiny=args.tiny, device=args.device, only=args.only)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .config import default
    from .decision import USER_SIMILARITY_CHOICES
    from .plans import BLOCK_CHOICES, BN_MODES, PLAN_NAMES
    from .shift import SHIFT_KINDS

    p = _Parser(prog="python -m tlcore", description="Transfer Learning Decision Map: inspect, recommend, train.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    s = sub.add_parser("inspect", help="count images per class and list unusable files")
    s.add_argument("path", help="a folder with one subfolder per class, or a .zip")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_inspect)

    similarity_help = f"auto (measure), a number 0..1, or {'|'.join(USER_SIMILARITY_CHOICES)}"
    s = sub.add_parser("recommend", help="place the dataset on the size-similarity map and recommend a plan")
    s.add_argument("path")
    s.add_argument("--model", default=None, help="backbone, or timm:NAME for any timm model "
                   "(default: labnet for lab data, else efficientnet_lite0; see 'models')")
    s.add_argument("--weights", default="pretrained", help="pretrained|FILE (.pth, .pt, .safetensors), used to measure similarity")
    s.add_argument("--similarity", default="auto", help=similarity_help)
    s.add_argument("--shift", default=None, choices=SHIFT_KINDS,
                   help="the optional third question: what is different from the pretraining images? "
                        "look (colour, blur, noise, camera, style), objects (new kinds or parts), labels "
                        "(what the labels depend on); names the block to tune (surgical)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_recommend)

    s = sub.add_parser("train", help="train a model with a freeze plan (a run process with its own run directory)")
    s.add_argument("path")
    s.add_argument("--model", default=None, help="backbone, or timm:NAME for any timm model "
                   "(default: labnet for lab data, else efficientnet_lite0; see 'models')")
    s.add_argument("--plan", default="auto", choices=["auto", *PLAN_NAMES])
    s.add_argument("--top-stages", type=int, default=0, help="for --plan top: how many last stages train (default: 1, or the map's choice)")
    s.add_argument("--weights", default="pretrained", help="pretrained (the backbone's own: ImageNet; labnet: its lab "
                   "weights)|none|FILE (a state dict .pth/.pt/.safetensors, wrapped or prefixed, or a run's best.pt)")
    s.add_argument("--similarity", default="auto", help="for --plan auto: auto or a value (see recommend)")
    s.add_argument("--epochs", type=int, default=default("epochs"))
    s.add_argument("--batch-size", type=int, default=default("batch_size"))
    s.add_argument("--lr", type=float, default=None,
                   help="the new output layer's peak learning rate (default: the plan's: 0.01 for head, 0.001 otherwise)")
    s.add_argument("--body-lr-mult", type=float, default=None,
                   help="the retrained body's learning rate relative to --lr, in (0, 1] (default: the plan's; full: 0.1)")
    s.add_argument("--block", default="", metavar="|".join(BLOCK_CHOICES) + "|GROUP",
                   help="for --plan surgical: the one block that trains with the new head (default: the plan's, last)")
    s.add_argument("--lr-decay", type=float, default=default("lr_decay"), metavar="F",
                   help="discriminative rates: each lower trained group learns at the rate of the one above "
                        "divided by F >= 1 (ULMFiT used 2.6; default 1: one rate for the body)")
    s.add_argument("--bn", default=None, choices=BN_MODES,
                   help="BatchNorm statistics of the trained groups: train (updated) or frozen (kept as pretrained)")
    s.add_argument("--probe-epochs", type=int, default=0,
                   help="for --plan lp-ft: epochs of the linear probe before fine-tuning (default: as many as --epochs)")
    s.add_argument("--image-size", type=int, default=0)
    aug = s.add_mutually_exclusive_group()
    aug.add_argument("--augment", dest="augment", action="store_true", default=None)
    aug.add_argument("--no-augment", dest="augment", action="store_false")
    s.add_argument("--device", default=default("device"))
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--seed", type=int, default=default("seed"))
    _add_scale_flags(s)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("probe", help="which layer groups want to move: relative gradient norm per group, after a head warm-up")
    s.add_argument("path")
    s.add_argument("--model", default=None, help="backbone (default: labnet for lab data, else resnet18)")
    s.add_argument("--weights", default="pretrained")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_probe)

    s = sub.add_parser("estimate", help="transferability estimators on frozen features: k-NN, LogME, linear probe")
    s.add_argument("path")
    s.add_argument("--model", default=None, help="backbone (default: labnet for lab data, else resnet18)")
    s.add_argument("--weights", default="pretrained")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_estimate)

    s = sub.add_parser("runs", help="list, show, stop or delete runs")
    s.add_argument("action", nargs="?", default="list", choices=["list", "show", "stop", "delete"])
    s.add_argument("run_id", nargs="?")
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_runs)

    _add_explain_commands(sub)

    s = sub.add_parser("worker", help=argparse.SUPPRESS)
    s.add_argument("run_dir")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("rank", help=argparse.SUPPRESS)  # one process of a distributed run, started by torchrun
    s.add_argument("run_dir")
    s.set_defaults(func=cmd_rank)

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
    m = lab.add_parser("surgical", help="surgical first/middle/last, full and lp-ft on one cell of each kind of shift")
    m.add_argument("--quick", action="store_true")
    m.add_argument("--seeds", type=int, default=0)
    m.add_argument("--workdir", default=None)
    m.add_argument("--jobs", type=int, default=0, help="runs at once, one thread each (default: one per core, at most 4)")
    m.add_argument("--json", action="store_true")
    m = lab.add_parser("estimators", help="how well k-NN, LogME and a linear probe rank lab cells by fine-tuned accuracy")
    m.add_argument("--quick", action="store_true")
    m.add_argument("--seeds", type=int, default=0)
    m.add_argument("--workdir", default=None)
    m.add_argument("--jobs", type=int, default=0, help="runs at once, one thread each (default: one per core, at most 4)")
    m.add_argument("--save", action="store_true", help="write the result as the record the app shows")
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

    s = sub.add_parser("models", help="list the backbones: source, layer groups, input size, weights offline or not")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_models)

    # -- curve (issue 14) --
    s = sub.add_parser("curve", help="learning curves: train plans on growing shares of the training images")
    s.add_argument("path", help="a folder with one subfolder per class, or a .zip")
    s.add_argument("--model", default=None, help="backbone (default: labnet for lab data, else efficientnet_lite0)")
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
    s.add_argument("--only", choices=["lab", "real"], default=None,
                   help="only figures 1-6 (lab data) or only figure 7 (real photos, efficientnet_lite0)")
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
