"""capacity-utilisation-advisory: owned GPUs planned below the break-even utilisation."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Evidence, Finding, Rule
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    planned = view.settings.get("plannedUtilisation")
    break_even = float(view.settings["breakEvenUtilisation"])
    if planned is None or float(planned) >= break_even:
        return
    for s in view.sites:
        site = s["inputs"]["environment"]
        gpus = sum(int(h["inputs"].get("gpus", 0)) for h in view.hosts
                   if h["inputs"]["environment"] == site)
        yield view.finding(
            s, f"site {site}: {gpus} owned GPUs are planned at {float(planned):.0%} sustained "
            f"utilisation, below the break-even of {break_even:.0%} at which owning beats "
            "renting", subject=site, spec_path="policy.planned_utilisation",
            gpus=gpus, plannedUtilisation=float(planned), breakEvenUtilisation=break_even)


def evidence(view: PlanView) -> Iterator[Evidence]:
    for s in view.sites:
        site = s["inputs"]["environment"]
        yield view.evidence(s, subject=site, plannedUtilisation=view.settings.get(
            "plannedUtilisation"), breakEvenUtilisation=view.settings["breakEvenUtilisation"])


RULE = Rule(
    name="capacity-utilisation-advisory",
    domain="capacity",
    severity="low",
    description="Owned GPU capacity is planned at or above the break-even utilisation at "
    "which owning costs less than renting the same capacity in a cloud.",
    remediation="Plan more work onto the owned GPUs (e.g. share them through Kueue cohorts), "
    "buy fewer, or rent the peak in a cloud pool instead.",
    enforcement="advisory",
    check=check,
    applies=lambda view: bool(view.sites)
    and view.settings.get("plannedUtilisation") is not None,
    evidence=evidence,
)
