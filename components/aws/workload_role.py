"""An IAM role for pods (IRSA): training jobs read and write the lakehouse and pull images.

Trusted only by the cluster's OIDC provider, only for the named service accounts, only for the
STS audience; allowed only on the lakehouse buckets, their key (through S3) and the factory's
repositories.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import iam

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.aws.policy import (
    allow,
    assert_least_privilege,
    document,
    trust_policy,
)
from components.base import FactoryComponent

SERVICE_ACCOUNT = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")

OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
                  "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage"]


@dataclass(frozen=True)
class WorkloadRoleArgs:
    """Arguments of `WorkloadRole`."""

    location: AwsLocation
    """Partition, region and account."""
    role_name: str
    """IAM role name."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer without https:// (the prefix of the trust condition keys)."""
    service_accounts: Sequence[str]
    """Service accounts allowed to assume the role, as namespace:name."""
    bucket_arns: Sequence[str] = ()
    """Buckets the workload may list, read and write."""
    bucket_key_arns: Sequence[pulumi.Input[str]] = ()
    """Keys of those buckets: used only through S3."""
    repository_arns: Sequence[str] = ()
    """ECR repositories the workload may pull from."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags."""
    read_only: bool = False
    """Read the buckets only (model serving), no writes."""
    write_prefixes: Sequence[str] = ()
    """Object ARN patterns (bucket/prefix/*) the workload may only put to, even when
    `read_only` (the serving agent's request log); their buckets' keys are `bucket_key_arns`."""
    description: str = "Training jobs: lakehouse read/write, image pulls"
    """Role description."""


def permissions_policy(args: WorkloadRoleArgs, key_arns: Sequence[str]) -> str:
    """What the workload may do: lakehouse objects, their keys through S3, image pulls."""
    loc = args.location
    statements = []
    if args.bucket_arns:
        statements += [
            allow("ListLakehouseBuckets", ["s3:ListBucket", "s3:GetBucketLocation"],
                  list(args.bucket_arns)),
            allow("ReadLakehouseObjects", READ_ACTIONS, [f"{a}/*" for a in args.bucket_arns])
            if args.read_only else
            allow("ReadWriteLakehouseObjects", OBJECT_ACTIONS,
                  [f"{a}/*" for a in args.bucket_arns]),
        ]
    if args.write_prefixes:
        statements.append(allow("PutLogObjects", ["s3:PutObject"], list(args.write_prefixes)))
    if (args.bucket_arns or args.write_prefixes) and key_arns:
        statements.append(allow(
            "UseLakehouseKeysThroughS3",
            ["kms:Decrypt"] if args.read_only and not args.write_prefixes
            else ["kms:Decrypt", "kms:GenerateDataKey"],
            list(key_arns),
            {"StringEquals": {"kms:ViaService": f"s3.{loc.region}.{loc.dns_suffix}"}}))
    if args.repository_arns:
        statements += [
            # GetAuthorizationToken has no resource type: it can only be granted on "*".
            allow("GetRegistryToken", ["ecr:GetAuthorizationToken"], "*"),
            allow("PullFactoryImages", PULL_ACTIONS, list(args.repository_arns)),
        ]
    policy = document(statements)
    assert_least_privilege(policy)
    return policy


class WorkloadRole(FactoryComponent):
    """IRSA role for the named service accounts: lakehouse read/write, image pulls."""

    def __init__(self, name: str, args: WorkloadRoleArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        where = f"WorkloadRole {name}"
        if not args.service_accounts:
            raise ComponentArgsError(f"{where}: service_accounts is empty: name the "
                                     "namespace:name of each service account that may assume "
                                     "the role")
        for sa in args.service_accounts:
            if not SERVICE_ACCOUNT.match(sa):
                raise ComponentArgsError(f"{where}: service account {sa!r} is not "
                                         "namespace:name, e.g. team-research:training")
        if not args.bucket_arns and not args.repository_arns:
            raise ComponentArgsError(f"{where}: neither bucket_arns nor repository_arns is "
                                     "given: the role would grant nothing; drop it")
        super().__init__("aifactory:aws:WorkloadRole", name, None, opts)

        trust = pulumi.Output.all(args.oidc_issuer, args.oidc_provider_arn).apply(
            lambda v: trust_policy(v[0], v[1], args.service_accounts))
        role = iam.Role(naming.child(name, "role"), name=args.role_name,
                        description=args.description,
                        assume_role_policy=trust, max_session_duration=3600,
                        tags={**args.tags, "Name": args.role_name}, opts=self.child_opts())

        def permissions(keys: list[Any]) -> str:
            return permissions_policy(args, [str(k) for k in keys])

        iam.RolePolicy(naming.child(name, "permissions"), role=role.id,
                       policy=pulumi.Output.all(*args.bucket_key_arns).apply(permissions),
                       opts=self.child_opts())
        self.arn: pulumi.Output[str] = role.arn
        self.register_outputs({"arn": self.arn})
