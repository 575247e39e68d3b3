"""power-feed-redundancy: with A and B feeds, the whole IT load fits on either feed alone."""

from __future__ import annotations

from collections.abc import Iterator

from policies.envelope import site_power
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    for s in site_power(view):
        if not s.feeds:
            continue
        for feed, kw in sorted(s.feeds.items()):
            if s.it_kw > kw:
                label = feed.removesuffix("Kw").upper()
                yield Finding(
                    urn=s.urn, subject=s.site,
                    message=(f"site {s.site}: IT load {s.it_kw:g} kW does not fit on feed "
                             f"{label} ({kw:g} kW) if the other feed fails: "
                             f"{round(s.it_kw - kw, 2):g} kW short"),
                    details={"itKw": s.it_kw, "feed": label, "feedKw": kw,
                             "shortKw": round(s.it_kw - kw, 2)},
                    spec_path=f"environments.{s.site}.feeds",
                )


def evidence(view: PlanView) -> Iterator[Evidence]:
    for s in site_power(view):
        yield Evidence(urn=s.urn, subject=s.site, inputs={"itKw": s.it_kw, "feeds": s.feeds})


RULE = Rule(
    name="power-feed-redundancy",
    domain="power",
    severity="high",
    description="A site with A/B power feeds carries its whole IT load on either feed alone, "
    "so losing one feed does not take hosts down.",
    remediation="Lower the IT load (fewer or lower-power hosts) or have the facility raise "
    "the capacity of the smaller feed; then update feeds.a_kw / feeds.b_kw.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: any(s["inputs"].get("feeds") for s in view.sites),
    evidence=evidence,
)
