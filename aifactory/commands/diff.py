"""`aifactory diff BASE HEAD`: what a change to a blueprint does to its plan and its check.

Both sides are planned and checked here, with this version's code and rules (for a pull
request, `aifactory pr --base DIR` compares with plans and checks the base's own code made).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from aifactory.commands.common import add_output_args, write_output
from aifactory.preview import (  # re-exported: the diff is part of the preview
    Preview,
    deltas_of,
    diff_plans,
    render_diff,
    section,
    violation_changes,
)

__all__ = ["diff_plans", "register", "render_diff", "run"]


def _checked(source: str, stack: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    from aifactory.commands.common import blueprint_file_of, plan_for
    from policies.engine import evaluate_view
    from policies.report import as_dict
    from policies.view import PlanView

    plan = plan_for(argparse.Namespace(source=source, stack=stack))
    result = evaluate_view(PlanView.of_plan(plan))
    result.blueprint_file = blueprint_file_of(plan, source)
    return plan, as_dict(result)


def run(args: argparse.Namespace) -> int:
    base_plan, base_check = _checked(args.base, args.stack)
    head_plan, head_check = _checked(args.head, args.stack)
    preview = Preview(name=str(head_plan.get("factory") or args.head), head_plan=head_plan,
                      head_check=head_check, base_plan=base_plan, base_check=base_check)
    d = diff_plans(base_plan, head_plan)
    if args.format == "json":
        new, fixed = violation_changes(base_check, head_check)
        text = json.dumps({**d, "figures": [x.__dict__ for x in deltas_of(preview)],
                           "newViolations": new, "fixedViolations": fixed}, indent=2) + "\n"
    elif args.format == "markdown":
        text = "\n".join(section(preview)).rstrip() + "\n"
    else:
        lines = [render_diff(d, markdown=False).rstrip()]
        figures = deltas_of(preview)
        if figures:
            lines += ["", "Figures:"] + [f"  {x.what}: {x.before} -> {x.after} ({x.change})"
                                         for x in figures]
        new, fixed = violation_changes(base_check, head_check)
        for title, items in (("New violations", new), ("Fixed violations", fixed)):
            if items:
                lines += ["", f"{title}:"] + [f"  [{v['severity']}] {v['rule']}: {v['message']}"
                                             for v in items]
        text = "\n".join(lines) + "\n"
    write_output(text, args.out)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("diff", help="compare the plans and checks of two blueprints",
                       description="Show what changes between two plans: resources added, "
                       "changed (every changed value whole, or as a diff of the value when it "
                       "is long) and deleted; the change of every figure of the plan summary "
                       "and the check (site power and headroom, cost, GPUs, quota use); the "
                       "violations that are new and those fixed. Each side is a blueprint YAML "
                       "or a plan JSON, checked with this version's rules.")
    p.add_argument("base", metavar="BASE", help="blueprint or plan JSON before the change")
    p.add_argument("head", metavar="HEAD", help="blueprint or plan JSON after the change")
    p.add_argument("--stack", metavar="NAME", help="stack whose overrides apply to both sides")
    add_output_args(p, ["text", "json", "markdown"], "text")
    p.set_defaults(func=run)
