"""sovereignty-environment-own-site: a factory that keeps everything on its own sites has no
cloud environment, not even one inside the jurisdiction."""

from __future__ import annotations

from collections.abc import Iterator

from blueprints.facts import POOL_TYPES
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, Resource

PIECES = {"aifactory:aws:Lakehouse": "the lakehouse", "aifactory:gcp:Lakehouse": "the lakehouse",
          "aifactory:aws:Registry": "the registry",
          "aifactory:gcp:ArtifactRegistry": "the registry",
          "aifactory:aws:EksCluster": "a cluster", "aifactory:gcp:GkeCluster": "a cluster"}
"""The blueprint's building blocks a cloud environment may hold, by component type."""


def _pieces(view: PlanView, env: Resource) -> list[str]:
    """What of the blueprint lies in an environment: the lakehouse, the registry, its pools,
    its cluster."""
    found: list[str] = []
    for r in view.resources:
        if r.get("custom", True) or view.environment(r) is not env:
            continue
        if r["type"] in POOL_TYPES:
            found.append(f"pool {r['inputs'].get('pool', r['name'])}")
        elif r["type"] in PIECES:
            found.append(PIECES[r["type"]])
    return list(dict.fromkeys(found))


def check(view: PlanView) -> Iterator[Finding]:
    for env in [*view.aws_environments, *view.gcp_environments]:
        f = env["inputs"]
        name = f["environment"]
        cloud = env["type"].split(":")[1]
        pieces = _pieces(view, env)
        yield view.finding(
            env, f"environment {name} is a cloud environment ({cloud} {f.get('region')}) in a "
            "factory that keeps everything on its own sites (sovereignty.own_sites_only)"
            + (f"; it holds {', '.join(pieces)}" if pieces else "")
            + ": move what it holds to a site, or drop own_sites_only",
            subject=name, spec_path=f"environments.{name}.kind", cloud=cloud,
            region=f.get("region"))


def evidence(view: PlanView) -> Iterator[Evidence]:
    for site in view.sites:
        yield view.evidence(site, "environment", "country")


RULE = Rule(
    name="sovereignty-environment-own-site",
    domain="sovereignty",
    severity="high",
    description="A factory declared to stay on its own sites (sovereignty.own_sites_only) "
    "has no cloud environment: its GPUs, lakehouse, registry and queues all run on sites it "
    "owns, whose country sovereignty-resource-region holds to the jurisdiction.",
    remediation="Move the lakehouse, registry, pools or queues of the cloud environment to a "
    "site (lakehouse.site, registry.site, site hosts), remove the cloud environment, or drop "
    "sovereignty.own_sites_only if cloud regions inside the jurisdiction are acceptable.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: view.jurisdiction is not None
    and bool(view.settings.get("ownSitesOnly")),
    evidence=evidence,
)
