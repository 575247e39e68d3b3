"""Runner 2: the rules as a CrossGuard policy pack (`pulumi preview --policy-pack policies/pack`).

The engine hands a pack `PolicyResource`s (or, per resource, `ResourceValidationArgs`); this
adapter turns them into the plan's resource dicts and runs the very same rule functions.

The facts our components carry are their *inputs*; the engine shows resource policies every
registration's inputs (components included) but shows stack policies only each resource's
outputs, which for a component are just what it registered with `register_outputs` (for a helm
v4 Chart, its rendered resources, not its chart and values). So the pack holds one more policy,
`aifactory-facts`, that reports nothing and remembers the inputs of every registration as the
engine analyses them; the stack policies, which run after every registration, read the inputs
from there, exactly as `aifactory check` reads them from the plan.

By default every rule becomes a StackValidationPolicy: it sees the whole stack, so it reads the
factory's facts (jurisdiction, thresholds) and honours its waivers exactly as `aifactory check`
does. With `per_resource=True`, rules whose findings depend on one resource and its provider
(`Rule.scope == "resource"`: the security baseline) become ResourceValidationPolicies instead;
they run before each resource is created during `pulumi up`, but cannot see the factory's
waivers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from blueprints.errors import InputError
from policies.engine import judge, run_rule, waivers_of
from policies.kinds import COMPONENT_TYPES
from policies.model import Rule
from policies.view import UNKNOWN, PlanView

PACK_NAME = "ai-factory"
FACTS_POLICY = "aifactory-facts"
OUR_TYPES = "aifactory:"
SEVERITY = {"critical": Severity.CRITICAL, "high": Severity.HIGH, "medium": Severity.MEDIUM,
            "low": Severity.LOW}
ENFORCEMENT = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def plain(value: Any) -> Any:
    """A copy of policy props as plain dicts and lists, unknown preview values as UNKNOWN."""
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _custom(type_token: str) -> bool:
    # PolicyResource does not say: our own components and the provider's component types
    # (helm v4 Chart, yaml v2 ConfigGroup, ...) are the non-custom ones
    return not type_token.startswith(OUR_TYPES) and type_token not in COMPONENT_TYPES


def _provider_dict(provider: Any) -> dict[str, Any]:
    return {"urn": provider.urn, "type": provider.resource_type, "name": provider.name,
            "parent": None, "custom": True, "protect": False, "provider": None,
            "dependencies": [], "inputs": plain(provider.props)}


class FactsSeen:
    """Inputs of every registration as resource analysis showed them, by URN.

    Components matter most (a stack policy sees only their registered outputs: our facts, a
    helm Chart's values), but custom resources are remembered too, so stack policies judge the
    inputs the plan records rather than provider outputs.
    """

    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def remember(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        self.inputs[args.urn] = plain(args.props)

    def policy(self) -> ResourceValidationPolicy:
        """The policy that remembers (it never reports a violation)."""
        return ResourceValidationPolicy(
            name=FACTS_POLICY, validate=self.remember,
            description="Reads the facts ai-factory components carry (site power, pools, "
            "quotas, jurisdiction, waivers) for the stack policies; reports nothing.",
            enforcement_level=EnforcementLevel.ADVISORY, severity=Severity.LOW)


def plan_resources(resources: Iterable[Any], seen: FactsSeen | None = None
                   ) -> list[dict[str, Any]]:
    """The plan's resource dicts for CrossGuard `PolicyResource`s (providers included); our
    components' inputs come from `seen` where resource analysis showed them."""
    out: dict[str, dict[str, Any]] = {}
    providers: dict[str, dict[str, Any]] = {}
    for r in resources:
        parent = r.parent.urn if getattr(r, "parent", None) is not None else \
            getattr(r.opts, "parent", None)
        out[r.urn] = {
            "urn": r.urn, "type": r.resource_type, "name": r.name, "parent": parent or None,
            "custom": _custom(r.resource_type), "protect": bool(getattr(r.opts, "protect", False)),
            "provider": r.provider.urn if r.provider is not None else None,
            "dependencies": sorted(d.urn for d in getattr(r, "dependencies", []) or []),
            "inputs": seen.inputs[r.urn] if seen and r.urn in seen.inputs else plain(r.props),
        }
        if r.provider is not None:
            providers.setdefault(r.provider.urn, _provider_dict(r.provider))
    for urn, p in providers.items():
        out.setdefault(urn, p)
    return list(out.values())


def stack_validation(rule: Rule, today: Callable[[], date] = date.today,
                     seen: FactsSeen | None = None
                     ) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """A stack validation running `rule` on the whole stack, with the factory's waivers."""
    assert rule.check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            view = PlanView(plan_resources(args.resources, seen))
            waivers = waivers_of(view)
        except InputError as e:
            # fail closed, as `aifactory check` does (it exits 2 on the same input)
            report_violation(f"rule could not run: {e}", None)
            return
        if rule.applies is not None and not rule.applies(view):
            args.not_applicable(f"{rule.name} does not apply to this stack")
        for v in judge(rule, run_rule(rule, view), view, waivers, today()):
            if v.status != "waived":
                report_violation(v.message, v.urn or None)

    return validate


def resource_validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A resource validation running `rule` on one resource and its provider (no waivers)."""
    assert rule.check is not None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = {"urn": args.urn, "type": args.resource_type, "name": args.name,
                    "parent": getattr(args.opts, "parent", None), "custom":
                    _custom(args.resource_type), "protect": bool(args.opts.protect),
                    "provider": args.provider.urn if args.provider else None,
                    "dependencies": [], "inputs": plain(args.props)}
        view = PlanView([resource] + ([_provider_dict(args.provider)] if args.provider else []))
        if rule.applies is not None and not rule.applies(view):
            args.not_applicable(f"{rule.name} does not apply to {args.name}")
        for f in run_rule(rule, view):
            if f.urn in (args.urn, ""):
                report_violation(f.message, None)

    return validate


def to_policy(rule: Rule, *, per_resource: bool = False,
              today: Callable[[], date] = date.today, seen: FactsSeen | None = None) -> Policy:
    """The CrossGuard policy of one rule."""
    common: dict[str, Any] = {
        "name": rule.name, "description": rule.description,
        "enforcement_level": ENFORCEMENT[rule.enforcement], "severity": SEVERITY[rule.severity],
        "remediation_steps": rule.remediation, "tags": [rule.domain],
    }
    if per_resource and rule.scope == "resource":
        return ResourceValidationPolicy(validate=resource_validation(rule), **common)
    return StackValidationPolicy(validate=stack_validation(rule, today, seen), **common)


def policies(rules: Iterable[Rule] | None = None, *, per_resource: bool = False,
             today: Callable[[], date] = date.today) -> list[Policy]:
    """CrossGuard policies for `rules` (every rule by default), after the facts reader."""
    from policies.rules import RULES

    seen = FactsSeen()
    return [seen.policy()] + [to_policy(r, per_resource=per_resource, today=today, seen=seen)
                              for r in (RULES if rules is None else rules)
                              if r.check is not None]
