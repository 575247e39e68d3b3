"""EFA (Elastic Fabric Adapter) for a GPU pool: its security group and its network interfaces.

Helpers, not a building block: GpuNodePool calls them with itself as the owner. EFA traffic
(the SRD protocol under NCCL) is not IP: AWS requires a security group that allows all traffic
to and from itself, on every EFA interface (EC2 User Guide, "Prepare an EFA-enabled security
group"). A launch template gets one EFA interface per network card, as many as the type takes
(catalog.cloud.EFA_INTERFACES): the first is the primary interface (device 0 on card 0), each
other one device 1 on its own card, as the EKS EFA guide's launch templates do. Karpenter
launches EFA interfaces itself when pods request `vpc.amazonaws.com/efa` (which the EFA
device plugin advertises); its NodePool then limits that resource, and its node class
selects the EFA security group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_aws import ec2, vpc

from components import naming
from components.base import FactoryComponent

EFA_RESOURCE = "vpc.amazonaws.com/efa"
"""The extended resource the EFA device plugin advertises (one per EFA interface)."""


def efa_security_group(owner: FactoryComponent, name: str, vpc_id: pulumi.Input[str],
                       group_name: str, tags: Mapping[str, str]) -> ec2.SecurityGroup:
    """A security group that lets all traffic in from and out to itself (and nothing else)."""
    group = ec2.SecurityGroup(
        naming.child(name, "efa-sg"), name=group_name, vpc_id=vpc_id,
        description="EFA: all traffic between the pool's own EFA interfaces",
        tags={**tags, "Name": group_name}, opts=owner.child_opts())
    vpc.SecurityGroupIngressRule(
        naming.child(name, "efa-sg", "ingress-self"), security_group_id=group.id,
        referenced_security_group_id=group.id, ip_protocol="-1",
        description="EFA: all traffic from the same group", tags=dict(tags),
        opts=owner.child_opts())
    vpc.SecurityGroupEgressRule(
        naming.child(name, "efa-sg", "egress-self"), security_group_id=group.id,
        referenced_security_group_id=group.id, ip_protocol="-1",
        description="EFA: all traffic to the same group", tags=dict(tags),
        opts=owner.child_opts())
    return group


def efa_interfaces(count: int, security_groups: pulumi.Input[Sequence[str]],
                   ) -> list[ec2.LaunchTemplateNetworkInterfaceArgs]:
    """One EFA interface per network card, the first the primary interface."""
    return [ec2.LaunchTemplateNetworkInterfaceArgs(
        device_index=0 if card == 0 else 1, network_card_index=card, interface_type="efa",
        security_groups=security_groups, delete_on_termination="true",
        description=f"EFA on network card {card}")
        for card in range(count)]
