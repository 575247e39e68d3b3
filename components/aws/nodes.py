"""What every EKS managed node group of ours shares: its IAM role and its launch template.

Helpers, not a building block: GpuNodePool and the cluster's system node group call them with
themselves as the owner, so each resource is parented to the component that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import pulumi
from pulumi_aws import ec2, iam

from components import naming
from components.aws.location import AwsLocation
from components.aws.policy import service_trust
from components.base import FactoryComponent

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
"""AWS-managed policies a node needs: join the cluster, pull images. The VPC CNI's policy is
on its own IRSA role (EksCluster), not on every node."""

ROOT_DEVICE = "/dev/xvda"
"""Root device of the EKS-optimised Amazon Linux 2023 AMIs."""


def node_role(owner: FactoryComponent, name: str, location: AwsLocation, role_name: str,
              tags: Mapping[str, str]) -> iam.Role:
    """The IAM role nodes run as: trusted by EC2 only, AWS-managed node policies only."""
    role = iam.Role(
        naming.child(name, "node-role"), name=role_name,
        description="EKS worker nodes: join the cluster, pull images",
        assume_role_policy=service_trust(location.service_principal("ec2")),
        tags={**tags, "Name": role_name}, opts=owner.child_opts())
    for policy in NODE_POLICIES:
        iam.RolePolicyAttachment(
            naming.child(name, "node-role", policy.lower().replace("_", "-")),
            role=role.name, policy_arn=location.managed_policy(policy),
            opts=owner.child_opts())
    return role


@dataclass(frozen=True)
class LaunchTemplateSpec:
    """What a node group's launch template sets."""

    template_name: str
    """Name of the launch template."""
    disk_size_gb: int
    """Root volume size, GiB."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key encrypting the root volume."""
    tags: Mapping[str, str]
    """Tags for instances, volumes and network interfaces (default tags do not reach them)."""
    capacity_block: bool = False
    """Launch into an EC2 Capacity Block for ML (market type capacity-block)."""
    reservation_id: str | None = None
    """Capacity reservation (or capacity block) the instances must launch into."""
    placement_group: pulumi.Input[str] | None = None
    """Cluster placement group name, for tightly coupled multi-node training."""
    network_interfaces: Sequence[ec2.LaunchTemplateNetworkInterfaceArgs] = ()
    """Network interfaces of each instance (EFA); empty: the node group's default one."""


def launch_template(owner: FactoryComponent, name: str,
                    spec: LaunchTemplateSpec) -> ec2.LaunchTemplate:
    """A launch template: IMDSv2 only, encrypted gp3 root volume, tags on what it launches."""
    market = capacity = None
    if spec.capacity_block:
        market = ec2.LaunchTemplateInstanceMarketOptionsArgs(market_type="capacity-block")
    if spec.reservation_id:
        capacity = ec2.LaunchTemplateCapacityReservationSpecificationArgs(
            capacity_reservation_target=ec2.
            LaunchTemplateCapacityReservationSpecificationCapacityReservationTargetArgs(
                capacity_reservation_id=spec.reservation_id))
    return ec2.LaunchTemplate(
        naming.child(name, "launch-template"),
        name=spec.template_name,
        description="EKS managed nodes: IMDSv2 only, encrypted root volume",
        update_default_version=True,
        metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            # 2 hops: containers (one hop behind the node) still reach IMDS for the node
            # identity; 1 would break the VPC CNI and agents that rely on it.
            http_put_response_hop_limit=2,
            instance_metadata_tags="disabled",
        ),
        block_device_mappings=[ec2.LaunchTemplateBlockDeviceMappingArgs(
            device_name=ROOT_DEVICE,
            ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                volume_size=spec.disk_size_gb, volume_type="gp3", encrypted="true",
                kms_key_id=spec.kms_key_arn, delete_on_termination="true"),
        )],
        instance_market_options=market,
        network_interfaces=list(spec.network_interfaces) or None,
        capacity_reservation_specification=capacity,
        placement=ec2.LaunchTemplatePlacementArgs(group_name=spec.placement_group)
        if spec.placement_group is not None else None,
        tag_specifications=[
            ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=dict(spec.tags))
            for kind in ("instance", "volume", "network-interface")
        ],
        tags={**spec.tags, "Name": spec.template_name},
        opts=owner.child_opts(),
    )


def template_version(template: ec2.LaunchTemplate) -> pulumi.Output[str]:
    """The template's latest version as the string a node group takes (rolls nodes on change).

    Offline the version is not known; it is then left out rather than invented.
    """
    return cast("pulumi.Output[str]",
                template.latest_version.apply(lambda v: None if v is None else str(v)))
