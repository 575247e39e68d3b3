"""Reports of a policy check: text (terminal), JSON, Markdown (PR comment) and SARIF 2.1.0.

Every format shows the same things: the verdict, the power envelope per site, quota use per
cloud and region, violations with their remediation, advisories, waived violations and
waivers that covered nothing.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from policies.model import CauseGroup, Result, Rule, Violation
from policies.version import VERSION

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://github.com/ai-factory/ai-factory"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _verdict(result: Result) -> str:
    failed, adv, waived = len(result.failed), len(result.advisories), len(result.waived)
    head = "PASSED" if result.passed else "FAILED"
    return (f"{head}: {failed} mandatory violation{'s' * (failed != 1)}, {adv} "
            f"advisor{'ies' if adv != 1 else 'y'}, {waived} waived")


def _title(result: Result) -> str:
    what = result.factory or "plan"
    return f"{what} ({result.blueprint})" if result.blueprint else what


# -- text ---------------------------------------------------------------------------------------


def text(result: Result) -> str:
    """A report for the terminal."""
    out = [f"aifactory check {_title(result)}: {_verdict(result)}"]
    if result.sites:
        out.append("\nPower")
        for s in result.sites:
            out.append(f"  {s.site} ({s.country}): IT {s.it_kw:g} kW x PUE {s.pue:g} = "
                       f"{s.facility_kw:g} kW of {s.budget_kw:g} kW budget, headroom "
                       f"{s.headroom_kw:g} kW ({s.headroom_pct:g}%)")
            for r in s.racks:
                out.append(f"    rack {r.rack}: {r.it_kw:g} / {r.limit_kw:g} kW, {r.cooling}")
    if result.quotas:
        out.append("\nQuotas (at the pools' maximum size)")
        for q in result.quotas:
            declared = "not declared" if q.quota is None else f"{q.quota}"
            flag = "  OVER" if q.over else ""
            out.append(f"  {q.cloud} {q.scope} {q.region} {q.metric}: {q.used} / {declared} "
                       f"{q.unit}{flag}")
    groups = result.groups
    grouped = {id(v) for g in groups for v in g.violations}
    for title, items in (("Violations", result.failed), ("Advisories", result.advisories),
                         ("Waived", result.waived)):
        mine = [g for g in groups if g.status == items[0].status] if items else []
        items = [v for v in items if id(v) not in grouped]
        if not items and not mine:
            continue
        out.append(f"\n{title}")
        for g in mine:
            out += _text_group(g)
        for v in items:
            out.append(f"  {v.status.upper():8} [{v.rule.severity}] {v.rule.name}: {v.message}")
            if v.status != "waived":
                out.append(f"           fix: {v.rule.remediation}")
                out.append(f"           waive: {_waive_with(v)}")
    if result.unused_waivers:
        out.append("\nWaivers that cover nothing (remove them)")
        for w in result.unused_waivers:
            out.append(f"  {w.rule} on {w.resource} (owner {w.owner}, expires "
                       f"{w.expires.isoformat()})")
    for note in result.notes:
        out.append(f"\nNote: {note}")
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.state] = counts.get(o.state, 0) + 1
    out.append("\nRules: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    return "\n".join(out) + "\n"


def _waive_with(v: Violation) -> str:
    """The waiver entry that would cover a violation, as a reader copies it."""
    also = v.finding.also_waived_by
    return f"{{rule: {v.rule.name}, resource: {v.waive_with}}}" + (
        f" (or resource: {' / '.join(also)})" if also else "")


def _text_group(g: CauseGroup) -> list[str]:
    c = g.cause
    n = len(g.violations)
    rules = len(g.rules)
    out = [f"  {'CAUSE':8} [{g.severity}] {c.setting} = {c.value}: {c.problem} "
           f"({n} violations of {rules} rule{'s' * (rules != 1)})",
           f"           fix: {c.fix}"]
    for rule in g.rules:
        subjects = list(dict.fromkeys(v.subject for v in g.violations if v.rule.name == rule))
        out.append(f"           - {rule}: {', '.join(subjects)}")
    return out


# -- JSON ---------------------------------------------------------------------------------------


def as_dict(result: Result) -> dict[str, Any]:
    """The JSON document of a check."""
    return {
        "version": 1,
        "factory": result.factory,
        "blueprint": result.blueprint,
        "stack": result.stack,
        "today": result.today.isoformat(),
        "passed": result.passed,
        "summary": {"failed": len(result.failed), "advisory": len(result.advisories),
                    "waived": len(result.waived)},
        "rules": [{"name": o.rule.name, "domain": o.rule.domain, "severity": o.rule.severity,
                   "enforcement": o.rule.enforcement, "state": o.state,
                   "violations": o.violations} for o in result.outcomes],
        "violations": [v.as_dict() for v in result.violations],
        "rootCauses": [g.as_dict() for g in result.groups],
        "unusedWaivers": [w.as_dict() for w in result.unused_waivers],
        "power": [s.as_dict() for s in result.sites],
        "quotas": [q.as_dict() for q in result.quotas],
        "notes": list(result.notes),
    }


def to_json(result: Result) -> str:
    return json.dumps(as_dict(result), indent=2, ensure_ascii=False) + "\n"


# -- Markdown -----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def markdown(result: Result) -> str:
    """What a pull-request comment or a compliance reviewer reads."""
    icon = "✅" if result.passed else "❌"
    out = [f"## {icon} Policy check: {_cell(_title(result))}", "", f"**{_verdict(result)}** "
           f"(waivers evaluated on {result.today.isoformat()})", ""]
    if result.sites:
        out += ["### Power envelope", ""]
        out += _table(["Site", "Country", "Hosts", "GPUs", "IT kW", "PUE", "Facility kW",
                       "Budget kW", "Headroom kW", "Headroom %"],
                      [[s.site, s.country, s.hosts, s.gpus, f"{s.it_kw:g}", f"{s.pue:g}",
                        f"{s.facility_kw:g}", f"{s.budget_kw:g}", f"{s.headroom_kw:g}",
                        f"{s.headroom_pct:g}"] for s in result.sites])
        rack_rows = [[s.site, r.rack, f"{r.it_kw:g}", f"{r.limit_kw:g}", r.cooling,
                      ", ".join(r.hosts)] for s in result.sites for r in s.racks]
        if rack_rows:
            out += _table(["Site", "Rack", "IT kW", "Limit kW", "Cooling", "Hosts"], rack_rows)
    if result.quotas:
        out += ["### Quota use at maximum pool size", ""]
        out += _table(["Cloud", "Account / project", "Region", "Quota", "Used", "Declared",
                       "Use", "Pools"],
                      [[q.cloud, q.scope, q.region, q.metric, f"{q.used} {q.unit}",
                        "not declared" if q.quota is None else f"{q.quota} {q.unit}",
                        "-" if not q.quota else f"{100 * q.used / q.quota:.0f}%"
                        + (" ❌" if q.over else ""), ", ".join(q.pools)]
                       for q in result.quotas])
    groups = result.groups
    grouped = {id(v) for g in groups for v in g.violations}
    if groups:
        out += ["### Root causes", "",
                "One setting of the blueprint causes each group; fix it and its violations go.",
                ""]
        out += _table(["Cause", "Severity", "Status", "Violations", "Rules", "Fix"],
                      [[f"`{g.cause.setting}` = `{g.cause.value}`: {g.cause.problem}",
                        g.severity, g.status, len(g.violations),
                        ", ".join(f"`{r}`" for r in g.rules), g.cause.fix] for g in groups])
        for g in groups:
            out += [f"<details><summary>{len(g.violations)} resources affected by "
                    f"<code>{g.cause.setting}</code></summary>", ""]
            out += _table(["Rule", "Resource", "Finding"],
                          [[f"`{v.rule.name}`", v.subject, v.message] for v in g.violations])
            out += ["</details>", ""]
    for title, items in (("Violations", result.failed), ("Advisories", result.advisories)):
        items = [v for v in items if id(v) not in grouped]
        if items:
            out += [f"### {title}", ""]
            out += _table(["Rule", "Severity", "Resource", "Finding", "Remediation",
                           "Waive with `resource:`"],
                          [[f"`{v.rule.name}`", v.rule.severity, v.subject, v.message,
                            v.rule.remediation, f"`{v.waive_with}`" + "".join(
                                f" or `{a}`" for a in v.finding.also_waived_by)]
                           for v in items])
    if result.waived:
        out += ["### Waived", ""]
        out += _table(["Rule", "Resource", "Owner", "Approver", "Ticket", "Expires", "Reason",
                       "Finding"],
                      [[f"`{v.rule.name}`", v.subject, v.waiver.owner if v.waiver else "",
                        v.waiver.approver if v.waiver else "",
                        v.waiver.ticket if v.waiver else "",
                        v.waiver.expires.isoformat() if v.waiver else "",
                        v.waiver.reason if v.waiver else "", v.finding.message]
                       for v in result.waived])
    if result.unused_waivers:
        out += ["### Waivers that cover nothing", ""]
        out += _table(["Rule", "Resource", "Owner", "Expires"],
                      [[f"`{w.rule}`", w.resource, w.owner, w.expires.isoformat()]
                       for w in result.unused_waivers])
    for note in result.notes:
        out += [f"> {note}", ""]
    out += ["<details><summary>Rules</summary>", ""]
    out += _table(["Rule", "Domain", "Severity", "Enforcement", "Result"],
                  [[f"`{o.rule.name}`", o.rule.domain, o.rule.severity, o.rule.enforcement,
                    o.state] for o in result.outcomes])
    out += ["</details>", ""]
    return "\n".join(out)


# -- SARIF 2.1.0 --------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _spec_lines(path: str) -> dict[tuple[str | int, ...], int]:
    from blueprints.spec.loader import parse_yaml

    try:
        _, lines = parse_yaml(Path(path).read_text(encoding="utf-8"), path)
    except Exception:
        return {}
    return {loc: line for loc, (_, line) in lines.items()}


def spec_line(blueprint: str | None, spec_path: str | None) -> int:
    """The blueprint line a dotted spec path starts at (its nearest known parent's, else 1)."""
    if not blueprint or not spec_path:
        return 1
    lines = _spec_lines(blueprint)
    loc = tuple(spec_path.split("."))
    for n in range(len(loc), 0, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return 1


def _uri(result: Result) -> str:
    """The blueprint's path from the root of its repository (what code scanning expects),
    wherever the command ran."""
    from blueprints.paths import shown_path

    if result.blueprint_file:
        return shown_path(result.blueprint_file)
    if not result.blueprint:
        return "blueprint.yaml"
    return Path(result.blueprint).as_posix()


def _level(rule: Rule) -> str:
    return "error" if rule.enforcement == "mandatory" else "warning"


def _descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.name,
        "name": "".join(p.title() for p in rule.name.split("-")),
        "shortDescription": {"text": rule.description.split(". ")[0].rstrip(".") + "."},
        "fullDescription": {"text": rule.description},
        "help": {"text": f"{rule.description}\nRemediation: {rule.remediation}",
                 "markdown": f"{rule.description}\n\n**Remediation:** {rule.remediation}"},
        "defaultConfiguration": {"level": _level(rule)},
        "properties": {"tags": [rule.domain, rule.enforcement], "precision": "high",
                       "security-severity": SECURITY_SEVERITY[rule.severity]},
    }


def _result(v: Violation, index: int, result: Result) -> dict[str, Any]:
    fingerprint = hashlib.sha256(f"{v.rule.name}|{v.urn}|{v.subject}|{v.finding.message}"
                                 .encode()).hexdigest()[:32]
    out: dict[str, Any] = {
        "ruleId": v.rule.name,
        "ruleIndex": index,
        "level": _level(v.rule),
        "message": {"text": f"{v.message}. Remediation: {v.rule.remediation}"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(result), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": spec_line(
                    result.blueprint_file or result.blueprint,
                    v.finding.cause.setting if v.finding.cause else v.finding.spec_path)},
            },
            "logicalLocations": [{"name": v.resource_name, "fullyQualifiedName": v.urn or
                                  v.subject, "kind": "resource"}],
        }],
        "partialFingerprints": {"aifactoryFinding/v1": fingerprint},
        "properties": {"status": v.status, "subject": v.subject, "resourceType":
                       v.resource_type, "waiveWith": {"rule": v.rule.name,
                                                      "resource": v.waive_with},
                       **({"rootCause": v.finding.cause.setting} if v.finding.cause else {}),
                       **{k: val for k, val in v.finding.details.items()}},
    }
    if v.waiver is not None:
        out["suppressions"] = [{
            "kind": "external",
            "status": "rejected" if v.waiver_expired else "accepted",
            "justification": f"{v.waiver.reason} (owner {v.waiver.owner}, approved by "
                             f"{v.waiver.approver or 'nobody'}"
                             + (f" on {v.waiver.approved.isoformat()}" if v.waiver.approved
                                else "")
                             + f", ticket {v.waiver.ticket or 'none'}, expires "
                             f"{v.waiver.expires.isoformat()})",
        }]
    return out


def sarif(result: Result) -> dict[str, Any]:
    """The SARIF 2.1.0 log of a check (GitHub code scanning reads it)."""
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [_run(result)]}


def sarif_of_many(results: list[Result]) -> dict[str, Any]:
    """One SARIF 2.1.0 log with a run per blueprint."""
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [_run(r) for r in results]}


def _run(result: Result) -> dict[str, Any]:
    rules = [o.rule for o in result.outcomes]
    index = {r.name: i for i, r in enumerate(rules)}
    return {
        "tool": {"driver": {"name": "aifactory-check", "informationUri": TOOL_URI,
                            "version": VERSION, "rules": [_descriptor(r) for r in rules]}},
        "automationDetails": {"id": f"aifactory-check/{result.factory or 'plan'}/"},
        "invocations": [{"executionSuccessful": True,
                         "properties": {"today": result.today.isoformat(),
                                        "notes": list(result.notes)}}],
        "results": [_result(v, index[v.rule.name], result) for v in result.violations],
    }


def to_sarif(result: Result) -> str:
    return json.dumps(sarif(result), indent=2, ensure_ascii=False) + "\n"


FORMATS = {"text": text, "json": to_json, "markdown": markdown, "sarif": to_sarif}


def render(result: Result, fmt: str) -> str:
    """The report of `result` in format `fmt` (text, json, markdown, sarif)."""
    return FORMATS[fmt](result)
