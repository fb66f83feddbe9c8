"""Commands about runs: train, runs, explain, export, predict, and the worker and rank processes."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .common import _print_json


def _progress_line(b, epochs: int, last_val: float | None) -> str:
    frac = b.step / max(1, b.steps)
    bar = "#" * int(frac * 20) + "." * (20 - int(frac * 20))
    eta = int(b.eta_s)
    val = f"  val acc {last_val:.3f}" if last_val is not None else ""
    return (f"\repoch {b.epoch}/{epochs} [{bar}] {frac * 100:3.0f}% "
            f"{b.images_per_sec:.0f} img/s ETA {eta // 60}:{eta % 60:02d}{val}   ")


def print_events(events, progress, out=sys.stderr) -> None:
    """Draw a run's new events as progress lines on ``out``; ``progress`` (tlcore.events.Progress) folds them."""
    from .. import events as ev

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
    from .. import service
    from ..data import materialize_dataset

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
        from ..events import Progress

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
    from .. import service

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
    from .. import service

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
    from .. import service

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
    from .. import service

    out = service.predict_images(args.model, args.images, service.run_store(args.runs_dir))
    if args.json:
        _print_json(out)
        return 0
    for p in out["predictions"]:
        top = sorted(p["probabilities"].items(), key=lambda kv: -kv[1])[:args.top_k]
        print(f"{p['image']}: {p['predicted']} ({p['confidence']:.1%})"
              + ("  [" + ", ".join(f"{c} {v:.1%}" for c, v in top[1:]) + "]" if len(top) > 1 else ""))
    return 0


# -- end of explain, export, predict -----------------------------------------


def cmd_worker(args) -> int:
    from ..worker import run_worker

    return run_worker(args.run_dir)


# -- scale (issue 17): streaming and torchrun ------------------------------------


def _scale_settings(args) -> dict:
    """The train command's streaming and multi-process settings, as TrainConfig fields."""
    return {"memory_budget_mb": args.memory_budget_mb, "workers": args.workers, "nproc_per_node": args.nproc_per_node,
            "nnodes": args.nnodes, "rdzv_endpoint": args.rdzv_endpoint}

def cmd_rank(args) -> int:
    from ..launch import run_rank

    return run_rank(args.run_dir)


# -- end of scale ----------------------------------------------------------------
