"""The argparse definitions of the lab and research commands: lab, curve, bench."""
from __future__ import annotations

from .common import _name_list, _number_list, _Parser
from .lab import cmd_bench, cmd_curve, cmd_lab


def _lab_driver(lab, name: str, help_text: str):
    """A lab driver's parser with the flags every driver takes (its own flags and --json follow)."""
    m = lab.add_parser(name, help=help_text)
    m.add_argument("--quick", action="store_true")
    m.add_argument("--seeds", type=int, default=0)
    m.add_argument("--workdir", default=None)
    m.add_argument("--jobs", type=int, default=0, help="runs at once, one thread each (default: one per core, at most 4)")
    return m


def add_lab_command(sub) -> None:
    """The 'lab' command and its subcommands."""
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
    m = _lab_driver(lab, "experiment", "train every plan in every quadrant and check the map")
    m.add_argument("--json", action="store_true")
    m = _lab_driver(lab, "surgical", "surgical first/middle/last, full and lp-ft on one cell of each kind of shift")
    m.add_argument("--json", action="store_true")
    m = _lab_driver(lab, "estimators", "how well k-NN, LogME and a linear probe rank lab cells by fine-tuned accuracy")
    m.add_argument("--save", action="store_true", help="write the result as the record the app shows")
    m.add_argument("--json", action="store_true")
    # -- lab sweep / lab calibrate (issue 14) --
    m = lab.add_parser(
        "sweep", help="train every plan on a grid of sizes and similarities; fit the map's boundaries",
        description="Train every plan (lab recipe) in every (size, similarity) cell over seeds, judge the map's plan "
                    "in each cell, and fit the map's two boundaries to the result. It takes long on a CPU: --quick "
                    "(12 cells, 2 seeds, 4 plans) took about 16 minutes on 2 cores; the shipped 35-cell, 2-seed sweep 4 "
                    "hours of training. Give --workdir to resume an interrupted sweep where it stopped.")
    m.add_argument("--model", default="labnet", choices=["labnet"], help="the backbone (the lab sweeps labnet)")
    m.add_argument("--sizes", type=_number_list(int), default=None,
                   help="training images per class, e.g. 10,20,50,100,200,500,1000 (the default; --quick: 20,50,100,200)")
    m.add_argument("--similarities", type=_number_list(float), default=None,
                   help="similarity dials 0..1, e.g. 0,0.25,0.5,0.75,1 (the default; --quick: 0,0.5,1)")
    m.add_argument("--plans", type=_name_list, default=None, help="plans to train (default: head,top,full,scratch)")
    m.add_argument("--seeds", type=int, default=0, help="seeds per cell (default: 3; --quick: 2)")
    m.add_argument("--quick", action="store_true", help="4 sizes x 3 similarities x 2 seeds")
    m.add_argument("--jobs", type=int, default=0, help="runs at once, one thread each (default: one per core, at most 4)")
    m.add_argument("--workdir", default=None,
                   help="keep each finished (cell, seed) here; run again with the same folder to resume")
    m.add_argument("--out", default=None, help="also write the result to this JSON file")
    m.add_argument("--calibration", default=None, help="also write the fitted boundaries to this JSON file")
    m.add_argument("--json", action="store_true")
    m = lab.add_parser("calibrate", help="fit the map's boundaries to a stored sweep result")
    m.add_argument("sweep", help="the JSON that 'lab sweep --out FILE' wrote")
    m.add_argument("--out", default=None, help="write the calibration to this JSON file")
    m.add_argument("--markdown", action="store_true",
                   help="also print the sweep as a Markdown table: each cell's winner and both rules' plans (the README's)")
    m.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_lab)


def add_curve_and_bench_commands(sub) -> None:
    """The 'curve' and 'bench' commands."""
    from ..config import default

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
