"""capacity-team-quota-fits: the teams' nominal quotas on a pool fit the GPUs the pool has.

A nominal quota is a promise: Kueue admits a team's work up to it without borrowing, and
preempts borrowers to honour it. Promises above what the pool can hold cannot all be kept at
once, and jobs queue behind quota that does not exist. Read from the plan's Kueue objects: the
teams' ClusterQueues (a namespaceSelector on the aifactory.io/team label), their flavors' nominal
quotas, the ResourceFlavor of each flavor (its aifactory.io/pool node label) and the pool's own
facts (a site's pool: the GPUs of its hosts; a cloud pool: max nodes x GPUs per node). Quotas of
shared pools are in the units the pool exposes (MIG instances, time-shared replicas) and are
reported in GPUs too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from blueprints.facts import POOL_LABEL, TEAM_LABEL
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, dig, pool_units

CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
RESOURCE_FLAVOR = "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor"


@dataclass
class PoolPromises:
    """The teams' nominal quotas on one pool of one cluster."""

    cluster: str
    pool: str
    resource: str
    by_team: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_team.values())


def promises(view: PlanView) -> list[PoolPromises]:
    """Per cluster and pool: each team's nominal quota, from the teams' ClusterQueues."""
    flavor_pool: dict[tuple[str, str], str] = {}
    for f in view.of_type(RESOURCE_FLAVOR):
        name = dig(f["inputs"], "metadata", "name")
        pool = dig(f["inputs"], "spec", "nodeLabels", POOL_LABEL)
        if isinstance(name, str) and isinstance(pool, str):
            flavor_pool[(view.cluster_name(f), name)] = pool
    out: dict[tuple[str, str], PoolPromises] = {}
    for q in view.of_type(CLUSTER_QUEUE):
        team = dig(q["inputs"], "spec", "namespaceSelector", "matchLabels", TEAM_LABEL)
        if not isinstance(team, str):
            continue  # not a team's queue (MultiKueue's remote queue)
        cluster = view.cluster_name(q)
        for group in dig(q["inputs"], "spec", "resourceGroups", default=[]) or []:
            for flavor in group.get("flavors") or []:
                pool = flavor_pool.get((cluster, flavor.get("name")), flavor.get("name"))
                for res in flavor.get("resources") or []:
                    nominal = res.get("nominalQuota")
                    if not isinstance(nominal, int | float) or nominal <= 0:
                        continue
                    p = out.setdefault((cluster, pool), PoolPromises(cluster, pool,
                                                                     str(res.get("name"))))
                    p.by_team[team] = p.by_team.get(team, 0) + int(nominal)
    return sorted(out.values(), key=lambda p: (p.cluster, p.pool))


def check(view: PlanView) -> Iterator[Finding]:
    pools = view.pools_by_name
    for promise in promises(view):
        pool = pools.get(promise.pool)
        if pool is None:
            continue
        gpus, units = pool_units(pool)
        if promise.total <= units:
            continue
        per_gpu = units // gpus if gpus else 1
        parts = " + ".join(f"{t} {n / per_gpu:g}" for t, n in sorted(promise.by_team.items()))
        total_gpus = promise.total / per_gpu
        unit_note = (f"; in {promise.resource}: {promise.total} of {units}, {per_gpu} a GPU"
                     if per_gpu > 1 else "")
        yield view.finding(
            pool,
            f"pool {promise.pool} in cluster {promise.cluster} has {gpus} GPUs, but the teams' "
            f"nominal quotas on it add up to {total_gpus:g} ({parts}{unit_note}): "
            f"{total_gpus - gpus:g} over; lower them to at most {gpus} together",
            subject=promise.pool, spec_path="queueing.teams", cluster=promise.cluster,
            poolGpus=gpus, poolUnits=units, resource=promise.resource,
            nominalUnits=promise.total, byTeam=dict(sorted(promise.by_team.items())))


def evidence(view: PlanView) -> Iterator[Evidence]:
    pools = view.pools_by_name
    for promise in promises(view):
        pool = pools.get(promise.pool)
        if pool is None:
            continue
        gpus, units = pool_units(pool)
        yield view.evidence(pool, "maxNodes", "gpusPerNode", "unitsPerGpu",
                            subject=promise.pool, cluster=promise.cluster, poolGpus=gpus,
                            poolUnits=units, resource=promise.resource,
                            nominalUnits=dict(sorted(promise.by_team.items())))


RULE = Rule(
    name="capacity-team-quota-fits",
    domain="capacity",
    severity="high",
    description="The teams' nominal Kueue quotas on a pool (their ClusterQueues' "
    "nominalQuota on its flavor) add up to no more than the GPUs the pool can have: a site "
    "pool's hosts, a cloud pool's max nodes x GPUs per node.",
    remediation="Lower the teams' nominal quotas under queueing.teams.<team>.quotas so they "
    "fit the pool (a team may borrow idle GPUs above its nominal quota), or grow the pool.",
    enforcement="mandatory",
    check=check,
    applies=lambda view: any(
        isinstance(dig(q["inputs"], "spec", "namespaceSelector", "matchLabels", TEAM_LABEL),
                   str) for q in view.of_type(CLUSTER_QUEUE)),
    evidence=evidence,
)
