"""An S3 bucket as every data-bearing bucket of the factory must be.

Protected from deletion; versioned; encrypted with a customer-managed key (S3 Bucket Keys keep
the KMS request cost down); public access blocked four ways; ACLs disabled; lifecycle rules for
retention, superseded versions, archive and abandoned multipart uploads; TLS-only access.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import s3

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.aws.policy import document
from components.base import FactoryComponent


@dataclass(frozen=True)
class SecureBucketArgs:
    """Arguments of `SecureBucket`."""

    location: AwsLocation
    """Partition, region and account the bucket lives in."""
    bucket_name: str
    """Globally unique bucket name (3-63 characters)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key of the bucket's region."""
    retention_days: int | None = None
    """Delete objects this many days after creation (None: keep)."""
    noncurrent_retention_days: int = 30
    """Delete superseded versions this many days after they were replaced."""
    archive_after_days: int | None = None
    """Move objects to S3 Glacier Flexible Retrieval after this many days (None: never)."""
    abort_multipart_days: int = 7
    """Abort multipart uploads left incomplete this many days."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for the bucket."""


def _validate(name: str, args: SecureBucketArgs) -> None:
    where = f"SecureBucket {name}"
    if not 3 <= len(args.bucket_name) <= 63 or args.bucket_name != args.bucket_name.lower():
        raise ComponentArgsError(f"{where}: bucket_name ({args.bucket_name!r}) must be 3-63 "
                                 "lower-case characters: build it with naming.bucket_name")
    if args.retention_days is not None and args.archive_after_days is not None \
            and args.archive_after_days >= args.retention_days:
        raise ComponentArgsError(
            f"{where}: archive_after_days ({args.archive_after_days}) is not below "
            f"retention_days ({args.retention_days}): objects would be deleted before they are "
            "archived; lower archive_after_days or raise retention_days")
    for label, days in (("noncurrent_retention_days", args.noncurrent_retention_days),
                        ("abort_multipart_days", args.abort_multipart_days)):
        if days < 1:
            raise ComponentArgsError(f"{where}: {label} ({days}) must be at least 1")


def lifecycle_rules(args: SecureBucketArgs) -> list[s3.BucketLifecycleConfigurationRuleArgs]:
    """The bucket's lifecycle rules, each applying to every object."""
    every = s3.BucketLifecycleConfigurationRuleFilterArgs
    rules = [
        s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-superseded-versions", status="Enabled", filter=every(),
            noncurrent_version_expiration=s3.
            BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=args.noncurrent_retention_days),
            # Delete markers whose versions are all gone only slow listings down.
            expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(
                expired_object_delete_marker=True)),
        s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-multipart-uploads", status="Enabled", filter=every(),
            abort_incomplete_multipart_upload=s3.
            BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=args.abort_multipart_days)),
    ]
    if args.retention_days is not None:
        rules.append(s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-after-retention", status="Enabled", filter=every(),
            expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=args.retention_days)))
    if args.archive_after_days is not None:
        rules.append(s3.BucketLifecycleConfigurationRuleArgs(
            id="archive", status="Enabled", filter=every(),
            transitions=[s3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=args.archive_after_days, storage_class="GLACIER")]))
    return rules


def tls_only_policy(bucket_arn: str) -> str:
    """Bucket policy refusing every request that does not use TLS."""
    return document([{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }])


class SecureBucket(FactoryComponent):
    """A protected, versioned, KMS-encrypted, private S3 bucket with lifecycle rules."""

    def __init__(self, name: str, args: SecureBucketArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:aws:SecureBucket", name, None, opts)
        bucket = s3.Bucket(naming.child(name, "bucket"), bucket=args.bucket_name,
                           force_destroy=False, tags={**args.tags, "Name": args.bucket_name},
                           opts=self.data_opts())
        versioning = s3.BucketVersioning(
            naming.child(name, "versioning"), bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"),
            opts=self.child_opts())
        s3.BucketServerSideEncryptionConfiguration(
            naming.child(name, "encryption"), bucket=bucket.id,
            rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn),
                bucket_key_enabled=True)],
            opts=self.child_opts())
        public_access = s3.BucketPublicAccessBlock(
            naming.child(name, "public-access-block"), bucket=bucket.id,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
            restrict_public_buckets=True, opts=self.child_opts())
        s3.BucketOwnershipControls(
            naming.child(name, "ownership"), bucket=bucket.id,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self.child_opts())
        s3.BucketLifecycleConfiguration(
            naming.child(name, "lifecycle"), bucket=bucket.id, rules=lifecycle_rules(args),
            opts=self.child_opts(depends_on=[versioning]))
        arn = args.location.bucket_arn(args.bucket_name)
        s3.BucketPolicy(naming.child(name, "policy"), bucket=bucket.id,
                        policy=tls_only_policy(arn),
                        opts=self.child_opts(depends_on=[public_access]))

        self.versioning = versioning
        self.bucket_name: pulumi.Output[str] = bucket.bucket
        self.bucket_id: pulumi.Output[str] = bucket.id
        self.arn: pulumi.Output[str] = pulumi.Output.from_input(arn)
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_id": self.bucket_id,
                               "arn": self.arn})
