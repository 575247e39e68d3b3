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
        MANIFEST_CHART_TAG_RULE,
        MANIFEST_CHART_VALUES_RULE,
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
    if check_id == "chart-values":
        return Rule(name=MANIFEST_CHART_VALUES_RULE, domain="manifest", severity="high",
                    description="Every value passed to an upstream chart is one the chart "
                    "declares (its values.yaml or the paths its templates read): Helm ignores "
                    "the others silently.",
                    remediation="Remove or rename the value in the component that builds the "
                    "chart's values (compare the chart's values.yaml at its pinned version).",
                    enforcement="mandatory", check=None)
    if check_id == "chart-tag":
        return Rule(name=MANIFEST_CHART_TAG_RULE, domain="manifest", severity="high",
                    description="Each image the catalog says a chart pulls is at the chart's "
                    "own default tag, the tag sovereign mirror locks are held to.",
                    remediation="Set the image's default_tag in catalog/charts.py to the tag the "
                    "pinned chart pulls, then re-lock mirrors (`aifactory mirror lock`).",
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
    chart_notes = add_chart_value_checks(grouped, view, directory)
    for rule, findings in grouped.values():
        add_findings(result, rule, findings, view)
    result.notes.extend(checks.notes)
    result.notes.extend(chart_notes)


def add_chart_value_checks(grouped: dict[str, tuple[Any, list[Any]]], view: Any,
                           directory: str | Path) -> list[str]:
    """The values of every rendered helm release against its chart's data (and the chart's
    default image tags against the catalog's pins), grouped by rule like the other checks."""
    from aifactory.render import child
    from policies.chart_values import check_releases
    from policies.kinds import HELM_TYPES
    from policies.model import Finding

    report = check_releases(directory)
    releases = {child(r["name"]): r["urn"] for r in view.resources if r["type"] in HELM_TYPES}
    checked = set(report.sources)
    if report.releases and checked:
        for check_id in ("chart-values", "chart-tag"):
            rule = manifest_rule(check_id, "", True)
            grouped.setdefault(rule.name, (rule, []))
    for p in report.problems:
        rule = manifest_rule("chart-values" if p.kind == "undeclared" else "chart-tag", "",
                             True)
        grouped.setdefault(rule.name, (rule, []))[1].append(Finding(
            urn=releases.get(Path(p.file).stem, ""), subject=f"{p.release} ({p.chart})",
            message=f"{p.file}: {p.chart}: {p.message}",
            details={"file": p.file, "chart": p.chart, "tool": "chart-values"}))
    return list(report.notes)


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
