"""Block storage on EKS: the Amazon EBS CSI driver as an EKS add-on, with its own IRSA role.

The driver's controller (service account kube-system:ebs-csi-controller-sa) is the only holder
of the EBS permissions: the AWS-managed AmazonEBSCSIDriverPolicy, plus use of the environment's
customer-managed key, so the volumes of the default StorageClass (gp3, encrypted with that key:
components.platform.storage) can be created and attached. The key's own policy delegates to
IAM, so this role's grant is enough. The add-on waits for the system nodes its controller runs
on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import eks, iam

from components import naming
from components.aws.location import AwsLocation
from components.aws.policy import allow, assert_least_privilege, document, trust_policy
from components.base import FactoryComponent

ADDON = "aws-ebs-csi-driver"
CONTROLLER_SERVICE_ACCOUNT = "kube-system:ebs-csi-controller-sa"
MANAGED_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
"""AWS-managed policy of the driver (its ARN carries the service-role/ path)."""
KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
               "kms:DescribeKey"]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


@dataclass(frozen=True)
class BlockStorageArgs:
    """Arguments of `BlockStorage`."""

    location: AwsLocation
    """Partition, region and account."""
    cluster_name: str
    """EKS cluster name (names the role)."""
    cluster: pulumi.Input[str]
    """The cluster's name as an output (the add-on waits for the cluster)."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer without https://."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key the volumes are encrypted with."""
    after: Sequence[pulumi.Resource] = ()
    """The system nodes the driver's controller runs on."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags (the provider adds the factory's default tags)."""


def key_policy(key_arn: str) -> str:
    """Use of the volumes' key: data keys for the volumes, grants for EBS only."""
    policy = document([
        allow("UseTheVolumeKey", KEY_ACTIONS, [key_arn]),
        allow("GrantTheVolumeKeyToEbs", GRANT_ACTIONS, [key_arn],
              {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
    ])
    assert_least_privilege(policy)
    return policy


class BlockStorage(FactoryComponent):
    """The EBS CSI driver add-on and its IRSA role."""

    def __init__(self, name: str, args: BlockStorageArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aifactory:aws:BlockStorage", name, {
            "addon": ADDON, "serviceAccount": CONTROLLER_SERVICE_ACCOUNT}, opts)
        role_name = naming.iam_role_name(args.cluster_name, "", "ebs-csi")
        role = iam.Role(
            naming.child(name, "role"), name=role_name,
            description=f"EBS CSI driver of {args.cluster_name}: volumes of the cluster",
            assume_role_policy=pulumi.Output.all(args.oidc_issuer, args.oidc_provider_arn)
            .apply(lambda v: trust_policy(v[0], v[1], [CONTROLLER_SERVICE_ACCOUNT])),
            tags={**args.tags, "Name": role_name}, opts=self.child_opts())
        managed = iam.RolePolicyAttachment(
            naming.child(name, "role", "amazonebscsidriverpolicy"), role=role.name,
            policy_arn=args.location.managed_policy(MANAGED_POLICY), opts=self.child_opts())
        key = iam.RolePolicy(
            naming.child(name, "role", "volume-key"), role=role.id,
            policy=pulumi.Output.from_input(args.kms_key_arn).apply(key_policy),
            opts=self.child_opts())
        self.addon = eks.Addon(
            naming.child(name, "addon"), cluster_name=args.cluster, addon_name=ADDON,
            service_account_role_arn=role.arn, resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE", tags=dict(args.tags),
            opts=self.child_opts(depends_on=[managed, key, *args.after]))
        self.role_arn: pulumi.Output[str] = role.arn
        self.register_outputs({"role_arn": self.role_arn})
