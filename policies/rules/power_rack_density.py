"""power-rack-density: the IT load of the hosts in a rack stays within the rack's limit."""

from __future__ import annotations

from collections.abc import Iterator

from policies.envelope import site_power
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    for s in site_power(view):
        for r in s.racks:
            if r.it_kw > r.limit_kw:
                yield Finding(
                    urn=s.urn, subject=f"{s.site}/{r.rack}",
                    message=(f"rack {r.rack} on site {s.site} draws {r.it_kw:g} kW "
                             f"({', '.join(r.hosts)}) over its {r.limit_kw:g} kW limit by "
                             f"{round(r.it_kw - r.limit_kw, 2):g} kW"),
                    details={"rack": r.rack, "itKw": r.it_kw, "limitKw": r.limit_kw,
                             "hosts": list(r.hosts)},
                    spec_path=f"environments.{s.site}.racks.{r.rack}",
                )


def evidence(view: PlanView) -> Iterator[Evidence]:
    for s in site_power(view):
        for r in s.racks:
            yield Evidence(urn=s.urn, subject=f"{s.site}/{r.rack}", inputs={
                "itKw": r.it_kw, "powerLimitKw": r.limit_kw, "hosts": list(r.hosts)})


RULE = Rule(
    name="power-rack-density",
    domain="power",
    severity="high",
    description="The IT load of the hosts in each rack stays within the rack's power limit.",
    remediation="Spread the hosts over more racks (change hosts[].rack) or raise the rack's "
    "power_limit_kw once its PDUs and circuit are rated for it.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: bool(view.sites),
    evidence=evidence,
)
