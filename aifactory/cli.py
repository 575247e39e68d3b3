"""The `aifactory` command: plan, check, render, diff and schema of a blueprint; the catalog.

Exit codes: 0 success, 1 a mandatory policy failed (check), 2 bad input (never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from blueprints.errors import InputError
from blueprints.spec.loader import BlueprintError

# name -> module with `register(subparsers)`; each command sets `func(args) -> int`.
COMMANDS = {
    "plan": "aifactory.commands.plan",
    "check": "aifactory.commands.check",
    "render": "aifactory.commands.render",
    "diff": "aifactory.commands.diff",
    "report": "aifactory.commands.report",
    "pr": "aifactory.commands.pr",
    "schema": "aifactory.commands.schema",
    "catalog": "aifactory.commands.catalog",
    "mirror": "aifactory.commands.mirror",
}


def parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    p = argparse.ArgumentParser(
        prog="aifactory",
        description="Plan, check and render AI factory blueprints offline.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `aifactory` command."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BlueprintError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        count = len(e.problems)
        plural = "s" if count > 1 else ""
        print(f"{count} error{plural}: the blueprint was not loaded", file=sys.stderr)
        return 2
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def run() -> None:
    """The console script: `main`, then exit without tearing the interpreter down. A plan
    leaves the Pulumi runtime's heap of futures and Outputs alive; freeing it object by
    object takes seconds and achieves nothing at exit. Output is flushed first."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
