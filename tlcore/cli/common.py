"""What every command module shares: the argparse class, JSON printing and argument types."""
from __future__ import annotations

import argparse
import sys


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one ``error:`` line (exit 2)."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def _print_json(obj) -> None:
    from ..fsutil import dumps

    print(dumps(obj))


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
