"""power-rack-cooling: a rack's cooling matches its density and the servers it holds."""

from __future__ import annotations

from collections.abc import Iterator

from policies.envelope import site_power
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView

_ENOUGH = {"air": ("air", "rear-door", "liquid"), "rear-door": ("rear-door", "liquid"),
           "liquid": ("liquid",)}


def check(view: PlanView) -> Iterator[Finding]:
    air_limit = float(view.settings["airCoolingLimitKw"])
    rear_door_limit = float(view.settings["rearDoorLimitKw"])
    for s in site_power(view):
        for r in s.racks:
            subject = f"{s.site}/{r.rack}"
            spec_path = f"environments.{s.site}.racks.{r.rack}.cooling"
            details = {"rack": r.rack, "itKw": r.it_kw, "cooling": r.cooling,
                       "airCoolingLimitKw": air_limit, "rearDoorLimitKw": rear_door_limit}
            if r.liquid_hosts and r.cooling != "liquid":
                yield Finding(
                    urn=s.urn, subject=subject, spec_path=spec_path,
                    message=(f"rack {r.rack} on site {s.site} is {r.cooling}-cooled but holds "
                             f"liquid-cooled servers ({', '.join(r.liquid_hosts)}): they need a "
                             "liquid-cooled rack"),
                    details={**details, "liquidHosts": list(r.liquid_hosts)},
                )
                continue
            if r.it_kw > rear_door_limit:
                needed = "liquid"
                why = f"above the rear-door limit of {rear_door_limit:g} kW"
            elif r.it_kw > air_limit:
                needed = "rear-door"
                why = f"above the air-cooling limit of {air_limit:g} kW"
            else:
                continue
            if r.cooling not in _ENOUGH[needed]:
                yield Finding(
                    urn=s.urn, subject=subject, spec_path=spec_path,
                    message=(f"rack {r.rack} on site {s.site} draws {r.it_kw:g} kW, {why}, "
                             f"but is {r.cooling}-cooled: it needs "
                             f"{'liquid' if needed == 'liquid' else 'rear-door or liquid'} "
                             "cooling"),
                    details={**details, "needed": needed},
                )


def evidence(view: PlanView) -> Iterator[Evidence]:
    for s in site_power(view):
        for r in s.racks:
            yield Evidence(urn=s.urn, subject=f"{s.site}/{r.rack}", inputs={
                "itKw": r.it_kw, "cooling": r.cooling, "liquidHosts": list(r.liquid_hosts),
                "airCoolingLimitKw": float(view.settings["airCoolingLimitKw"]),
                "rearDoorLimitKw": float(view.settings["rearDoorLimitKw"])})


RULE = Rule(
    name="power-rack-cooling",
    domain="power",
    severity="high",
    description="A rack above the air-cooling limit declares rear-door or liquid cooling, one "
    "above the rear-door limit declares liquid cooling, and a rack holding servers the catalog "
    "lists as liquid cooled (e.g. GB200 NVL72) is liquid cooled.",
    remediation="Move hosts to a rack with the cooling they need, or declare the rack's real "
    "cooling (racks.<name>.cooling) once it is installed.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: bool(view.sites),
    evidence=evidence,
)
