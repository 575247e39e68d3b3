"""`aifactory plan`: run the real program under recording mocks and show what it would create."""

from __future__ import annotations

import argparse
from typing import Any

from aifactory.commands.common import add_output_args, add_source_args, plan_for, write_output


def run(args: argparse.Namespace) -> int:
    from aifactory.plan import document, format

    plan = plan_for(args)
    if args.format == "json":
        text = document.dumps(plan)
    else:
        text = format.render(plan, markdown=args.format == "markdown")
    write_output(text, args.out)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "plan", help="plan a blueprint offline",
        description="Run the Pulumi program for a blueprint under recording mocks (no cloud "
        "credentials, no Pulumi CLI) and print what would be created: resources by building "
        "block, GPUs by model and pool, estimated IT power and on-demand cost.")
    add_source_args(p)
    add_output_args(p, ["text", "json", "markdown"], "text")
    p.set_defaults(func=run)
