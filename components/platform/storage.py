"""Storage for the platform's volumes: the cluster's default StorageClass.

Every PersistentVolumeClaim the platform creates (Prometheus' today) names a class that exists
in its cluster:

- EKS: `gp3-encrypted`, the EBS CSI driver's gp3 volumes encrypted with the environment's
  customer-managed key (the driver runs as an EKS add-on, see components.aws.block_storage).
- GKE: `pd-balanced-cmek`, Persistent Disk balanced volumes encrypted with the environment's
  disk key (`disk-encryption-kms-key`; the Compute Engine service agent holds the key grant).
  GKE keeps its own `standard-rwo` default class; ours is marked default too (Kubernetes then
  takes the newest default for claims naming none) and every claim of ours names it.
- A site: the cluster's existing class, named in the blueprint; nothing is created.

Both created classes bind a volume only once its pod is scheduled (WaitForFirstConsumer, so the
volume lands in the pod's zone) and let claims grow (allowVolumeExpansion).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.base import FactoryComponent
from components.naming import child
from components.platform.common import Substrate

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
EBS_CSI = "ebs.csi.aws.com"
GCE_PD_CSI = "pd.csi.storage.gke.io"
CLASS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
DEFAULT_NAMES: dict[str, str] = {"aws": "gp3-encrypted", "gcp": "pd-balanced-cmek"}


@dataclass(frozen=True)
class ClusterStorageArgs:
    """Arguments of `ClusterStorage`."""

    substrate: Substrate
    """aws and gcp get a default class of ours; onprem names its existing class."""
    kms_key: pulumi.Input[str] | None = None
    """aws: ARN of the customer-managed key; gcp: the Cloud KMS key id (projects/.../
    cryptoKeys/...). Required there, not used on a site."""
    existing_class: str | None = None
    """onprem: the site cluster's StorageClass the platform's volumes use."""
    other_classes: tuple[str, ...] = ()
    """onprem: further classes the site's cluster has that the blueprint names (the local
    drives' class its lakehouse tenant claims)."""
    class_name: str | None = None
    """Name of the class created (default gp3-encrypted on aws, pd-balanced-cmek on gcp)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the objects we create."""


def storage_class_parameters(args: ClusterStorageArgs,
                             key: pulumi.Input[str]) -> tuple[str, dict[str, pulumi.Input[str]]]:
    """(provisioner, parameters) of the default class on a cloud substrate."""
    if args.substrate == "aws":
        return EBS_CSI, {"type": "gp3", "encrypted": "true", "kmsKeyId": key,
                         "csi.storage.k8s.io/fstype": "ext4"}
    return GCE_PD_CSI, {"type": "pd-balanced", "disk-encryption-kms-key": key}


def _validate(args: ClusterStorageArgs) -> None:
    if args.substrate == "onprem":
        if not args.existing_class:
            raise ComponentArgsError(
                "`existing_class` is empty: a site's cluster keeps its own storage; name its "
                "StorageClass (environments.<site>.cluster.storage_class)")
        if not CLASS_NAME.match(args.existing_class):
            raise ComponentArgsError(f"`existing_class` ({args.existing_class!r}) is not a "
                                     "StorageClass name: lower-case letters, digits, '-', '.'")
        if args.kms_key is not None or args.class_name is not None:
            raise ComponentArgsError("`kms_key` and `class_name` are for the classes created "
                                     "on aws and gcp: leave them out for a site")
        for other in args.other_classes:
            if not CLASS_NAME.match(other):
                raise ComponentArgsError(f"`other_classes`: {other!r} is not a StorageClass "
                                         "name: lower-case letters, digits, '-', '.'")
        return
    if args.other_classes:
        raise ComponentArgsError(f"`other_classes` ({list(args.other_classes)}) are for sites: "
                                 f"on {args.substrate} the platform creates its class")
    if args.kms_key is None:
        raise ComponentArgsError(f"`kms_key` is missing: the {args.substrate} default class "
                                 "encrypts volumes with the environment's customer-managed key")
    if args.existing_class is not None:
        raise ComponentArgsError(f"`existing_class` ({args.existing_class!r}) is for sites: on "
                                 f"{args.substrate} the platform creates its class")
    if args.class_name is not None and not CLASS_NAME.match(args.class_name):
        raise ComponentArgsError(f"`class_name` ({args.class_name!r}) is not a StorageClass "
                                 "name: lower-case letters, digits, '-', '.'")


class ClusterStorage(FactoryComponent):
    """The StorageClass the platform's volumes use: created on EKS and GKE, a site's own."""

    def __init__(self, name: str, args: ClusterStorageArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        class_name = args.existing_class if args.substrate == "onprem" else (
            args.class_name or DEFAULT_NAMES[args.substrate])
        assert class_name is not None
        super().__init__("aifactory:platform:ClusterStorage", name, {
            "substrate": args.substrate, "storageClass": class_name,
            "existingClasses": sorted({class_name, *args.other_classes})
            if args.substrate == "onprem" else []}, opts)
        self.storage_class_resource: k8s.storage.v1.StorageClass | None = None
        if args.substrate != "onprem":
            assert args.kms_key is not None
            provisioner, parameters = storage_class_parameters(args, args.kms_key)
            self.storage_class_resource = k8s.storage.v1.StorageClass(
                child(name, "default-class"),
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=class_name, labels=dict(args.labels),
                    annotations={DEFAULT_CLASS_ANNOTATION: "true"}),
                provisioner=provisioner,
                parameters=parameters,
                reclaim_policy="Delete",
                volume_binding_mode="WaitForFirstConsumer",
                allow_volume_expansion=True,
                opts=self.child_opts())
        self.class_name: str = class_name
        """The class the platform's volume claims name."""
        self.storage_class = pulumi.Output.from_input(class_name)
        self.register_outputs({"storage_class": self.storage_class})
