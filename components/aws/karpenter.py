"""Karpenter on an EKS cluster: the node autoscaler of every elastic GPU pool.

Why Karpenter rather than cluster-autoscaler: it launches nodes from the pending pods'
requirements and each instance type's capacity, so a pool scales from zero without
node-template tags on Auto Scaling groups; a pool may offer several instance types (scarce GPUs
fall back to the next type instead of failing on insufficient capacity); capacity reservations
and Capacity Blocks are a node-class selector; spot interruptions, rebalance recommendations and
scheduled maintenance arrive on an SQS queue and nodes are drained before they go; and empty
GPU nodes, the most expensive ones, are removed as soon as they are idle.

Everything here follows Karpenter v1.14's getting-started CloudFormation (website/content/en/
docs/getting-started/getting-started-with-karpenter/cloudformation.yaml at tag v1.14.1), with
less privilege where our set-up allows it:

- the controller's role is assumed through EKS Pod Identity (the eks-pod-identity-agent add-on
  runs on every cluster), by the `karpenter` service account in kube-system only;
- its policy is upstream's node-lifecycle, EKS, interruption and discovery statements, scoped
  to this cluster's tag and region; the node instance profile is made here, so the controller
  gets none of the instance-profile create/tag/delete permissions, only read and PassRole of
  the one node role;
- nodes launched by Karpenter join through an EKS access entry (EC2_LINUX) of that role;
- the interruption queue (SSE, 5-minute retention, TLS only) gets the five EventBridge rules.

The controller and its CRDs are two pinned charts (karpenter-crd first, so CRD upgrades are
reviewed apart from the controller). It runs on the untainted system nodes (its chart keeps it
off nodes it launched itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_aws import cloudwatch, eks, iam, sqs

from blueprints.errors import ComponentArgsError
from catalog.charts import KARPENTER, KARPENTER_CRD
from components import naming
from components.aws.location import AwsLocation
from components.aws.nodes import node_role
from components.aws.policy import allow, assert_least_privilege, document
from components.base import FactoryComponent
from components.platform.common import chart
from components.platform.mirror import ImageMirror

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "karpenter"
"""The controller's service account: the only one the Pod Identity association names."""
INTERRUPTION_EVENTS = (
    ("scheduled-change", "aws.health", "AWS Health Event"),
    ("spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("instance-state-change", "aws.ec2", "EC2 Instance State-change Notification"),
    ("capacity-reservation-interruption", "aws.ec2",
     "EC2 Capacity Reservation Instance Interruption Warning"),
)
"""(rule suffix, event source, detail-type) of every event Karpenter handles."""
READ_ACTIONS = ["ec2:DescribeCapacityReservations", "ec2:DescribeImages",
                "ec2:DescribeInstances", "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets"]
LAUNCHED = ("fleet", "instance", "volume", "network-interface", "launch-template",
            "spot-instances-request")
"""EC2 resource types Karpenter creates when it launches a node."""


@dataclass(frozen=True)
class NodeAutoscalerArgs:
    """Arguments of `NodeAutoscaler`."""

    location: AwsLocation
    """Partition, region and account."""
    cluster_name: str
    """The EKS cluster's name (known from the blueprint: scopes every permission)."""
    cluster: pulumi.Input[str]
    """The cluster's name as an output, so everything here waits for the cluster."""
    kubernetes: pulumi.ProviderResource
    """Kubernetes provider of the cluster (the charts go there)."""
    after: Sequence[pulumi.Resource] = ()
    """What the controller needs first: the system nodes and the Pod Identity agent."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the Kubernetes objects we create."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags for the AWS resources (the provider adds the factory's default tags)."""
    mirror: ImageMirror | None = None
    """In-jurisdiction mirror the charts and the controller image come from."""
    replicas: int = 2
    """Controller replicas (leader election; two survive a node loss)."""


def controller_policy(loc: AwsLocation, cluster: str, queue_arn: str, node_role_arn: str,
                      instance_profile_arn: str) -> str:
    """What the Karpenter controller may do, scoped to this cluster (upstream's statements,
    minus instance-profile management: the profile is made by us)."""
    ec2 = f"arn:{loc.partition}:ec2:{loc.region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned"}
    any_pool = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    request_tags = {f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned",
                    "aws:RequestTag/eks:eks-cluster-name": cluster}
    request_pool = {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    launched = [f"{ec2}:*:{kind}/*" for kind in LAUNCHED]
    statements = [
        allow("AllowScopedEC2InstanceAccessActions", ["ec2:RunInstances", "ec2:CreateFleet"],
              [f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*",
               f"{ec2}:*:subnet/*", f"{ec2}:*:capacity-reservation/*",
               f"{ec2}:*:placement-group/*"]),
        allow("AllowScopedEC2LaunchTemplateAccessActions",
              ["ec2:RunInstances", "ec2:CreateFleet"], [f"{ec2}:*:launch-template/*"],
              {"StringEquals": owned, "StringLike": any_pool}),
        allow("AllowScopedEC2InstanceActionsWithTags",
              ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"], launched,
              {"StringEquals": request_tags, "StringLike": request_pool}),
        allow("AllowScopedResourceCreationTagging", ["ec2:CreateTags"], launched,
              {"StringEquals": {**request_tags, "ec2:CreateAction": [
                  "RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
               "StringLike": request_pool}),
        allow("AllowScopedResourceTagging", ["ec2:CreateTags"], [f"{ec2}:*:instance/*"],
              {"StringEquals": owned, "StringLike": any_pool,
               "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
               "ForAllValues:StringEquals": {"aws:TagKeys": [
                   "eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]}}),
        allow("AllowScopedDeletion", ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
              [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
              {"StringEquals": owned, "StringLike": any_pool}),
        allow("AllowPassingInstanceRole", ["iam:PassRole"], [node_role_arn],
              {"StringEquals": {"iam:PassedToService": [loc.service_principal("ec2")]}}),
        allow("AllowInstanceProfileReadActions", ["iam:GetInstanceProfile"],
              [instance_profile_arn]),
        allow("AllowAPIServerEndpointDiscovery", ["eks:DescribeCluster"],
              [loc.arn("eks", f"cluster/{cluster}")]),
        allow("AllowInterruptionQueueActions",
              ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], [queue_arn]),
        allow("AllowRegionalReadActions", READ_ACTIONS, "*",
              {"StringEquals": {"aws:RequestedRegion": loc.region}}),
        allow("AllowSSMReadActions", ["ssm:GetParameter"],
              [f"arn:{loc.partition}:ssm:{loc.region}::parameter/aws/service/*"]),
        # Price lists have no resource type: on-demand prices rank instance types.
        allow("AllowPricingReadActions", ["pricing:GetProducts"], "*"),
    ]
    policy = document(statements)
    assert_least_privilege(policy)
    return policy


def pod_identity_trust(account_id: str) -> str:
    """Trust of EKS Pod Identity (sts:AssumeRole and sts:TagSession), this account only."""
    return document([{
        "Sid": "EksPodIdentity", "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }])


def queue_policy(queue_arn: str) -> str:
    """EventBridge (and SQS itself) may send to the queue; nothing reaches it without TLS."""
    return json.dumps({"Version": "2012-10-17", "Id": "EC2InterruptionPolicy", "Statement": [
        {"Sid": "EventBridgeSends", "Effect": "Allow",
         "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
         "Action": "sqs:SendMessage", "Resource": queue_arn},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
         "Resource": queue_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}, sort_keys=True)


def karpenter_values(args: NodeAutoscalerArgs, queue_name: str) -> dict[str, Any]:
    """Chart values: the cluster and interruption queue, the Pod Identity service account."""
    return {
        "replicas": args.replicas,
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        "settings": {"clusterName": args.cluster_name, "interruptionQueue": queue_name},
        "controller": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                     "limits": {"memory": "1Gi"}}},
    }


def _validate(name: str, args: NodeAutoscalerArgs) -> None:
    where = f"NodeAutoscaler {name}"
    if not args.cluster_name:
        raise ComponentArgsError(f"{where}: cluster_name is empty: give the EKS cluster name")
    if not 1 <= args.replicas <= 5:
        raise ComponentArgsError(f"{where}: replicas ({args.replicas}) must lie between 1 and "
                                 "5: use 2 (leader election keeps one active)")


class NodeAutoscaler(FactoryComponent):
    """Karpenter: controller identity, node role and profile, interruption queue, charts."""

    def __init__(self, name: str, args: NodeAutoscalerArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:aws:NodeAutoscaler", name, {
            "autoscaler": "karpenter", "clusterName": args.cluster_name,
            "chartVersion": KARPENTER.version, "namespace": NAMESPACE,
            "serviceAccount": SERVICE_ACCOUNT}, opts)
        loc = args.location
        tags = {**args.tags, "karpenter.sh/discovery": args.cluster_name}
        queue_name = naming.fit(f"{args.cluster_name}-karpenter", 80)

        queue = sqs.Queue(naming.child(name, "interruption-queue"), name=queue_name,
                          message_retention_seconds=300, sqs_managed_sse_enabled=True,
                          tags={**tags, "Name": queue_name}, opts=self.child_opts())
        # The queue's ARN and URL follow from its name: known before it exists, in every plan.
        queue_arn = loc.arn("sqs", queue_name)
        queue_url = f"https://sqs.{loc.region}.{loc.dns_suffix}/{loc.account_id}/{queue_name}"
        sqs.QueuePolicy(naming.child(name, "interruption-queue-policy"), queue_url=queue_url,
                        policy=queue_policy(queue_arn),
                        opts=self.child_opts(depends_on=[queue]))
        for suffix, source, detail in INTERRUPTION_EVENTS:
            rule_name = naming.fit(f"{args.cluster_name}-karpenter-{suffix}", 64)
            rule = cloudwatch.EventRule(
                naming.child(name, "rule", suffix), name=rule_name,
                description=f"Karpenter of {args.cluster_name}: {detail}",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail]}),
                tags={**tags, "Name": rule_name}, opts=self.child_opts())
            cloudwatch.EventTarget(naming.child(name, "rule", suffix, "target"),
                                   rule=rule.name, target_id="KarpenterInterruptionQueueTarget",
                                   arn=queue_arn, opts=self.child_opts(depends_on=[queue]))

        nodes = node_role(self, name, loc,
                          naming.iam_role_name(args.cluster_name, "", "karpenter-nodes"), tags)
        profile_name = naming.fit(f"{args.cluster_name}-karpenter-nodes", 128)
        profile = iam.InstanceProfile(naming.child(name, "node-profile"), name=profile_name,
                                      role=nodes.name, tags={**tags, "Name": profile_name},
                                      opts=self.child_opts())
        access = eks.AccessEntry(naming.child(name, "node-access"), cluster_name=args.cluster,
                                 principal_arn=nodes.arn, type="EC2_LINUX",
                                 tags=tags, opts=self.child_opts())

        role_name = naming.iam_role_name(args.cluster_name, "", "karpenter")
        controller = iam.Role(naming.child(name, "controller-role"), name=role_name,
                              description=f"Karpenter controller of {args.cluster_name}",
                              assume_role_policy=pod_identity_trust(loc.account_id),
                              tags={**tags, "Name": role_name}, opts=self.child_opts())
        permissions = iam.RolePolicy(
            naming.child(name, "controller-permissions"), role=controller.id,
            policy=pulumi.Output.all(nodes.arn, profile.arn).apply(
                lambda v: controller_policy(loc, args.cluster_name, queue_arn, v[0], v[1])),
            opts=self.child_opts())
        association = eks.PodIdentityAssociation(
            naming.child(name, "pod-identity"), cluster_name=args.cluster,
            namespace=NAMESPACE, service_account=SERVICE_ACCOUNT, role_arn=controller.arn,
            tags=tags, opts=self.child_opts(depends_on=[permissions, queue]))

        k8s_opts = self.child_opts(provider=args.kubernetes, depends_on=list(args.after))
        crds = chart(naming.child(name, "crd-chart"), KARPENTER_CRD, "karpenter-crd", NAMESPACE,
                     {}, k8s_opts, args.mirror)
        self.chart: k8s.helm.v4.Chart = chart(
            naming.child(name, "chart"), KARPENTER, "karpenter", NAMESPACE,
            karpenter_values(args, queue_name),
            self.child_opts(provider=args.kubernetes,
                            depends_on=[*args.after, crds, association, access]),
            args.mirror, skip_crds=True)

        self.instance_profile: pulumi.Output[str] = profile.name
        self.node_role_arn: pulumi.Output[str] = nodes.arn
        self.queue_name: pulumi.Output[str] = queue.name
        self.register_outputs({"instance_profile": self.instance_profile,
                               "node_role_arn": self.node_role_arn,
                               "queue_name": self.queue_name})
