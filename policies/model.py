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


Check = Callable[["PlanView"], Iterable[Finding]]


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

    def __post_init__(self) -> None:
        parts = self.name.split("-")
        if len(parts) < 3 or not all((p.isalnum() and p.islower()) or p.isdigit() for p in parts):
            raise ValueError(f"rule name {self.name!r} is not kebab-case "
                             "<domain>-<subject>-<rule>")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name}: severity {self.severity!r} not in {SEVERITIES}")


@dataclass(frozen=True)
class Waiver:
    """A reviewed, time-limited acceptance of one known violation (from the factory's facts)."""

    rule: str
    resource: str
    reason: str
    owner: str
    expires: date

    @classmethod
    def from_facts(cls, raw: Mapping[str, Any], where: str = "waivers[?]") -> Waiver:
        """A waiver from the factory facts' `waivers` entry (`where` names it in errors)."""
        if not isinstance(raw, Mapping):
            raise InputError(f"{where}: {raw!r} is not a waiver (rule, resource, reason, owner, "
                             "expires)")
        missing = [k for k in ("rule", "resource", "reason", "owner", "expires")
                   if raw.get(k) in (None, "")]
        if missing:
            raise InputError(f"{where}: {', '.join(missing)} missing; a waiver names rule, "
                             "resource, reason, owner and expires (YYYY-MM-DD)")
        expires = raw["expires"]
        if not isinstance(expires, date):
            try:
                expires = date.fromisoformat(str(expires))
            except ValueError:
                raise InputError(f"{where}.expires: {expires!r} is not a date such as "
                                 "2026-06-30; set the waiver's last valid day") from None
        return cls(rule=str(raw["rule"]), resource=str(raw["resource"]),
                   reason=str(raw["reason"]), owner=str(raw["owner"]), expires=expires)

    def covers(self, violation: Violation) -> bool:
        """The waiver names this violation's rule and its resource (URN, name or subject)."""
        return self.rule == violation.rule.name and (
            self.resource in ("*", violation.urn, violation.resource_name, violation.subject))

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"rule": self.rule, "resource": self.resource, "reason": self.reason,
                "owner": self.owner, "expires": self.expires.isoformat()}


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
        }
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
