"""Blueprint -> facts: the only place the spec becomes the facts components carry.

The facts' shape (type tokens, TypedDicts) is the contract in blueprints.facts.
"""

from __future__ import annotations

import catalog
from blueprints.facts import (
    AwsEnvironmentFacts,
    FactoryFacts,
    GcpEnvironmentFacts,
    HostFacts,
    PoolFacts,
    RackFacts,
    SiteFacts,
    WaiverFacts,
)
from blueprints.spec.models import (
    AwsEnvironment,
    Blueprint,
    GcpEnvironment,
    GpuPool,
    Host,
    OnPremSite,
)
from catalog import mig

GPU_RESOURCE = "nvidia.com/gpu"


def factory_facts(spec: Blueprint) -> FactoryFacts:
    """Facts of the factory as a whole: settings every rule may read."""
    p = spec.policy
    return FactoryFacts(
        factory=spec.name,
        jurisdiction=spec.sovereignty.jurisdiction if spec.sovereignty else None,
        allowedRegistries=list(spec.sovereignty.allowed_registries) if spec.sovereignty else [],
        tags={"owner": spec.tags.owner, "costCentre": spec.tags.cost_centre,
              "dataClassification": spec.tags.data_classification},
        breakEvenUtilisation=p.break_even_utilisation,
        plannedUtilisation=p.planned_utilisation,
        airCoolingLimitKw=p.air_cooling_limit_kw,
        rearDoorLimitKw=p.rear_door_limit_kw,
        hostOverheadW=p.host_overhead_w,
        waivers=[WaiverFacts(rule=w.rule, resource=w.resource, reason=w.reason, owner=w.owner,
                             approver=w.approver or "", ticket=w.ticket,
                             approved=w.approved.isoformat(), expires=w.expires.isoformat())
                 for w in p.waivers],
    )


def aws_environment_facts(name: str, env: AwsEnvironment) -> AwsEnvironmentFacts:
    """Region, partition and vCPU quotas of an AWS environment."""
    q = env.quotas
    return AwsEnvironmentFacts(
        environment=name, cloud="aws", accountId=env.account_id, region=env.region,
        partition=env.partition,
        quotas={"onDemand:P": q.on_demand_p_vcpus, "spot:P": q.spot_p_vcpus,
                "onDemand:G": q.on_demand_g_vt_vcpus, "spot:G": q.spot_g_vt_vcpus},
    )


def gcp_environment_facts(name: str, env: GcpEnvironment) -> GcpEnvironmentFacts:
    """Project, region and GPU quotas of a GCP environment."""
    return GcpEnvironmentFacts(environment=name, cloud="gcp", project=env.project,
                               region=env.region, gpuQuotas=dict(env.gpu_quotas))


def site_facts(name: str, site: OnPremSite) -> SiteFacts:
    """Power envelope and racks of an own site."""
    return SiteFacts(
        environment=name, cloud="onprem", country=site.country,
        powerBudgetKw=site.power_budget_kw, pue=site.pue,
        feeds={"aKw": site.feeds.a_kw, "bKw": site.feeds.b_kw} if site.feeds else None,
        racks=[RackFacts(name=r, powerLimitKw=rack.power_limit_kw, cooling=rack.cooling)
               for r, rack in site.racks.items()],
    )


def host_facts(site_name: str, host: Host, host_overhead_w: int) -> HostFacts:
    """What one bare-metal host draws and carries."""
    server = catalog.server(host.server_model)
    return HostFacts(
        environment=site_name, hostname=host.hostname, rack=host.rack,
        serverModel=host.server_model, gpuModel=server.gpu, gpus=server.gpus,
        itLoadKw=round(catalog.server_it_load_kw(host.server_model, host_overhead_w), 3),
        serverCooling=server.cooling,
    )


def pool_sharing(spec: Blueprint, name: str, pool: GpuPool) -> tuple[str, int, str | None]:
    """(resource jobs request, units per GPU, sharing strategy) of a pool. GKE keeps
    nvidia.com/gpu for both of its strategies; the GPU operator's MIG (mixed strategy) exposes
    nvidia.com/mig-<profile>; time-slicing keeps nvidia.com/gpu."""
    del name
    sharing = pool.gpu_sharing
    if sharing is None:
        return GPU_RESOURCE, 1, None
    if sharing.strategy == "time-sharing":
        return GPU_RESOURCE, sharing.max_shared_clients_per_gpu, "time-slicing"
    profile = mig.profile(spec.gpu_model_of(pool), sharing.profile or "")
    assert profile is not None  # the spec checks the profile against the GPU model
    if spec.environment_of(pool).kind == "gcp":
        return GPU_RESOURCE, profile.per_gpu, "mig"
    return f"nvidia.com/mig-{profile.name}", profile.per_gpu, "mig"


def autoscaling_of(spec: Blueprint, pool: GpuPool) -> str:
    """What scales a pool, in words (shown in the plan)."""
    kind = spec.environment_of(pool).kind
    if kind == "onprem":
        return "none: a site does not autoscale (its hosts are owned and always on)"
    if not pool.elastic:
        return f"none: fixed at {pool.max_nodes} nodes (min_nodes = max_nodes)"
    if kind == "gcp":
        policy = "ANY" if pool.capacity == "spot" or pool.reservation else "BALANCED"
        return f"GKE cluster autoscaler, {pool.min_nodes}-{pool.max_nodes} nodes, location " \
            f"policy {policy}"
    floor = f" above a node group of {pool.min_nodes}" if pool.min_nodes else ""
    return f"Karpenter NodePool {name_of(pool, spec)}{floor}, up to {pool.max_nodes} nodes"


def name_of(pool: GpuPool, spec: Blueprint) -> str:
    """The blueprint name of a pool."""
    return next(n for n, p in spec.pools.items() if p is pool)


def pool_facts(spec: Blueprint, name: str, pool: GpuPool) -> PoolFacts:
    """GPUs, bounds and purchase option of a pool, in the units its cloud counts; a pool of
    several instance types is counted at its largest (the worst case it can reach)."""
    env = spec.environment_of(pool)
    resource, units, _ = pool_sharing(spec, name, pool)
    if isinstance(env, OnPremSite):
        chosen = set(pool.hosts) if pool.hosts is not None else {h.hostname for h in env.hosts}
        servers = [catalog.server(h.server_model) for h in env.hosts if h.hostname in chosen]
        first = servers[0]
        return PoolFacts(
            pool=name, environment=pool.environment, cloud="onprem", region=env.country,
            instanceType=None, instanceTypes=[], gpuModel=first.gpu, gpusPerNode=first.gpus,
            vcpusPerNode=0, quotaClass=None, minNodes=pool.min_nodes, desiredNodes=pool.desired,
            maxNodes=pool.max_nodes, capacity=pool.capacity,
            interruptionTolerant=pool.interruption_tolerant, onDemandUsdPerHour=None,
            gpuResource=resource, unitsPerGpu=units, autoscaling=autoscaling_of(spec, pool),
        )
    types = [catalog.instance(t) for t in pool.types]
    prices = [t.on_demand_usd_per_hour for t in types]
    return PoolFacts(
        pool=name, environment=pool.environment, cloud=env.kind, region=env.region,
        instanceType=types[0].name, instanceTypes=[t.name for t in types], gpuModel=types[0].gpu,
        gpusPerNode=max(t.gpus for t in types), vcpusPerNode=max(t.vcpus for t in types),
        quotaClass=types[0].quota_class, minNodes=pool.min_nodes, desiredNodes=pool.desired,
        maxNodes=pool.max_nodes, capacity=pool.capacity,
        interruptionTolerant=pool.interruption_tolerant,
        onDemandUsdPerHour=None if any(p is None for p in prices)
        else max(p for p in prices if p is not None),
        gpuResource=resource, unitsPerGpu=units, autoscaling=autoscaling_of(spec, pool),
    )
