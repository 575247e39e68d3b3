"""capacity-instance-availability: a pool's instance types are offered in its region and zones."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import catalog
from catalog import cloud as cloud_catalog
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, Resource


def alternatives(cloud: str, gpu: str, region: str) -> list[str]:
    """The types of `cloud` with GPU `gpu` that `region` offers (for the finding's fix)."""
    return sorted(t.name for t in catalog.INSTANCE_TYPES.values()
                  if t.cloud == cloud and t.gpu == gpu and region in t.offers)


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
    region = f["region"]
    if itype.cloud != f.get("cloud"):
        yield view.finding(p, f"pool {f['pool']}: {name} is a type of {itype.cloud}, but "
                           f"the pool runs on {f.get('cloud')}", subject=f["pool"],
                           spec_path=spec_path, instanceType=name)
    elif region not in itype.regions:
        instead = alternatives(itype.cloud, itype.gpu, region)
        offers = (f"{region} offers {', '.join(instead)} with {itype.gpu}" if instead
                  else f"{region} offers no type with {itype.gpu}")
        yield view.finding(
            p, f"pool {f['pool']}: {name} is not offered in {region}; {offers}; {name} is "
            f"offered in {', '.join(sorted(itype.regions))}", subject=f["pool"],
            spec_path=spec_path, instanceType=name, region=region,
            offeredIn=sorted(itype.regions), regionOffers=instead)
    elif itype.cloud == "gcp":
        offered = cloud_catalog.offered_zones(itype, region)
        missing = [z for z in f.get("zones") or [] if z not in offered]
        if missing:
            yield view.finding(
                p, f"pool {f['pool']}: {name} is not offered in zone"
                f"{'s' * (len(missing) > 1)} {', '.join(missing)}; in {region} it is "
                f"offered in {', '.join(offered)}: set pools.{f['pool']}.zones to those "
                "of them the environment has", subject=f["pool"],
                spec_path=f"pools.{f['pool']}.zones", instanceType=name, region=region,
                zones=list(f.get("zones") or []), offeredZones=list(offered))


def evidence(view: PlanView) -> Iterator[Evidence]:
    for p in view.pools:
        f = p["inputs"]
        if f.get("cloud") != "onprem" and f.get("instanceType"):
            yield view.evidence(p, "instanceType", "instanceTypes", "cloud", "region", "zones",
                                subject=f["pool"])


RULE = Rule(
    name="capacity-instance-availability",
    domain="capacity",
    severity="high",
    description="Each cloud pool asks for instance or machine types that its cloud offers "
    "in the pool's region (a pool of several types: each of them) and, on GCP, in every zone "
    "the pool's nodes run in (per the catalog's snapshot).",
    remediation="Choose a type the region offers (the finding lists those with the same GPU), "
    "run the pool in an environment whose region offers the type, or (GCP) set the pool's "
    "zones to zones that offer it.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: any(p["inputs"].get("cloud") in ("aws", "gcp") for p in view.pools),
    evidence=evidence,
)
