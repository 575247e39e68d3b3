"""`aifactory pr BLUEPRINT... --out DIR [--base DIR]`: the whole pull-request check, in one
process.

Every blueprint is planned (the Pulumi SDKs load once), every rule evaluated, every plan's
manifests rendered and checked (strict Kubernetes and CRD schemas per blueprint, one checkov
run over all of them). Written to DIR: <name>.plan.json, <name>.check.json, <name>.sarif (paths
from the repository root, real blueprint lines) and comment.md, the pull-request comment: per
blueprint the verdict, new and fixed violations against the base, the change of power, cost,
GPU and quota figures, a topology diagram and the resource diff. The base is a folder of
<name>.plan.json and <name>.check.json written by the base branch's own code
(scripts/base-plans). Prints the verdicts and how long each stage took. Exit 0 when every
blueprint passes, 1 when one fails, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from aifactory.commands.check import RENDER, _today, check_sources
from aifactory.commands.common import add_sources_args, sources_for, write_output


def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def run(args: argparse.Namespace) -> int:
    from aifactory.plan.document import dumps
    from aifactory.preview import Preview, comment
    from policies.report import as_dict, to_sarif

    started = time.perf_counter()
    sources = sources_for(args)
    planned = time.perf_counter()
    checked = check_sources(sources, RENDER if args.manifests else None,
                            args.today or date.today())
    done_checks = time.perf_counter()
    out = Path(args.out)
    base = Path(args.base) if args.base else None
    previews = []
    for source, _, result in checked:
        check = as_dict(result)
        write_output(dumps(source.plan), str(out / f"{source.name}.plan.json"))
        write_output(json.dumps(check, indent=2, ensure_ascii=False) + "\n",
                     str(out / f"{source.name}.check.json"))
        write_output(to_sarif(result), str(out / f"{source.name}.sarif"))
        preview = Preview(name=source.name, head_plan=source.plan, head_check=check)
        if base is not None:
            preview.base_plan = _read(base / f"{source.name}.plan.json")
            preview.base_check = _read(base / f"{source.name}.check.json")
            if preview.base_plan is not None and preview.base_check is None:
                from policies.engine import evaluate

                preview.base_check = as_dict(evaluate(preview.base_plan, today=result.today))
                preview.notes.append("the base's check was not found: its plan is checked "
                                     "with this branch's rules")
        previews.append(preview)
    write_output(comment(previews), str(out / "comment.md"))
    finished = time.perf_counter()
    for source, _, result in checked:
        verdict = "passed" if result.passed else "FAILED"
        print(f"{source.name}: {verdict} ({_count(len(result.failed), 'mandatory violation')}"
              f", {_count(len(result.advisories), 'advisory', 'advisories')}, "
              f"{len(result.waived)} waived)", file=sys.stderr)
    print(f"aifactory pr: {_count(len(checked), 'blueprint')} in {finished - started:.1f} s (plans "
          f"{planned - started:.1f} s, rules and manifests {done_checks - planned:.1f} s, "
          f"reports {finished - done_checks:.1f} s); wrote {out}/comment.md", file=sys.stderr)
    return max(r.exit_code() for _, _, r in checked)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pr", help="the whole pull-request check of several blueprints, in one process",
        description="Plan and check every blueprint (rules, rendered manifests: strict schemas "
        "and one checkov run over all of them), write each plan, check and SARIF log, and the "
        "pull-request comment with its changes against the base. Prints the time it took.")
    add_sources_args(p)
    p.add_argument("--out", metavar="DIR", required=True, help="folder to write into")
    p.add_argument("--base", metavar="DIR",
                   help="the base branch's <name>.plan.json and <name>.check.json "
                   "(scripts/base-plans writes them with the base's own code)")
    p.add_argument("--no-manifests", dest="manifests", action="store_false",
                   help="skip the manifest checks (checkov, schemas)")
    p.add_argument("--today", type=_today, default=None, metavar="YYYY-MM-DD",
                   help="judge waiver expiry as of this day (default: today)")
    p.set_defaults(func=run)
