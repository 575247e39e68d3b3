"""IAM: the training jobs' IRSA role, and least privilege across the whole AWS example plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from components.aws import AwsLocation, WorkloadRole, WorkloadRoleArgs
from components.aws.policy import assert_least_privilege, document

LONDON = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/1111"
ISSUER = "oidc.eks.eu-west-2.amazonaws.com/id/ABCDEF"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
BUCKETS = ["arn:aws:s3:::acme-raw", "arn:aws:s3:::acme-curated"]
REPOS = ["arn:aws:ecr:eu-west-2:123456789012:repository/acme/training"]


def args(**overrides: Any) -> WorkloadRoleArgs:
    values: dict[str, Any] = dict(
        location=LONDON, role_name="acme-prod-training-jobs", oidc_provider_arn=PROVIDER,
        oidc_issuer=ISSUER, service_accounts=["team-a:training", "team-b:training"],
        bucket_arns=BUCKETS, bucket_key_arns=[KEY], repository_arns=REPOS)
    values.update(overrides)
    return WorkloadRoleArgs(**values)


def test_trusted_only_by_the_cluster_oidc_provider_for_named_service_accounts(run) -> None:
    rec = run(lambda: WorkloadRole("training", args()))
    role = rec.one("aws:iam/role:Role")
    assert role.inputs["name"] == "acme-prod-training-jobs"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [{
        "Sid": "ServiceAccountsOfTheCluster", "Effect": "Allow",
        "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{ISSUER}:aud": "sts.amazonaws.com",
            f"{ISSUER}:sub": ["system:serviceaccount:team-a:training",
                              "system:serviceaccount:team-b:training"]}}}]
    component = rec.one("aifactory:aws:WorkloadRole")
    assert all(r.parent == component.urn for r in rec.all if r is not component)


def test_reads_and_writes_only_the_lakehouse_and_pulls_only_factory_images(run) -> None:
    rec = run(lambda: WorkloadRole("training", args()))
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ListLakehouseBuckets"]["Resource"] == BUCKETS
    assert statements["ReadWriteLakehouseObjects"]["Resource"] == [f"{b}/*" for b in BUCKETS]
    assert "s3:DeleteBucket" not in statements["ReadWriteLakehouseObjects"]["Action"]
    assert statements["UseLakehouseKeysThroughS3"] == {
        "Sid": "UseLakehouseKeysThroughS3", "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [KEY],
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-2.amazonaws.com"}}}
    assert statements["PullFactoryImages"]["Resource"] == REPOS
    assert statements["PullFactoryImages"]["Action"] == [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    # The one unscoped grant is the one ECR cannot scope.
    unscoped = [s["Sid"] for s in policy["Statement"] if s["Resource"] == "*"]
    assert unscoped == ["GetRegistryToken"]


def test_images_only_role_has_no_s3_grants(run) -> None:
    rec = run(lambda: WorkloadRole("training", args(bucket_arns=[], bucket_key_arns=[])))
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["GetRegistryToken", "PullFactoryImages"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"service_accounts": []},
     "WorkloadRole training: service_accounts is empty: name the namespace:name of each service "
     "account that may assume the role"),
    ({"service_accounts": ["training"]},
     "WorkloadRole training: service account 'training' is not namespace:name, e.g. "
     "team-research:training"),
    ({"bucket_arns": [], "repository_arns": []},
     "WorkloadRole training: neither bucket_arns nor repository_arns is given: the role would "
     "grant nothing; drop it"),
])
def test_bad_arguments_are_refused(overrides, message) -> None:
    with pytest.raises(ComponentArgsError) as error:
        WorkloadRole("training", args(**overrides))
    assert str(error.value) == message


def test_least_privilege_guard() -> None:
    assert_least_privilege(document([{"Sid": "Ok", "Effect": "Allow", "Action": "s3:GetObject",
                                      "Resource": "*"}]))
    with pytest.raises(ValueError, match="statement 'Admin' allows '\\*' on '\\*'"):
        assert_least_privilege(document([{"Sid": "Admin", "Effect": "Allow", "Action": "*",
                                          "Resource": "*"}]))


def _policies(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for key in ("policy", "assumeRolePolicy"):
        text = inputs.get(key)
        if isinstance(text, str) and text.startswith("{"):
            found.append(json.loads(text))
    return found


def test_no_policy_in_the_aws_example_allows_everything(example_spec) -> None:
    from aifactory.plan.document import run_program

    registrations = run_program(example_spec("cloud-aws"))
    aws_policies = [p for r in registrations if r.type.startswith("aws:")
                    for p in _policies(r.inputs)]
    assert len(aws_policies) > 10
    for policy in aws_policies:
        for statement in policy.get("Statement", []):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else resources
            assert not ("*" in actions and "*" in resources), statement
    # Node roles get AWS-managed policies only: no inline policy on them.
    node_role_ids = {f"{r.name}-id" for r in registrations  # the mocks' id of each role
                     if r.type == "aws:iam/role:Role" and r.inputs["name"].endswith("nodes")}
    # the system nodes, the infer-l4 pool's node group (its min_nodes), Karpenter's nodes
    assert len(node_role_ids) == 3
    inline_roles = {r.inputs["role"] for r in registrations
                    if r.type == "aws:iam/rolePolicy:RolePolicy"}
    # cluster secrets key, training jobs, Karpenter's controller, the EBS CSI driver's key use,
    # model serving (read) and MLflow (read/write) on the models zone; the catalog's Lake
    # Formation data access and its four teams' roles
    assert len(inline_roles) == 12 and not inline_roles & node_role_ids
