"""capacity-instance-availability: a pool's instance type is offered in its region."""

from __future__ import annotations

from collections.abc import Iterator

import catalog
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView


def check(view: PlanView) -> Iterator[Finding]:
    for p in view.pools:
        f = p["inputs"]
        name = f.get("instanceType")
        if f.get("cloud") == "onprem" or not name:
            continue
        spec_path = f"pools.{f['pool']}.instance_type"
        try:
            itype = catalog.instance(name)
        except catalog.UnknownCatalogEntryError as e:
            yield view.finding(p, f"pool {f['pool']}: {e}", subject=f["pool"],
                               spec_path=spec_path, instanceType=name)
            continue
        if itype.cloud != f.get("cloud"):
            yield view.finding(p, f"pool {f['pool']}: {name} is a type of {itype.cloud}, but "
                               f"the pool runs on {f.get('cloud')}", subject=f["pool"],
                               spec_path=spec_path, instanceType=name)
        elif f["region"] not in itype.regions:
            yield view.finding(
                p, f"pool {f['pool']}: {name} is not offered in {f['region']}; it is offered "
                f"in {', '.join(sorted(itype.regions))}", subject=f["pool"],
                spec_path=spec_path, instanceType=name, region=f["region"],
                offeredIn=sorted(itype.regions))


def evidence(view: PlanView) -> Iterator[Evidence]:
    for p in view.pools:
        f = p["inputs"]
        if f.get("cloud") != "onprem" and f.get("instanceType"):
            yield view.evidence(p, "instanceType", "cloud", "region", subject=f["pool"])


RULE = Rule(
    name="capacity-instance-availability",
    domain="capacity",
    severity="high",
    description="Each cloud pool asks for an instance or machine type that its cloud offers "
    "in the pool's region (per the catalog's regional snapshot).",
    remediation="Choose a type offered in the region (see the regions listed), or run the "
    "pool in an environment whose region offers the type.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: any(p["inputs"].get("cloud") in ("aws", "gcp") for p in view.pools),
    evidence=evidence,
)
