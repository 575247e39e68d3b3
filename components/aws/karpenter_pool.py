"""What a Karpenter-scaled GPU pool registers: its EC2NodeClass and NodePool (karpenter.sh/v1).

Pure spec builders, tested on their own; GpuNodePool creates the two objects with the
cluster's Kubernetes provider. One of each per pool (as ai-on-eks does), named after the pool:

- EC2NodeClass `<pool>`: the EKS-optimised AL2023 AMI (Karpenter takes its NVIDIA variant for
  GPU instance types), the node instance profile of the cluster's NodeAutoscaler, the private
  subnets and the cluster security group by tag, IMDSv2 only with two hops, the root volume gp3
  and encrypted with the environment's customer-managed key, the pool's tags on everything it
  launches, and (when given) the capacity reservation or Capacity Block and placement group.
- NodePool `<pool>`: the pool's labels and taints on every node, its instance types, purchase
  option (on-demand, spot, or `reserved` for a reservation or Capacity Block) and zones, limits
  from its maximum GPUs (and nodes), and a disruption budget of one node at a time: Karpenter
  removes a GPU node only once it is empty (`WhenEmpty`), never to repack running jobs.

With EFA (a pool with a fabric), the node class also selects the pool's EFA security group
and the NodePool limits `vpc.amazonaws.com/efa` (interfaces per node x its nodes): Karpenter
attaches the type's EFA interfaces to nodes it launches for pods requesting that resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

EFA_RESOURCE = "vpc.amazonaws.com/efa"
"""The EFA device plugin's extended resource (components.aws.efa names it too)."""
KARPENTER_API = "karpenter.sh/v1"
NODE_CLASS_API = "karpenter.k8s.aws/v1"
AMI_ALIAS = "al2023@latest"
"""The EKS-optimised Amazon Linux 2023 AMI, as the managed node groups use (latest release)."""
CAPACITY_TYPES = {"on-demand": "on-demand", "spot": "spot", "capacity-block": "reserved"}
ROOT_DEVICE = "/dev/xvda"
KUBERNETES_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
"""The kubernetes.io/arch label of each CPU architecture."""


@dataclass(frozen=True)
class KarpenterPoolSpec:
    """Everything a pool's NodePool and EC2NodeClass are built from."""

    pool: str
    """Pool name: names both objects."""
    cluster_name: str
    """EKS cluster name (selects its security group and subnets by tag)."""
    instance_types: Sequence[str]
    """EC2 instance types the pool may launch."""
    capacity: str
    """on-demand, spot or capacity-block."""
    zones: Sequence[str]
    """Availability zones nodes may launch in."""
    labels: Mapping[str, str]
    """Node labels (the pool's own and the blueprint's)."""
    taints: Sequence[tuple[str, str, str]]
    """Node taints (key, value, effect)."""
    max_gpus: int
    """Most GPUs Karpenter may launch for the pool (the limit)."""
    max_nodes: int
    """Most nodes Karpenter may launch for the pool."""
    instance_profile: pulumi.Input[str]
    """Instance profile of the nodes (the NodeAutoscaler's)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key of the root volumes."""
    disk_size_gb: int = 200
    """Root volume, GiB."""
    reservation_id: str | None = None
    """Capacity reservation or Capacity Block the nodes launch into."""
    placement_group: pulumi.Input[str] | None = None
    """Cluster placement group name (compact placement)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the instances, volumes and interfaces Karpenter launches."""
    consolidate_after: str = "10m"
    """How long an empty node stays before Karpenter removes it."""
    expire_after: str = "720h"
    """Node lifetime: nodes are replaced after it (new AMIs roll in)."""
    arch: str = "x86_64"
    """CPU architecture of the instance types (x86_64 or arm64, as the catalog names it)."""
    efa_interfaces: int = 0
    """EFA interfaces per node (0: none): Karpenter attaches them for pods that request
    vpc.amazonaws.com/efa; the NodePool limits that resource."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups besides the cluster's (the pool's EFA group)."""


def node_class_spec(spec: KarpenterPoolSpec) -> dict[str, Any]:
    """The EC2NodeClass spec."""
    out: dict[str, Any] = {
        "amiSelectorTerms": [{"alias": AMI_ALIAS}],
        "instanceProfile": spec.instance_profile,
        "subnetSelectorTerms": [{"tags": {
            f"kubernetes.io/cluster/{spec.cluster_name}": "shared", "Tier": "private"}}],
        "securityGroupSelectorTerms": [
            {"tags": {"aws:eks:cluster-name": spec.cluster_name}},
            *({"id": group} for group in spec.security_group_ids)],
        "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                            "httpPutResponseHopLimit": 2, "httpTokens": "required"},
        "blockDeviceMappings": [{
            "deviceName": ROOT_DEVICE, "rootVolume": True,
            "ebs": {"volumeSize": f"{spec.disk_size_gb}Gi", "volumeType": "gp3",
                    "encrypted": True, "kmsKeyID": spec.kms_key_arn,
                    "deleteOnTermination": True}}],
        "tags": dict(spec.tags),
    }
    if spec.reservation_id:
        out["capacityReservationSelectorTerms"] = [{"id": spec.reservation_id}]
    if spec.placement_group is not None:
        out["placementGroupSelector"] = {"name": spec.placement_group}
    return out


def node_pool_spec(spec: KarpenterPoolSpec) -> dict[str, Any]:
    """The NodePool spec."""
    requirements = [
        {"key": "node.kubernetes.io/instance-type", "operator": "In",
         "values": list(spec.instance_types)},
        {"key": "karpenter.sh/capacity-type", "operator": "In",
         "values": [CAPACITY_TYPES[spec.capacity]
                    if not (spec.capacity == "on-demand" and spec.reservation_id)
                    else "reserved"]},
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": list(spec.zones)},
        {"key": "kubernetes.io/arch", "operator": "In",
         "values": [KUBERNETES_ARCH.get(spec.arch, spec.arch)]},
    ]
    return {
        "template": {
            "metadata": {"labels": dict(spec.labels)},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass",
                                 "name": spec.pool},
                "requirements": requirements,
                "taints": [{"key": k, "value": v, "effect": e} if v else
                           {"key": k, "effect": e} for k, v, e in spec.taints],
                "expireAfter": spec.expire_after,
            },
        },
        "limits": {"nvidia.com/gpu": spec.max_gpus, "nodes": spec.max_nodes,
                   **({EFA_RESOURCE: spec.max_nodes * spec.efa_interfaces}
                      if spec.efa_interfaces else {})},
        "disruption": {"consolidationPolicy": "WhenEmpty",
                       "consolidateAfter": spec.consolidate_after,
                       "budgets": [{"nodes": "1"}]},
    }
