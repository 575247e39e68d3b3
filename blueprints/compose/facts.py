"""Blueprint -> facts: the only place the spec becomes the facts components carry.

The facts' shape (type tokens, TypedDicts) is the contract in blueprints.facts.
"""

from __future__ import annotations

import catalog
from blueprints.facts import (
    AwsEnvironmentFacts,
    EquipmentFacts,
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
from catalog import cloud as cloud_catalog
from catalog import mig
from catalog.fabric import cloud_fabric, server_adapters

GPU_RESOURCE = "nvidia.com/gpu"


def factory_facts(spec: Blueprint) -> FactoryFacts:
    """Facts of the factory as a whole: settings every rule may read."""
    p = spec.policy
    return FactoryFacts(
        factory=spec.name,
        jurisdiction=spec.sovereignty.jurisdiction if spec.sovereignty else None,
        ownSitesOnly=spec.sovereignty.own_sites_only if spec.sovereignty else False,
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
    quotas = {"onDemand:P": q.on_demand_p_vcpus, "spot:P": q.spot_p_vcpus,
              "onDemand:G": q.on_demand_g_vt_vcpus, "spot:G": q.spot_g_vt_vcpus}
    # The Neuron classes only when declared, so plans without them keep their shape.
    for key, value in (("onDemand:Inf", q.on_demand_inf_vcpus), ("spot:Inf", q.spot_inf_vcpus),
                       ("onDemand:Trn", q.on_demand_trn_vcpus), ("spot:Trn", q.spot_trn_vcpus)):
        if value:
            quotas[key] = value
    return AwsEnvironmentFacts(
        environment=name, cloud="aws", accountId=env.account_id, region=env.region,
        partition=env.partition, quotas=quotas,
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
        racks=[RackFacts(name=r, powerLimitKw=rack.power_limit_kw, cooling=rack.cooling,
                         otherKw=rack.other_kw,
                         equipment=[*(EquipmentFacts(kind=e.kind, name=e.name, count=e.count,
                                                     kw=e.kw) for e in rack.equipment),
                                    *fabric_equipment(site, r)])
               for r, rack in site.racks.items()],
        fabric=site.fabric.kind if site.fabric is not None else None,
    )


def fabric_equipment(site: OnPremSite, rack: str) -> list[EquipmentFacts]:
    """The site fabric's switches that stand in a rack, as its equipment (their power counts)."""
    if site.fabric is None:
        return []
    return [EquipmentFacts(kind="switch", name=f"fabric {sw.name}: {sw.model} ({sw.role})",
                           count=sw.count, kw=sw.kw)
            for sw in site.fabric.switches if sw.rack == rack]


def host_facts(site_name: str, host: Host, host_overhead_w: int) -> HostFacts:
    """What one bare-metal host draws and carries."""
    server = catalog.server(host.server_model)
    return HostFacts(
        environment=site_name, hostname=host.hostname, rack=host.rack,
        serverModel=host.server_model, gpuModel=server.gpu, gpus=server.gpus,
        itLoadKw=round(catalog.server_it_load_kw(host.server_model, host_overhead_w), 3),
        serverCooling=server.cooling, role=host.role,
        storageTb=host.drives.raw_tb if host.drives is not None else 0.0,
    )


PRICE_BASIS = {
    "on-demand": "on-demand list price (snapshot)",
    "spot": "spot price (snapshot: the median of the region's zones)",
    "capacity-block": "not priced: Capacity Blocks are bought up front, per block",
}


def pool_zones(pool: GpuPool, env: AwsEnvironment | GcpEnvironment) -> list[str]:
    """Where a cloud pool's nodes run. GCP: the pool's zones, else those of the environment's
    zones that offer the type (all of them when none does: the rule says so); the first only
    with compact placement. AWS: the environment's zones (AZ names map to AZ ids per account,
    so the offering cannot be matched offline)."""
    if isinstance(env, AwsEnvironment):
        zones = list(env.availability_zones)
    elif pool.zones is not None:
        zones = list(pool.zones)
    else:
        offered = set(cloud_catalog.offered_zones(catalog.instance(pool.types[0]),
                                                  env.region))
        zones = [z for z in env.zones if z in offered] or list(env.zones)
    return zones[:1] if pool.compact else zones


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
    """GPUs, bounds, power and price of a pool, in the units its cloud counts; a pool of
    several instance types is counted at its largest (the worst case it can reach)."""
    env = spec.environment_of(pool)
    resource, units, _ = pool_sharing(spec, name, pool)
    if isinstance(env, OnPremSite):
        chosen = set(pool.hosts) if pool.hosts is not None else {h.hostname for h in env.gpu_hosts}
        servers = [catalog.server(h.server_model) for h in env.hosts if h.hostname in chosen]
        first = servers[0]
        return PoolFacts(
            pool=name, environment=pool.environment, cloud="onprem", region=env.country,
            instanceType=None, instanceTypes=[], gpuModel=first.gpu, gpusPerNode=first.gpus,
            vcpusPerNode=0, quotaClass=None, quotaKey=None, zones=[],
            hosts=[h.hostname for h in env.hosts if h.hostname in chosen],
            minNodes=pool.min_nodes,
            desiredNodes=pool.desired, maxNodes=pool.max_nodes, capacity=pool.capacity,
            interruptionTolerant=pool.interruption_tolerant, gpuShare=1.0,
            gpuBoardPowerW=None, onDemandUsdPerHour=None, spotUsdPerHour=None,
            usdPerHour=None, priceBasis="owned",
            gpuResource=resource, unitsPerGpu=units, autoscaling=autoscaling_of(spec, pool),
            fabric=env.fabric.kind if env.fabric is not None else None,
            fabricCapable="adapters" if any(
                server_adapters(h.server_model) for h in env.hosts if h.hostname in chosen)
            else None,
        )
    types = [catalog.instance(t) for t in pool.types]
    # the worst case the pool can reach: every node its largest type, at the highest price
    largest = max(types, key=lambda t: (t.gpus * t.gpu_share, t.vcpus))
    on_demand = _highest([t.price(env.region, "on-demand") for t in types])
    spot = _highest([t.price(env.region, "spot") for t in types])
    price = {"on-demand": on_demand, "spot": spot}.get(pool.capacity)
    if env.kind == "aws":
        quota_key = f"{'spot' if pool.capacity == 'spot' else 'onDemand'}:{largest.quota_class}"
    else:
        quota_key = largest.quota_keys[1 if pool.capacity == "spot" else 0]
    board = catalog.instance_board_power_w(largest)
    return PoolFacts(
        pool=name, environment=pool.environment, cloud=env.kind, region=env.region,
        instanceType=types[0].name, instanceTypes=[t.name for t in types],
        gpuModel=largest.gpu, gpusPerNode=max(t.gpus for t in types),
        vcpusPerNode=max(t.vcpus for t in types), quotaClass=largest.quota_class,
        quotaKey=quota_key, zones=pool_zones(pool, env), hosts=[], minNodes=pool.min_nodes,
        desiredNodes=pool.desired,
        maxNodes=pool.max_nodes, capacity=pool.capacity,
        interruptionTolerant=pool.interruption_tolerant, gpuShare=largest.gpu_share,
        gpuBoardPowerW=None if board is None else round(board, 1),
        onDemandUsdPerHour=on_demand, spotUsdPerHour=spot, usdPerHour=price,
        priceBasis=PRICE_BASIS[pool.capacity],
        gpuResource=resource, unitsPerGpu=units, autoscaling=autoscaling_of(spec, pool),
        fabric=_fabric_kind(types) if pool.fabric else None,
        fabricCapable=_fabric_kind([t for t in types if (f := cloud_fabric(t)) and f.training]),
    )


def _fabric_kind(types: list[catalog.InstanceType]) -> str | None:
    """The fabric kind of the types (their first one's), None when none has one."""
    fabrics = [f for f in (cloud_fabric(t) for t in types) if f is not None]
    return fabrics[0].kind if fabrics else None


def _highest(prices: list[float | None]) -> float | None:
    """The highest of the prices, None when one is unknown (the worst case is then unknown)."""
    if any(p is None for p in prices):
        return None
    return max(p for p in prices if p is not None)
