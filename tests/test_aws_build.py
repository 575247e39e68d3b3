"""The AWS builder end to end: the example plan, the sovereign partition, replication."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, spec_from_yaml

from aifactory.plan.document import dumps, plan_blueprint, run_program
from blueprints.errors import ComponentArgsError
from blueprints.spec import BlueprintError, load

EXAMPLE = EXAMPLES / "cloud-aws.yaml"

SOVEREIGN = """
    name: acme-eu
    tags: {owner: ml, cost_centre: CC-1, data_classification: restricted}
    environments:
      esc:
        kind: aws
        partition: aws-eusc
        account_id: "210987654321"
        region: eusc-de-east-1
        availability_zones: [eusc-de-east-1a, eusc-de-east-1b]
    lakehouse:
      environment: esc
      zones: {raw: {}}
    registry:
      environment: esc
      repositories: [training]
"""


@pytest.fixture(scope="module")
def plan() -> dict:
    return plan_blueprint(load(EXAMPLE), str(EXAMPLE))


def test_example_plan_summary(plan) -> None:
    summary = plan["summary"]
    # train-h100 starts at zero nodes: Karpenter launches them for pending jobs
    assert summary["gpusByModel"] == {"h100-sxm5": 0, "l4": 4}
    assert summary["resourceCount"] > 0
    assert summary["resourceCount"] == len(plan["resources"])
    pools = {p["pool"]: p for p in summary["pools"]}
    assert pools["train-h100"]["gpus_max"] == 32
    assert pools["batch-l4-spot"]["gpus_desired"] == 0
    blocks = summary["byBuildingBlock"]
    for block in ("EksCluster", "GpuNodePool", "KmsKey", "Lakehouse", "Network", "Registry",
                  "NodeAutoscaler", "BlockStorage"):
        assert blocks[f"aws-prod/{block}"] > 0


def test_only_the_factory_and_providers_have_no_parent(plan) -> None:
    orphans = {(r["type"], r["name"]) for r in plan["resources"] if r["parent"] is None}
    assert ("aifactory:factory:Factory", "acme-aws") in orphans
    assert all(t == "aifactory:factory:Factory" or t.startswith("pulumi:providers:")
               for t, _ in orphans), orphans


def test_every_aws_resource_uses_the_environment_provider(plan) -> None:
    [provider] = [r for r in plan["resources"] if r["type"] == "pulumi:providers:aws"]
    assert provider["inputs"]["region"] == "eu-west-2"
    assert json.loads(provider["inputs"]["allowedAccountIds"]) == ["123456789012"]
    tags = json.loads(provider["inputs"]["defaultTags"])["tags"]
    assert tags["Owner"] == "ml-platform" and tags["DataClassification"] == "confidential"
    assert tags["Environment"] == "aws-prod"
    aws = [r for r in plan["resources"] if r["type"].startswith("aws:")]
    assert aws and all(r["provider"] == provider["urn"] for r in aws)


def test_environment_and_pool_components_carry_their_facts(plan) -> None:
    [environment] = [r for r in plan["resources"] if r["type"] == "aifactory:aws:Environment"]
    assert environment["inputs"]["region"] == "eu-west-2"
    assert environment["inputs"]["quotas"]["onDemand:P"] == 768
    pools = {r["inputs"]["pool"]: r for r in plan["resources"]
             if r["type"] == "aifactory:aws:GpuNodePool"}
    assert sorted(pools) == ["batch-l4-spot", "infer-l4", "train-h100"]
    assert all(p["parent"] == environment["urn"] for p in pools.values())
    assert pools["batch-l4-spot"]["inputs"]["capacity"] == "spot"
    groups = {r["inputs"]["nodeGroupName"]: r for r in plan["resources"]
              if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    # Every pool scales between min and max nodes: Karpenter launches its nodes, and the one
    # with min_nodes above zero keeps them in a managed node group of exactly that size.
    assert sorted(groups) == ["acme-aws-aws-prod-infer-l4", "acme-aws-aws-prod-system"]
    assert groups["acme-aws-aws-prod-infer-l4"]["inputs"]["scalingConfig"] == {
        "desiredSize": 1, "maxSize": 1, "minSize": 1}
    node_pools = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]
                  for r in plan["resources"] if r["type"] == "kubernetes:karpenter.sh/v1:NodePool"}
    assert sorted(node_pools) == ["batch-l4-spot", "infer-l4", "train-h100"]
    [capacity] = [r["values"] for r in node_pools["batch-l4-spot"]["template"]["spec"][
        "requirements"] if r["key"] == "karpenter.sh/capacity-type"]
    assert capacity == ["spot"]


def test_kubernetes_provider_for_the_cluster_has_a_secret_kubeconfig(plan) -> None:
    [k8s] = [r for r in plan["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    assert k8s["inputs"]["kubeconfig"] == "[secret]"
    assert "get-token" not in dumps(plan)


def test_data_bearing_resources_are_protected(plan) -> None:
    # log groups hold the audit and flow-log evidence a compliance review asks for
    data = {"aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository",
            "aws:cloudwatch/logGroup:LogGroup", "aws:rds/instance:Instance",
            "aws:glue/catalogDatabase:CatalogDatabase"}  # the catalog's Iceberg namespaces
    aws = [r for r in plan["resources"] if r["type"].startswith("aws:")]
    assert {r["type"] for r in aws if r["protect"]} == data
    assert all(r["protect"] for r in aws if r["type"] in data)


def test_the_plan_is_byte_identical_on_every_run(plan) -> None:
    assert dumps(plan_blueprint(load(EXAMPLE), str(EXAMPLE))) == dumps(plan)


def test_sovereign_cloud_partition_names() -> None:
    registrations = run_program(spec_from_yaml(SOVEREIGN))
    by_type: dict[str, list] = {}
    for r in registrations:
        by_type.setdefault(r.type, []).append(r)
    arns = {a.inputs["policyArn"] for a in
            by_type["aws:iam/rolePolicyAttachment:RolePolicyAttachment"]}
    assert "arn:aws-eusc:iam::aws:policy/AmazonEKSClusterPolicy" in arns
    assert all(a.startswith("arn:aws-eusc:") for a in arns)
    endpoints = sorted(e.inputs["serviceName"] for e in by_type["aws:ec2/vpcEndpoint:VpcEndpoint"])
    assert endpoints == ["com.amazonaws.eusc-de-east-1.s3", "com.amazonaws.eusc-de-east-1.sts",
                         "eu.amazonaws.eusc-de-east-1.ecr.api",
                         "eu.amazonaws.eusc-de-east-1.ecr.dkr"]
    [bucket] = by_type["aws:s3/bucket:Bucket"]
    assert bucket.inputs["bucket"] == "acme-eu-raw-210987654321-eusc-de-east-1"
    [policy] = by_type["aws:s3/bucketPolicy:BucketPolicy"]
    assert "arn:aws-eusc:s3:::acme-eu-raw-210987654321-eusc-de-east-1" in policy.inputs["policy"]
    [oidc] = by_type["aws:iam/openIdConnectProvider:OpenIdConnectProvider"]
    assert oidc.inputs["url"].startswith("https://oidc.eks.eusc-de-east-1.amazonaws.eu/")


def test_partition_must_match_the_region() -> None:
    with pytest.raises(BlueprintError) as error:
        spec_from_yaml(SOVEREIGN.replace("partition: aws-eusc", "partition: aws"))
    assert str(error.value) == ("test.yaml:7: environments.esc.partition: region "
                                "eusc-de-east-1 is in partition aws-eusc, but partition is "
                                "'aws': set partition: aws-eusc")


def test_the_builder_still_refuses_a_partition_that_skipped_the_spec() -> None:
    spec = spec_from_yaml(SOVEREIGN)
    wrong = spec.environments["esc"].model_copy(update={"partition": "aws"})
    spec = spec.model_copy(update={"environments": {"esc": wrong}})
    with pytest.raises(ComponentArgsError) as error:
        run_program(spec)
    assert str(error.value) == ("environments.esc.partition: region eusc-de-east-1 is in "
                                "partition aws-eusc, but partition is 'aws': set partition: "
                                "aws-eusc")


def test_lakehouse_replication_from_the_blueprint() -> None:
    text = EXAMPLE.read_text().replace(
        "\nregistry:\n", "  replication: {region: eu-west-1}\n\nregistry:\n")
    registrations = run_program(spec_from_yaml(text))
    providers = {r.name: r for r in registrations if r.type == "pulumi:providers:aws"}
    assert providers["aws-prod-lakehouse-replica-provider"].inputs["region"] == "eu-west-1"
    replica = providers["aws-prod-lakehouse-replica-provider"].urn
    replicated = [r for r in registrations if r.provider == replica]
    assert {r.type for r in replicated} >= {"aws:s3/bucket:Bucket", "aws:kms/key:Key"}
    # raw, curated, features and models
    assert len([r for r in replicated if r.type == "aws:s3/bucket:Bucket"]) == 4
    configs = [r for r in registrations
               if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig"]
    assert len(configs) == 4
