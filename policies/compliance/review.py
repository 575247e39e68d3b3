"""The compliance review: what `aifactory report` writes (Markdown, HTML, OSCAL).

One `Review` holds everything the three formats show, so they cannot disagree: the
identification of every input, the sign-off summary, coverage per framework, each rule's
findings with the evidence that satisfies or breaks it, the waiver register, root causes, and
the method and its limits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from policies.compliance import PROVENANCE, Control, Crosswalk, Framework, crosswalk
from policies.model import SEVERITIES, CauseGroup, Evidence, Result, Rule, RuleOutcome, Violation
from policies.version import VERSION


def stable_uuid(*parts: str) -> str:
    """A UUID derived from `parts` (sha256, in the version-4 layout tools expect): a review's
    UUIDs come from its inputs, so the same inputs give the same document."""
    digest = hashlib.sha256("|".join(("aifactory-review", *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))

ControlStatus = Literal["satisfied", "not-satisfied", "waived", "partial", "not-applicable",
                        "manual"]
CONTROL_STATUS_TEXT: dict[ControlStatus, str] = {
    "satisfied": "satisfied by the plan",
    "not-satisfied": "not satisfied: a mapped rule fails",
    "waived": "not satisfied, waived",
    "partial": "the plan satisfies it; manual evidence needed",
    "not-applicable": "not applicable to this factory",
    "manual": "manual evidence needed",
}

METHOD = [
    "An offline analysis of the plan: the Pulumi program that deploys the factory ran under "
    "Pulumi's in-process mocks, with no cloud credentials and no access to any cloud, and "
    "recorded every resource it would create with its inputs. The policy rules read that "
    "record.",
    "What the plan cannot show is not assessed: values a cloud assigns at deployment (ids, "
    "ARNs of new resources), the state of resources created outside this program, and how "
    "the factory is operated. Controls marked 'manual evidence needed' need records a "
    "reviewer collects (site inspections, test records, procedures).",
    "Rule-to-control mappings are labelled with their provenance: P (Prowler maps an "
    "equivalent check), K (a kube-bench CIS check), X (the CSA CCM 4.0 crosswalk in Prowler), "
    "or proposed by this project. Proposed mappings are for the reviewer to confirm.",
    "Waivers are honoured through their expiry day as of the review date; an expired waiver "
    "turns its finding back into a failure. The raw finding stays listed next to its waiver.",
    "No guarantee: a passing review shows the design as planned meets the rules; it does not "
    "show that a deployment, or its operation, is compliant.",
]


@dataclass(frozen=True)
class Scope:
    jurisdiction: str | None
    clouds: list[str]
    accounts: list[str]
    regions: list[str]
    sites: list[str]


@dataclass(frozen=True)
class Identification:
    report_id: str
    tool: str
    tool_version: str
    rules_digest: str
    crosswalk_digest: str
    blueprint: str
    blueprint_digest: str | None
    commit: str | None
    commit_clean: bool
    plan_digest: str
    catalog_snapshot: str
    date: date
    factory: str
    stack: str | None
    scope: Scope
    frameworks: list[str]


@dataclass(frozen=True)
class ControlCoverage:
    control: Control
    status: ControlStatus
    rules: list[tuple[str, str, str | None]]
    """(rule, provenance, note) of each mapped rule."""


@dataclass(frozen=True)
class RuleSection:
    rule: Rule
    state: str
    violations: list[Violation]
    passing: list[Evidence]
    """What the rule examined and found right."""
    evidence_of: dict[str, Evidence]
    """Evidence by subject (for the failing ones too)."""
    controls: list[tuple[Control, str]]


@dataclass(frozen=True)
class WaiverEntry:
    id: str
    rule: str
    resource: str
    reason: str
    owner: str
    approver: str
    ticket: str
    approved: date | None
    expires: date
    status: Literal["active", "expired", "covers nothing"]
    covers: list[str]
    severity: str


@dataclass
class Review:
    identification: Identification
    result: Result
    counts_by_status: dict[str, int]
    counts_by_severity: dict[str, dict[str, int]]
    coverage: list[tuple[Framework, list[ControlCoverage]]]
    sections: list[RuleSection]
    waivers: list[WaiverEntry]
    groups: list[CauseGroup]
    method: list[str] = field(default_factory=lambda: list(METHOD))

    @property
    def verdict(self) -> str:
        r = self.result
        if r.passed:
            return (f"PASSED: no mandatory rule fails ({len(r.waived)} waived, "
                    f"{len(r.advisories)} advisory)")
        return (f"FAILED: {len(r.failed)} mandatory violation{'s' * (len(r.failed) != 1)} "
                f"({len(r.waived)} waived, {len(r.advisories)} advisory)")

    def uuid(self, *parts: str) -> str:
        """A UUID for a part of this review, stable for the same inputs."""
        return stable_uuid(self.identification.report_id, *parts)


def rules_digest(rules: Sequence[Rule]) -> str:
    """sha256 over the rule set: each rule's metadata and the source of the rule modules."""
    h = hashlib.sha256()
    for r in rules:
        h.update(json.dumps([r.name, r.domain, r.severity, r.enforcement, r.description,
                             r.remediation]).encode())
    rules_dir = Path(__file__).resolve().parent.parent / "rules"
    for path in sorted(rules_dir.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _scope(view_resources: Sequence[Mapping[str, Any]], jurisdiction: str | None) -> Scope:
    from blueprints.facts import AWS_ENVIRONMENT, GCP_ENVIRONMENT, SITE

    clouds, accounts, regions, sites = set(), set(), set(), []
    for r in view_resources:
        f = r["inputs"]
        if r["type"] == AWS_ENVIRONMENT:
            clouds.add("aws")
            accounts.add(f"aws:{f.get('accountId')}")
            regions.add(f"aws:{f.get('region')}")
        elif r["type"] == GCP_ENVIRONMENT:
            clouds.add("gcp")
            accounts.add(f"gcp:{f.get('project')}")
            regions.add(f"gcp:{f.get('region')}")
        elif r["type"] == SITE:
            clouds.add("onprem")
            sites.append(f"{f.get('environment')} ({f.get('country')})")
    return Scope(jurisdiction, sorted(clouds), sorted(accounts), sorted(regions), sorted(sites))


def _control_status(control: Control, rules: list[str],
                    outcomes: Mapping[str, RuleOutcome]) -> ControlStatus:
    states = [outcomes[r].state for r in rules if r in outcomes]
    if "failed" in states:
        return "not-satisfied"
    if "waived" in states:
        return "waived"
    applicable = [s for s in states if s != "not-applicable"]
    if not applicable:
        return "manual" if control.manual else "not-applicable"
    return "partial" if control.manual else "satisfied"


def build(plan: Mapping[str, Any], result: Result, evidence: Mapping[str, list[Evidence]],
          *, blueprint_file: str | None, today: date,
          walk: Crosswalk | None = None) -> Review:
    """The review of one checked plan."""
    from blueprints.paths import git_commit

    walk = walk or crosswalk()
    rules = [o.rule for o in result.outcomes]
    plan_digest = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()
    blueprint_digest = None
    commit, clean = None, False
    if blueprint_file and Path(blueprint_file).is_file():
        blueprint_digest = hashlib.sha256(Path(blueprint_file).read_bytes()).hexdigest()
        commit, clean = git_commit(blueprint_file)
    import catalog.data

    digest = rules_digest(rules)
    jurisdiction = next((r["inputs"].get("jurisdiction") for r in plan["resources"]
                         if r["type"] == "aifactory:factory:Factory"), None)
    ident = Identification(
        report_id=stable_uuid(plan_digest, digest, walk.digest, today.isoformat()),
        tool="aifactory", tool_version=VERSION, rules_digest=digest,
        crosswalk_digest=walk.digest, blueprint=str(plan.get("blueprint") or ""),
        blueprint_digest=blueprint_digest, commit=commit, commit_clean=clean,
        plan_digest=plan_digest, catalog_snapshot=catalog.snapshot_description(),
        date=today, factory=str(plan.get("factory") or result.factory or ""),
        stack=plan.get("stack"), scope=_scope(plan["resources"], jurisdiction),
        frameworks=[f"{f.title}" for f in walk.frameworks],
    )
    outcomes = {o.rule.name: o for o in result.outcomes}
    counts_status: Counter[str] = Counter()
    counts_severity: dict[str, Counter[str]] = {s: Counter() for s in SEVERITIES}
    for o in result.outcomes:
        state: str = o.state
        failing = [v for v in result.failed if v.rule.name == o.rule.name]
        if failing and all(v.waiver_expired for v in failing):
            state = "waiver-expired"  # it would pass but for waivers that ran out
        counts_status[state] += 1
        counts_severity[o.rule.severity][state] += 1
    coverage = []
    for fw in walk.frameworks:
        rows = []
        for control in fw.controls:
            maps = walk.of_control(control)
            names = [m.rule for m in maps]
            rows.append(ControlCoverage(control, _control_status(control, names, outcomes),
                                        [(m.rule, m.provenance, m.note) for m in maps]))
        coverage.append((fw, rows))
    manual_count = sum(1 for _, rows in coverage for c in rows
                       if c.status in ("manual", "partial"))
    counts_status["manual"] = manual_count
    sections = []
    for o in result.outcomes:
        ev = evidence.get(o.rule.name, [])
        mine = [v for v in result.violations if v.rule.name == o.rule.name]
        broken = {v.subject for v in mine} | {v.urn for v in mine}
        sections.append(RuleSection(
            rule=o.rule, state=o.state, violations=mine,
            passing=[e for e in ev if e.subject not in broken and e.urn not in broken],
            evidence_of={e.subject: e for e in ev},
            controls=[(m.control, m.provenance) for m in walk.of_rule(o.rule.name)]))
    waivers = _register(result)
    return Review(identification=ident, result=result, counts_by_status=dict(counts_status),
                  counts_by_severity={k: dict(v) for k, v in counts_severity.items()},
                  coverage=coverage, sections=sections, waivers=waivers,
                  groups=result.groups)


def _register(result: Result) -> list[WaiverEntry]:
    seen: dict[int, WaiverEntry] = {}
    severity = {o.rule.name: o.rule.severity for o in result.outcomes}
    by_index: dict[int, list[Violation]] = {}
    for v in result.violations:
        if v.waiver is not None:
            by_index.setdefault(v.waiver.index, []).append(v)
    everyone = {v.waiver.index: v.waiver for v in result.violations if v.waiver is not None}
    everyone.update({w.index: w for w in result.unused_waivers})
    for index in sorted(everyone):
        w = everyone[index]
        covered = by_index.get(index, [])
        status: Literal["active", "expired", "covers nothing"] = (
            "covers nothing" if not covered else "expired"
            if any(v.waiver_expired for v in covered) else "active")
        seen[index] = WaiverEntry(
            id=f"W-{index + 1}", rule=w.rule, resource=w.resource, reason=w.reason,
            owner=w.owner, approver=w.approver, ticket=w.ticket, approved=w.approved,
            expires=w.expires, status=status,
            covers=list(dict.fromkeys(v.subject for v in covered)),
            severity=severity.get(w.rule, ""))
    return list(seen.values())


def provenance_text(tag: str) -> str:
    return PROVENANCE.get(tag, tag)  # type: ignore[call-overload,no-any-return]
