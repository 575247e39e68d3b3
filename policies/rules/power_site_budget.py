"""power-site-budget: the IT load of a site's hosts times its PUE fits the facility budget."""

from __future__ import annotations

from collections.abc import Iterator

from policies.envelope import site_power
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    for s in site_power(view):
        if s.facility_kw <= s.budget_kw:
            continue
        over = round(s.facility_kw - s.budget_kw, 2)
        yield Finding(
            urn=s.urn, subject=s.site,
            message=(f"site {s.site}: IT load {s.it_kw:g} kW x PUE {s.pue:g} = "
                     f"{s.facility_kw:g} kW facility load exceeds the budget of "
                     f"{s.budget_kw:g} kW by {over:g} kW ({-s.headroom_pct:g}% over)"),
            details={"itKw": s.it_kw, "pue": s.pue, "facilityKw": s.facility_kw,
                     "budgetKw": s.budget_kw, "overKw": over, "headroomKw": s.headroom_kw,
                     "headroomPct": s.headroom_pct, "hosts": s.hosts},
            spec_path=f"environments.{s.site}.power_budget_kw",
        )


def evidence(view: PlanView) -> Iterator[Evidence]:
    for s in site_power(view):
        yield Evidence(urn=s.urn, subject=s.site, inputs={
            "hosts": s.hosts, "itKw": s.it_kw, "pue": s.pue, "facilityKw": s.facility_kw,
            "powerBudgetKw": s.budget_kw, "headroomKw": s.headroom_kw})


RULE = Rule(
    name="power-site-budget",
    domain="power",
    severity="critical",
    description="The IT load of every host on a site (server maximum input power from the "
    "catalog, or GPU board power x count plus host overhead) times the site's PUE fits the "
    "site's facility power budget.",
    remediation="Remove or move hosts to another site, choose lower-power servers, or raise "
    "power_budget_kw once the facility has the capacity (a lower PUE only with a measured "
    "figure).",
    enforcement="mandatory",
    check=check,
    applies=lambda view: bool(view.sites),
    evidence=evidence,
)
