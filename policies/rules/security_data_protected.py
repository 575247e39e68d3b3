"""security-data-protected: data-bearing resources are protected from deletion."""

from __future__ import annotations

from collections.abc import Iterator

from policies.kinds import DATA_BEARING
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    for r in view.resources:
        if r["type"] in DATA_BEARING and not r.get("protect"):
            yield view.finding(r, f"{r['type'].rsplit(':', 1)[-1]} {r['name']} holds data but "
                               "is not protected: `pulumi destroy` or a replacement would "
                               "delete it")


def evidence(view: PlanView) -> Iterator[Evidence]:
    for r in view.resources:
        if r["type"] in DATA_BEARING:
            yield view.evidence(r, "(protect)")


RULE = Rule(
    name="security-data-protected",
    domain="security",
    severity="high",
    description="Data-bearing resources (buckets, registries, keys, databases, volumes) carry "
    "the protect option, so no update or destroy deletes them by accident.",
    remediation="Create them with FactoryComponent.data_opts() (protect=True).",
    enforcement="mandatory",
    check=check,
    scope="resource",
    evidence=evidence,
)
