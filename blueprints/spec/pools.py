"""Blueprint spec: GPU pools (cloud instances or on-prem hosts), their taints and sharing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

import catalog
from blueprints.spec.base import Strict, fail
from catalog.fabric import GPUDIRECT, cloud_fabric


class Taint(Strict):
    """A Kubernetes node taint."""

    key: str = Field(min_length=1, description="Taint key.")
    value: str = Field("", description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        "NoSchedule", description="Taint effect."
    )


GPU_TAINT = Taint(key="nvidia.com/gpu", value="present", effect="NoSchedule")


class GpuSharing(Strict):
    """GPU sharing: MIG partitions or time-sharing. GKE applies it itself; on EKS and own sites
    the GPU operator does (the MIG manager, or a time-slicing config of the device plugin)."""

    strategy: Literal["mig", "time-sharing"] = Field(description="Sharing strategy.")
    partition_size: str | None = Field(
        None, pattern=r"^\d g\.\d+gb$|^\dg\.\d+gb$",
        description="MIG: the profile every GPU is cut into, e.g. 1g.10gb (one of the GPU's "
        "profiles in the catalog).",
    )
    max_shared_clients_per_gpu: int = Field(
        2, ge=2, le=48, description="Time-sharing: containers sharing each GPU."
    )

    @model_validator(mode="after")
    def _mig_needs_partition(self) -> GpuSharing:
        if self.strategy == "mig" and self.partition_size is None:
            fail([("strategy", "strategy 'mig' needs partition_size, e.g. 1g.10gb")])
        if self.strategy == "time-sharing" and self.partition_size is not None:
            fail([("partition_size", "partition_size is for strategy 'mig': remove it, or set "
                   "strategy: mig")])
        return self

    @property
    def profile(self) -> str | None:
        """The MIG profile without blanks (e.g. 1g.10gb), None for time-sharing."""
        if self.strategy != "mig" or self.partition_size is None:
            return None
        return self.partition_size.replace(" ", "")


class GpuPool(Strict):
    """A pool of GPU nodes: cloud instances, or on-prem hosts of a site."""

    environment: str = Field(description="Environment the pool runs in (a key of environments).")
    instance_type: str | None = Field(
        None, description="Cloud instance/machine type from the catalog, e.g. p5.48xlarge."
    )
    instance_types: list[str] | None = Field(
        None, min_length=1, max_length=20,
        description="AWS: several instance types with the same GPU model, instead of "
        "instance_type; Karpenter launches the cheapest one with capacity. Quotas, "
        "power and GPU limits are counted for the largest.",
    )
    accelerator: str | None = Field(
        None, description="GPU model expected (e.g. h100-sxm5): checked against the type/server."
    )
    hosts: list[str] | None = Field(
        None, description="On-prem: hostnames from the site inventory (all hosts when omitted)."
    )
    zones: list[str] | None = Field(
        None, min_length=1, max_length=4,
        description="GCP: zones of the environment the pool's nodes run in (default: those of "
        "the environment's zones that offer the machine type, per the catalog). AWS pools span "
        "the environment's availability_zones.",
    )
    min_nodes: int = Field(0, ge=0, le=1000, description="Fewest nodes.")
    desired_nodes: int | None = Field(
        None, ge=0, le=1000,
        description="Nodes at creation; on an elastic EKS pool the size the plan's cost and "
        "power are estimated at (Karpenter launches nodes for pending pods above min_nodes).",
    )
    max_nodes: int = Field(ge=1, le=1000, description="Most nodes the pool may scale to.")
    capacity: Literal["on-demand", "spot", "capacity-block"] = Field(
        "on-demand", description="How cloud capacity is bought."
    )
    interruption_tolerant: bool = Field(
        False, description="The workloads survive losing a node (checkpointing, retries)."
    )
    reservation: str | None = Field(
        None, description="Capacity reservation/block id (AWS) or specific reservation (GCP)."
    )
    compact_placement: bool = Field(False, description="Place nodes close (multi-node training).")
    fabric: bool = Field(
        False,
        description="Multi-node training fabric. AWS: EFA interfaces (as many as the type "
        "takes), a cluster placement group and the EFA security group; GCP: GPUDirect "
        "(TCPX, TCPXO or RDMA, per machine type) with its additional VPCs and GKE "
        "multi-networking, and compact placement. A type without a fabric is refused; on a "
        "site the fabric is the site's `fabric`.",
    )
    gpu_sharing: GpuSharing | None = Field(
        None, description="Share each GPU: MIG partitions or time-sharing (every substrate)."
    )
    disk_size_gb: int = Field(200, ge=50, le=16000, description="Root disk per node, GiB.")
    taints: list[Taint] = Field(
        default_factory=list, validate_default=True,
        description="Node taints besides the nvidia.com/gpu NoSchedule taint every GPU pool "
        "carries (it keeps other workloads off the GPU nodes).",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Node labels.")

    @field_validator("instance_type")
    @classmethod
    def _known_instance(cls, v: str | None) -> str | None:
        if v is not None:
            catalog.instance(v)
        return v

    @field_validator("instance_types")
    @classmethod
    def _known_instances(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        problems: list[tuple[str, str]] = []
        first: dict[str, int] = {}
        for i, name in enumerate(v):
            if first.setdefault(name, i) != i:
                problems.append((f"{i}", f"{name!r} repeats instance_types[{first[name]}]: "
                                 "list each type once"))
                continue
            try:
                catalog.instance(name)
            except catalog.UnknownCatalogEntryError as e:
                problems.append((f"{i}", str(e)))
        fail(problems)
        return v

    @field_validator("accelerator")
    @classmethod
    def _known_gpu(cls, v: str | None) -> str | None:
        if v is not None:
            catalog.gpu(v)
        return v

    @field_validator("taints")
    @classmethod
    def _keep_gpu_taint(cls, v: list[Taint]) -> list[Taint]:
        """The GPU taint always comes first; the blueprint's taints are added beside it."""
        problems = [(f"{i}", f"taint {t.key}:{t.effect} is the pool's own GPU taint (value "
                     f"{GPU_TAINT.value!r}): remove it from taints, or give it another effect")
                    for i, t in enumerate(v)
                    if (t.key, t.effect) == (GPU_TAINT.key, GPU_TAINT.effect) and t != GPU_TAINT]
        fail(problems)
        return [GPU_TAINT, *(t for t in v if t != GPU_TAINT)]

    @model_validator(mode="after")
    def _bounds(self) -> GpuPool:
        problems: list[tuple[str, str]] = []
        if self.min_nodes > self.max_nodes:
            problems.append(("max_nodes", f"max_nodes ({self.max_nodes}) is below min_nodes "
                             f"({self.min_nodes}): raise max_nodes or lower min_nodes"))
        elif not self.min_nodes <= self.desired <= self.max_nodes:
            problems.append(("desired_nodes", f"desired_nodes ({self.desired}) must lie between "
                             f"min_nodes ({self.min_nodes}) and max_nodes ({self.max_nodes})"))
        if self.capacity == "spot" and not self.interruption_tolerant:
            problems.append(("capacity", "spot capacity can be reclaimed at any time: set "
                             "interruption_tolerant: true if the workloads checkpoint, or use "
                             "on-demand"))
        if self.instance_type is not None and self.instance_types is not None:
            problems.append(("instance_types", "give instance_type or instance_types, not both: "
                             f"move {self.instance_type!r} into instance_types"))
        if self.instance_types is not None and len(self.instance_types) > 1 \
                and self.reservation:
            problems.append(("instance_types", f"reservation {self.reservation!r} holds one "
                             "instance type: list one type, or drop the reservation"))
        problems.extend(self._fabric_problems())
        if self.capacity == "capacity-block" and not self.reservation:
            problems.append(("reservation", "capacity 'capacity-block' needs the capacity "
                             "block's reservation id here"))
        fail(problems)
        return self

    def _fabric_problems(self) -> list[tuple[str, str]]:
        if not self.fabric:
            return []
        if not self.types:
            return [("fabric", "a site's pool uses the site's fabric: declare it under "
                     "environments.<site>.fabric and remove fabric here")]
        known = []
        for name in self.types:
            try:
                known.append(catalog.instance(name))
            except catalog.UnknownCatalogEntryError:
                return []  # reported at instance_type(s)
        lacking = [t.name for t in known if cloud_fabric(t) is None]
        if not lacking:
            return []
        cloud = known[0].cloud
        if cloud == "aws":
            return [("fabric", f"{', '.join(lacking)} has no EFA (Elastic Fabric Adapter): "
                     "use an EFA type (e.g. p5.48xlarge, p4d.24xlarge, g6e.48xlarge) or "
                     "remove fabric")]
        offered = ", ".join(sorted(GPUDIRECT))
        return [("fabric", f"{', '.join(lacking)} has no GPUDirect networking: use one of "
                 f"{offered}, or remove fabric")]

    @property
    def types(self) -> list[str]:
        """The pool's cloud instance types: instance_types, or [instance_type] ([] on-prem)."""
        if self.instance_types is not None:
            return list(self.instance_types)
        return [self.instance_type] if self.instance_type is not None else []

    @property
    def compact(self) -> bool:
        """The nodes are placed close: compact_placement, or a fabric (which needs it)."""
        return self.compact_placement or self.fabric

    @property
    def elastic(self) -> bool:
        """The pool scales between min_nodes and max_nodes (min below max)."""
        return self.min_nodes < self.max_nodes

    @property
    def desired(self) -> int:
        """Nodes at creation: desired_nodes, or min_nodes when not given."""
        return self.desired_nodes if self.desired_nodes is not None else self.min_nodes
