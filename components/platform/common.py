"""What the platform components share: label keys, pool capacity, taints and tolerations.

Pure values and helpers only; the components that create resources live one a file beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from blueprints.facts import POOL_LABEL as POOL_LABEL  # re-exported: the facts contract's
from blueprints.facts import TEAM_LABEL as TEAM_LABEL
from catalog.charts import ChartRef
from components.platform.gpu_sharing import PoolSharing
from components.platform.mirror import ImageMirror, mirrored_chart, mirrored_values

ENVIRONMENT_LABEL = "aifactory.io/environment"
"""Label naming the environment (cluster) an object belongs to."""
GPU_RESOURCE = "nvidia.com/gpu"
"""The extended resource the NVIDIA device plugin advertises (a whole or time-shared GPU)."""
POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"

Substrate = Literal["aws", "gcp", "onprem"]
PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


@dataclass(frozen=True)
class NodeTaint:
    """A taint a GPU pool puts on its nodes."""

    key: str
    """Taint key, e.g. nvidia.com/gpu."""
    value: str = ""
    """Taint value ('' for none)."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"
    """Taint effect."""

    def toleration(self) -> dict[str, str]:
        """The toleration that lets a pod onto nodes with this taint."""
        if self.value:
            return {"key": self.key, "operator": "Equal", "value": self.value,
                    "effect": self.effect}
        return {"key": self.key, "operator": "Exists", "effect": self.effect}


@dataclass(frozen=True)
class GpuPoolCapacity:
    """What the platform layer needs to know of one GPU pool, computed from the blueprint."""

    pool: str
    """Pool name (a key of the blueprint's `pools`): the value of the aifactory.io/pool label."""
    environment: str
    """Environment the pool's nodes run in."""
    substrate: Substrate
    """aws, gcp or onprem: on-prem pools are owned capacity, the others rented."""
    capacity: str
    """Purchase option: on-demand, spot or capacity-block (on-prem: on-demand)."""
    gpu_model: str
    """GPU model from the catalog, e.g. h100-sxm5."""
    gpus_per_node: int
    """GPUs on each node of the pool."""
    min_nodes: int
    """Fewest nodes the pool keeps."""
    max_nodes: int
    """Most nodes the pool may have."""
    owned_gpus: int | None = None
    """On-prem only: GPUs the pool's hosts carry (the inventory), None for cloud pools."""
    taints: tuple[NodeTaint, ...] = field(default_factory=tuple)
    """Taints on the pool's nodes (workloads admitted to the pool must tolerate them)."""
    gpu_resource: str = GPU_RESOURCE
    """Extended resource jobs request on the pool: nvidia.com/gpu, or a MIG profile's
    nvidia.com/mig-<profile> where the GPU operator cuts the GPUs (mixed strategy)."""
    units_per_gpu: int = 1
    """Units of `gpu_resource` each GPU exposes: MIG instances or time-shared replicas."""
    sharing: PoolSharing | None = None
    """Sharing the cluster's GPU operator applies (EKS, sites); None without, or on GKE."""
    topology: str | None = None
    """Kueue Topology the pool's flavor names (components.platform.topology), None for a
    pool without topology-aware placement."""

    @property
    def owned(self) -> bool:
        """True for the factory's own hardware (paid for whether used or not)."""
        return self.substrate == "onprem"

    @property
    def quota_gpus(self) -> int:
        """GPUs the pool can provide: the inventory on-prem, max_nodes x GPUs in a cloud."""
        if self.owned and self.owned_gpus is not None:
            return self.owned_gpus
        return self.max_nodes * self.gpus_per_node

    @property
    def quota_units(self) -> int:
        """Units of `gpu_resource` the pool can provide (what Kueue's quotas count)."""
        return self.quota_gpus * self.units_per_gpu

    @property
    def expected_gpus(self) -> int:
        """GPUs that must always be visible: the whole inventory on-prem, min_nodes in a cloud."""
        if self.owned and self.owned_gpus is not None:
            return self.owned_gpus
        return self.min_nodes * self.gpus_per_node

    def tolerations(self) -> list[dict[str, str]]:
        """Tolerations for the pool's taints."""
        return [t.toleration() for t in self.taints]


def validate_pools(field_name: str, pools: Sequence[GpuPoolCapacity]) -> None:
    """Raise ComponentArgsError for pools no flavor, quota or alert can be built from."""
    seen: set[str] = set()
    for p in pools:
        if p.pool in seen:
            raise ComponentArgsError(f"`{field_name}` names pool {p.pool!r} twice: give each "
                                     "pool once")
        seen.add(p.pool)
        if p.gpus_per_node < 1:
            raise ComponentArgsError(f"`{field_name}`: pool {p.pool!r} has gpus_per_node "
                                     f"{p.gpus_per_node}: a GPU pool needs at least 1 GPU a node")
        if p.max_nodes < p.min_nodes:
            raise ComponentArgsError(f"`{field_name}`: pool {p.pool!r} has max_nodes "
                                     f"({p.max_nodes}) below min_nodes ({p.min_nodes}): raise "
                                     "max_nodes or lower min_nodes")
        if p.units_per_gpu < 1:
            raise ComponentArgsError(f"`{field_name}`: pool {p.pool!r} has units_per_gpu "
                                     f"{p.units_per_gpu}: a GPU exposes at least 1 unit")
        if p.sharing is not None and (p.sharing.pool != p.pool
                                      or p.sharing.resource != p.gpu_resource
                                      or p.sharing.per_gpu != p.units_per_gpu):
            raise ComponentArgsError(f"`{field_name}`: pool {p.pool!r}: its sharing (pool "
                                     f"{p.sharing.pool!r}, {p.sharing.per_gpu} x "
                                     f"{p.sharing.resource}) disagrees with gpu_resource "
                                     f"{p.gpu_resource} x units_per_gpu {p.units_per_gpu}")
        if p.owned and p.owned_gpus is None:
            raise ComponentArgsError(f"`{field_name}`: on-prem pool {p.pool!r} has no owned_gpus: "
                                     "give the GPUs its hosts carry")


def namespace(resource_name: str, name: str, labels: Mapping[str, str],
              pod_security: PodSecurityLevel, opts: pulumi.ResourceOptions,
              ) -> k8s.core.v1.Namespace:
    """A namespace with our labels and a Pod Security Admission level."""
    return k8s.core.v1.Namespace(
        resource_name,
        metadata={"name": name, "labels": {**labels, POD_SECURITY_ENFORCE: pod_security}},
        opts=opts,
    )


def chart(resource_name: str, ref: ChartRef, release: str, namespace_name: pulumi.Input[str],
          values: Mapping[str, Any], opts: pulumi.ResourceOptions,
          mirror: ImageMirror | None = None, *, skip_crds: bool = False) -> k8s.helm.v4.Chart:
    """An upstream operator's chart, at its pinned version, into a namespace of ours; with a
    mirror, the chart and every image its values name come from the mirror, by digest.
    `skip_crds`: the CRDs come from a chart of their own (installed, and upgraded, first)."""
    source = mirrored_chart(ref, mirror)
    return k8s.helm.v4.Chart(
        resource_name,
        chart=source.chart,
        version=source.version,
        repository_opts=(k8s.helm.v4.RepositoryOptsArgs(repo=source.repository)
                         if source.repository else None),
        name=release,
        namespace=namespace_name,
        values=mirrored_values(ref, values, mirror),
        skip_crds=True if skip_crds else None,
        opts=opts,
    )
