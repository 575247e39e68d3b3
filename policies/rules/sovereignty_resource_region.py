"""sovereignty-resource-region: environments, providers and resources lie in the jurisdiction."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Evidence, Finding, Rule
from policies.residency import allowed_places, region_allowed
from policies.view import UNKNOWN, PlanView, Resource, cloud_of, decoded_inputs

_OWN_LOCATION = ("region", "location", "zone")
WAREHOUSE_PLACED = ("gcp:biglake/icebergCatalog:IcebergCatalog",)
"""Catalogs that live where their warehouse bucket does (no location input of their own)."""


def _env_path(view: PlanView, r: Resource, leaf: str) -> str | None:
    env = view.environment(r)
    return f"environments.{env['inputs']['environment']}.{leaf}" if env else None


def check(view: PlanView) -> Iterator[Finding]:
    j = view.jurisdiction
    assert j is not None
    for env in view.aws_environments:
        f = env["inputs"]
        name = f["environment"]
        if f.get("partition", "aws") not in j.aws_partitions:
            yield view.finding(env, f"environment {name}: AWS partition {f['partition']} is "
                               f"outside {j.name} (allowed: {', '.join(sorted(j.aws_partitions))})",
                               subject=name, spec_path=f"environments.{name}.partition")
        if not region_allowed(j, "aws", f["region"]):
            yield view.finding(env, f"environment {name}: region {f['region']} is outside "
                               f"{j.name} (allowed: {allowed_places(j, 'aws')})", subject=name,
                               spec_path=f"environments.{name}.region", region=f["region"],
                               cause=view.region_cause("aws", f["region"]))
    for env in view.gcp_environments:
        f = env["inputs"]
        name = f["environment"]
        if not region_allowed(j, "gcp", f["region"]):
            yield view.finding(env, f"environment {name}: region {f['region']} is outside "
                               f"{j.name} (allowed: {allowed_places(j, 'gcp')})", subject=name,
                               spec_path=f"environments.{name}.region", region=f["region"],
                               cause=view.region_cause("gcp", f["region"]))
    for site in view.sites:
        f = site["inputs"]
        name = f["environment"]
        if f.get("country") not in j.countries:
            yield view.finding(site, f"site {name}: country {f.get('country')} is outside "
                               f"{j.name}", subject=name, spec_path=f"environments.{name}.country",
                               country=f.get("country"), cause=view.country_cause(name))
    for r in view.resources:
        t = r["type"]
        cloud = t.removeprefix("pulumi:providers:") if t.startswith("pulumi:providers:") \
            else cloud_of(t)
        if cloud not in ("aws", "gcp"):
            continue
        if t.startswith("pulumi:providers:"):
            region = decoded_inputs(r).get("region")
            if isinstance(region, str) and region and not region_allowed(j, cloud, region):
                yield view.finding(r, f"provider {r['name']} deploys to {region}, outside "
                                   f"{j.name} (allowed: {allowed_places(j, cloud)})",
                                   spec_path=_env_path(view, r, "region"), region=region,
                                   cause=view.region_cause(cloud, region))
            continue
        if not r.get("custom", True):
            continue
        own = [r["inputs"].get(k) for k in _OWN_LOCATION
               if isinstance(r["inputs"].get(k), str) and r["inputs"].get(k)]
        if t in WAREHOUSE_PLACED:
            region = view.warehouse_region(r)
            if region and not region_allowed(j, cloud, region):
                yield view.finding(r, f"{t.rsplit(':', 1)[-1]} {r['name']} keeps its tables "
                                   f"in {region} (its warehouse bucket), outside {j.name} "
                                   f"(allowed: {allowed_places(j, cloud)})",
                                   spec_path="lakehouse.environment", region=region,
                                   cause=view.region_cause(cloud, region))
        elif own and own[0] != UNKNOWN:
            # a location of its own: judged here (one inherited from the provider is judged
            # on the provider, once)
            region = view.region(r)
            if region and not region_allowed(j, cloud, region):
                yield view.finding(r, f"{t.rsplit(':', 1)[-1]} {r['name']} is placed in "
                                   f"{region}, outside {j.name} (allowed: "
                                   f"{allowed_places(j, cloud)})",
                                   spec_path=_env_path(view, r, "region"), region=region,
                                   cause=view.region_cause(cloud, region))
        elif view.provider(r) is None:
            yield view.finding(r, f"{t.rsplit(':', 1)[-1]} {r['name']} uses the default "
                               f"{cloud} provider: its region cannot be shown to lie in "
                               f"{j.name}", spec_path=_env_path(view, r, "region"))


def evidence(view: PlanView) -> Iterator[Evidence]:
    for env in view.aws_environments:
        yield view.evidence(env, "region", "partition", subject=env["inputs"]["environment"])
    for env in view.gcp_environments:
        yield view.evidence(env, "region", subject=env["inputs"]["environment"])
    for site in view.sites:
        yield view.evidence(site, "country", subject=site["inputs"]["environment"])
    for r in view.resources:
        t = r["type"]
        if t.startswith(("pulumi:providers:aws", "pulumi:providers:gcp")):
            yield view.evidence(r, "region")
        elif cloud_of(t) in ("aws", "gcp") and r.get("custom", True):
            own = [k for k in _OWN_LOCATION if isinstance(r["inputs"].get(k), str)
                   and r["inputs"].get(k)]
            p = view.provider(r)
            yield view.evidence(r, *own, provider=p["name"] if p else "(default)")


RULE = Rule(
    name="sovereignty-resource-region",
    domain="sovereignty",
    severity="critical",
    description="With a declared jurisdiction, every environment (AWS region and partition, "
    "GCP region, site country), every provider and every resource placed by a location of its "
    "own lies inside the jurisdiction; no resource uses a default provider of unknown region.",
    remediation="Move the environment or resource to an allowed region (the message lists "
    "them), or give the resource the environment's explicit provider.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None,
    evidence=evidence,
)
