"""Commands about a dataset and the backbones: inspect, recommend, probe, estimate, models."""
from __future__ import annotations

from .common import _print_json


def cmd_inspect(args) -> int:
    from .. import service

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
    from .. import service

    from ..service import research

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


def cmd_probe(args) -> int:
    from .. import service
    from ..service import research

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
    from .. import service
    from ..service import research

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


def cmd_models(args) -> int:
    from .. import service

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
