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

from aifactory.commands.common import (
    add_output_args,
    add_sources_args,
    sources_for,
    write_output,
    write_outputs,
)
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


def add_manifest_checks(result: Any, view: Any, directory: str | Path,
                        checks: Any | None = None) -> None:
    """Run checkov and kubernetes-validate over `directory` (or take their `checks` of it
    from a run over several factories); add their findings to `result`."""
    from policies.checkov_runner import CUSTOM_CHECKS, run_manifest_checks
    from policies.engine import add_findings
    from policies.model import Finding
    from policies.registries import image_policy_registries

    if checks is None:
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
    result.manifests_checked = True


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


def check_sources(sources: list[Any], manifests: str | None, today: date | None,
                  ) -> list[tuple[Any, Any, Any]]:
    """(source, view, result) of each source: every rule; with `manifests`, the manifest
    runners too, over all sources' rendered manifests in one checkov run. Raises
    BlueprintError for waivers that match nothing (all sources' at once)."""
    from blueprints.spec.loader import BlueprintError
    from policies.engine import evaluate_view, evidence
    from policies.model import is_manifest_rule
    from policies.view import PlanView
    from policies.waivers import unmatched

    out = []
    for source in sources:
        view = PlanView.of_plan(source.plan)
        result = evaluate_view(view, today=today)
        result.blueprint_file = source.blueprint_file
        out.append((source, view, result))
    if manifests == RENDER:
        _check_rendered(out)
    elif manifests is not None:
        if len(out) > 1:
            raise InputError(f"--manifests {manifests}: a folder of manifests belongs to one "
                             "blueprint; with several, give --manifests alone (each is "
                             "rendered)")
        if not Path(manifests).is_dir():
            raise InputError(f"{manifests}: no such folder of manifests")
        add_manifest_checks(out[0][2], out[0][1], manifests)
    problems = []
    for source, view, result in out:
        if not result.manifests_checked:  # their waivers are judged with --manifests only
            result.unused_waivers = [w for w in result.unused_waivers
                                     if not is_manifest_rule(w.rule)]
        if result.unused_waivers:  # what the rule examined: the subjects a waiver may name
            problems += unmatched(result, evidence(view), source.blueprint_file)
    if problems:
        raise BlueprintError(problems)
    return out


def _check_rendered(checked: list[tuple[Any, Any, Any]]) -> None:
    from aifactory.render import render_manifests
    from policies.checkov_runner import run_manifest_checks_of_many
    from policies.registries import image_policy_registries

    with tempfile.TemporaryDirectory(prefix="aifactory-manifests-") as tmp:
        folders = {}
        for i, (source, view, _) in enumerate(checked):
            folder = f"aifactory-{i}-{source.name}"
            render_manifests(source.plan, Path(tmp) / folder)
            folders[folder] = image_policy_registries(view)
        runs = run_manifest_checks_of_many(tmp, folders)
        for folder, (_, view, result) in zip(folders, checked, strict=True):
            add_manifest_checks(result, view, Path(tmp) / folder, runs[folder])


SUFFIXES = {"text": ".check.txt", "json": ".check.json", "sarif": ".sarif",
            "markdown": ".check.md"}


def run(args: argparse.Namespace) -> int:
    from policies.report import render, sarif_of_many

    checked = check_sources(sources_for(args), args.manifests, args.today)
    results = [result for _, _, result in checked]
    if args.format == "sarif" and len(results) > 1 and args.out is None:
        import json

        write_output(json.dumps(sarif_of_many(results), indent=2, ensure_ascii=False) + "\n",
                     None)
    else:
        write_outputs({source.name: render(result, args.format)
                       for source, _, result in checked}, args.out, SUFFIXES[args.format])
    return max(r.exit_code() for r in results)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check", help="evaluate the power, capacity, sovereignty and security policies",
        description="Evaluate every policy rule on the offline plan of each blueprint (or plan "
        "JSON), all in one process (with --manifests, one checkov run over all of them). Exit "
        "0 when every mandatory rule passes, 1 when one fails, 2 on bad input (a waiver that "
        "covers no finding included).")
    add_sources_args(p, plan_json=True)
    add_output_args(p, ["text", "json", "sarif", "markdown"], "text")
    p.add_argument("--manifests", metavar="DIR", nargs="?", const=RENDER,
                   help="also run checkov (CKV_AIF checks) and strict schema validation over "
                   "the manifests in DIR; without DIR, over the plan's manifests rendered to a "
                   "temporary folder")
    p.add_argument("--today", type=_today, default=None, metavar="YYYY-MM-DD",
                   help="judge waiver expiry as of this day (default: today)")
    p.set_defaults(func=run)
