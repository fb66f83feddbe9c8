"""The argparse definitions: the data and run commands here, the lab and research ones in parser_lab."""
from __future__ import annotations

import argparse

from .common import _Parser
from .data import cmd_estimate, cmd_inspect, cmd_models, cmd_probe, cmd_recommend
from .parser_lab import add_curve_and_bench_commands, add_lab_command
from .runs import cmd_explain, cmd_export, cmd_predict, cmd_rank, cmd_runs, cmd_train, cmd_worker


def _add_explain_commands(sub) -> None:
    from ..export import FORMATS

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


def _add_scale_flags(s) -> None:
    from ..config import default

    s.add_argument("--memory-budget-mb", type=int, default=default("memory_budget_mb"),
                   help="decoded images kept in memory up to this size; above it they stream from disk (0: always stream)")
    s.add_argument("--workers", type=int, default=None,
                   help="processes decoding images while they stream (default: from the cores; 0: none)")
    s.add_argument("--nproc-per-node", type=int, default=1,
                   help="training processes on this machine, under torchrun (one per GPU on CUDA; gloo on CPUs)")
    s.add_argument("--nnodes", type=int, default=1, help="machines taking part (run the same command on each)")
    s.add_argument("--rdzv-endpoint", default="", help="HOST:PORT of the first machine, where they meet (with --nnodes)")


def build_parser() -> argparse.ArgumentParser:
    from ..config import default
    from ..decision import USER_SIMILARITY_CHOICES
    from ..plans import BLOCK_CHOICES, BN_MODES, PLAN_NAMES
    from ..shift import SHIFT_KINDS

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

    for name, help_text, func in (
            ("probe", "which layer groups want to move: relative gradient norm per group, after a head warm-up",
             cmd_probe),
            ("estimate", "transferability estimators on frozen features: k-NN, LogME, linear probe", cmd_estimate)):
        s = sub.add_parser(name, help=help_text)
        s.add_argument("path")
        s.add_argument("--model", default=None, help="backbone (default: labnet for lab data, else efficientnet_lite0)")
        s.add_argument("--weights", default="pretrained")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--json", action="store_true")
        s.set_defaults(func=func)

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

    add_lab_command(sub)

    s = sub.add_parser("models", help="list the backbones: source, layer groups, input size, weights offline or not")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_models)

    add_curve_and_bench_commands(sub)
    return p
