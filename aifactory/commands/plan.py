"""`aifactory plan`: run the real program under recording mocks and show what it would create.

Several blueprints are planned in one process (the Pulumi SDKs load once); with --out, each
plan is written into that folder as <name>.plan.json (or .txt, .md).
"""

from __future__ import annotations

import argparse
from typing import Any

from aifactory.commands.common import add_output_args, add_sources_args, sources_for, write_outputs

SUFFIXES = {"json": ".plan.json", "text": ".plan.txt", "markdown": ".plan.md"}


def run(args: argparse.Namespace) -> int:
    from aifactory.plan import document, format

    texts = {}
    for source in sources_for(args):
        if args.format == "json":
            texts[source.name] = document.dumps(source.plan)
        else:
            texts[source.name] = format.render(source.plan, markdown=args.format == "markdown")
    if args.format == "json" and len(texts) > 1 and args.out is None:
        from blueprints.errors import InputError

        raise InputError("several plans as JSON: give --out DIR (one <name>.plan.json each)")
    write_outputs(texts, args.out, SUFFIXES[args.format])
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "plan", help="plan blueprints offline",
        description="Run the Pulumi program for each blueprint under recording mocks (no cloud "
        "credentials, no Pulumi CLI) and print what would be created: resources by building "
        "block, GPUs by model and pool, estimated IT power and on-demand cost. Several "
        "blueprints are planned in one process; --out then names a folder.")
    add_sources_args(p)
    add_output_args(p, ["text", "json", "markdown"], "text")
    p.set_defaults(func=run)
