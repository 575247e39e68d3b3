"""A pool of GPU nodes on EKS: a managed node group on the NVIDIA AL2023 AMI, and Karpenter.

On-demand, spot or an EC2 Capacity Block for ML; tainted so only GPU workloads land there;
IMDSv2 only; root volume encrypted with the environment's key.

A pool of fixed size (min_nodes = max_nodes) is a managed node group of that size. An elastic
pool (min_nodes < max_nodes) is scaled by Karpenter (`autoscaling`): its EC2NodeClass and
NodePool (karpenter_pool.py) launch nodes for pending pods, from zero, up to max_nodes; its
min_nodes, when above zero, are a managed node group of exactly that size that Karpenter never
removes, with the same labels and taints, so Kueue's flavor covers both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_kubernetes as k8s
from pulumi_aws import ec2, eks

from blueprints.errors import ComponentArgsError
from blueprints.facts import POOL_TYPES, PoolFacts, as_inputs
from components import naming
from components.aws.efa import efa_interfaces, efa_security_group
from components.aws.karpenter_pool import (
    KARPENTER_API,
    NODE_CLASS_API,
    KarpenterPoolSpec,
    node_class_spec,
    node_pool_spec,
)
from components.aws.location import AwsLocation
from components.aws.nodes import (
    LaunchTemplateSpec,
    launch_template,
    node_role,
    template_version,
)
from components.base import FactoryComponent

TYPE = "aifactory:aws:GpuNodePool"
assert TYPE in POOL_TYPES  # the plan summary and the policies find pools by this token

AMI_TYPE = "AL2023_x86_64_NVIDIA"
AMI_TYPES = {"x86_64": AMI_TYPE, "arm64": "AL2023_ARM_64_NVIDIA"}
"""EKS-optimised AL2023 NVIDIA AMI per CPU architecture (EKS AmiType; g5g runs Graviton)."""
CAPACITY_TYPES = {"on-demand": "ON_DEMAND", "spot": "SPOT", "capacity-block": "CAPACITY_BLOCK"}
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE",
                 "NoExecute": "NO_EXECUTE"}


@dataclass(frozen=True)
class NodeTaint:
    """A Kubernetes taint on every node of the pool."""

    key: str
    """Taint key, e.g. nvidia.com/gpu."""
    value: str
    """Taint value ('' for none)."""
    effect: str
    """NoSchedule, PreferNoSchedule or NoExecute."""


GPU_TAINT = NodeTaint("nvidia.com/gpu", "present", "NoSchedule")
"""The taint every GPU node carries, so only pods that tolerate it (GPU workloads) land there."""


@dataclass(frozen=True)
class GpuNodePoolArgs:
    """Arguments of `GpuNodePool`."""

    facts: PoolFacts
    """The pool's facts (GPUs, bounds, purchase option): the component's own inputs."""
    location: AwsLocation
    """Partition, region and account."""
    pool_name: str
    """Pool name from the blueprint."""
    name_prefix: str
    """Prefix of physical names (the cluster name)."""
    cluster_name: pulumi.Input[str]
    """Cluster to join (an output of the cluster, so the pool waits for it)."""
    kubernetes_version: pulumi.Input[str]
    """Kubelet version: the cluster's, so control-plane upgrades roll the pool."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets the nodes may launch in."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for the root volumes."""
    instance_type: str
    """EC2 instance type, e.g. p5.48xlarge (the first of `instance_types` when those are given)."""
    gpu_model: str
    """GPU model the instance type carries, for the aifactory.io/gpu label."""
    min_nodes: int
    """Fewest nodes."""
    desired_nodes: int
    """Nodes at creation; afterwards the cluster autoscaler decides."""
    max_nodes: int
    """Most nodes."""
    capacity: str = "on-demand"
    """on-demand, spot or capacity-block."""
    reservation_id: str | None = None
    """Capacity Block id (capacity-block) or On-Demand Capacity Reservation id (on-demand)."""
    disk_size_gb: int = 200
    """Root volume per node, GiB."""
    compact_placement: bool = False
    """Place nodes in a cluster placement group (one zone) for multi-node training."""
    taints: Sequence[NodeTaint] = ()
    """Taints on every node besides GPU_TAINT, which the pool always sets."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Node labels from the blueprint (the pool's own labels are added)."""
    after: Sequence[pulumi.Resource] = ()
    """Resources the node group waits for (the cluster's network add-ons)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags for the pool's resources (the provider adds the factory's default tags)."""
    node_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for instances and volumes (provider default tags do not reach them)."""
    arch: str = "x86_64"
    """CPU architecture of the instance type (x86_64 or arm64): picks the NVIDIA AMI."""
    instance_types: Sequence[str] = ()
    """Several instance types with the same GPU (empty: `instance_type` alone)."""
    autoscaling: KarpenterScaling | None = None
    """Karpenter scales the pool (elastic pools); None: a managed node group of fixed bounds."""
    efa_interfaces: int = 0
    """EFA interfaces per node (0: no EFA): as many as the type takes, one per network card;
    needs compact_placement and vpc_id."""
    vpc_id: pulumi.Input[str] | None = None
    """VPC of the EFA security group (needed with efa_interfaces)."""
    cluster_security_group_id: pulumi.Input[str | None] | None = None
    """The cluster's security group, kept on EFA interfaces beside the EFA group (the nodes
    still talk to the control plane); unknown offline, then left out."""


@dataclass(frozen=True)
class KarpenterScaling:
    """How Karpenter launches an elastic pool's nodes."""

    kubernetes: pulumi.ProviderResource
    """The cluster's Kubernetes provider (the NodePool and EC2NodeClass go there)."""
    instance_profile: pulumi.Input[str]
    """The NodeAutoscaler's node instance profile."""
    zones: Sequence[str]
    """Availability zones of the cluster's private subnets."""
    gpus_per_node: int
    """GPUs of the largest instance type (the NodePool's GPU limit counts them)."""
    after: Sequence[pulumi.Resource] = ()
    """The Karpenter chart (installs the controller; its CRDs come first)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the NodePool and EC2NodeClass objects."""


def pool_labels(args: GpuNodePoolArgs) -> dict[str, str]:
    """The blueprint's labels plus the labels schedulers and dashboards select GPU nodes by."""
    return {**args.labels, "aifactory.io/pool": args.pool_name,
            "aifactory.io/gpu": args.gpu_model, "nvidia.com/gpu.present": "true"}


def pool_taints(args: GpuNodePoolArgs) -> list[NodeTaint]:
    """The GPU taint, then the blueprint's taints (a repeat of the GPU taint is dropped)."""
    return [GPU_TAINT, *(t for t in args.taints if t != GPU_TAINT)]


def types_of(args: GpuNodePoolArgs) -> list[str]:
    """The pool's instance types."""
    return list(args.instance_types) or [args.instance_type]


def floor_nodes(args: GpuNodePoolArgs) -> int:
    """Nodes of the pool's managed node group: all of them, or min_nodes under Karpenter."""
    return args.min_nodes if args.autoscaling is not None else args.max_nodes


def _validate(name: str, args: GpuNodePoolArgs) -> None:
    where = f"GpuNodePool {name}"
    if args.instance_types and args.instance_types[0] != args.instance_type:
        raise ComponentArgsError(f"{where}: instance_type ({args.instance_type}) is not the "
                                 f"first of instance_types {list(args.instance_types)}: give "
                                 "the first type as instance_type")
    if args.autoscaling is not None:
        if args.min_nodes == args.max_nodes:
            raise ComponentArgsError(f"{where}: autoscaling is given but min_nodes = max_nodes "
                                     f"({args.max_nodes}): a fixed pool is a node group; drop "
                                     "autoscaling")
        if args.desired_nodes != args.min_nodes:
            raise ComponentArgsError(
                f"{where}: desired_nodes ({args.desired_nodes}) differs from min_nodes "
                f"({args.min_nodes}): under Karpenter the node group holds min_nodes and "
                "Karpenter launches the rest for pending pods; set desired_nodes to min_nodes")
        if args.autoscaling.gpus_per_node < 1 or not args.autoscaling.zones:
            raise ComponentArgsError(f"{where}: autoscaling needs gpus_per_node >= 1 and the "
                                     "cluster's zones")
    if not 0 <= args.min_nodes <= args.desired_nodes <= args.max_nodes or args.max_nodes < 1:
        raise ComponentArgsError(
            f"{where}: min_nodes ({args.min_nodes}) <= desired_nodes ({args.desired_nodes}) <= "
            f"max_nodes ({args.max_nodes}) does not hold: max_nodes must be at least 1 and "
            "desired_nodes between the bounds")
    if args.efa_interfaces < 0:
        raise ComponentArgsError(f"{where}: efa_interfaces ({args.efa_interfaces}) is negative: "
                                 "give 0 (no EFA) or the interfaces the type takes")
    if args.efa_interfaces and (not args.compact_placement or args.vpc_id is None):
        raise ComponentArgsError(f"{where}: efa_interfaces ({args.efa_interfaces}) needs "
                                 "compact_placement (a cluster placement group) and vpc_id (its "
                                 "security group): set both, or efa_interfaces to 0")
    if args.arch not in AMI_TYPES:
        raise ComponentArgsError(f"{where}: arch ({args.arch!r}) has no EKS NVIDIA AMI: use "
                                 f"an instance type of {', '.join(AMI_TYPES)}")
    if args.capacity not in CAPACITY_TYPES:
        raise ComponentArgsError(f"{where}: capacity ({args.capacity!r}) must be one of "
                                 f"{', '.join(CAPACITY_TYPES)}")
    if args.capacity == "capacity-block" and not args.reservation_id:
        raise ComponentArgsError(f"{where}: capacity 'capacity-block' needs reservation_id, "
                                 "the id of the purchased Capacity Block (cr-...)")
    if args.capacity == "spot" and args.reservation_id:
        raise ComponentArgsError(
            f"{where}: reservation_id ({args.reservation_id}) cannot be used with spot "
            "capacity: use on-demand to consume a capacity reservation")
    if args.reservation_id and not args.reservation_id.startswith("cr-"):
        raise ComponentArgsError(f"{where}: reservation_id ({args.reservation_id!r}) is not a "
                                 "capacity reservation id such as cr-0123456789abcdef0")
    if args.disk_size_gb < 20:
        raise ComponentArgsError(f"{where}: disk_size_gb ({args.disk_size_gb}) is below the "
                                 "20 GiB the NVIDIA AMI needs: use 100 or more for GPU images")
    for taint in args.taints:
        if taint.effect not in TAINT_EFFECTS:
            raise ComponentArgsError(f"{where}: taint {taint.key} has effect {taint.effect!r}: "
                                     f"use one of {', '.join(TAINT_EFFECTS)}")
        if (taint.key, taint.effect) == (GPU_TAINT.key, GPU_TAINT.effect) and taint != GPU_TAINT:
            raise ComponentArgsError(f"{where}: taint {taint.key}:{taint.effect} (value "
                                     f"{taint.value!r}) clashes with the pool's own GPU taint: "
                                     "remove it from taints")
    own = pool_labels(replace(args, labels={}))
    clashes = sorted(k for k in own if k in args.labels and args.labels[k] != own[k])
    if clashes:
        raise ComponentArgsError(f"{where}: labels {clashes} are set by the pool itself: "
                                 "remove them from the blueprint's labels")


class GpuNodePool(FactoryComponent):
    """EKS managed node group of GPU instances with its role and launch template."""

    def __init__(self, name: str, args: GpuNodePoolArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__(TYPE, name, as_inputs(args.facts), opts)
        physical = naming.fit(f"{args.name_prefix}-{args.pool_name}", 63)
        tags = {**args.tags, "aifactory.io/pool": args.pool_name}

        placement = None
        efa_group = None
        if args.efa_interfaces:
            assert args.vpc_id is not None  # validated
            efa_group = efa_security_group(self, name, args.vpc_id,
                                           naming.fit(f"{physical}-efa", 255), tags)
        subnets: pulumi.Input[Sequence[str]] = args.subnet_ids
        if args.compact_placement:
            group = ec2.PlacementGroup(naming.child(name, "placement"), name=physical,
                                       strategy="cluster", tags={**tags, "Name": physical},
                                       opts=self.child_opts())
            placement = group.name
            # A cluster placement group lives in one zone: give the node group one subnet.
            subnets = pulumi.Output.from_input(args.subnet_ids).apply(lambda ids: list(ids)[:1])

        group_: eks.NodeGroup | None = None
        role = template = None
        floor = floor_nodes(args)
        if floor > 0:
            role = node_role(self, name, args.location,
                             naming.iam_role_name(args.name_prefix, args.pool_name, "nodes"),
                             tags)
            template = launch_template(self, name, LaunchTemplateSpec(
                template_name=physical, disk_size_gb=args.disk_size_gb,
                kms_key_arn=args.kms_key_arn, tags={**args.node_tags, **tags, "Name": physical},
                capacity_block=args.capacity == "capacity-block",
                reservation_id=args.reservation_id, placement_group=placement,
                network_interfaces=efa_interfaces(
                    args.efa_interfaces, _efa_groups(efa_group, args.cluster_security_group_id))
                if efa_group is not None else ()))
            desired = args.desired_nodes if args.autoscaling is None else floor
            group_ = eks.NodeGroup(
                naming.child(name, "nodes"),
                cluster_name=args.cluster_name,
                node_group_name=physical,
                node_role_arn=role.arn,
                subnet_ids=subnets,
                version=args.kubernetes_version,
                ami_type=AMI_TYPES[args.arch],
                instance_types=types_of(args),
                capacity_type=CAPACITY_TYPES[args.capacity],
                launch_template=eks.NodeGroupLaunchTemplateArgs(
                    id=template.id, version=template_version(template)),
                scaling_config=eks.NodeGroupScalingConfigArgs(
                    min_size=args.min_nodes if args.autoscaling is None else floor,
                    desired_size=desired,
                    max_size=args.max_nodes if args.autoscaling is None else floor),
                taints=[eks.NodeGroupTaintArgs(key=t.key, value=t.value or None,
                                               effect=TAINT_EFFECTS[t.effect])
                        for t in pool_taints(args)],
                labels=pool_labels(args),
                # One node at a time: a GPU node is expensive to lose and slow to replace.
                update_config=eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                tags=tags,
                opts=self.child_opts(depends_on=list(args.after),
                                     ignore_changes=["scalingConfig.desiredSize"]),
            )
        if args.autoscaling is not None:
            self._karpenter(name, args, tags, placement, efa_group)

        self.node_group = group_
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.node_group_name: pulumi.Output[str | None] = \
            group_.node_group_name if group_ is not None else none
        self.node_role_arn: pulumi.Output[str | None] = role.arn if role is not None else none
        self.launch_template_id: pulumi.Output[str | None] = \
            template.id if template is not None else none
        self.register_outputs({"node_group_name": self.node_group_name,
                               "node_role_arn": self.node_role_arn,
                               "launch_template_id": self.launch_template_id})

    def _karpenter(self, name: str, args: GpuNodePoolArgs, tags: Mapping[str, str],
                   placement: pulumi.Input[str] | None,
                   efa_group: ec2.SecurityGroup | None) -> None:
        """The pool's EC2NodeClass and NodePool: Karpenter launches nodes above the floor."""
        scaling = args.autoscaling
        assert scaling is not None
        floor = floor_nodes(args)
        spec = KarpenterPoolSpec(
            pool=args.pool_name, cluster_name=args.name_prefix, instance_types=types_of(args),
            capacity=args.capacity,
            zones=list(scaling.zones)[:1] if args.compact_placement else list(scaling.zones),
            labels=pool_labels(args),
            taints=[(t.key, t.value, t.effect) for t in pool_taints(args)],
            max_gpus=(args.max_nodes - floor) * scaling.gpus_per_node,
            max_nodes=args.max_nodes - floor,
            instance_profile=scaling.instance_profile, kms_key_arn=args.kms_key_arn,
            disk_size_gb=args.disk_size_gb, reservation_id=args.reservation_id,
            placement_group=placement, arch=args.arch,
            efa_interfaces=args.efa_interfaces,
            security_group_ids=[efa_group.id] if efa_group is not None else [],
            tags={**args.node_tags, **tags, "Name": naming.fit(
                f"{args.name_prefix}-{args.pool_name}", 63)})
        meta = {"name": args.pool_name, "labels": dict(scaling.labels)}
        k8s_opts = self.child_opts(provider=scaling.kubernetes, depends_on=list(scaling.after))
        node_class = k8s.apiextensions.CustomResource(
            naming.child(name, "node-class"), api_version=NODE_CLASS_API, kind="EC2NodeClass",
            metadata=meta, spec=node_class_spec(spec), opts=k8s_opts)
        k8s.apiextensions.CustomResource(
            naming.child(name, "node-pool"), api_version=KARPENTER_API, kind="NodePool",
            metadata=meta, spec=node_pool_spec(spec),
            opts=self.child_opts(provider=scaling.kubernetes,
                                 depends_on=[*scaling.after, node_class]))


def _efa_groups(efa_group: ec2.SecurityGroup,
                cluster_group: pulumi.Input[str | None] | None) -> pulumi.Output[list[str]]:
    """The EFA group and the cluster's (when known) on every EFA interface."""
    return pulumi.Output.all(efa_group.id, cluster_group).apply(
        lambda ids: [i for i in ids if i])
