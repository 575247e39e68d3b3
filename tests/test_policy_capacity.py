"""Cloud capacity rules on the readable fixture tests/fixtures/policies/cloud-capacity.yaml."""

from __future__ import annotations

from datetime import date

import pytest
from policy_fixtures import inputs, load

from policies import BY_NAME, PlanView, evaluate
from policies.envelope import gcp_gpu_metric, quota_use

TODAY = date(2026, 1, 15)


def messages(plan: dict, rule: str) -> list[str]:
    return [v.message for v in evaluate(plan, [BY_NAME[rule]], today=TODAY).violations]


@pytest.fixture
def cloud() -> dict:
    return load("cloud-capacity")


def test_quota_use_in_each_clouds_units(cloud: dict) -> None:
    used = {(q.cloud, q.region, q.metric): (q.used, q.quota) for q in
            quota_use(PlanView.of_plan(cloud))}
    assert used == {
        ("aws", "eu-north-1", "onDemand:G"): (384, 384),
        ("aws", "eu-north-1", "onDemand:P"): (768, 768),
        ("aws", "eu-north-1", "spot:G"): (192, 192),
        ("gcp", "europe-west1", "NVIDIA_L4_GPUS"): (16, 16),
        ("gcp", "europe-west4", "NVIDIA_H100_GPUS"): (32, 32),
        ("gcp", "europe-west4", "PREEMPTIBLE_NVIDIA_L4_GPUS"): (16, 16),
        ("gcp", "global", "GPUS_ALL_REGIONS"): (64, 64),
    }


@pytest.mark.parametrize("rule", ["capacity-aws-quota", "capacity-gcp-quota",
                                  "capacity-instance-availability",
                                  "capacity-spot-interruption"])
def test_pools_within_capacity_pass(cloud: dict, rule: str) -> None:
    assert messages(cloud, rule) == []


def test_aws_on_demand_pool_over_its_vcpu_quota(cloud: dict) -> None:
    inputs(cloud, "train-h100")["maxNodes"] = 5
    assert messages(cloud, "capacity-aws-quota") == [
        "account 123456789012 in eu-north-1: pools train-h100 may use 960 vCPUs of 'Running "
        "On-Demand P instances' at their maximum size, but the quota is 768 vCPUs (192 over)"]


def test_aws_spot_counts_against_the_spot_quota_not_on_demand(cloud: dict) -> None:
    inputs(cloud, "aws-prod")["quotas"]["spot:G"] = 100
    assert messages(cloud, "capacity-aws-quota") == [
        "account 123456789012 in eu-north-1: pools batch-l4 may use 192 vCPUs of 'All G and VT "
        "Spot Instance Requests' at their maximum size, but the quota is 100 vCPUs (92 over)"]


def test_gcp_regional_quota_per_model(cloud: dict) -> None:
    inputs(cloud, "gcp-west4")["gpuQuotas"]["NVIDIA_H100_GPUS"] = 24
    assert messages(cloud, "capacity-gcp-quota") == [
        "project acme-ml in europe-west4: pools gcp-train may use 32 GPUs of quota "
        "NVIDIA_H100_GPUS at their maximum size, but the quota is 24 (8 over)"]


def test_gcp_spot_counts_against_the_preemptible_quota(cloud: dict) -> None:
    del inputs(cloud, "gcp-west4")["gpuQuotas"]["PREEMPTIBLE_NVIDIA_L4_GPUS"]
    assert messages(cloud, "capacity-gcp-quota") == [
        "project acme-ml in europe-west4: pools gcp-batch may use 16 GPUs of quota "
        "PREEMPTIBLE_NVIDIA_L4_GPUS at their maximum size, but the quota is 0 (16 over)"]
    assert gcp_gpu_metric({"gpuModel": "l4", "capacity": "spot"}) == "PREEMPTIBLE_NVIDIA_L4_GPUS"
    assert gcp_gpu_metric({"gpuModel": "h100-sxm5", "instanceType": "a3-megagpu-8g"}) == \
        "NVIDIA_H100_MEGA_GPUS"


def test_gcp_all_regions_quota_sums_every_region_of_the_project(cloud: dict) -> None:
    inputs(cloud, "gcp-west1")["gpuQuotas"]["GPUS_ALL_REGIONS"] = 48
    inputs(cloud, "gcp-west4")["gpuQuotas"]["GPUS_ALL_REGIONS"] = 48
    assert messages(cloud, "capacity-gcp-quota") == [
        "project acme-ml across all regions: pools gcp-train, gcp-batch, gcp-infer may use 64 "
        "GPUs of quota GPUS_ALL_REGIONS at their maximum size, but the quota is 48 (16 over)"]


def test_gcp_all_regions_quota_not_declared_is_not_checked(cloud: dict) -> None:
    for env in ("gcp-west1", "gcp-west4"):
        del inputs(cloud, env)["gpuQuotas"]["GPUS_ALL_REGIONS"]
    assert messages(cloud, "capacity-gcp-quota") == []


def test_instance_type_not_offered_in_the_region(cloud: dict) -> None:
    inputs(cloud, "train-h100")["region"] = "eu-central-1"
    assert messages(cloud, "capacity-instance-availability") == [
        "pool train-h100: p5.48xlarge is not offered in eu-central-1; eu-central-1 offers no "
        "type with h100-sxm5; p5.48xlarge is offered in ap-northeast-1, ap-northeast-2, "
        "ap-south-1, ap-southeast-2, ap-southeast-3, ca-central-1, eu-north-1, eu-west-2, "
        "us-east-1, us-east-2, us-west-1, us-west-2"]


def test_instance_type_of_another_cloud(cloud: dict) -> None:
    inputs(cloud, "gcp-infer")["instanceType"] = "g6.12xlarge"
    assert messages(cloud, "capacity-instance-availability") == [
        "pool gcp-infer: g6.12xlarge is a type of aws, but the pool runs on gcp"]


def test_spot_pool_must_tolerate_interruption(cloud: dict) -> None:
    inputs(cloud, "batch-l4")["interruptionTolerant"] = False
    assert messages(cloud, "capacity-spot-interruption") == [
        "pool batch-l4 buys spot capacity but does not declare interruption_tolerant"]


def test_spot_node_group_under_a_pool_that_is_not_tolerant(cloud: dict) -> None:
    inputs(cloud, "infer-l4-nodes")["capacityType"] = "SPOT"
    inputs(cloud, "gcp-batch")["interruptionTolerant"] = False
    inputs(cloud, "gcp-batch")["capacity"] = "on-demand"
    assert messages(cloud, "capacity-spot-interruption") == [
        "NodeGroup infer-l4-nodes of pool infer-l4 uses spot capacity (capacityType SPOT) but "
        "the pool does not declare interruption_tolerant",
        "NodePool gcp-batch-nodes of pool gcp-batch uses spot capacity (nodeConfig.spot) but "
        "the pool does not declare interruption_tolerant"]


def test_the_availability_finding_names_what_the_region_offers_for_the_gpu(cloud: dict) -> None:
    inputs(cloud, "batch-l4")["region"] = "eu-west-3"
    inputs(cloud, "batch-l4")["instanceType"] = "g6f.xlarge"
    [message] = messages(cloud, "capacity-instance-availability")
    assert message.startswith(
        "pool batch-l4: g6f.xlarge is not offered in eu-west-3; eu-west-3 offers g6.12xlarge, "
        "g6.16xlarge, g6.24xlarge, g6.2xlarge, g6.48xlarge, g6.4xlarge, g6.8xlarge, g6.xlarge, "
        "gr6.4xlarge, gr6.8xlarge with l4; g6f.xlarge is offered in ")


def test_a_gcp_pool_in_a_zone_that_lacks_its_type(cloud: dict) -> None:
    pool = inputs(cloud, "gcp-train")
    pool["zones"] = ["europe-west4-a", "europe-west4-b"]
    assert messages(cloud, "capacity-instance-availability") == [
        "pool gcp-train: a3-highgpu-8g is not offered in zone europe-west4-a; in europe-west4 "
        "it is offered in europe-west4-b, europe-west4-c: set pools.gcp-train.zones to those "
        "of them the environment has"]
    pool["zones"] = ["europe-west4-b"]
    assert messages(cloud, "capacity-instance-availability") == []
