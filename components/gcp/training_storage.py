"""Training storage on GCP: a Google Cloud Managed Lustre instance in the cluster's zone.

Managed Lustre reaches the cluster's VPC through private services access (a reserved range
peered with servicenetworking.googleapis.com), is encrypted with the environment's key (the
Lustre service agent holds the key grant, which must exist first) and is protected like
every data-bearing resource. Its zone is one the region offers Managed Lustre in
(catalog.storage.MANAGED_LUSTRE_ZONES), the GPU pools' zone where possible. GKE mounts it
through its Lustre CSI driver add-on; `gke_support_enabled` serves LNet on port 6988, which the
add-on's legacy port matches (port 988 is the GKE metadata server's on nodes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import compute, lustre, servicenetworking

from blueprints.errors import ComponentArgsError
from catalog.storage import MANAGED_LUSTRE_TIERS, MANAGED_LUSTRE_ZONES
from components import naming
from components.base import FactoryComponent

FILESYSTEM = re.compile(r"^[A-Za-z0-9]{1,8}$")
INSTANCE_ID = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ManagedLustreArgs:
    """Arguments of `ManagedLustre`."""

    project: str
    """Project of the environment."""
    zone: str
    """Zone of the instance (one that offers Managed Lustre)."""
    network_id: pulumi.Input[str]
    """The cluster's VPC (projects/<p>/global/networks/<n>)."""
    instance_id: str
    """Instance name (lower-case letters, digits, '-'; 63 at most)."""
    filesystem: str
    """Lustre file system name (8 letters or digits at most), used when mounting."""
    capacity_gib: int
    """Capacity, GiB (a multiple of the tier's step)."""
    throughput_per_tib: int
    """MB/s per TiB: 125, 250, 500 or 1000."""
    kms_key_id: pulumi.Input[str]
    """Customer-managed key (same region)."""
    key_grants: Sequence[pulumi.Resource] = ()
    """The Lustre service agent's grant on the key (created first)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on what is created."""


def _validate(args: ManagedLustreArgs) -> None:
    region = args.zone.rsplit("-", 1)[0]
    if args.zone not in MANAGED_LUSTRE_ZONES.get(region, ()):
        raise ComponentArgsError(f"`zone` ({args.zone}) does not offer Managed Lustre: use one "
                                 f"of {list(MANAGED_LUSTRE_ZONES.get(region, ())) or 'none'}")
    tier = MANAGED_LUSTRE_TIERS.get(args.throughput_per_tib)
    if tier is None:
        raise ComponentArgsError(f"`throughput_per_tib` ({args.throughput_per_tib}) is not a "
                                 "Managed Lustre tier: use 125, 250, 500 or 1000")
    if args.capacity_gib < tier.min_gib or args.capacity_gib % tier.step_gib:
        raise ComponentArgsError(f"`capacity_gib` ({args.capacity_gib}) is not a multiple of "
                                 f"{tier.step_gib} GiB from {tier.min_gib} (the "
                                 f"{tier.throughput_per_tib} MB/s/TiB tier)")
    if not FILESYSTEM.match(args.filesystem):
        raise ComponentArgsError(f"`filesystem` ({args.filesystem!r}) must be 1-8 letters or "
                                 "digits")
    if not INSTANCE_ID.match(args.instance_id):
        raise ComponentArgsError(f"`instance_id` ({args.instance_id!r}) must be lower-case "
                                 "letters, digits and '-', starting with a letter, 63 at most")


def lustre_ip(mount_point: str | None) -> str:
    """The address in a mount point `10.0.0.2@tcp:/fs` (what the CSI volume names)."""
    return (mount_point or "").split("@", 1)[0]


class ManagedLustre(FactoryComponent):
    """Managed Lustre with its private services access."""

    def __init__(self, name: str, args: ManagedLustreArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("aifactory:gcp:ManagedLustre", name, {
            "zone": args.zone, "capacityGib": args.capacity_gib,
            "throughputPerTib": args.throughput_per_tib}, opts)
        peering = compute.GlobalAddress(
            naming.child(name, "peering-range"),
            name=naming.fit(naming.child(args.instance_id, "psa"), 63), project=args.project,
            purpose="VPC_PEERING", address_type="INTERNAL", prefix_length=20,
            network=args.network_id, opts=self.child_opts())
        connection = servicenetworking.Connection(
            naming.child(name, "private-services"), network=args.network_id,
            service="servicenetworking.googleapis.com", reserved_peering_ranges=[peering.name],
            opts=self.child_opts())
        self.instance = lustre.Instance(
            naming.child(name, "instance"),
            instance_id=args.instance_id, project=args.project, location=args.zone,
            network=args.network_id, filesystem=args.filesystem,
            capacity_gib=str(args.capacity_gib),
            per_unit_storage_throughput=str(args.throughput_per_tib),
            kms_key=args.kms_key_id, gke_support_enabled=True,
            labels=dict(args.labels),
            opts=self.data_opts(depends_on=[connection, *args.key_grants]))
        self.volume_handle: pulumi.Output[str] = pulumi.Output.from_input(
            f"{args.project}/{args.zone}/{args.instance_id}")
        self.ip: pulumi.Output[str] = self.instance.mount_point.apply(lustre_ip)
        self.filesystem: pulumi.Output[str] = pulumi.Output.from_input(args.filesystem)
        self.register_outputs({"volume_handle": self.volume_handle, "ip": self.ip,
                               "filesystem": self.filesystem})
