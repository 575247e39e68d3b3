"""A customer-managed KMS key with rotation, a 30-day deletion window and an alias."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_aws import kms

from blueprints.errors import ComponentArgsError
from components import naming
from components.aws.location import AwsLocation
from components.aws.policy import allow, document
from components.base import FactoryComponent

ENCRYPT_DECRYPT = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                   "kms:DescribeKey"]


@dataclass(frozen=True)
class KmsKeyArgs:
    """Arguments of `KmsKey`."""

    location: AwsLocation
    """Partition, region and account the key lives in (its key policy names them)."""
    alias: str
    """Alias without the `alias/` prefix, e.g. acme-aws/aws-prod."""
    description: str
    """What the key protects."""
    deletion_window_days: int = 30
    """Days a scheduled deletion waits (7-30); the maximum gives time to notice a mistake."""
    allow_cloudwatch_logs: bool = True
    """Let CloudWatch Logs of this account and region encrypt log groups with the key."""
    allow_ebs: bool = True
    """Let EC2 (and Auto Scaling launching nodes) use the key for EBS volumes of this account."""


def key_policy(args: KmsKeyArgs) -> str:
    """The key policy: IAM administers the key; services of this account may use it."""
    loc = args.location
    statements = [{
        # Without this statement nobody could manage the key: it delegates to IAM policies.
        "Sid": "AccountAdministersKeyThroughIam", "Effect": "Allow",
        "Principal": {"AWS": loc.root_arn()}, "Action": "kms:*", "Resource": "*",
    }]
    if args.allow_cloudwatch_logs:
        statements.append({
            "Sid": "CloudWatchLogsOfThisAccount", "Effect": "Allow",
            "Principal": {"Service": loc.service_principal("logs", regional=True)},
            "Action": sorted(ENCRYPT_DECRYPT), "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                      loc.arn("logs", "log-group:*")}},
        })
    if args.allow_ebs:
        # Nodes are launched by the Auto Scaling service-linked role through EC2; scoping by
        # caller account and EC2 avoids naming a role that a fresh account may not have yet.
        via_ec2 = {"StringEquals": {"kms:CallerAccount": loc.account_id,
                                    "kms:ViaService": f"ec2.{loc.region}.{loc.dns_suffix}"}}
        statements.append(allow("EbsThroughEc2OfThisAccount", ENCRYPT_DECRYPT, "*", via_ec2)
                          | {"Principal": {"AWS": "*"}})
        statements.append(allow("EbsGrantsForAwsResources", ["kms:CreateGrant"], "*",
                                {**via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}})
                          | {"Principal": {"AWS": "*"}})
    return document(statements)


class KmsKey(FactoryComponent):
    """A customer-managed, rotating, protected KMS key and its alias."""

    def __init__(self, name: str, args: KmsKeyArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not 7 <= args.deletion_window_days <= 30:
            raise ComponentArgsError(
                f"KmsKey {name}: deletion_window_days ({args.deletion_window_days}) must lie "
                "between 7 and 30: use 30 unless the key holds nothing yet")
        if not args.alias or args.alias.startswith(("alias/", "aws/")):
            raise ComponentArgsError(
                f"KmsKey {name}: alias ({args.alias!r}) must be a bare name such as "
                "'acme/prod': drop the 'alias/' prefix; 'aws/' names are reserved")
        super().__init__("aifactory:aws:KmsKey", name, None, opts)

        key = kms.Key(
            naming.child(name, "key"),
            description=args.description,
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=key_policy(args),
            tags={"Name": args.alias},
            opts=self.data_opts(),
        )
        alias = kms.Alias(
            naming.child(name, "alias"),
            name=f"alias/{args.alias}",
            target_key_id=key.arn,
            opts=self.child_opts(),
        )
        self.key = key
        self.arn: pulumi.Output[str] = key.arn
        self.key_id: pulumi.Output[str] = key.key_id
        self.alias_name: pulumi.Output[str] = alias.name
        self.register_outputs({"arn": self.arn, "key_id": self.key_id,
                               "alias_name": self.alias_name})
