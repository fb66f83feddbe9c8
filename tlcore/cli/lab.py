"""Commands of the lab and the research drivers: lab make|pretrain|experiment|surgical|estimators|sweep|calibrate,
curve, bench."""
from __future__ import annotations

import json
from pathlib import Path

from .common import _command_line, _print_json


def cmd_lab(args) -> int:
    if args.lab_cmd == "make":
        from .. import service

        info = service.make_lab_dataset(Path(args.out), args.similarity, args.per_class, seed=args.seed,
                                        val_per_class=args.val_per_class, num_classes=args.classes)
        print(json.dumps(info) if args.json else f"wrote lab dataset to {info['path']}")
        return 0
    if args.lab_cmd == "pretrain":
        from ..experiments.pretrain import DEFAULT_EPOCHS, DEFAULT_PER_CLASS, pretrain

        record = pretrain(seed=args.seed, per_class=args.per_class or DEFAULT_PER_CLASS, epochs=args.epochs or DEFAULT_EPOCHS)
        print(json.dumps(record) if args.json else f"labnet pretrained: source accuracy {record.get('source_accuracy')}")
        return 0
    if args.lab_cmd == "surgical":
        from ..experiments.surgical import format_table, run_surgical

        result = run_surgical(quick=args.quick, seeds=args.seeds, workdir=args.workdir, jobs=args.jobs)
        print(json.dumps(result) if args.json else format_table(result))
        return 0
    if args.lab_cmd == "estimators":
        from ..experiments.estimators import format_table, run_estimators

        result = run_estimators(quick=args.quick, seeds=args.seeds, workdir=args.workdir, jobs=args.jobs,
                                save=args.save)
        print(json.dumps(result) if args.json else format_table(result))
        return 0
    if args.lab_cmd == "experiment":
        from ..experiments.quadrants import format_table, run_experiment

        result = run_experiment(quick=args.quick, seeds=args.seeds, workdir=args.workdir, quiet=False, jobs=args.jobs)
        print(json.dumps(result) if args.json else format_table(result))
        return 0
    # -- lab sweep / lab calibrate (issue 14) --
    if args.lab_cmd == "sweep":
        from ..experiments.sweep import format_table as sweep_table, main_sweep

        result = main_sweep(args, command=_command_line())
        if args.json:
            _print_json(result)
        else:
            print(sweep_table(result))
        return 0
    if args.lab_cmd == "calibrate":
        from ..experiments.sweep import calibrate

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
            if args.markdown:
                from ..experiments.sweep import format_matrix
                from ..fsutil import read_json

                print()
                print(format_matrix(read_json(Path(args.sweep))))
        return 0
    raise AssertionError(args.lab_cmd)


# -- curve (issue 14) --
def cmd_curve(args) -> int:
    from ..experiments.curve import format_curve, run_curve

    result = run_curve(args.path, args.model, args.plans, args.fractions, args.epochs, args.seeds, args.weights,
                       args.batch_size, args.lr, args.top_stages, args.augment, args.device, quiet=args.json)
    if args.json:
        _print_json(result)
    else:
        print(format_curve(result))
    return 0


def cmd_bench(args) -> int:
    from ..bench import format_table, run_bench

    result = run_bench(tiny=args.tiny, device=args.device, only=args.only)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
