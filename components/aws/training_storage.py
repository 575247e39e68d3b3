"""Training storage on AWS: FSx for Lustre linked to a lakehouse zone's bucket.

A PERSISTENT_2 file system (SSD, Lustre 2.15) in one private subnet of the cluster's VPC,
encrypted with the environment's customer-managed key, protected like every data-bearing
resource. Its own security group lets Lustre traffic in (TCP 988 and 1018-1023, FSx for Lustre
User Guide, "File system access control with Amazon VPC") from the cluster's nodes and between
the file servers themselves. A data repository association maps the zone's bucket to a
directory of the file system: objects are imported lazily (and their listing at creation),
new, changed and deleted files are exported back, so checkpoints written on Lustre land in
the lakehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, fsx, vpc

from blueprints.errors import ComponentArgsError
from catalog.storage import FSX_PERSISTENT_2_TIERS
from components import naming
from components.aws.location import AwsLocation
from components.base import FactoryComponent

LUSTRE_PORTS = ((988, 988), (1018, 1023))
"""TCP ports FSx for Lustre serves on (LNet and the file servers)."""
REPOSITORY_EVENTS = ["NEW", "CHANGED", "DELETED"]


@dataclass(frozen=True)
class LustreStorageArgs:
    """Arguments of `LustreStorage`."""

    location: AwsLocation
    """Partition, region and account of the environment."""
    name_prefix: str
    """Prefix of the names (the cluster's name)."""
    vpc_id: pulumi.Input[str]
    """VPC of the cluster."""
    subnet_id: pulumi.Input[str]
    """Private subnet the file system's interfaces live in (one zone: PERSISTENT_2 is
    single-AZ)."""
    node_security_group_id: pulumi.Input[str]
    """Security group of the cluster's nodes (the clients let in)."""
    kms_key_arn: pulumi.Input[str]
    """The environment's customer-managed key."""
    capacity_gib: int
    """Storage capacity, GiB (1200 or a multiple of 2400)."""
    throughput_per_tib: int
    """MB/s per TiB: 125, 250, 500 or 1000."""
    bucket_name: pulumi.Input[str]
    """The lakehouse zone's bucket the file system links."""
    zone: str
    """Name of that zone."""
    file_system_path: str = "/lakehouse"
    """Directory of the file system the bucket appears under."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on what is created."""


def _validate(args: LustreStorageArgs) -> None:
    tier = FSX_PERSISTENT_2_TIERS.get(args.throughput_per_tib)
    if tier is None:
        raise ComponentArgsError(f"`throughput_per_tib` ({args.throughput_per_tib}) is not a "
                                 "PERSISTENT_2 tier: use 125, 250, 500 or 1000")
    if args.capacity_gib != tier.min_gib and args.capacity_gib % tier.step_gib:
        raise ComponentArgsError(f"`capacity_gib` ({args.capacity_gib}) is not 1200 or a "
                                 "multiple of 2400 GiB: FSx PERSISTENT_2 refuses it")
    if not args.file_system_path.startswith("/") or args.file_system_path == "/":
        raise ComponentArgsError(f"`file_system_path` ({args.file_system_path!r}) must be a "
                                 "directory below / (e.g. /lakehouse)")


def repository_path(bucket: str) -> str:
    """The S3 path a data repository association links (the whole bucket)."""
    return f"s3://{bucket}/"


class LustreStorage(FactoryComponent):
    """FSx for Lustre, its security group and its association with a lakehouse bucket."""

    def __init__(self, name: str, args: LustreStorageArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(args)
        super().__init__("aifactory:aws:LustreStorage", name, {
            "region": args.location.region, "capacityGib": args.capacity_gib,
            "throughputPerTib": args.throughput_per_tib, "zone": args.zone}, opts)
        tags = dict(args.tags)
        group_name = naming.fit(naming.child(args.name_prefix, "lustre"), 255)
        group = ec2.SecurityGroup(
            naming.child(name, "sg"), name=group_name, vpc_id=args.vpc_id,
            description="FSx for Lustre: Lustre traffic from the cluster's nodes",
            tags={**tags, "Name": group_name}, opts=self.child_opts())
        rules: list[pulumi.Resource] = []
        for low, high in LUSTRE_PORTS:
            ports = f"{low}" if low == high else f"{low}-{high}"
            for source, peer in (("nodes", args.node_security_group_id), ("self", group.id)):
                rules.append(vpc.SecurityGroupIngressRule(
                    naming.child(name, "sg", "in", source, ports), security_group_id=group.id,
                    referenced_security_group_id=peer, ip_protocol="tcp", from_port=low,
                    to_port=high, description=f"Lustre {ports} from the {source}",
                    tags=tags, opts=self.child_opts()))
            rules.append(vpc.SecurityGroupEgressRule(
                naming.child(name, "sg", "out", "self", ports), security_group_id=group.id,
                referenced_security_group_id=group.id, ip_protocol="tcp", from_port=low,
                to_port=high, description=f"Lustre {ports} between the file servers",
                tags=tags, opts=self.child_opts()))
        fs_name = naming.fit(naming.child(args.name_prefix, "training"), 255)
        self.file_system = fsx.LustreFileSystem(
            naming.child(name, "fs"),
            deployment_type="PERSISTENT_2",
            storage_type="SSD",
            storage_capacity=args.capacity_gib,
            per_unit_storage_throughput=args.throughput_per_tib,
            file_system_type_version="2.15",
            data_compression_type="LZ4",
            subnet_ids=args.subnet_id,  # one subnet: this SDK types it as a string
            security_group_ids=[group.id],
            kms_key_id=args.kms_key_arn,
            tags={**tags, "Name": fs_name, "aifactory.io/zone": args.zone},
            opts=self.data_opts(depends_on=rules))
        self.association = fsx.DataRepositoryAssociation(
            naming.child(name, "dra", args.zone),
            file_system_id=self.file_system.id,
            file_system_path=f"{args.file_system_path.rstrip('/')}/{args.zone}",
            data_repository_path=pulumi.Output.from_input(args.bucket_name).apply(
                repository_path),
            batch_import_meta_data_on_create=True,
            delete_data_in_filesystem=False,
            s3=fsx.DataRepositoryAssociationS3Args(
                auto_import_policy=fsx.DataRepositoryAssociationS3AutoImportPolicyArgs(
                    events=REPOSITORY_EVENTS),
                auto_export_policy=fsx.DataRepositoryAssociationS3AutoExportPolicyArgs(
                    events=REPOSITORY_EVENTS)),
            tags={**tags, "aifactory.io/zone": args.zone},
            opts=self.child_opts())
        self.security_group_id: pulumi.Output[str] = group.id
        self.file_system_id: pulumi.Output[str] = self.file_system.id
        self.dns_name: pulumi.Output[str] = self.file_system.dns_name
        self.mount_name: pulumi.Output[str] = self.file_system.mount_name
        self.register_outputs({"security_group_id": self.security_group_id,
                               "file_system_id": self.file_system_id,
                               "dns_name": self.dns_name, "mount_name": self.mount_name})
