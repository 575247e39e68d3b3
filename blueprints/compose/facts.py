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


def pool_facts(spec: Blueprint, name: str, pool: GpuPool) -> PoolFacts:
    """GPUs, bounds and purchase option of a pool, in the units its cloud counts."""
    env = spec.environment_of(pool)
    if isinstance(env, OnPremSite):
        chosen = set(pool.hosts) if pool.hosts is not None else {h.hostname for h in env.hosts}
        servers = [catalog.server(h.server_model) for h in env.hosts if h.hostname in chosen]
        first = servers[0]
        return PoolFacts(
            pool=name, environment=pool.environment, cloud="onprem", region=env.country,
            instanceType=None, gpuModel=first.gpu, gpusPerNode=first.gpus, vcpusPerNode=0,
            quotaClass=None, minNodes=pool.min_nodes, desiredNodes=pool.desired,
            maxNodes=pool.max_nodes, capacity=pool.capacity,
            interruptionTolerant=pool.interruption_tolerant, onDemandUsdPerHour=None,
        )
    assert pool.instance_type is not None  # the spec requires it for cloud pools
    itype = catalog.instance(pool.instance_type)
    return PoolFacts(
        pool=name, environment=pool.environment, cloud=env.kind, region=env.region,
        instanceType=itype.name, gpuModel=itype.gpu, gpusPerNode=itype.gpus,
        vcpusPerNode=itype.vcpus, quotaClass=itype.quota_class, minNodes=pool.min_nodes,
        desiredNodes=pool.desired, maxNodes=pool.max_nodes, capacity=pool.capacity,
        interruptionTolerant=pool.interruption_tolerant,
        onDemandUsdPerHour=itype.on_demand_usd_per_hour,
    )
