"""capacity-instance-availability: a pool's instance types are offered in its region."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import catalog
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, Resource


def check(view: PlanView) -> Iterator[Finding]:
    for p in view.pools:
        f = p["inputs"]
        names = list(f.get("instanceTypes") or []) or [f.get("instanceType")]
        if f.get("cloud") == "onprem" or not names[0]:
            continue
        for i, name in enumerate(names):
            yield from _one(view, p, f, name, i if len(names) > 1 else None)


def _one(view: PlanView, p: Resource, f: Mapping[str, Any], name: str,
         index: int | None) -> Iterator[Finding]:
    """Findings on one instance type of a pool."""
    spec_path = f"pools.{f['pool']}.instance_type" if index is None \
        else f"pools.{f['pool']}.instance_types[{index}]"
    try:
        itype = catalog.instance(name)
    except catalog.UnknownCatalogEntryError as e:
        yield view.finding(p, f"pool {f['pool']}: {e}", subject=f["pool"],
                           spec_path=spec_path, instanceType=name)
        return
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
            yield view.evidence(p, "instanceType", "instanceTypes", "cloud", "region",
                                subject=f["pool"])


RULE = Rule(
    name="capacity-instance-availability",
    domain="capacity",
    severity="high",
    description="Each cloud pool asks for instance or machine types that its cloud offers "
    "in the pool's region (per the catalog's regional snapshot); a pool of several types, "
    "each of them.",
    remediation="Choose a type offered in the region (see the regions listed), or run the "
    "pool in an environment whose region offers the type.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: any(p["inputs"].get("cloud") in ("aws", "gcp") for p in view.pools),
    evidence=evidence,
)
