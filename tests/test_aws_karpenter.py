"""Karpenter on EKS: the NodeAutoscaler (identity, node role, interruption queue, charts) and each
elastic pool's EC2NodeClass and NodePool, recorded under mocks and validated against the CRDs."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from conftest import SHARED, spec_from_yaml

from blueprints.compose.facts import pool_facts
from blueprints.errors import ComponentArgsError
from catalog.charts import KARPENTER, KARPENTER_CRD
from components.aws import (
    AwsLocation,
    GpuNodePool,
    GpuNodePoolArgs,
    KarpenterScaling,
    NodeAutoscaler,
    NodeAutoscalerArgs,
    NodeTaint,
)
from components.aws.karpenter import controller_policy
from components.aws.karpenter_pool import KarpenterPoolSpec, node_class_spec, node_pool_spec

LONDON = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/1111"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
CHART = "kubernetes:helm.sh/v4:Chart"
VALIDATE_CRS = SHARED / "tools" / "validate_crs.py"

SPEC = spec_from_yaml("""
    name: acme
    tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
    environments:
      prod:
        kind: aws
        account_id: "123456789012"
        region: eu-west-2
        availability_zones: [eu-west-2a, eu-west-2b]
    pools:
      train:
        environment: prod
        instance_type: p5.48xlarge
        min_nodes: 1
        max_nodes: 4
        disk_size_gb: 1000
        labels: {workload: training}
""")


def _autoscaler(**overrides: Any) -> Any:
    def program() -> NodeAutoscaler:
        provider = k8s.Provider("k", kubeconfig="{}")
        values: dict[str, Any] = dict(location=LONDON, cluster_name="acme-prod",
                                      cluster="acme-prod", kubernetes=provider)
        values.update(overrides)
        return NodeAutoscaler("prod-karpenter", NodeAutoscalerArgs(**values))
    return program


def _pool(**overrides: Any) -> Any:
    def program() -> None:
        provider = k8s.Provider("k", kubeconfig="{}")
        scaling = KarpenterScaling(kubernetes=provider, instance_profile="acme-prod-karpenter",
                                   zones=("eu-west-2a", "eu-west-2b"), gpus_per_node=8)
        values: dict[str, Any] = dict(
            facts=pool_facts(SPEC, "train", SPEC.pools["train"]), location=LONDON,
            pool_name="train", name_prefix="acme-prod", cluster_name="acme-prod",
            kubernetes_version="1.33", subnet_ids=["subnet-a", "subnet-b"], kms_key_arn=KEY,
            instance_type="p5.48xlarge", gpu_model="h100-sxm5", min_nodes=1, desired_nodes=1,
            max_nodes=4, disk_size_gb=1000,
            taints=(NodeTaint("nvidia.com/gpu", "present", "NoSchedule"),
                    NodeTaint("dedicated", "", "NoSchedule")),
            labels={"workload": "training"}, node_tags={"Owner": "ml"}, autoscaling=scaling)
        values.update(overrides)
        GpuNodePool("prod-train", GpuNodePoolArgs(**values))
    return program


# -- the autoscaler -----------------------------------------------------------------------------

def test_controller_assumes_its_role_through_pod_identity_only(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_autoscaler())
    role = rec.one("aws:iam/role:Role", "prod-karpenter-controller-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [{
        "Sid": "EksPodIdentity", "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system", "karpenter")
    assert association.inputs["roleArn"] == "arn:aws:iam:::prod-karpenter-controller-role"


def test_controller_policy_is_scoped_to_the_cluster() -> None:
    policy = json.loads(controller_policy(
        LONDON, "acme-prod", "arn:aws:sqs:eu-west-2:123456789012:q",
        "arn:aws:iam::123456789012:role/nodes",
        "arn:aws:iam::123456789012:instance-profile/nodes"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    # nothing but reads and the price list on every resource, and never a whole service
    assert sorted(s for s, st in by_sid.items() if st["Resource"] == "*") == [
        "AllowPricingReadActions", "AllowRegionalReadActions"]
    assert all(a.startswith(("ec2:Describe", "pricing:Get"))
               for s in ("AllowPricingReadActions", "AllowRegionalReadActions")
               for a in by_sid[s]["Action"])
    assert by_sid["AllowRegionalReadActions"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "eu-west-2"}}
    launch = by_sid["AllowScopedEC2InstanceActionsWithTags"]["Condition"]
    assert launch["StringEquals"] == {"aws:RequestTag/kubernetes.io/cluster/acme-prod": "owned",
                                      "aws:RequestTag/eks:eks-cluster-name": "acme-prod"}
    assert by_sid["AllowScopedDeletion"]["Condition"]["StringEquals"] == {
        "aws:ResourceTag/kubernetes.io/cluster/acme-prod": "owned"}
    assert by_sid["AllowPassingInstanceRole"]["Resource"] == [
        "arn:aws:iam::123456789012:role/nodes"]
    # the instance profile is ours: the controller may read it, never create or delete one
    assert not any(a.startswith(("iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
                                 "iam:AddRoleToInstanceProfile"))
                   for st in policy["Statement"] for a in st["Action"])
    assert by_sid["AllowInterruptionQueueActions"]["Resource"] == [
        "arn:aws:sqs:eu-west-2:123456789012:q"]


def test_interruption_queue_gets_every_event_karpenter_handles(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_autoscaler())
    queue = rec.one("aws:sqs/queue:Queue")
    assert (queue.inputs["name"], queue.inputs["messageRetentionSeconds"],
            queue.inputs["sqsManagedSseEnabled"]) == ("acme-prod-karpenter", 300, True)
    patterns = sorted(json.loads(r.inputs["eventPattern"])["detail-type"][0]
                      for r in rec.of_type("aws:cloudwatch/eventRule:EventRule"))
    assert patterns == ["AWS Health Event",
                        "EC2 Capacity Reservation Instance Interruption Warning",
                        "EC2 Instance Rebalance Recommendation",
                        "EC2 Instance State-change Notification",
                        "EC2 Spot Instance Interruption Warning"]
    targets = rec.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 5 and {t.inputs["arn"] for t in targets} == {
        "arn:aws:sqs:eu-west-2:123456789012:acme-prod-karpenter"}
    assert rec.one("aws:sqs/queuePolicy:QueuePolicy").inputs["queueUrl"] == (
        "https://sqs.eu-west-2.amazonaws.com/123456789012/acme-prod-karpenter")
    policy = json.loads(rec.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])
    [deny] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_nodes_join_through_an_access_entry_of_their_role(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_autoscaler())
    entry = rec.one("aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"] == "arn:aws:iam:::prod-karpenter-node-role"
    profile = rec.one("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == "acme-prod-karpenter-nodes"  # the node role's name
    assert sorted(a.inputs["policyArn"] for a in rec.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment")) == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]


def test_charts_are_pinned_crds_first(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_autoscaler())
    crds = rec.one(CHART, "prod-karpenter-crd-chart")
    controller = rec.one(CHART, "prod-karpenter-chart")
    assert (crds.inputs["chart"], crds.inputs["version"]) == (KARPENTER_CRD.chart, "1.14.1")
    assert (controller.inputs["chart"], controller.inputs["version"]) == (
        KARPENTER.chart, "1.14.1")
    assert controller.inputs["skipCrds"] is True and crds.urn in controller.dependencies
    assert controller.inputs["namespace"] == "kube-system"
    assert controller.inputs["values"]["settings"] == {
        "clusterName": "acme-prod", "interruptionQueue": "acme-prod-karpenter"}
    assert controller.inputs["values"]["serviceAccount"] == {"create": True,
                                                             "name": "karpenter"}
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.urn in controller.dependencies


def test_bad_autoscaler_arguments_are_refused(run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as err:
        run(_autoscaler(replicas=0))
    assert str(err.value) == ("NodeAutoscaler prod-karpenter: replicas (0) must lie between 1 "
                              "and 5: use 2 (leader election keeps one active)")


# -- an elastic pool ----------------------------------------------------------------------------

def test_elastic_pool_keeps_min_nodes_in_a_node_group_and_karpenter_the_rest(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_pool())
    group = rec.one(NODE_GROUP)
    assert group.inputs["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 1}
    node_pool = rec.one(NODE_POOL).inputs
    assert node_pool["metadata"]["name"] == "train"
    spec = node_pool["spec"]
    # the nodes Karpenter launches carry the node group's labels and taints: one flavor
    assert spec["template"]["metadata"]["labels"] == group.inputs["labels"]
    assert spec["template"]["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
        {"key": "dedicated", "effect": "NoSchedule"}]
    assert spec["limits"] == {"nvidia.com/gpu": 24, "nodes": 3}  # (4 - 1) x 8 GPUs
    requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
    assert requirements == {"node.kubernetes.io/instance-type": ["p5.48xlarge"],
                            "karpenter.sh/capacity-type": ["on-demand"],
                            "topology.kubernetes.io/zone": ["eu-west-2a", "eu-west-2b"],
                            "kubernetes.io/arch": ["amd64"]}
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m",
                                  "budgets": [{"nodes": "1"}]}
    assert spec["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "train"}
    node_class = rec.one(NODE_CLASS)
    assert node_class.urn in rec.one(NODE_POOL).dependencies
    assert rec.one(NODE_POOL).provider.endswith("pulumi:providers:kubernetes::k")


def test_node_class_is_imdsv2_only_and_encrypts_with_the_environments_key(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_pool())
    spec = rec.one(NODE_CLASS).inputs["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
    assert spec["metadataOptions"] == {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                                       "httpPutResponseHopLimit": 2, "httpTokens": "required"}
    assert spec["blockDeviceMappings"] == [{
        "deviceName": "/dev/xvda", "rootVolume": True,
        "ebs": {"volumeSize": "1000Gi", "volumeType": "gp3", "encrypted": True,
                "kmsKeyID": KEY, "deleteOnTermination": True}}]
    assert spec["instanceProfile"] == "acme-prod-karpenter"
    assert spec["subnetSelectorTerms"] == [{"tags": {"kubernetes.io/cluster/acme-prod": "shared",
                                                     "Tier": "private"}}]
    assert spec["securityGroupSelectorTerms"] == [
        {"tags": {"aws:eks:cluster-name": "acme-prod"}}]
    assert spec["tags"] == {"Owner": "ml", "aifactory.io/pool": "train",
                            "Name": "acme-prod-train"}


def test_a_pool_from_zero_has_no_node_group(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_pool(min_nodes=0, desired_nodes=0, capacity="spot"))
    assert rec.of_type(NODE_GROUP) == [] and rec.of_type("aws:iam/role:Role") == []
    spec = rec.one(NODE_POOL).inputs["spec"]
    assert spec["limits"] == {"nvidia.com/gpu": 32, "nodes": 4}
    [capacity] = [r["values"] for r in spec["template"]["spec"]["requirements"]
                  if r["key"] == "karpenter.sh/capacity-type"]
    assert capacity == ["spot"]


def test_reservations_and_capacity_blocks_go_through_the_node_class(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_pool(min_nodes=0, desired_nodes=0, capacity="capacity-block",
                    reservation_id="cr-0123456789abcdef0"))
    assert rec.one(NODE_CLASS).inputs["spec"]["capacityReservationSelectorTerms"] == [
        {"id": "cr-0123456789abcdef0"}]
    [capacity] = [r["values"] for r in rec.one(NODE_POOL).inputs["spec"]["template"]["spec"][
        "requirements"] if r["key"] == "karpenter.sh/capacity-type"]
    assert capacity == ["reserved"]


def test_several_instance_types_and_compact_placement(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(_pool(min_nodes=0, desired_nodes=0, compact_placement=True,
                    instance_types=("p5.48xlarge", "p5e.48xlarge")))
    spec = rec.one(NODE_POOL).inputs["spec"]["template"]["spec"]
    requirements = {r["key"]: r["values"] for r in spec["requirements"]}
    assert requirements["node.kubernetes.io/instance-type"] == ["p5.48xlarge", "p5e.48xlarge"]
    assert requirements["topology.kubernetes.io/zone"] == ["eu-west-2a"]  # one zone, close
    group = rec.one("aws:ec2/placementGroup:PlacementGroup")
    assert rec.one(NODE_CLASS).inputs["spec"]["placementGroupSelector"] == {
        "name": group.inputs["name"]}


@pytest.mark.parametrize(("overrides", "message"), [
    (dict(min_nodes=2, desired_nodes=2, max_nodes=2),
     "GpuNodePool prod-train: autoscaling is given but min_nodes = max_nodes (2): a fixed pool "
     "is a node group; drop autoscaling"),
    (dict(desired_nodes=2),
     "GpuNodePool prod-train: desired_nodes (2) differs from min_nodes (1): under Karpenter the "
     "node group holds min_nodes and Karpenter launches the rest for pending pods; set "
     "desired_nodes to min_nodes"),
    (dict(instance_types=("p5e.48xlarge", "p5.48xlarge")),
     "GpuNodePool prod-train: instance_type (p5.48xlarge) is not the first of instance_types "
     "['p5e.48xlarge', 'p5.48xlarge']: give the first type as instance_type"),
])
def test_bad_pool_arguments_are_refused_before_any_resource(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as err:
        run(_pool(**overrides))
    assert str(err.value) == message


def test_spec_builders_follow_the_pool() -> None:
    spec = KarpenterPoolSpec(
        pool="p", cluster_name="c", instance_types=["g6.xlarge"], capacity="on-demand",
        zones=["z"], labels={"a": "b"}, taints=[("nvidia.com/gpu", "present", "NoSchedule")],
        max_gpus=3, max_nodes=3, instance_profile="ip", kms_key_arn="k",
        reservation_id="cr-1")
    # an on-demand pool with a reservation launches only into it
    [capacity] = [r["values"] for r in node_pool_spec(spec)["template"]["spec"]["requirements"]
                  if r["key"] == "karpenter.sh/capacity-type"]
    assert capacity == ["reserved"]
    assert node_class_spec(spec)["capacityReservationSelectorTerms"] == [{"id": "cr-1"}]
    assert "placementGroupSelector" not in node_class_spec(spec)


# -- the example ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cloud_aws() -> list[Any]:
    from conftest import EXAMPLES

    from aifactory.plan.document import run_program
    from blueprints.spec import load

    return run_program(load(EXAMPLES / "cloud-aws.yaml"))


def test_cloud_aws_autoscales_every_elastic_pool_by_a_node_pool(cloud_aws) -> None:  # type: ignore[no-untyped-def]
    """Done when: the cloud-aws plan shows the autoscaler and, per elastic pool, the NodePool,
    matching the pool's labels, taints and GPUs."""
    by_name = {r.name: r for r in cloud_aws}
    autoscaler = by_name["aws-prod-karpenter"]
    assert autoscaler.type == "aifactory:aws:NodeAutoscaler"
    assert autoscaler.inputs["autoscaler"] == "karpenter"
    pools = {r.inputs["pool"]: r for r in cloud_aws if r.type == "aifactory:aws:GpuNodePool"}
    node_pools = {r.inputs["metadata"]["name"]: r for r in cloud_aws if r.type == NODE_POOL}
    assert sorted(node_pools) == sorted(pools) == ["batch-l4-spot", "infer-l4", "train-h100"]
    for name, pool in pools.items():
        facts = pool.inputs
        spec = node_pools[name].inputs["spec"]
        assert node_pools[name].parent == pool.urn  # under the pool it scales
        labels = spec["template"]["metadata"]["labels"]
        assert labels["aifactory.io/pool"] == name
        assert labels["aifactory.io/gpu"] == facts["gpuModel"]
        assert spec["template"]["spec"]["taints"][0] == {
            "key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
        floor = facts["minNodes"]
        # a fabric pool (train-h100, EFA) also limits its EFA interfaces: 32 a p5.48xlarge
        efa = {"vpc.amazonaws.com/efa": (facts["maxNodes"] - floor) * 32} \
            if facts.get("fabric") == "efa" else {}
        assert spec["limits"] == {"nvidia.com/gpu": (facts["maxNodes"] - floor)
                                  * facts["gpusPerNode"], "nodes": facts["maxNodes"] - floor,
                                  **efa}
        assert bool(efa) == (name == "train-h100")
        assert facts["autoscaling"].startswith(f"Karpenter NodePool {name}")
        # created once Karpenter (and its CRDs) is installed
        assert by_name["aws-prod-karpenter-chart"].urn in node_pools[name].dependencies


@pytest.mark.skipif(not VALIDATE_CRS.exists(), reason="../shared/tools not present")
def test_node_pools_and_node_classes_validate_strictly_against_karpenters_crds(
        cloud_aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    objects = [r.inputs for r in cloud_aws if r.type in (NODE_POOL, NODE_CLASS)]
    assert len(objects) == 6
    for i, obj in enumerate(objects):
        (tmp_path / f"{i}.yaml").write_text(yaml.safe_dump(
            {"apiVersion": obj["apiVersion"], "kind": obj["kind"], **obj}))
    result = subprocess.run([sys.executable, str(VALIDATE_CRS), "--strict", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("6 custom resources checked, 0 of other kinds "
                                          "skipped, 0 errors")


def test_without_elastic_pools_there_is_no_autoscaler(run) -> None:  # type: ignore[no-untyped-def]
    from blueprints.compose import compose

    spec = spec_from_yaml("""
        name: acme
        tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
        environments:
          prod: {kind: aws, account_id: "123456789012", region: eu-west-2,
                 availability_zones: [eu-west-2a, eu-west-2b]}
        pools:
          fixed: {environment: prod, instance_type: g6.xlarge, min_nodes: 2, max_nodes: 2}
    """)
    rec = run(lambda: compose(spec, pulumi.ResourceOptions()))
    assert rec.of_type("aifactory:aws:NodeAutoscaler") == [] and rec.of_type(NODE_POOL) == []
    assert rec.one(NODE_GROUP, "prod-fixed-nodes").inputs["scalingConfig"] == {
        "minSize": 2, "desiredSize": 2, "maxSize": 2}
    assert rec.one("aifactory:aws:GpuNodePool").inputs["autoscaling"] == (
        "none: fixed at 2 nodes (min_nodes = max_nodes)")


@pytest.mark.parametrize(("pool", "message"), [
    ("train: {environment: prod, instance_type: p5.48xlarge, instance_types: [p5e.48xlarge], "
     "max_nodes: 4}",
     "test.yaml:8: pools.train.instance_types: give instance_type or instance_types, not both: "
     "move 'p5.48xlarge' into instance_types"),
    ("train: {environment: prod, instance_types: [p5.48xlarge, p5e.48xlarge], max_nodes: 4, "
     "reservation: cr-0123456789abcdef0}",
     "test.yaml:8: pools.train.instance_types: reservation 'cr-0123456789abcdef0' holds one "
     "instance type: list one type, or drop the reservation"),
])
def test_elastic_eks_pool_mistakes_are_load_errors(pool: str, message: str) -> None:
    from blueprints.spec import BlueprintError

    with pytest.raises(BlueprintError) as err:
        spec_from_yaml(f"""
            name: acme
            tags: {{owner: ml, cost_centre: CC-1, data_classification: internal}}
            environments:
              prod: {{kind: aws, account_id: "123456789012", region: eu-west-2,
                     availability_zones: [eu-west-2a, eu-west-2b]}}
            pools:
              {pool}
        """)
    assert str(err.value) == message


def test_desired_nodes_of_an_elastic_eks_pool_is_a_planning_figure() -> None:
    from aifactory.plan.document import plan_blueprint

    plan = plan_blueprint(spec_from_yaml("""
        name: acme
        tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
        environments:
          prod: {kind: aws, account_id: "123456789012", region: eu-west-2,
                 availability_zones: [eu-west-2a, eu-west-2b]}
        pools:
          train: {environment: prod, instance_type: p5.48xlarge, min_nodes: 1,
                  desired_nodes: 3, max_nodes: 4}
    """), "t.yaml")
    [group] = [r for r in plan["resources"] if r["type"] == NODE_GROUP
               and r["name"] == "prod-train-nodes"]
    # the node group holds min_nodes; the plan estimates cost and power at desired_nodes
    assert group["inputs"]["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 1}
    [pool] = plan["summary"]["pools"]
    assert (pool["gpus_desired"], pool["autoscaling"]) == (
        24, "Karpenter NodePool train above a node group of 1, up to 4 nodes")
