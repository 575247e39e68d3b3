"""EksCluster: private endpoint, CMK on secrets, logs, OIDC, add-ons, system nodes, kubeconfig."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from blueprints.errors import ComponentArgsError
from components.aws import AwsLocation, EksCluster, EksClusterArgs, kubeconfig

LONDON = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/1111"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
CLUSTER = "aws:eks/cluster:Cluster"


def args(**overrides: Any) -> EksClusterArgs:
    values: dict[str, Any] = dict(location=LONDON, cluster_name="acme-prod",
                                  kubernetes_version="1.33", subnet_ids=SUBNETS,
                                  kms_key_arn=KEY, log_retention_days=400,
                                  node_tags={"Owner": "ml-platform"})
    values.update(overrides)
    return EksClusterArgs(**values)


def test_private_endpoint_and_secrets_under_the_customer_key(run) -> None:
    rec = run(lambda: EksCluster("eks", args()))
    cluster = rec.one(CLUSTER, "eks-cluster")
    assert cluster.inputs["name"] == "acme-prod"
    assert cluster.inputs["version"] == "1.33"
    assert cluster.inputs["vpcConfig"] == {"endpointPrivateAccess": True,
                                           "endpointPublicAccess": False,
                                           "subnetIds": SUBNETS}
    assert cluster.inputs["encryptionConfig"] == {"provider": {"keyArn": KEY},
                                                  "resources": ["secrets"]}
    assert cluster.inputs["accessConfig"] == {"authenticationMode": "API",
                                              "bootstrapClusterCreatorAdminPermissions": True}
    assert cluster.inputs["bootstrapSelfManagedAddons"] is False


def test_every_control_plane_log_goes_to_an_encrypted_group_made_first(run) -> None:
    rec = run(lambda: EksCluster("eks", args()))
    cluster = rec.one(CLUSTER)
    assert cluster.inputs["enabledClusterLogTypes"] == [
        "api", "audit", "authenticator", "controllerManager", "scheduler"]
    group = rec.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == "/aws/eks/acme-prod/cluster"
    assert group.inputs["retentionInDays"] == 400
    assert group.inputs["kmsKeyId"] == KEY
    assert group.urn in cluster.dependencies
    assert group.protect  # the audit log is compliance evidence


def test_cluster_role_has_the_cluster_policy_and_only_its_key(run) -> None:
    rec = run(lambda: EksCluster("eks", args()))
    role = rec.one("aws:iam/role:Role", "eks-cluster-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "eks.amazonaws.com"}]
    attached = [a.inputs["policyArn"] for a in rec.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == "acme-prod-cluster"]
    assert attached == ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
    inline = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert inline["Statement"] == [{
        "Sid": "EncryptSecretsWithTheClusterKey", "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
        "Resource": [KEY]}]


def test_oidc_provider_for_workload_identity(run) -> None:
    rec = run(lambda: EksCluster("eks", args()))
    oidc = rec.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    # Offline, EKS has not assigned the issuer id yet; the plan says so instead of inventing one.
    assert oidc.inputs["url"] == "https://oidc.eks.eu-west-2.amazonaws.com/id/(known after apply)"
    assert "thumbprintLists" not in oidc.inputs


def test_core_addons_and_coredns_waits_for_untainted_system_nodes(run) -> None:
    rec = run(lambda: EksCluster("eks", args()))
    addons = {a.inputs["addonName"]: a for a in rec.of_type("aws:eks/addon:Addon")}
    assert sorted(addons) == ["coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]
    assert all(a.inputs["clusterName"] == "acme-prod" for a in addons.values())
    system = rec.one("aws:eks/nodeGroup:NodeGroup", "eks-system-nodes")
    assert system.urn in addons["coredns"].dependencies
    for network_addon in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert addons[network_addon].urn in system.dependencies
    assert "taints" not in system.inputs
    assert system.inputs["scalingConfig"] == {"desiredSize": 2, "maxSize": 4, "minSize": 2}
    assert system.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    template = rec.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["blockDeviceMappings"][0]["ebs"]["kmsKeyId"] == KEY
    assert template.inputs["tagSpecifications"][0]["tags"] == {
        "Name": "acme-prod-system", "Owner": "ml-platform"}


def test_public_endpoint_only_for_listed_networks(run) -> None:
    rec = run(lambda: EksCluster("eks", args(endpoint_public_access=True,
                                             public_access_cidrs=["203.0.113.0/24"])))
    assert rec.one(CLUSTER).inputs["vpcConfig"] == {
        "endpointPrivateAccess": True, "endpointPublicAccess": True,
        "publicAccessCidrs": ["203.0.113.0/24"], "subnetIds": SUBNETS}


def test_every_child_is_parented_to_the_cluster(run) -> None:
    rec = run(lambda: EksCluster("eks", args()))
    component = rec.one("aifactory:aws:EksCluster", "eks")
    assert all(r.parent == component.urn for r in rec.all if r is not component)


def test_kubeconfig_is_secret_and_uses_aws_eks_get_token(run) -> None:
    rendered: list[str] = []

    def program() -> None:
        cluster = EksCluster("eks", args())
        config = kubeconfig(cluster, "eu-west-2")
        config.apply(rendered.append)
        k8s.Provider("k8s", kubeconfig=config, opts=pulumi.ResourceOptions(parent=cluster))

    rec = run(program)
    assert rec.one("pulumi:providers:kubernetes").inputs["kubeconfig"] == "[secret]"
    user = json.loads(rendered[0])["users"][0]["user"]["exec"]
    assert user["command"] == "aws"
    assert user["args"] == ["eks", "get-token", "--cluster-name", "acme-prod",
                            "--region", "eu-west-2", "--output", "json"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]},
     "EksCluster eks: public_access_cidrs contains 0.0.0.0/0, which opens the Kubernetes API "
     "to the whole internet: list your operators' networks instead"),
    ({"endpoint_public_access": True},
     "EksCluster eks: endpoint_public_access is true but public_access_cidrs is empty, which "
     "EKS reads as 0.0.0.0/0: list the CIDRs of your operators' networks"),
    ({"public_access_cidrs": ["203.0.113.0/24"]},
     "EksCluster eks: public_access_cidrs (203.0.113.0/24) is set but endpoint_public_access "
     "is false: drop the CIDRs or enable the public endpoint"),
    ({"endpoint_public_access": True, "public_access_cidrs": ["203.0.113.0/33"]},
     "EksCluster eks: public_access_cidrs entry '203.0.113.0/33' is not an IPv4 CIDR block "
     "('33' is not a valid netmask)"),
    ({"system_min_nodes": 3, "system_max_nodes": 2},
     "EksCluster eks: system_min_nodes (3) must be at least 1 and at most system_max_nodes (2)"),
])
def test_bad_arguments_are_refused(run, overrides, message) -> None:
    with pytest.raises(ComponentArgsError) as error:
        EksCluster("eks", args(**overrides))
    assert str(error.value) == message


def test_the_vpc_cni_runs_under_its_own_irsa_role(run) -> None:
    rec = run(lambda: EksCluster("eks", args()))
    role = rec.one("aws:iam/role:Role", "eks-vpc-cni-role")
    assert role.inputs["name"] == "acme-prod-vpc-cni"
    issuer = "oidc.eks.eu-west-2.amazonaws.com/id/(known after apply)"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [{
        "Sid": "ServiceAccountsOfTheCluster", "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com",
                                       f"{issuer}:sub": ["system:serviceaccount:kube-system:"
                                                         "aws-node"]}}}]
    attachment = rec.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                         "eks-vpc-cni-role-amazoneks-cni-policy")
    assert attachment.inputs == {"role": "acme-prod-vpc-cni",
                                 "policyArn": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}
    addons = {a.inputs["addonName"]: a for a in rec.of_type("aws:eks/addon:Addon")}
    # the role's ARN, as the recording mocks make it up
    assert addons["vpc-cni"].inputs["serviceAccountRoleArn"] == "arn:aws:iam:::eks-vpc-cni-role"
    assert attachment.urn in addons["vpc-cni"].dependencies
    assert all("serviceAccountRoleArn" not in a.inputs for n, a in addons.items()
               if n != "vpc-cni")
    # ... and no node role carries the CNI policy any more
    node_policies = [a.inputs["policyArn"] for a in rec.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.inputs["role"] !=
        "acme-prod-vpc-cni"]
    assert "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy" not in node_policies
