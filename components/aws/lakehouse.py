"""The S3 lakehouse: one secure bucket per zone, optionally replicated to a second region.

Replicas live in a region of the same partition (S3 replication does not cross partitions),
under a key of their own region, through a role that can touch only these buckets and keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws import iam, s3

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.kms_key import KmsKey, KmsKeyArgs
from components.aws.location import AwsLocation, partition_of
from components.aws.policy import allow, document, service_trust
from components.aws.secure_bucket import SecureBucket, SecureBucketArgs
from components.base import FactoryComponent

AWS_REGION = re.compile(r"^(us|eu|eusc|ap|ca|sa|me|af|il|mx|cn)(-gov)?(-[a-z]+){1,2}-\d$")


@dataclass(frozen=True)
class ZoneRules:
    """Retention of one lakehouse zone."""

    retention_days: int | None = None
    """Delete objects after this many days (None: keep)."""
    noncurrent_retention_days: int = 30
    """Delete superseded versions after this many days."""
    archive_after_days: int | None = None
    """Archive objects to Glacier after this many days (None: never)."""


@dataclass(frozen=True)
class LakehouseArgs:
    """Arguments of `Lakehouse`."""

    location: AwsLocation
    """Partition, region and account of the buckets."""
    factory: str
    """Factory name: the first part of every bucket name."""
    name_prefix: str
    """Prefix of IAM role and key alias names (factory and environment)."""
    zones: Mapping[str, ZoneRules]
    """Zones by name (raw, curated, features, ...): one bucket each."""
    kms_key_arn: pulumi.Input[str]
    """The environment's customer-managed key."""
    replication_region: str | None = None
    """Copy every zone to this region of the same partition (None: no replication)."""
    default_tags: Mapping[str, str] = field(default_factory=dict)
    """Default tags for the replica region's provider (the factory's tags)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags for the buckets."""


def bucket_names(factory: str, zones: list[str], location: AwsLocation) -> dict[str, str]:
    """Bucket name of each zone in `location` (account and region make it globally unique)."""
    scope = f"{location.account_id}-{location.region}"
    return {zone: naming.bucket_name(factory, zone, scope) for zone in zones}


def _validate(name: str, args: LakehouseArgs) -> None:
    where = f"Lakehouse {name}"
    if not args.zones:
        raise ComponentArgsError(f"{where}: zones is empty: name at least one zone, e.g. raw")
    region = args.replication_region
    if region is None:
        return
    if not AWS_REGION.match(region):
        raise ComponentArgsError(f"{where}: replication_region ({region!r}) is not an AWS "
                                 "region such as eu-west-1")
    if region == args.location.region:
        raise ComponentArgsError(f"{where}: replication_region ({region}) is the lakehouse's "
                                 "own region: choose a second region to survive a regional "
                                 "outage")
    if partition_of(region) != args.location.partition:
        raise ComponentArgsError(
            f"{where}: replication_region ({region}) is in partition {partition_of(region)}, "
            f"the buckets in {args.location.partition}: S3 replication does not cross "
            "partitions; choose a region of the same partition")


class Lakehouse(FactoryComponent):
    """A bucket per zone, and their replicas when replication is asked for."""

    def __init__(self, name: str, args: LakehouseArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:aws:Lakehouse", name, None, opts)
        loc = args.location
        names = bucket_names(args.factory, list(args.zones), loc)
        self.buckets: dict[str, SecureBucket] = {}
        for zone, rules in args.zones.items():
            self.buckets[zone] = SecureBucket(naming.child(name, zone), SecureBucketArgs(
                location=loc, bucket_name=names[zone], kms_key_arn=args.kms_key_arn,
                retention_days=rules.retention_days,
                noncurrent_retention_days=rules.noncurrent_retention_days,
                archive_after_days=rules.archive_after_days,
                tags={**args.tags, "aifactory.io/zone": zone}),
                opts=pulumi.ResourceOptions(parent=self))
        if args.replication_region is not None:
            self._replicate(name, args, args.replication_region, names)

        self.bucket_arns: dict[str, str] = {z: loc.bucket_arn(n) for z, n in names.items()}
        """ARN of each zone's bucket (known from the blueprint)."""
        self.bucket_names: pulumi.Output[dict[str, str]] = pulumi.Output.from_input(names)
        self.register_outputs({"bucket_names": self.bucket_names,
                               "bucket_arns": self.bucket_arns})

    def _replicate(self, name: str, args: LakehouseArgs, region: str,
                   names: dict[str, str]) -> None:
        loc = args.location
        replica_loc = AwsLocation(partition=loc.partition, region=region,
                                  account_id=loc.account_id)
        provider = aws.Provider(
            naming.child(name, "replica-provider"), region=region,
            allowed_account_ids=[loc.account_id],
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(args.default_tags)),
            opts=pulumi.ResourceOptions(parent=self))
        in_replica = pulumi.ResourceOptions(parent=self, providers=[provider])
        replica_key = KmsKey(naming.child(name, "replica-key"), KmsKeyArgs(
            location=replica_loc, alias=f"{args.name_prefix}/lakehouse-replica",
            description=f"Lakehouse replicas of {args.name_prefix} in {region}",
            allow_ebs=False), opts=in_replica)
        replica_names = bucket_names(args.factory, list(args.zones), replica_loc)
        replicas = {
            zone: SecureBucket(naming.child(name, zone, "replica"), SecureBucketArgs(
                location=replica_loc, bucket_name=replica_names[zone],
                kms_key_arn=replica_key.arn, retention_days=rules.retention_days,
                noncurrent_retention_days=rules.noncurrent_retention_days,
                archive_after_days=rules.archive_after_days,
                tags={**args.tags, "aifactory.io/zone": zone,
                      "aifactory.io/replica-of": names[zone]}),
                opts=in_replica)
            for zone, rules in args.zones.items()
        }
        sources = [self.buckets[z] for z in args.zones]
        source_arns = [loc.bucket_arn(names[z]) for z in args.zones]
        replica_arns = [replica_loc.bucket_arn(replica_names[z]) for z in args.zones]

        role_name = naming.iam_role_name(args.name_prefix, "", "lakehouse-replication")
        role = iam.Role(
            naming.child(name, "replication-role"), name=role_name,
            description="S3 replication of the lakehouse buckets, and nothing else",
            assume_role_policy=service_trust(loc.service_principal("s3"),
                                             source_account=loc.account_id),
            tags={**args.tags, "Name": role_name}, opts=self.child_opts())

        def permissions(keys: list[Any]) -> str:
            source_key, destination_key = keys
            return document([
                allow("ReadReplicationSettings",
                      ["s3:GetReplicationConfiguration", "s3:ListBucket"], source_arns),
                allow("ReadSourceVersions",
                      ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                       "s3:GetObjectVersionTagging"], [f"{a}/*" for a in source_arns]),
                allow("WriteReplicas",
                      ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                      [f"{a}/*" for a in replica_arns]),
                allow("DecryptSources", ["kms:Decrypt"], [source_key]),
                allow("EncryptReplicas", ["kms:Encrypt", "kms:GenerateDataKey"],
                      [destination_key]),
            ])

        policy = iam.RolePolicy(
            naming.child(name, "replication-policy"), role=role.id,
            policy=pulumi.Output.all(args.kms_key_arn, replica_key.arn).apply(permissions),
            opts=self.child_opts())
        for (zone, replica), source, replica_arn in zip(replicas.items(), sources, replica_arns,
                                                        strict=True):
            s3.BucketReplicationConfig(
                naming.child(name, zone, "replication"), bucket=source.bucket_id,
                role=role.arn,
                rules=[s3.BucketReplicationConfigRuleArgs(
                    id="replicate-everything", status="Enabled", priority=1,
                    filter=s3.BucketReplicationConfigRuleFilterArgs(),
                    delete_marker_replication=s3.
                    BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
                    source_selection_criteria=s3.
                    BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=s3.
                        BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                            status="Enabled")),
                    destination=s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=replica_arn, storage_class="STANDARD",
                        encryption_configuration=s3.
                        BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=replica_key.arn)),
                )],
                opts=self.child_opts(depends_on=[source.versioning, replica.versioning,
                                                 policy]))
