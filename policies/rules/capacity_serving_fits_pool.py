"""capacity-serving-fits-pool: the served models' replicas at their maximum fit their pool.

Each InferenceService asks for GPUs per replica and may scale to maxReplicas; during a canary
the new revision and the last good one both run. When their maxima together need more GPUs
than the pool can have, the autoscaler stalls exactly when traffic peaks, and serving competes
with the teams' jobs for GPUs that do not exist. Read from the plan's InferenceServices (their
pool node selector, maxReplicas and the GPU resource of the model's limits) and the pool's own
facts (a site's pool: its hosts' GPUs; a cloud pool: max nodes x GPUs per node), in the units
the pool exposes (time-shared replicas or MIG instances on a shared pool).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from blueprints.facts import POOL_LABEL
from policies.model import Evidence, Finding, Rule
from policies.view import PlanView, dig, pool_units

INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
GPU_PREFIX = "nvidia.com/"


@dataclass
class PoolDemand:
    """What the served models on one pool of one cluster may ask for at their maximum."""

    cluster: str
    pool: str
    resource: str = "nvidia.com/gpu"
    by_service: dict[str, tuple[int, int]] = field(default_factory=dict)
    """InferenceService -> (max replicas, units per replica)."""

    @property
    def total(self) -> int:
        return sum(r * g for r, g in self.by_service.values())


def demands(view: PlanView) -> list[PoolDemand]:
    """Per cluster and pool: each InferenceService's max replicas and GPUs per replica."""
    out: dict[tuple[str, str], PoolDemand] = {}
    for isvc in view.of_type(INFERENCE_SERVICE):
        predictor = dig(isvc["inputs"], "spec", "predictor", default={}) or {}
        pool = dig(predictor, "nodeSelector", POOL_LABEL)
        if not isinstance(pool, str):
            continue
        limits = dig(predictor, "model", "resources", "limits", default={}) or {}
        gpu = {k: v for k, v in limits.items() if str(k).startswith(GPU_PREFIX)}
        if not gpu:
            continue
        resource, per_replica = sorted(gpu.items())[0]
        replicas = predictor.get("maxReplicas")
        if replicas is None:
            replicas = predictor.get("minReplicas") or 1
        name = str(dig(isvc["inputs"], "metadata", "name", default=isvc["name"]))
        key = (view.cluster_name(isvc), pool)
        demand = out.setdefault(key, PoolDemand(key[0], pool, str(resource)))
        demand.by_service[name] = (int(replicas), int(float(str(per_replica))))
    return sorted(out.values(), key=lambda d: (d.cluster, d.pool))


def check(view: PlanView) -> Iterator[Finding]:
    pools = view.pools_by_name
    for d in demands(view):
        pool = pools.get(d.pool)
        if pool is None:
            yield view.finding(
                view.of_type(INFERENCE_SERVICE)[0],
                f"served models {sorted(d.by_service)} in cluster {d.cluster} select pool "
                f"{d.pool}, which the plan does not have: no node will ever run them",
                subject=d.pool, spec_path="serving.models", cluster=d.cluster)
            continue
        gpus, units = pool_units(pool)
        if d.total <= units:
            continue
        per_gpu = units // gpus if gpus else 1
        parts = " + ".join(f"{n} {r} x {g}" for n, (r, g) in sorted(d.by_service.items()))
        unit_note = f" ({units} {d.resource}, {per_gpu} a GPU)" if per_gpu > 1 else ""
        yield view.finding(
            pool,
            f"pool {d.pool} in cluster {d.cluster} has {gpus} GPUs{unit_note}, but the served "
            f"models at their max replicas x GPUs per replica need {d.total} ({parts}): "
            f"{d.total - units} over; lower max_replicas or gpus_per_replica under "
            "serving.models, or grow the pool",
            subject=d.pool, spec_path="serving.models", cluster=d.cluster, poolGpus=gpus,
            poolUnits=units, resource=d.resource, neededUnits=d.total,
            byService={n: {"maxReplicas": r, "perReplica": g}
                       for n, (r, g) in sorted(d.by_service.items())})


def evidence(view: PlanView) -> Iterator[Evidence]:
    pools = view.pools_by_name
    for d in demands(view):
        pool = pools.get(d.pool)
        if pool is None:
            continue
        gpus, units = pool_units(pool)
        yield view.evidence(pool, "maxNodes", "gpusPerNode", "unitsPerGpu", subject=d.pool,
                            cluster=d.cluster, poolGpus=gpus, poolUnits=units,
                            neededUnits=d.total, byService={
                                n: {"maxReplicas": r, "perReplica": g}
                                for n, (r, g) in sorted(d.by_service.items())})


RULE = Rule(
    name="capacity-serving-fits-pool",
    domain="capacity",
    severity="high",
    description="For each pool, the served models' InferenceServices at their maximum "
    "(maxReplicas x GPUs per replica, both revisions during a canary) need no more GPUs than "
    "the pool can have: a site pool's hosts, a cloud pool's max nodes x GPUs per node.",
    remediation="Lower max_replicas or gpus_per_replica under serving.models.<model>, finish "
    "or shrink the canary, or grow the pool (max_nodes, or hosts on a site).",
    enforcement="mandatory",
    check=check,
    applies=lambda view: bool(view.of_type(INFERENCE_SERVICE)),
    evidence=evidence,
)
