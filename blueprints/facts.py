"""The facts components carry as their own inputs, so policies need no side channel.

A policy rule reads these from the plan (offline) or from the resources a CrossGuard pack is
shown (`pulumi preview --policy-pack`): the factory's settings, each environment's region,
quotas or power envelope, each pool's GPUs and bounds, each bare-metal host's load. Keys are
camelCase, like every other Pulumi input.

This module is the contract between the components that carry facts and the policies that read
them, so it imports nothing of the project's: the builders that turn a blueprint into facts are
in blueprints.compose.facts, the one place that does it, so the plan, the pack and the report
agree.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

# Type tokens of the components that carry facts.
FACTORY = "aifactory:factory:Factory"
AWS_ENVIRONMENT = "aifactory:aws:Environment"
GCP_ENVIRONMENT = "aifactory:gcp:Environment"
SITE = "aifactory:baremetal:Site"
HOST = "aifactory:baremetal:Host"
POOL_TYPES = ("aifactory:aws:GpuNodePool", "aifactory:gcp:GpuNodePool",
              "aifactory:baremetal:GpuPool")
SITE_REGISTRY = "aifactory:platform:SiteRegistry"
"""Harbor on a site: carries `environment` and `hostname` (the factory's own registry there)."""
SITE_OBJECT_STORE = "aifactory:platform:SiteObjectStore"
"""The lakehouse tenant on a site: carries its servers, buckets and KMS."""
CLUSTER_STORAGE = "aifactory:platform:ClusterStorage"
"""Carries `existingClasses`: StorageClasses a cluster has that the plan does not create."""
TRAINING_VOLUMES = "aifactory:platform:TrainingVolumes"
"""Carries `existingClasses` too: the site class its training volumes name."""

# Labels the platform's Kubernetes objects carry and the policies read.
POOL_LABEL = "aifactory.io/pool"
"""Node label every GPU pool puts on its nodes (value: the pool name); flavors select on it."""
TEAM_LABEL = "aifactory.io/team"
"""Namespace label naming the team a namespace belongs to; a team's ClusterQueue admits it."""


class WaiverFacts(TypedDict):
    rule: str
    resource: str
    reason: str
    owner: str
    approver: str
    ticket: str
    approved: str
    expires: str


class FactoryFacts(TypedDict):
    factory: str
    jurisdiction: str | None
    ownSitesOnly: bool
    """Nothing may run in a cloud, even inside the jurisdiction."""
    allowedRegistries: list[str]
    tags: dict[str, str]
    breakEvenUtilisation: float
    plannedUtilisation: float | None
    airCoolingLimitKw: float
    rearDoorLimitKw: float
    hostOverheadW: int
    waivers: list[WaiverFacts]


class AwsEnvironmentFacts(TypedDict):
    environment: str
    cloud: Literal["aws"]
    accountId: str
    region: str
    partition: str
    quotas: dict[str, int]


class GcpEnvironmentFacts(TypedDict):
    environment: str
    cloud: Literal["gcp"]
    project: str
    region: str
    gpuQuotas: dict[str, int]


class EquipmentFacts(TypedDict):
    kind: str
    name: str
    count: int
    kw: float


class RackFacts(TypedDict):
    name: str
    powerLimitKw: float
    cooling: str
    otherKw: float
    equipment: list[EquipmentFacts]


class SiteFacts(TypedDict):
    environment: str
    cloud: Literal["onprem"]
    country: str
    powerBudgetKw: float
    pue: float
    feeds: dict[str, float] | None
    racks: list[RackFacts]
    fabric: str | None
    """The compute fabric the site declares (infiniband, roce), None without one."""


class HostFacts(TypedDict):
    environment: str
    hostname: str
    rack: str
    serverModel: str
    gpuModel: str
    gpus: int
    itLoadKw: float
    serverCooling: str
    role: str
    """gpu, storage, registry or management."""
    storageTb: float
    """Raw capacity of the host's data drives, TB (0 but on storage hosts)."""


class PoolFacts(TypedDict):
    pool: str
    environment: str
    cloud: str
    region: str
    instanceType: str | None
    instanceTypes: list[str]
    """Every type the pool may launch; the per-node figures below are the largest's."""
    gpuModel: str
    gpusPerNode: int
    vcpusPerNode: int
    quotaClass: str | None
    quotaKey: str | None
    zones: list[str]
    hosts: list[str]
    minNodes: int
    desiredNodes: int
    maxNodes: int
    capacity: str
    interruptionTolerant: bool
    gpuShare: float
    gpuBoardPowerW: float | None
    onDemandUsdPerHour: float | None
    spotUsdPerHour: float | None
    usdPerHour: float | None
    priceBasis: str
    gpuResource: str
    """Extended resource jobs request (nvidia.com/gpu, or nvidia.com/mig-<profile>)."""
    unitsPerGpu: int
    """Units of gpuResource each GPU exposes (MIG instances, time-shared replicas, or 1)."""
    autoscaling: str
    """What scales the pool, in words (Karpenter, GKE's autoscaler, or nothing)."""
    fabric: str | None
    """The multi-node fabric configured for the pool (efa, gpudirect-tcpx, ..., infiniband,
    roce), None without one."""
    fabricCapable: str | None
    """The training fabric the pool's type or servers have (what the fabric rule reads), None
    when they have none."""


def as_inputs(facts: Any) -> dict[str, Any]:
    """Facts as component inputs (a plain dict)."""
    return dict(facts)
