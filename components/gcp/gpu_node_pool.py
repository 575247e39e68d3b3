"""A GKE node pool of GPU machines: accelerators, drivers, sharing, capacity, bounds, taints.

The component carries the pool's facts (GPU model and count, bounds, purchase option) as its own
inputs, so quota and capacity rules read them from the plan.

Scaling bounds are pool totals (`total_min_node_count`/`total_max_node_count`), not per zone:
the blueprint's `min_nodes`/`max_nodes` are what the quotas count, and per-zone bounds would
multiply them by the number of zones. GKE's `initial_node_count` is per zone, so the desired
total is spread over the zones, rounded up unless that would exceed `max_nodes`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_gcp import container

from blueprints.errors import ComponentArgsError
from blueprints.facts import PoolFacts, as_inputs
from components import naming
from components.base import FactoryComponent
from components.gcp.accelerators import MIG_PARTITIONS

TYPE = "aifactory:gcp:GpuNodePool"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
RESERVATION_KEY = "compute.googleapis.com/reservation-name"
GKE_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE",
               "NoExecute": "NO_EXECUTE"}
DRIVER_VERSIONS = ("DEFAULT", "LATEST", "INSTALLATION_DISABLED")


@dataclass(frozen=True)
class NodeTaint:
    """A Kubernetes taint on every node of the pool."""

    key: str
    """Taint key, e.g. nvidia.com/gpu."""
    value: str
    """Taint value."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
    """Kubernetes taint effect."""


@dataclass(frozen=True)
class GpuNodePoolArgs:
    """Arguments of `GpuNodePool`."""

    facts: PoolFacts
    """The pool's facts (blueprints.compose.facts.pool_facts): the component's own inputs."""
    cluster_id: pulumi.Input[str]
    """Cluster the pool belongs to."""
    region: str
    """Region of the (regional) cluster."""
    node_locations: Sequence[str]
    """Zones the nodes run in (one zone with compact placement)."""
    pool_name: str
    """Physical node pool name (at most 40 characters)."""
    machine_type: str
    """Compute Engine machine type, e.g. a3-highgpu-8g."""
    accelerator_type: str
    """Compute Engine accelerator type, e.g. nvidia-h100-80gb."""
    accelerator_count: int
    """GPUs per node."""
    min_nodes: int
    """Fewest nodes in the whole pool."""
    max_nodes: int
    """Most nodes in the whole pool."""
    initial_nodes: int
    """Nodes in the whole pool at creation (spread over the zones)."""
    service_account: pulumi.Input[str]
    """E-mail of the nodes' least-privilege service account."""
    boot_disk_key_id: pulumi.Input[str]
    """Cloud KMS key (same region) encrypting the boot disks."""
    disk_size_gb: int = 200
    """Boot disk size per node, GB."""
    disk_type: str = "pd-balanced"
    """Boot disk type the machine series supports (pd-balanced or hyperdisk-balanced)."""
    spot: bool = False
    """Run on Spot VMs (interruption-tolerant workloads only)."""
    reservation: str | None = None
    """Consume only this specific Compute Engine reservation."""
    compact_placement: bool = False
    """Place nodes physically close (multi-node training); needs exactly one zone."""
    driver_version: str = "DEFAULT"
    """GPU driver GKE installs: DEFAULT, LATEST or INSTALLATION_DISABLED."""
    mig_partition_size: str | None = None
    """Split each GPU into MIG partitions of this size, e.g. 1g.10gb."""
    time_sharing_clients: int | None = None
    """Let this many containers time-share each GPU (2-48)."""
    taints: Sequence[NodeTaint] = ()
    """Node taints (the GPU taint keeps other workloads off)."""
    node_labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels of the nodes."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """GCE resource labels of the nodes' VMs."""
    key_grants: Sequence[pulumi.Resource] = ()
    """Grant of the disk key to the Compute Engine service agent: the pool waits for it."""
    additional_networks: Sequence[Mapping[str, pulumi.Input[str]]] = ()
    """GPUDirect: the GPU NICs' VPCs and subnets ({network, subnetwork} each, in NIC order);
    the cluster needs multi-networking."""


def initial_per_zone(total: int, zones: int, max_nodes: int) -> int:
    """GKE's per-zone initial node count for a desired pool total."""
    up = math.ceil(total / zones)
    return up if up * zones <= max_nodes else total // zones


class GpuNodePool(FactoryComponent):
    """GPU node pool on shielded, CMEK-encrypted nodes with Workload Identity metadata."""

    def __init__(self, name: str, args: GpuNodePoolArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__(TYPE, name, as_inputs(args.facts), opts)

        placement: container.NodePoolPlacementPolicyArgsDict | None = (
            {"type": "COMPACT"} if args.compact_placement else None)
        pool = container.NodePool(
            naming.child(name, "pool"),
            name=args.pool_name,
            cluster=args.cluster_id,
            location=args.region,
            node_locations=list(args.node_locations),
            initial_node_count=initial_per_zone(args.initial_nodes, len(args.node_locations),
                                                args.max_nodes),
            autoscaling={
                "total_min_node_count": args.min_nodes,
                "total_max_node_count": args.max_nodes,
                # ANY takes capacity (spot, reservations) wherever it is free; BALANCED spreads
                # on-demand nodes evenly over the zones.
                "location_policy": "ANY" if args.spot or args.reservation else "BALANCED",
            },
            management={"auto_repair": True, "auto_upgrade": True},
            # Upgrade in place, one node at a time: a surge node would need GPU quota beyond
            # max_nodes, which the quota rules do not count.
            upgrade_settings={"strategy": "SURGE", "max_surge": 0, "max_unavailable": 1},
            placement_policy=placement,
            network_config={"additional_node_network_configs": [
                {"network": n["network"], "subnetwork": n["subnetwork"]}
                for n in args.additional_networks]} if args.additional_networks else None,
            node_config=_node_config(args),
            opts=self.child_opts(depends_on=list(args.key_grants),
                                 ignore_changes=["initial_node_count"]),
        )
        self.pool_name: pulumi.Output[str] = pool.name
        self.pool_id: pulumi.Output[str] = pool.id
        self.register_outputs({"pool_name": self.pool_name, "pool_id": self.pool_id})


def _node_config(args: GpuNodePoolArgs) -> container.NodePoolNodeConfigArgsDict:
    accelerator: container.NodePoolNodeConfigGuestAcceleratorArgsDict = {
        "type": args.accelerator_type,
        "count": args.accelerator_count,
        "gpu_driver_installation_config": {"gpu_driver_version": args.driver_version},
    }
    if args.mig_partition_size:
        accelerator["gpu_partition_size"] = args.mig_partition_size
    if args.time_sharing_clients:
        accelerator["gpu_sharing_config"] = {
            "gpu_sharing_strategy": "TIME_SHARING",
            "max_shared_clients_per_gpu": args.time_sharing_clients,
        }
    config: container.NodePoolNodeConfigArgsDict = {
        "machine_type": args.machine_type,
        "guest_accelerators": [accelerator],
        "image_type": "COS_CONTAINERD",
        "disk_size_gb": args.disk_size_gb,
        "disk_type": args.disk_type,
        "boot_disk_kms_key": args.boot_disk_key_id,
        "service_account": args.service_account,
        "oauth_scopes": [CLOUD_PLATFORM],
        "spot": args.spot,
        "shielded_instance_config": {"enable_secure_boot": True,
                                     "enable_integrity_monitoring": True},
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "gvnic": {"enabled": True},
        "taints": [{"key": t.key, "value": t.value, "effect": GKE_EFFECTS[t.effect]}
                   for t in args.taints],
        "labels": dict(args.node_labels),
        "resource_labels": dict(args.labels),
        "metadata": {"disable-legacy-endpoints": "true"},
    }
    if args.reservation:
        config["reservation_affinity"] = {"consume_reservation_type": "SPECIFIC_RESERVATION",
                                          "key": RESERVATION_KEY, "values": [args.reservation]}
    return config


def _validate(name: str, args: GpuNodePoolArgs) -> None:
    where = f"GpuNodePool {name}"
    problems = []
    if not 1 <= len(args.pool_name) <= 40 or not re.fullmatch(r"[a-z]([a-z0-9-]*[a-z0-9])?",
                                                                args.pool_name):
        problems.append(f"pool_name ({args.pool_name!r}) must be 1-40 lower-case letters, digits "
                        "and '-': use components.naming.fit(name, 40)")
    if args.max_nodes < 1:
        problems.append(f"max_nodes ({args.max_nodes}) must be at least 1: raise it")
    if args.min_nodes > args.max_nodes:
        problems.append(f"max_nodes ({args.max_nodes}) is below min_nodes ({args.min_nodes}): "
                        "raise max_nodes or lower min_nodes")
    if not args.min_nodes <= args.initial_nodes <= args.max_nodes:
        problems.append(f"initial_nodes ({args.initial_nodes}) must lie between min_nodes "
                        f"({args.min_nodes}) and max_nodes ({args.max_nodes})")
    if args.accelerator_count < 1:
        problems.append(f"accelerator_count ({args.accelerator_count}) must be at least 1")
    if not args.node_locations:
        problems.append("node_locations is empty: name the zones the nodes run in")
    wrong = [z for z in args.node_locations if not z.startswith(f"{args.region}-")]
    if wrong:
        problems.append(f"node_locations {wrong} are not zones of {args.region}: use names such "
                        f"as {args.region}-a")
    if args.compact_placement and len(args.node_locations) != 1:
        problems.append(f"compact_placement needs exactly one zone, got {list(args.node_locations)}"
                        ": pass a single zone")
    if args.spot and args.reservation:
        problems.append(f"spot nodes cannot consume reservation {args.reservation!r}: drop "
                        "spot or the reservation")
    if args.driver_version not in DRIVER_VERSIONS:
        problems.append(f"driver_version ({args.driver_version!r}) must be one of "
                        f"{', '.join(DRIVER_VERSIONS)}")
    if args.mig_partition_size is not None:
        offered = MIG_PARTITIONS.get(args.facts["gpuModel"], frozenset())
        if args.mig_partition_size not in offered:
            sizes = ", ".join(sorted(offered)) if offered else "none: the GPU has no MIG"
            problems.append(f"mig_partition_size ({args.mig_partition_size!r}) is not a MIG "
                            f"partition of {args.facts['gpuModel']}: sizes are {sizes}")
    if args.time_sharing_clients is not None and not 2 <= args.time_sharing_clients <= 48:
        problems.append(f"time_sharing_clients ({args.time_sharing_clients}) must lie between 2 "
                        "and 48")
    problems += [f"taint {t.key!r} has effect {t.effect!r}: use NoSchedule, PreferNoSchedule "
                 "or NoExecute" for t in args.taints if t.effect not in GKE_EFFECTS]
    if problems:
        raise ComponentArgsError(f"{where}: " + f"; {where}: ".join(problems))
