"""`aifactory render`: write the Kubernetes manifests and first-boot files a blueprint produces."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from aifactory.commands.common import add_source_args, at_blueprint_lines
from blueprints.errors import InputError


def run(args: argparse.Namespace) -> int:
    from aifactory import render
    from aifactory.plan.document import plan_blueprint
    from blueprints.stacks import load_for_stack
    from policies.rules import KNOWN_RULES

    render.check_output_folder(args.out)
    spec, path = load_for_stack(args.source, args.stack, rules=KNOWN_RULES)
    with at_blueprint_lines(path, args.stack):
        plan = plan_blueprint(spec, path, stack=args.stack or "offline")
    try:
        removed = render.clear_output_folder(args.out)
        written = render.render_manifests(plan, args.out)
        if any(env.kind == "onprem" for env in spec.environments.values()):
            from blueprints.compose.firstboot import render_site_files

            written += render.render_files(render_site_files(spec), args.out)
        render.record_output(args.out, written)
    except OSError as e:
        raise InputError(f"--out {args.out}: cannot write: {e.strerror or e}: choose a folder "
                         "you can write to") from None
    stale = f" (replaced {removed} files of an earlier render)" if removed else ""
    print(f"wrote {len(written)} files to {args.out}{stale}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("render", help="write Kubernetes manifests and first-boot files",
                       description="Write every Kubernetes object the blueprint defines (one "
                       "file each, by environment), helm releases with their values, and the "
                       "cloud-init and iPXE files of bare-metal hosts. Secrets stay masked.")
    add_source_args(p)
    p.add_argument("--out", metavar="DIR", required=True,
                   help="folder to write into: a new or empty one, or one an earlier render "
                   "wrote (its files are replaced; nothing else is touched)")
    p.set_defaults(func=run)
