"""`aifactory check`: evaluate every policy rule on the offline plan of a blueprint.

Exit 0 when every mandatory rule passes (advisories and waived violations are reported),
1 when a mandatory rule fails, 2 on bad input. With --manifests, checkov (our CKV_AIF checks)
and strict schema validation also run over Kubernetes manifests: a folder written by
`aifactory render`, or (with no folder) the plan's own manifests rendered to a temporary one.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from aifactory.commands.common import add_output_args, add_source_args, plan_for, write_output
from blueprints.errors import InputError

RENDER = "(render)"


def _today(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date such as 2026-01-31") from None


def manifest_rule(check_id: str, check_name: str, custom: bool) -> Any:
    """The rule a manifest check's findings are reported (and waived) under."""
    from policies.model import (
        MANIFEST_CRD_RULE,
        MANIFEST_SCHEMA_RULE,
        Rule,
        manifest_check_rule,
    )

    if check_id == "crd-schema":
        return Rule(name=MANIFEST_CRD_RULE, domain="manifest", severity="high",
                    description="Every custom resource the factory renders is valid against "
                    "the upstream CRD of its group, kind and version, with no unknown fields.",
                    remediation="Fix the field named in the message in the component that "
                    "builds the object (compare the CRD in ../shared/crds).",
                    enforcement="mandatory", check=None)
    if check_id == "schema":
        return Rule(name=MANIFEST_SCHEMA_RULE, domain="manifest", severity="high",
                    description="Every Kubernetes object the factory renders is valid against "
                    "the official schema of its Kubernetes version, with no unknown fields.",
                    remediation="Fix the field named in the message in the component that "
                    "builds the object.", enforcement="mandatory", check=None)
    return Rule(name=manifest_check_rule(check_id), domain="manifest",
                severity="high" if custom else "low",
                description=f"{check_id}: {check_name}.",
                remediation="Change the object in the component that builds it; see "
                "policies/checkov/README.md for our CKV_AIF checks." if custom else
                "See checkov's documentation of the check.",
                enforcement="mandatory" if custom else "advisory", check=None)


def add_manifest_checks(result: Any, view: Any, directory: str | Path) -> None:
    """Run checkov and kubernetes-validate over `directory`; add their findings to `result`."""
    from policies.checkov_runner import CUSTOM_CHECKS, run_manifest_checks
    from policies.engine import add_findings
    from policies.model import Finding
    from policies.registries import image_policy_registries

    checks = run_manifest_checks(directory, image_policy_registries(view))
    objects = {}
    for r in view.resources:
        meta = r["inputs"].get("metadata") if r["type"].startswith("kubernetes:") else None
        if isinstance(meta, dict):
            key = (r["inputs"].get("kind"), meta.get("namespace") or "default", meta.get("name"))
            objects[key] = r["urn"]
    grouped: dict[str, tuple[Any, list[Any]]] = {}
    if checks.checked_files:
        ids = [("schema", ""), *([("crd-schema", "")] if checks.crd_checked else []),
               *CUSTOM_CHECKS.items()]
        for check_id, name in ids:
            rule = manifest_rule(check_id, name, True)
            grouped[rule.name] = (rule, [])
    for f in checks.findings:
        rule = manifest_rule(f.check_id, f.check_name, f.custom)
        urn = objects.get((f.kind, f.namespace or "default", f.name), "")
        finding = Finding(urn=urn, subject=f"{f.kind}/{f.name}",
                          message=f"{f.file}: {f.kind} {f.namespace + '/' if f.namespace else ''}"
                          f"{f.name}: {f.message}",
                          details={"file": f.file, "checkId": f.check_id, "tool": f.tool})
        grouped.setdefault(rule.name, (rule, []))[1].append(finding)
    for rule, findings in grouped.values():
        add_findings(result, rule, findings, view)
    result.notes.extend(checks.notes)


def run(args: argparse.Namespace) -> int:
    from policies.engine import evaluate_view
    from policies.report import render
    from policies.view import PlanView

    plan = plan_for(args)
    view = PlanView.of_plan(plan)
    result = evaluate_view(view, today=args.today)
    if args.manifests == RENDER:
        from aifactory.render import render_manifests

        with tempfile.TemporaryDirectory(prefix="aifactory-manifests-") as tmp:
            render_manifests(plan, tmp)
            add_manifest_checks(result, view, tmp)
    elif args.manifests is not None:
        if not Path(args.manifests).is_dir():
            raise InputError(f"{args.manifests}: no such folder of manifests")
        add_manifest_checks(result, view, args.manifests)
    write_output(render(result, args.format), args.out)
    return result.exit_code()


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check", help="evaluate the power, capacity, sovereignty and security policies",
        description="Evaluate every policy rule on the offline plan of a blueprint (or a plan "
        "JSON). Exit 0 when every mandatory rule passes, 1 when one fails, 2 on bad input.")
    add_source_args(p, plan_json=True)
    add_output_args(p, ["text", "json", "sarif", "markdown"], "text")
    p.add_argument("--manifests", metavar="DIR", nargs="?", const=RENDER,
                   help="also run checkov (CKV_AIF checks) and strict schema validation over "
                   "the manifests in DIR; without DIR, over the plan's manifests rendered to a "
                   "temporary folder")
    p.add_argument("--today", type=_today, default=None, metavar="YYYY-MM-DD",
                   help="judge waiver expiry as of this day (default: today)")
    p.set_defaults(func=run)
