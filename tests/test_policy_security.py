"""Security baseline rules (always on) on the sovereign fixtures, which meet all of them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from policy_fixtures import add, inputs, load, resource

from policies import BY_NAME, RULES, evaluate
from policies.rules.security_iam_no_wildcard import wildcard_statements

TODAY = date(2026, 1, 15)
SECURITY = [r.name for r in RULES if r.domain == "security"]


def messages(plan: dict, rule: str) -> list[str]:
    return [v.message for v in evaluate(plan, [BY_NAME[rule]], today=TODAY).violations]


@pytest.fixture
def aws() -> dict:
    return load("sovereign-aws")


@pytest.fixture
def gcp() -> dict:
    return load("sovereign-gcp")


@pytest.mark.parametrize("rule", SECURITY)
@pytest.mark.parametrize("fixture", ["sovereign-aws", "sovereign-gcp"])
def test_baseline_fixtures_pass(fixture: str, rule: str) -> None:
    assert messages(load(fixture), rule) == []


@pytest.mark.parametrize("rule", SECURITY)
def test_baseline_applies_without_a_jurisdiction(aws: dict, rule: str) -> None:
    inputs(aws, "acme-eu")["jurisdiction"] = None
    result = evaluate(aws, [BY_NAME[rule]], today=TODAY)
    assert [o.state for o in result.outcomes] == ["passed"]


def test_unencrypted_volumes_and_cluster_secrets(aws: dict, gcp: dict) -> None:
    inputs(aws, "gpu-lt")["blockDeviceMappings"][0]["ebs"]["encrypted"] = "false"
    inputs(aws, "cluster")["encryptionConfig"]["resources"] = []
    add(aws, {"type": "aws:ebs/volume:Volume", "name": "scratch", "parent": "aws-eu",
              "provider": "aws-eu-provider", "inputs": {"availabilityZone": "eu-central-1a",
                                                        "size": 500}})
    assert messages(aws, "security-storage-encryption-at-rest") == [
        "Cluster cluster does not envelope-encrypt Kubernetes secrets (encryptionConfig)",
        "LaunchTemplate gpu-lt maps unencrypted volumes: /dev/xvda",
        "Volume scratch is not encrypted (encrypted is not true)"]
    del inputs(gcp, "cluster")["databaseEncryption"]
    assert messages(gcp, "security-storage-encryption-at-rest") == [
        "Cluster cluster does not encrypt Kubernetes secrets at the application layer "
        "(databaseEncryption)"]


def test_launch_template_allowing_imdsv1(aws: dict) -> None:
    inputs(aws, "gpu-lt")["metadataOptions"] = {"httpTokens": "optional"}
    assert messages(aws, "security-instance-imdsv2") == [
        "LaunchTemplate gpu-lt allows IMDSv1 (metadataOptions.httpTokens is optional, not "
        "required)"]
    del inputs(aws, "gpu-lt")["metadataOptions"]
    assert messages(aws, "security-instance-imdsv2") == [
        "LaunchTemplate gpu-lt allows IMDSv1 (metadataOptions.httpTokens is unset, not "
        "required)"]


def test_public_cluster_endpoints(aws: dict, gcp: dict) -> None:
    inputs(aws, "cluster")["vpcConfig"] = {"subnetIds": ["subnet-a"]}  # EKS defaults
    assert messages(aws, "security-cluster-private-endpoint") == [
        "EKS cluster cluster exposes its API endpoint publicly (to 0.0.0.0/0)",
        "EKS cluster cluster has no private API endpoint (endpointPrivateAccess is not true)"]
    inputs(gcp, "cluster")["privateClusterConfig"]["enablePrivateEndpoint"] = False
    assert messages(gcp, "security-cluster-private-endpoint") == [
        "GKE cluster cluster exposes its control-plane endpoint publicly "
        "(privateClusterConfig.enablePrivateEndpoint is not true)"]


def test_mutable_unscanned_registries(aws: dict, gcp: dict) -> None:
    inputs(aws, "training").update(imageTagMutability="MUTABLE",
                                   imageScanningConfiguration={"scanOnPush": False})
    assert messages(aws, "security-registry-immutable-scanned") == [
        "ECR repository training lets tags move (imageTagMutability MUTABLE)",
        "ECR repository training does not scan images on push"]
    inputs(gcp, "images").update(dockerConfig={"immutableTags": False},
                                 vulnerabilityScanningConfig={"enablementConfig": "DISABLED"})
    assert messages(gcp, "security-registry-immutable-scanned") == [
        "Artifact Registry repository images lets tags move (dockerConfig.immutableTags is not "
        "true)",
        "Artifact Registry repository images disables vulnerability scanning"]


def test_enhanced_registry_scanning_covers_scan_on_push(aws: dict) -> None:
    inputs(aws, "training")["imageScanningConfiguration"] = {"scanOnPush": False}
    add(aws, {"type": "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
              "name": "scanning", "parent": "aws-eu", "provider": "aws-eu-provider",
              "inputs": {"scanType": "ENHANCED"}})
    assert messages(aws, "security-registry-immutable-scanned") == []


def test_wildcard_iam(aws: dict, gcp: dict) -> None:
    inputs(aws, "lakehouse-read")["policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]})
    inputs(aws, "node-worker-policy")["policyArn"] = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert messages(aws, "security-iam-no-wildcard") == [
        "IAM policy lakehouse-read statement 1 allows Action '*' on Resource '*'",
        "node-worker-policy attaches AdministratorAccess, which allows every action (or every "
        "IAM action, and so any other)"]
    add(gcp, {"type": "gcp:projects/iAMMember:IAMMember", "name": "ci-owner", "parent": "gcp-eu",
              "provider": "gcp-eu-provider", "inputs": {"project": "acme-eu-ml",
                                                        "role": "roles/owner",
                                                        "member": "serviceAccount:ci@x"}})
    assert messages(gcp, "security-iam-no-wildcard") == [
        "ci-owner grants the primitive role roles/owner, which allows nearly every action"]


def test_wildcard_iam_on_roles(aws: dict) -> None:
    add(aws, {"type": "aws:iam/role:Role", "name": "ci-role", "parent": "aws-eu",
              "provider": "aws-eu-provider", "inputs": {
                  "assumeRolePolicy": "{}",
                  "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                                        "arn:aws:iam::aws:policy/IAMFullAccess"],
                  "inlinePolicies": [{"name": "keys", "policy": json.dumps({"Statement": [
                      {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"},
                      {"Effect": "Allow", "Action": ["kms:*", "iam:*"], "Resource": "*"}]})}]}},
        {"type": "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
         "name": "ci-attachments", "parent": "aws-eu", "provider": "aws-eu-provider",
         "inputs": {"roleName": "ci", "policyArns": [
             "arn:aws:iam::aws:policy/PowerUserAccess"]}})
    assert messages(aws, "security-iam-no-wildcard") == [
        "role ci-role inline policy keys statement 1 allows Action 'kms:*', 'iam:*' on "
        "Resource '*'",
        "ci-role attaches IAMFullAccess (managedPolicyArns), which allows every action (or "
        "every IAM action, and so any other)",
        "ci-attachments attaches PowerUserAccess, which allows every action (or every IAM "
        "action, and so any other)"]


def test_not_action_and_not_resource_grant_nearly_everything(aws: dict) -> None:
    inputs(aws, "lakehouse-read")["policy"] = json.dumps({"Statement": [
        {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit/*"},
        {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}]})
    assert messages(aws, "security-iam-no-wildcard") == [
        "IAM policy lakehouse-read statement 0 allows every action but ['iam:*'] (NotAction) "
        "on Resource '*'",
        "IAM policy lakehouse-read statement 1 allows Action '*' on every resource but "
        "['arn:aws:s3:::audit/*'] (NotResource)"]


def test_wildcard_statements_read_policy_documents() -> None:
    deny = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    scoped = {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}}
    assert wildcard_statements(deny) == [] and wildcard_statements(scoped) == []
    assert wildcard_statements('{"Statement": [{"Effect": "Allow", "Action": "*:*", '
                               '"Resource": "*"}]}') == [0]
    assert wildcard_statements("[unknown]") == []
    scoped_service = {"Statement": [{"Effect": "Allow", "Action": "s3:*",
                                     "Resource": "arn:aws:s3:::b/*"}]}
    assert wildcard_statements(scoped_service) == []
    assert wildcard_statements({"Statement": [{"Effect": "Allow", "Action": "s3:Get*",
                                               "Resource": "*"}]}) == []


def test_unprotected_data_stores(aws: dict, gcp: dict) -> None:
    resource(aws, "raw")["protect"] = False
    resource(aws, "data-key")["protect"] = False
    assert messages(aws, "security-data-protected") == [
        "Key data-key holds data but is not protected: `pulumi destroy` or a replacement would "
        "delete it",
        "Bucket raw holds data but is not protected: `pulumi destroy` or a replacement would "
        "delete it"]
    resource(gcp, "images")["protect"] = False
    assert messages(gcp, "security-data-protected") == [
        "Repository images holds data but is not protected: `pulumi destroy` or a replacement "
        "would delete it"]
