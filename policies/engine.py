"""Evaluate every rule over a plan and apply the factory's waivers.

A waiver covers the violations of its rule on its resource (URN, logical name, subject such
as 'dc1/rack-a', or '*'). It is valid through its `expires` day; after that the violation
fails again and says the waiver expired. Waivers that cover nothing are listed, so stale ones
get removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from blueprints.errors import InputError
from policies.envelope import QuotaUse, SitePower, quota_use, site_power
from policies.model import Evidence, Finding, Result, Rule, RuleOutcome, Violation, Waiver
from policies.view import PlanView


def waivers_of(view: PlanView) -> list[Waiver]:
    """The factory's waivers."""
    raw = view.settings.get("waivers") or []
    if not isinstance(raw, list):
        raise InputError(f"factory {view.factory_name or ''}: waivers: {raw!r} is not a list")
    return [Waiver.from_facts(w, f"policy.waivers[{i}]", i) for i, w in enumerate(raw)]


def judge(rule: Rule, findings: Iterable[Finding], view: PlanView, waivers: Sequence[Waiver],
          today: date) -> list[Violation]:
    """Turn a rule's findings into violations, each with the waiver that covers it (if any)."""
    out = []
    for f in findings:
        r = view.by_urn.get(f.urn)
        v = Violation(rule=rule, finding=f, resource_name=r["name"] if r else f.subject,
                      resource_type=r["type"] if r else "")
        match = next((w for w in waivers if w.covers(v)), None)
        if match is not None:
            v = Violation(rule=rule, finding=f, resource_name=v.resource_name,
                          resource_type=v.resource_type, waiver=match,
                          waiver_expired=match.expires < today)
        out.append(v)
    return out


def run_rule(rule: Rule, view: PlanView) -> list[Finding]:
    """The findings of one rule; a rule that raises fails with what went wrong."""
    assert rule.check is not None
    try:
        return list(rule.check(view))
    except Exception as e:
        return [Finding(urn="", subject="(plan)", message=f"rule could not run: "
                        f"{type(e).__name__}: {e}")]


def outcome(rule: Rule, applicable: bool, violations: Sequence[Violation]) -> RuleOutcome:
    """How a rule fared, from its violations."""
    if not applicable:
        return RuleOutcome(rule, "not-applicable", 0)
    states = {v.status for v in violations}
    state = ("failed" if "failed" in states else "advisory" if "advisory" in states
             else "waived" if states else "passed")
    return RuleOutcome(rule, state, len(violations))  # type: ignore[arg-type]


def evaluate_view(view: PlanView, rules: Iterable[Rule] | None = None,
                  today: date | None = None) -> Result:
    """Run `rules` (all by default) over a plan view."""
    from policies.rules import RULES

    today = today or date.today()
    waivers = waivers_of(view)
    outcomes: list[RuleOutcome] = []
    violations: list[Violation] = []
    for rule in RULES if rules is None else rules:
        applicable = rule.check is not None and (rule.applies is None or rule.applies(view))
        found = judge(rule, run_rule(rule, view), view, waivers, today) if applicable else []
        outcomes.append(outcome(rule, applicable, found))
        violations.extend(found)
    used = {id(v.waiver) for v in violations if v.waiver is not None}
    notes: list[str] = []
    sites: list[SitePower] = []
    quotas: list[QuotaUse] = []
    try:
        sites, quotas = site_power(view), quota_use(view)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        # a plan that bypassed load_plan's checks (in memory, the pack): the rules that need
        # these figures already failed with what went wrong
        notes.append(f"power and quota figures could not be computed: {type(e).__name__}: {e}")
    return Result(
        today=today, outcomes=outcomes, violations=violations,
        unused_waivers=[w for w in waivers if id(w) not in used],
        sites=sites, quotas=quotas, factory=view.factory_name
        or (view.factory["inputs"].get("factory") if view.factory else None),
        blueprint=view.blueprint, stack=view.stack, notes=notes,
    )


def evaluate(plan: Mapping[str, Any], rules: Iterable[Rule] | None = None,
             today: date | None = None) -> Result:
    """Run `rules` (all by default) over a plan document."""
    return evaluate_view(PlanView.of_plan(plan), rules, today)


def add_findings(result: Result, rule: Rule, findings: Iterable[Finding], view: PlanView) -> None:
    """Add findings from another runner (checkov, schema validation) under `rule`, with the
    same waivers; the waivers they use are no longer listed as unused."""
    found = judge(rule, findings, view, waivers_of(view), result.today)
    result.outcomes.append(outcome(rule, True, found))
    result.violations.extend(found)
    used = {v.waiver.index for v in found if v.waiver is not None}
    result.unused_waivers = [w for w in result.unused_waivers if w.index not in used]


def evidence(view: PlanView, rules: Iterable[Rule] | None = None) -> dict[str, list[Evidence]]:
    """What each rule examined (rule name -> evidence), for rules that list it."""
    from policies.rules import RULES

    out: dict[str, list[Evidence]] = {}
    for rule in RULES if rules is None else rules:
        if rule.evidence is None or (rule.applies is not None and not rule.applies(view)):
            continue
        try:
            out[rule.name] = list(rule.evidence(view))
        except Exception as e:  # a broken plan: the rule itself reports what went wrong
            out[rule.name] = [Evidence(urn="", subject="(plan)", inputs={
                "error": f"{type(e).__name__}: {e}"})]
    return out
