"""The policy model: a rule, what it finds, and what a run of all rules concludes.

A rule is a pure function over a plan view (`PlanView`): the same function serves the offline
`aifactory check`, the CrossGuard pack and the report. What it returns are `Finding`s; the
engine turns them into `Violation`s, applies the factory's waivers and sums up a `Result`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from blueprints.errors import InputError

MANIFEST_SCHEMA_RULE = "manifest-schema-strict"
"""Rule `aifactory check --manifests` reports strict Kubernetes schema findings under."""
MANIFEST_CRD_RULE = "manifest-crd-schema-strict"
"""Rule it reports strict CRD schema findings under."""
MANIFEST_CHART_VALUES_RULE = "manifest-chart-values-declared"
"""Rule `--manifests` reports values a chart does not declare under."""
MANIFEST_CHART_TAG_RULE = "manifest-chart-image-tag"
"""Rule it reports a chart image whose default tag differs from the catalog's pin under."""
MANIFEST_CHECK_RULE = re.compile(r"^manifest-ckv2?-[a-z0-9]+-\d+$")
"""Names of the rules checkov's checks are reported under (see `manifest_check_rule`)."""


def is_manifest_rule(name: str) -> bool:
    """A rule whose findings come from the manifest runners (`check --manifests`)."""
    return name in (MANIFEST_SCHEMA_RULE, MANIFEST_CRD_RULE, MANIFEST_CHART_VALUES_RULE,
                    MANIFEST_CHART_TAG_RULE) or MANIFEST_CHECK_RULE.fullmatch(name) is not None


def manifest_check_rule(check_id: str) -> str:
    """The rule name a checkov check's findings are reported (and waived) under:
    CKV_AIF_1 -> manifest-ckv-aif-1."""
    return "manifest-" + check_id.lower().replace("_", "-")

if TYPE_CHECKING:
    from policies.envelope import QuotaUse, SitePower
    from policies.view import PlanView

Severity = Literal["critical", "high", "medium", "low"]
Enforcement = Literal["mandatory", "advisory"]
Status = Literal["failed", "advisory", "waived"]
RuleState = Literal["passed", "failed", "advisory", "waived", "not-applicable"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    """One thing a rule found wrong, attached to the resource that carries it."""

    urn: str
    """URN of the resource the finding is about (a component for site, rack or pool findings)."""
    subject: str
    """What a reader and a waiver name: a resource name, or e.g. 'dc1/rack-a'."""
    message: str
    """What is wrong, with the figures that show it."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """The figures, machine-readable (JSON and SARIF properties)."""
    spec_path: str | None = None
    """Dotted path in the blueprint the finding comes from (e.g. 'pools.train'), if known."""
    also_waived_by: tuple[str, ...] = ()
    """Further `resource` values a waiver may name besides the subject (the pools of a quota
    finding)."""
    cause: Cause | None = None
    """The one blueprint setting that causes this finding (and maybe many others), if known:
    reports group findings with the same cause."""


@dataclass(frozen=True)
class Cause:
    """One blueprint setting that causes findings: a region outside the jurisdiction, a key,
    a mirror. Findings of any rule that share a cause are reported as one group."""

    setting: str
    """Dotted path of the setting in the blueprint (e.g. 'environments.aws-eu.region')."""
    value: str
    """Its value (e.g. 'us-east-1')."""
    problem: str
    """What is wrong with it (e.g. 'outside EU')."""
    fix: str
    """What to change (one sentence)."""


@dataclass(frozen=True)
class Evidence:
    """One subject a rule examined, with the exact inputs it judged: what a reviewer reads to
    see why the rule passed (or failed) there."""

    urn: str
    subject: str
    """The finding subject it would have (what a waiver names)."""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """Input path (dotted) -> value, as the plan holds them (secrets masked)."""


Check = Callable[["PlanView"], Iterable[Finding]]
Examine = Callable[["PlanView"], Iterable[Evidence]]


@dataclass(frozen=True)
class Rule:
    """A policy rule: metadata plus a pure check over the plan."""

    name: str
    """Kebab-case id, `<domain>-<subject>-<rule>`; what waivers name."""
    domain: Literal["power", "capacity", "sovereignty", "security", "manifest"]
    """Group the rule belongs to."""
    severity: Severity
    """How bad a violation is."""
    description: str
    """One sentence: what the rule requires."""
    remediation: str
    """What to change in the blueprint to comply."""
    enforcement: Enforcement
    """mandatory: a violation fails the check; advisory: reported only."""
    check: Check | None
    """The pure function; None for rules whose findings come from another runner (checkov)."""
    applies: Callable[[PlanView], bool] | None = None
    """When given and false for a plan, the rule is reported as not applicable."""
    scope: Literal["resource", "stack"] = "stack"
    """resource: every finding depends on one resource (and its provider) only."""
    evidence: Examine | None = None
    """Every subject the check examines, with the inputs it judges (None: not listed)."""

    def __post_init__(self) -> None:
        parts = self.name.split("-")
        if len(parts) < 3 or not all((p.isalnum() and p.islower()) or p.isdigit() for p in parts):
            raise ValueError(f"rule name {self.name!r} is not kebab-case "
                             "<domain>-<subject>-<rule>")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name}: severity {self.severity!r} not in {SEVERITIES}")


WAIVER_FIELDS = ("rule", "resource", "reason", "owner", "approver", "ticket", "approved",
                 "expires")
"""What every waiver names (blueprints.spec.policy.Waiver)."""


@dataclass(frozen=True)
class Waiver:
    """A reviewed, time-limited acceptance of one known violation (from the factory's facts)."""

    rule: str
    resource: str
    reason: str
    owner: str
    expires: date
    approver: str = ""
    """Who approved it (another person than the owner for critical and high rules)."""
    ticket: str = ""
    """The ticket or reference of the review."""
    approved: date | None = None
    """The day it was approved."""
    index: int = 0
    """Its position in policy.waivers (for errors that point at its line)."""

    @classmethod
    def from_facts(cls, raw: Mapping[str, Any], where: str = "waivers[?]",
                   index: int = 0) -> Waiver:
        """A waiver from the factory facts' `waivers` entry (`where` names it in errors)."""
        if not isinstance(raw, Mapping):
            raise InputError(f"{where}: {raw!r} is not a waiver ({', '.join(WAIVER_FIELDS)})")
        missing = [k for k in ("rule", "resource", "reason", "owner", "expires")
                   if raw.get(k) in (None, "")]
        if missing:
            raise InputError(f"{where}: {', '.join(missing)} missing; a waiver names "
                             f"{', '.join(WAIVER_FIELDS[:-1])} and expires (YYYY-MM-DD)")
        days: dict[str, date | None] = {}
        for key, what in (("expires", "last valid day"), ("approved", "approval day")):
            value = raw.get(key)
            if value in (None, "") or isinstance(value, date):
                days[key] = value or None
                continue
            try:
                days[key] = date.fromisoformat(str(value))
            except ValueError:
                raise InputError(f"{where}.{key}: {value!r} is not a date such as "
                                 f"2026-06-30; set the waiver's {what}") from None
        expires = days["expires"]
        assert isinstance(expires, date)  # required above
        return cls(rule=str(raw["rule"]), resource=str(raw["resource"]),
                   reason=str(raw["reason"]), owner=str(raw["owner"]), expires=expires,
                   approver=str(raw.get("approver") or ""),
                   ticket=str(raw.get("ticket") or ""), approved=days["approved"], index=index)

    def covers(self, violation: Violation) -> bool:
        """The waiver names this violation's rule and its resource (URN, name, subject, or a
        further subject the finding names, such as a pool of a quota finding)."""
        return self.rule == violation.rule.name and (
            self.resource in ("*", violation.urn, violation.resource_name, violation.subject)
            or self.resource in violation.finding.also_waived_by)

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"rule": self.rule, "resource": self.resource, "reason": self.reason,
                "owner": self.owner, "approver": self.approver, "ticket": self.ticket,
                "approved": self.approved.isoformat() if self.approved else "",
                "expires": self.expires.isoformat()}


@dataclass(frozen=True)
class Violation:
    """A finding of a rule, with the waiver that covers it (if any) and its resulting status."""

    rule: Rule
    finding: Finding
    resource_name: str
    resource_type: str
    waiver: Waiver | None = None
    waiver_expired: bool = False

    @property
    def urn(self) -> str:
        return self.finding.urn

    @property
    def subject(self) -> str:
        return self.finding.subject

    @property
    def waive_with(self) -> str:
        """The exact `resource` value of a waiver that covers this violation."""
        return self.finding.subject

    @property
    def message(self) -> str:
        """The finding's message, plus what became of its waiver."""
        if self.waiver is None:
            return self.finding.message
        w = self.waiver
        if self.waiver_expired:
            return (f"{self.finding.message} (waiver by {w.owner} expired on "
                    f"{w.expires.isoformat()}: {w.reason})")
        return f"{self.finding.message} (waived by {w.owner} until {w.expires.isoformat()}: " \
               f"{w.reason})"

    @property
    def status(self) -> Status:
        """waived (a valid waiver), failed (mandatory) or advisory."""
        if self.waiver is not None and not self.waiver_expired:
            return "waived"
        return "failed" if self.rule.enforcement == "mandatory" else "advisory"

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {
            "rule": self.rule.name, "domain": self.rule.domain, "severity": self.rule.severity,
            "enforcement": self.rule.enforcement, "status": self.status, "urn": self.urn,
            "resource": self.resource_name, "type": self.resource_type, "subject": self.subject,
            "message": self.message, "remediation": self.rule.remediation,
            "details": dict(self.finding.details),
            "waiveWith": {"rule": self.rule.name, "resource": self.waive_with,
                          **({"or": list(self.finding.also_waived_by)}
                             if self.finding.also_waived_by else {})},
        }
        if self.finding.cause is not None:
            c = self.finding.cause
            out["cause"] = {"setting": c.setting, "value": c.value, "problem": c.problem,
                            "fix": c.fix}
        if self.finding.spec_path:
            out["specPath"] = self.finding.spec_path
        if self.waiver is not None:
            out["waiver"] = {**self.waiver.as_dict(), "expired": self.waiver_expired}
        return out


@dataclass(frozen=True)
class RuleOutcome:
    """How one rule fared on a plan."""

    rule: Rule
    state: RuleState
    violations: int


@dataclass(frozen=True)
class CauseGroup:
    """Violations (of any rules) that one blueprint setting causes: one cause, one fix."""

    cause: Cause
    violations: tuple[Violation, ...]

    @property
    def rules(self) -> list[str]:
        """The rules the cause breaks, in first-seen order."""
        return list(dict.fromkeys(v.rule.name for v in self.violations))

    @property
    def severity(self) -> Severity:
        """The highest severity among its violations."""
        return min((v.rule.severity for v in self.violations), key=SEVERITIES.index)

    @property
    def status(self) -> Status:
        """failed when any of its violations fails, else advisory, else waived."""
        states = {v.status for v in self.violations}
        return "failed" if "failed" in states else "advisory" if "advisory" in states \
            else "waived"

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        c = self.cause
        return {"setting": c.setting, "value": c.value, "problem": c.problem, "fix": c.fix,
                "status": self.status, "severity": self.severity, "rules": self.rules,
                "violations": len(self.violations),
                "resources": [{"rule": v.rule.name, "resource": v.resource_name,
                               "subject": v.subject, "urn": v.urn} for v in self.violations]}


def group_by_cause(violations: Iterable[Violation],
                   ) -> tuple[list[CauseGroup], list[Violation]]:
    """Violations that share a cause, as groups (two or more each), and the rest in order."""
    by_cause: dict[Cause, list[Violation]] = {}
    for v in violations:
        if v.finding.cause is not None:
            by_cause.setdefault(v.finding.cause, []).append(v)
    groups = [CauseGroup(c, tuple(vs)) for c, vs in by_cause.items() if len(vs) > 1]
    grouped = {id(v) for g in groups for v in g.violations}
    return groups, [v for v in violations if id(v) not in grouped]


@dataclass
class Result:
    """Everything a run of the rules concluded, for every report format and the exit code."""

    today: date
    outcomes: list[RuleOutcome]
    violations: list[Violation]
    unused_waivers: list[Waiver]
    sites: list[SitePower] = field(default_factory=list)
    quotas: list[QuotaUse] = field(default_factory=list)
    factory: str | None = None
    blueprint: str | None = None
    stack: str | None = None
    notes: list[str] = field(default_factory=list)
    """Things the run could not check (e.g. checkov not installed), shown in every report."""
    blueprint_file: str | None = None
    """Where the blueprint lies on this machine (for its lines), when it can be found."""
    manifests_checked: bool = False
    """The manifest runners (checkov, schemas) ran, so their rules' waivers were judged."""

    @property
    def groups(self) -> list[CauseGroup]:
        """Root causes: violations (failed or advisory) that one setting causes."""
        return group_by_cause(v for v in self.violations if v.status != "waived")[0]

    @property
    def failed(self) -> list[Violation]:
        """Violations that fail the check: mandatory, not (validly) waived."""
        return [v for v in self.violations if v.status == "failed"]

    @property
    def advisories(self) -> list[Violation]:
        return [v for v in self.violations if v.status == "advisory"]

    @property
    def waived(self) -> list[Violation]:
        return [v for v in self.violations if v.status == "waived"]

    @property
    def passed(self) -> bool:
        """No mandatory rule fails."""
        return not self.failed

    def exit_code(self) -> int:
        """0 when every mandatory rule passes (advisories allowed), 1 otherwise."""
        return 0 if self.passed else 1
