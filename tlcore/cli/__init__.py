"""Command-line interface: python -m tlcore inspect | recommend | train | probe | estimate | runs | explain | export
| predict | lab | bench.

This module only parses arguments and prints; the work is done by tlcore.service (and by the
lab's applications in tlcore.experiments and the benchmark in tlcore.bench).

The package: common.py (the argparse class, JSON printing, argument types), parser.py (the data and run
commands' arguments) and parser_lab.py (lab, curve, bench); the commands themselves by area in data.py
(inspect, recommend, probe, estimate, models), runs.py (train, runs, explain, export, predict, worker, rank)
and lab.py (lab, curve, bench).
"""
from __future__ import annotations

import os
import sys

from ..errors import TLError
from .common import _command_line, _name_list, _number_list, _Parser, _print_json
from .data import cmd_estimate, cmd_inspect, cmd_models, cmd_probe, cmd_recommend
from .lab import cmd_bench, cmd_curve, cmd_lab
from .parser import _add_explain_commands, _add_scale_flags, build_parser
from .runs import (_progress_line, _scale_settings, cmd_explain, cmd_export, cmd_predict, cmd_rank, cmd_runs,
                   cmd_train, cmd_worker, print_events)

#: What importers use from tlcore.cli (tests import main, build_parser and _scale_settings from here), re-exported.
__all__ = [
    "main", "build_parser", "print_events", "_Parser", "_print_json", "_command_line", "_number_list", "_name_list",
    "_add_explain_commands", "_add_scale_flags", "_progress_line", "_scale_settings",
    "cmd_inspect", "cmd_recommend", "cmd_probe", "cmd_estimate", "cmd_models",
    "cmd_train", "cmd_runs", "cmd_explain", "cmd_export", "cmd_predict", "cmd_worker", "cmd_rank",
    "cmd_lab", "cmd_curve", "cmd_bench",
]


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
