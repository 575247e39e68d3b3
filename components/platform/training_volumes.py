"""A training file system mounted in each team's namespace: a PersistentVolume and a claim per
team, bound to each other (static provisioning: the file system exists, nothing provisions).

The volume source is the file system's: a CSI driver with its volume handle and attributes
(FSx for Lustre, GKE's Managed Lustre and Cloud Storage FUSE drivers, a site's Lustre or GPFS
driver) or an NFS export. Cloud volumes name no StorageClass (`""`, as the drivers' static
examples do), so no default class takes them; a site's volumes name the class the blueprint
gives, which this component declares as the cluster's existing class (the policy
capacity-volume-class-exists reads it). Each claim is `training-data` in its team's namespace,
ReadWriteMany: every pod of a multi-node job mounts the same file system.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import TEAM_LABEL

CLAIM_NAME = "training-data"
"""The claim every team's jobs mount."""
QUANTITY = re.compile(r"^[0-9]+(Ki|Mi|Gi|Ti|Pi)$")
DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


@dataclass(frozen=True)
class VolumeSource:
    """Where a volume's data is: a CSI driver's volume, or an NFS export."""

    driver: str | None = None
    """CSI driver name (None: NFS)."""
    volume_handle: pulumi.Input[str] | None = None
    """The driver's handle of the file system."""
    volume_attributes: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The driver's volume attributes."""
    nfs_server: str | None = None
    """NFS server (with `nfs_path`, instead of a driver)."""
    nfs_path: str | None = None
    """NFS export path."""
    mount_options: Sequence[str] = ()
    """Mount options of the volume."""


@dataclass(frozen=True)
class TeamVolume:
    """One team's claim."""

    team: str
    """Team name."""
    namespace: str
    """The team's namespace (it exists: the platform made it)."""


@dataclass(frozen=True)
class TrainingVolumesArgs:
    """Arguments of `TrainingVolumes`."""

    store: str
    """Name of the training store (a key of the blueprint's training_storage)."""
    kind: str
    """fsx-lustre, managed-lustre, gcs-fuse, nfs, lustre or gpfs."""
    source: VolumeSource
    """The file system's volume source."""
    capacity: str
    """Capacity the volumes declare (Kubernetes quantity, e.g. 2400Gi)."""
    teams: Sequence[TeamVolume]
    """Teams whose namespaces get a claim."""
    storage_class: str = ""
    """Class the volumes and claims name: a site's existing class, "" for cloud volumes."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first (the team namespaces, the CSI driver)."""


def _validate(args: TrainingVolumesArgs) -> None:
    if not args.teams:
        raise ComponentArgsError("`teams` is empty: the volumes are mounted in the teams' "
                                 "namespaces; give at least one")
    if not QUANTITY.match(args.capacity):
        raise ComponentArgsError(f"`capacity` ({args.capacity!r}) is not a quantity like "
                                 "2400Gi")
    src = args.source
    nfs = src.nfs_server is not None or src.nfs_path is not None
    if (src.driver is None) == (not nfs) or (nfs and not (src.nfs_server and src.nfs_path)):
        raise ComponentArgsError("`source` takes a CSI driver and its volume handle, or an "
                                 "NFS server and path: give one of them")
    if src.driver is not None and src.volume_handle is None:
        raise ComponentArgsError(f"`source.volume_handle` is missing: driver {src.driver} "
                                 "needs the file system's handle")
    if args.storage_class and not DNS_NAME.match(args.storage_class):
        raise ComponentArgsError(f"`storage_class` ({args.storage_class!r}) is not a "
                                 "StorageClass name")
    names = [t.team for t in args.teams]
    if len(set(names)) != len(names):
        raise ComponentArgsError(f"`teams` {names} repeat a team: give each once")


def volume_name(store: str, team: str) -> str:
    """The cluster-wide name of a team's PersistentVolume."""
    return child(store, team)[:253]


class TrainingVolumes(FactoryComponent):
    """A PersistentVolume and a bound claim per team, on one training file system."""

    def __init__(self, name: str, args: TrainingVolumesArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("aifactory:platform:TrainingVolumes", name, {
            "store": args.store, "kind": args.kind, "capacity": args.capacity,
            "teams": [t.team for t in args.teams], "claim": CLAIM_NAME,
            "existingClasses": [args.storage_class] if args.storage_class else []}, opts)
        src = args.source
        csi = None
        nfs = None
        if src.driver is not None:
            assert src.volume_handle is not None  # validated
            csi = k8s.core.v1.CSIPersistentVolumeSourceArgs(
                driver=src.driver, volume_handle=src.volume_handle,
                volume_attributes=dict(src.volume_attributes) or None)
        else:
            assert src.nfs_server is not None and src.nfs_path is not None  # validated
            nfs = k8s.core.v1.NFSVolumeSourceArgs(server=src.nfs_server, path=src.nfs_path)
        self.claims: dict[str, k8s.core.v1.PersistentVolumeClaim] = {}
        for team in args.teams:
            pv_name = volume_name(args.store, team.team)
            labels = {**args.labels, TEAM_LABEL: team.team,
                      "aifactory.io/training-storage": args.store}
            pv = k8s.core.v1.PersistentVolume(
                child(name, team.team, "pv"),
                metadata=k8s.meta.v1.ObjectMetaArgs(name=pv_name, labels=labels),
                spec=k8s.core.v1.PersistentVolumeSpecArgs(
                    capacity={"storage": args.capacity},
                    access_modes=["ReadWriteMany"],
                    persistent_volume_reclaim_policy="Retain",
                    storage_class_name=args.storage_class,
                    mount_options=list(src.mount_options) or None,
                    claim_ref=k8s.core.v1.ObjectReferenceArgs(
                        namespace=team.namespace, name=CLAIM_NAME),
                    csi=csi, nfs=nfs),
                opts=self.child_opts(depends_on=list(args.depends_on)))
            self.claims[team.team] = k8s.core.v1.PersistentVolumeClaim(
                child(name, team.team, "pvc"),
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=CLAIM_NAME, namespace=team.namespace, labels=labels),
                spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                    access_modes=["ReadWriteMany"],
                    storage_class_name=args.storage_class,
                    volume_name=pv_name,
                    resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                        requests={"storage": args.capacity})),
                opts=self.child_opts(depends_on=[pv, *args.depends_on]))
        self.claim_name = pulumi.Output.from_input(CLAIM_NAME)
        self.register_outputs({"claim_name": self.claim_name})
