"""GpuNodePool: NVIDIA AMI, IMDSv2, encrypted root, taints, bounds, purchase options."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from conftest import spec_from_yaml

from aifactory.plan.recorder import RecordingMonitor
from blueprints.compose.facts import pool_facts
from blueprints.errors import ComponentArgsError
from components.aws import AwsLocation, GpuNodePool, GpuNodePoolArgs, NodeTaint

LONDON = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/1111"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

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


def args(**overrides: Any) -> GpuNodePoolArgs:
    pool = SPEC.pools["train"]
    values: dict[str, Any] = dict(
        facts=pool_facts(SPEC, "train", pool), location=LONDON, pool_name="train",
        name_prefix="acme-prod", cluster_name="acme-prod", kubernetes_version="1.33",
        subnet_ids=SUBNETS, kms_key_arn=KEY, instance_type="p5.48xlarge",
        gpu_model="h100-sxm5", min_nodes=1, desired_nodes=2, max_nodes=4, disk_size_gb=1000,
        taints=(NodeTaint("nvidia.com/gpu", "present", "NoSchedule"),),
        labels={"workload": "training"}, node_tags={"Owner": "ml"})
    values.update(overrides)
    return GpuNodePoolArgs(**values)


def test_pool_carries_its_facts_under_the_pool_type_token(run) -> None:
    rec = run(lambda: GpuNodePool("train", args()))
    component = rec.one("aifactory:aws:GpuNodePool", "train")
    assert component.inputs["gpuModel"] == "h100-sxm5"
    assert component.inputs["gpusPerNode"] == 8
    assert component.inputs["maxNodes"] == 4
    assert component.inputs["quotaClass"] == "P"
    assert all(r.parent == component.urn for r in rec.all if r is not component)


def test_launch_template_requires_imdsv2_and_encrypts_the_root_volume(run) -> None:
    rec = run(lambda: GpuNodePool("train", args()))
    template = rec.one(TEMPLATE)
    assert template.inputs["metadataOptions"] == {
        "httpEndpoint": "enabled", "httpPutResponseHopLimit": 2, "httpTokens": "required",
        "instanceMetadataTags": "disabled"}
    assert template.inputs["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {
        "deleteOnTermination": "true", "encrypted": "true", "kmsKeyId": KEY,
        "volumeSize": 1000, "volumeType": "gp3"}}]
    tags = {t["resourceType"]: t["tags"] for t in template.inputs["tagSpecifications"]}
    assert tags["instance"] == {"Name": "acme-prod-train", "Owner": "ml",
                                "aifactory.io/pool": "train"}
    assert sorted(tags) == ["instance", "network-interface", "volume"]
    assert "instanceMarketOptions" not in template.inputs


def test_node_group_on_the_nvidia_ami_with_taints_labels_and_bounds(run) -> None:
    rec = run(lambda: GpuNodePool("train", args()))
    group = rec.one(NODE_GROUP)
    assert group.inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert group.inputs["instanceTypes"] == ["p5.48xlarge"]
    assert group.inputs["capacityType"] == "ON_DEMAND"
    assert group.inputs["scalingConfig"] == {"minSize": 1, "desiredSize": 2, "maxSize": 4}
    assert group.inputs["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert group.inputs["labels"] == {"workload": "training", "aifactory.io/pool": "train",
                                      "aifactory.io/gpu": "h100-sxm5",
                                      "nvidia.com/gpu.present": "true"}
    assert group.inputs["updateConfig"] == {"maxUnavailable": 1}
    assert group.inputs["launchTemplate"]["id"] == "train-launch-template-id"
    assert group.inputs["subnetIds"] == SUBNETS
    assert group.inputs["version"] == "1.33"
    assert "diskSize" not in group.inputs  # the launch template sets the disk


def test_the_autoscaler_owns_the_desired_size(run, monkeypatch) -> None:
    ignored: dict[str, list[str]] = {}
    original = RecordingMonitor.RegisterResource

    def register(self: RecordingMonitor, request: Any) -> Any:
        ignored[request.name] = list(request.ignoreChanges)
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", register)
    run(lambda: GpuNodePool("train", args()))
    assert ignored["train-nodes"] == ["scalingConfig.desiredSize"]


def test_node_role_has_managed_node_policies_only(run) -> None:
    rec = run(lambda: GpuNodePool("train", args()))
    role = rec.one("aws:iam/role:Role")
    assert role.inputs["name"] == "acme-prod-train-nodes"
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "ec2.amazonaws.com"}]
    assert sorted(a.inputs["policyArn"] for a in rec.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment")) == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]  # the CNI's is on its IRSA role
    assert rec.of_type("aws:iam/rolePolicy:RolePolicy") == []


def test_spot_pool(run) -> None:
    rec = run(lambda: GpuNodePool("train", args(capacity="spot", min_nodes=0,
                                                desired_nodes=0)))
    assert rec.one(NODE_GROUP).inputs["capacityType"] == "SPOT"
    assert "capacityReservationSpecification" not in rec.one(TEMPLATE).inputs


def test_capacity_block_wiring(run) -> None:
    rec = run(lambda: GpuNodePool("train", args(capacity="capacity-block",
                                                reservation_id="cr-0123456789abcdef0")))
    assert rec.one(NODE_GROUP).inputs["capacityType"] == "CAPACITY_BLOCK"
    template = rec.one(TEMPLATE)
    assert template.inputs["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert template.inputs["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": "cr-0123456789abcdef0"}}


def test_on_demand_capacity_reservation(run) -> None:
    rec = run(lambda: GpuNodePool("train", args(reservation_id="cr-0123456789abcdef0")))
    template = rec.one(TEMPLATE)
    assert "instanceMarketOptions" not in template.inputs
    assert template.inputs["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": "cr-0123456789abcdef0"}}


def test_compact_placement_puts_the_pool_in_one_zone(run) -> None:
    rec = run(lambda: GpuNodePool("train", args(compact_placement=True)))
    group = rec.one("aws:ec2/placementGroup:PlacementGroup")
    assert group.inputs["strategy"] == "cluster"
    assert rec.one(TEMPLATE).inputs["placement"] == {"groupName": "acme-prod-train"}
    assert rec.one(NODE_GROUP).inputs["subnetIds"] == ["subnet-a"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"capacity": "capacity-block"},
     "GpuNodePool train: capacity 'capacity-block' needs reservation_id, the id of the "
     "purchased Capacity Block (cr-...)"),
    ({"capacity": "spot", "reservation_id": "cr-0123456789abcdef0"},
     "GpuNodePool train: reservation_id (cr-0123456789abcdef0) cannot be used with spot "
     "capacity: use on-demand to consume a capacity reservation"),
    ({"reservation_id": "cb-42"},
     "GpuNodePool train: reservation_id ('cb-42') is not a capacity reservation id such as "
     "cr-0123456789abcdef0"),
    ({"capacity": "reserved"},
     "GpuNodePool train: capacity ('reserved') must be one of on-demand, spot, capacity-block"),
    ({"desired_nodes": 5},
     "GpuNodePool train: min_nodes (1) <= desired_nodes (5) <= max_nodes (4) does not hold: "
     "max_nodes must be at least 1 and desired_nodes between the bounds"),
    ({"disk_size_gb": 10},
     "GpuNodePool train: disk_size_gb (10) is below the 20 GiB the NVIDIA AMI needs: use 100 "
     "or more for GPU images"),
    ({"labels": {"aifactory.io/pool": "other"}},
     "GpuNodePool train: labels ['aifactory.io/pool'] are set by the pool itself: remove them "
     "from the blueprint's labels"),
    ({"taints": (NodeTaint("gpu", "", "NoRun"),)},
     "GpuNodePool train: taint gpu has effect 'NoRun': use one of NoSchedule, "
     "PreferNoSchedule, NoExecute"),
    ({"taints": (NodeTaint("nvidia.com/gpu", "", "NoSchedule"),)},
     "GpuNodePool train: taint nvidia.com/gpu:NoSchedule (value '') clashes with the pool's "
     "own GPU taint: remove it from taints"),
])
def test_bad_arguments_are_refused(run, overrides, message) -> None:
    with pytest.raises(ComponentArgsError) as error:
        GpuNodePool("train", replace(args(), **overrides))
    assert str(error.value) == message


def test_custom_taints_are_added_beside_the_gpu_taint(run) -> None:
    rec = run(lambda: GpuNodePool("train", replace(
        args(), taints=(NodeTaint("dedicated", "training", "NoExecute"),))))
    assert rec.one(NODE_GROUP).inputs["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
        {"key": "dedicated", "value": "training", "effect": "NO_EXECUTE"}]


def test_a_blueprint_taint_reaches_the_node_group_with_the_gpu_taint(run) -> None:
    from conftest import EXAMPLES, spec_from_yaml

    from aifactory.plan.document import run_program

    text = (EXAMPLES / "cloud-aws.yaml").read_text().replace(
        "  infer-l4:\n", "  infer-l4:\n    taints: [{key: dedicated}]\n", 1)
    registrations = run_program(spec_from_yaml(text))
    groups = {r.name: r for r in registrations if r.type == NODE_GROUP}
    assert groups["aws-prod-infer-l4-nodes"].inputs["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
        {"key": "dedicated", "effect": "NO_SCHEDULE"}]
    # and the nodes Karpenter launches above the node group carry the same taints
    [node_pool] = [r for r in registrations if r.name == "aws-prod-infer-l4-node-pool"]
    assert node_pool.inputs["spec"]["template"]["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
        {"key": "dedicated", "effect": "NoSchedule"}]


def test_a_graviton_gpu_type_gets_the_arm_nvidia_ami() -> None:
    from conftest import spec_from_yaml

    from aifactory.plan.document import plan_blueprint

    text = """\
name: acme
tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
environments:
  prod: {kind: aws, account_id: "123456789012", region: us-east-1,
         availability_zones: [us-east-1a, us-east-1b]}
pools:
  arm: {environment: prod, instance_type: g5g.2xlarge, min_nodes: 2, max_nodes: 2}
  x86: {environment: prod, instance_type: g6.xlarge, min_nodes: 2, max_nodes: 2}
"""
    plan = plan_blueprint(spec_from_yaml(text), "arm.yaml")
    amis = {r["name"]: r["inputs"]["amiType"] for r in plan["resources"]
            if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    assert amis == {"prod-arm-nodes": "AL2023_ARM_64_NVIDIA",
                    "prod-x86-nodes": "AL2023_x86_64_NVIDIA",
                    "prod-eks-system-nodes": "AL2023_x86_64_STANDARD"}
    # an elastic Graviton pool: Karpenter launches arm64 nodes
    elastic = plan_blueprint(spec_from_yaml(text.replace("min_nodes: 2, ", "")), "arm.yaml")
    arch = {r["inputs"]["metadata"]["name"]: next(
        q["values"] for q in r["inputs"]["spec"]["template"]["spec"]["requirements"]
        if q["key"] == "kubernetes.io/arch") for r in elastic["resources"]
        if r["type"] == "kubernetes:karpenter.sh/v1:NodePool"}
    assert arch == {"arm": ["arm64"], "x86": ["amd64"]}
