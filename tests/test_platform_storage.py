"""Storage on every cluster: the EBS CSI add-on and its IRSA role, the default StorageClass of EKS
(gp3, customer-managed key) and GKE (pd-balanced, CMEK), a site's own class; the volume rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from conftest import EXAMPLES

from aifactory.cli import main
from blueprints.errors import ComponentArgsError
from components.aws import AwsLocation, BlockStorage, BlockStorageArgs
from components.platform import ClusterStorage, ClusterStorageArgs
from policies import BY_NAME, evaluate

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
LONDON = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/1111"


def test_ebs_csi_driver_is_an_eks_add_on_with_its_own_irsa_role(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: BlockStorage("prod-block-storage", BlockStorageArgs(
        location=LONDON, cluster_name="acme-prod", cluster="acme-prod",
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks/id/X",
        oidc_issuer="oidc.eks/id/X", kms_key_arn=KEY)))
    addon = rec.one("aws:eks/addon:Addon")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    role = rec.one("aws:iam/role:Role")
    assert addon.inputs["serviceAccountRoleArn"] == "arn:aws:iam:::prod-block-storage-role"
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Condition"]["StringEquals"]["oidc.eks/id/X:sub"] == [
        "system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    assert rec.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
    key_use = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert {s["Sid"]: s["Resource"] for s in key_use["Statement"]} == {
        "UseTheVolumeKey": [KEY], "GrantTheVolumeKeyToEbs": [KEY]}
    [grant] = [s for s in key_use["Statement"] if s["Sid"] == "GrantTheVolumeKeyToEbs"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


@pytest.mark.parametrize(("substrate", "key", "name", "provisioner", "parameters"), [
    ("aws", KEY, "gp3-encrypted", "ebs.csi.aws.com",
     {"type": "gp3", "encrypted": "true", "kmsKeyId": KEY, "csi.storage.k8s.io/fstype": "ext4"}),
    ("gcp", "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/disks",
     "pd-balanced-cmek", "pd.csi.storage.gke.io",
     {"type": "pd-balanced",
      "disk-encryption-kms-key": "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/disks"}),
])
def test_cloud_clusters_get_a_default_class_encrypted_with_their_key(
        run, substrate, key, name, provisioner, parameters) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: ClusterStorage("s", ClusterStorageArgs(substrate=substrate, kms_key=key)))
    cls = rec.one(STORAGE_CLASS).inputs
    assert cls["metadata"] == {"name": name, "labels": {}, "annotations": {
        "storageclass.kubernetes.io/is-default-class": "true"}}
    assert (cls["provisioner"], cls["parameters"]) == (provisioner, parameters)
    assert (cls["volumeBindingMode"], cls["allowVolumeExpansion"]) == (
        "WaitForFirstConsumer", True)
    assert rec.one("aifactory:platform:ClusterStorage").inputs["storageClass"] == name


def test_a_site_names_its_existing_class_and_creates_none(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: ClusterStorage("s", ClusterStorageArgs(substrate="onprem",
                                                             existing_class="ceph-rbd")))
    assert rec.of_type(STORAGE_CLASS) == []
    assert rec.one("aifactory:platform:ClusterStorage").inputs["existingClasses"] == ["ceph-rbd"]


@pytest.mark.parametrize(("args", "message"), [
    (ClusterStorageArgs(substrate="onprem"),
     "`existing_class` is empty: a site's cluster keeps its own storage; name its StorageClass "
     "(environments.<site>.cluster.storage_class)"),
    (ClusterStorageArgs(substrate="aws"),
     "`kms_key` is missing: the aws default class encrypts volumes with the environment's "
     "customer-managed key"),
    (ClusterStorageArgs(substrate="gcp", kms_key="k", existing_class="x"),
     "`existing_class` ('x') is for sites: on gcp the platform creates its class"),
])
def test_bad_storage_arguments_are_refused(run, args, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as err:
        run(lambda: ClusterStorage("s", args, pulumi.ResourceOptions()))
    assert str(err.value) == message


def _plan(name: str) -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "golden" / f"{name}.plan.json").read_text())


def test_aws_plans_have_the_ebs_add_on_and_an_encrypted_default_class() -> None:
    """Done when: the EBS CSI add-on and a default encrypted StorageClass are in the AWS plans,
    a CMEK StorageClass in the GCP plans."""
    for name, envs in (("cloud-aws", ["aws-prod"]), ("hybrid", ["aws-burst"]),
                       ("sovereign-eu", ["aws-eu"])):
        plan = _plan(name)
        addons = {r["name"] for r in plan["resources"] if r["type"] == "aws:eks/addon:Addon"
                  and r["inputs"]["addonName"] == "aws-ebs-csi-driver"}
        assert addons == {f"{e}-block-storage-addon" for e in envs}, name
        classes = [r["inputs"] for r in plan["resources"] if r["type"] == STORAGE_CLASS
                   and r["inputs"]["provisioner"] == "ebs.csi.aws.com"]
        assert len(classes) == len(envs)
        for c in classes:
            assert c["parameters"]["encrypted"] == "true" and c["parameters"]["kmsKeyId"]
            assert c["metadata"]["annotations"] == {
                "storageclass.kubernetes.io/is-default-class": "true"}
    for name in ("cloud-gcp", "sovereign-eu"):
        [gke] = [r["inputs"] for r in _plan(name)["resources"] if r["type"] == STORAGE_CLASS
                 and r["inputs"]["provisioner"] == "pd.csi.storage.gke.io"]
        assert gke["parameters"]["disk-encryption-kms-key"].endswith("-kms-disks-id")


def test_prometheus_claims_its_volume_from_the_clusters_class() -> None:
    for name, expected in (("cloud-aws", {"aws-prod": "gp3-encrypted"}),
                           ("hybrid", {"aws-burst": "gp3-encrypted", "dc1": "ceph-rbd"})):
        charts = {r["name"].removesuffix("-platform-monitoring-chart"):
                  r["inputs"]["values"]["prometheus"]["prometheusSpec"]["storageSpec"][
                      "volumeClaimTemplate"]["spec"]["storageClassName"]
                  for r in _plan(name)["resources"]
                  if r["name"].endswith("-platform-monitoring-chart")}
        assert charts == expected


def test_a_site_that_needs_a_volume_but_names_no_class_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Done when: a site that needs a volume but names no class exits 2 with
    file:line: field: message."""
    text = (EXAMPLES / "hybrid.yaml").read_text()
    path = tmp_path / "hybrid.yaml"
    path.write_text(text.replace("      storage_class: ceph-rbd             # the cluster's "
                                 "existing class: Prometheus' volume\n", ""))
    assert main(["plan", str(path)]) == 2
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1)
                if t.strip() == "cluster:")
    assert capsys.readouterr().err == (
        f"{path}:{line}: environments.dc1.cluster.storage_class: required: Prometheus "
        "(monitoring) needs a persistent volume on the site's cluster, and the factory installs "
        "no storage there; name the cluster's existing StorageClass (kubectl get storageclass), "
        "e.g. storage_class: ceph-rbd\n1 error: the blueprint was not loaded\n")


# -- capacity-volume-class-exists ---------------------------------------------------------------

def _messages(plan: dict[str, Any]) -> list[str]:
    return [v.message for v in evaluate(plan, [BY_NAME["capacity-volume-class-exists"]])
            .violations]


@pytest.mark.parametrize("name", ["cloud-aws", "cloud-gcp", "hybrid", "sovereign-eu"])
def test_every_example_claims_volumes_of_existing_classes(name: str) -> None:
    assert _messages(_plan(name)) == []


def test_a_claim_of_a_class_the_cluster_lacks_fails() -> None:
    plan = _plan("hybrid")
    for r in plan["resources"]:
        if r["type"] == "aifactory:platform:ClusterStorage" and r["inputs"]["existingClasses"]:
            r["inputs"]["existingClasses"] = ["local-path"]
    assert _messages(plan) == [
        "dc1-platform-monitoring-chart claims a volume (values.prometheus.prometheusSpec."
        "storageSpec.volumeClaimTemplate) of StorageClass 'ceph-rbd', which does not exist in "
        "cluster dc1 (classes there: local-path, nfs-training): the claim would never bind"]
    # (nfs-training: the class the site's training volumes name, declared beside it)


def test_a_claim_without_class_needs_a_default_class() -> None:
    plan = _plan("cloud-aws")
    for r in plan["resources"]:
        if r["name"] == "aws-prod-platform-monitoring-chart":
            del r["inputs"]["values"]["prometheus"]["prometheusSpec"]["storageSpec"][
                "volumeClaimTemplate"]["spec"]["storageClassName"]
    assert _messages(plan) == []  # gp3-encrypted is the default class
    plan["resources"] = [r for r in plan["resources"] if r["type"] != STORAGE_CLASS]
    assert _messages(plan) == [
        "aws-prod-platform-monitoring-chart claims a volume (values.prometheus.prometheusSpec."
        "storageSpec.volumeClaimTemplate) without a StorageClass, and cluster aws-prod has no "
        "default class the plan knows of (classes there: none): the claim would never bind"]


def test_rendered_volume_claims_name_the_class(tmp_path: Path) -> None:
    assert main(["render", str(EXAMPLES / "cloud-aws.yaml"), "--out", str(tmp_path)]) == 0
    release = yaml.safe_load((tmp_path / "manifests" / "aws-prod" / "helm" /
                              "aws-prod-platform-monitoring-chart.yaml").read_text().split(
                                  "\n", 1)[1])
    [values] = release["releases"][0]["values"]
    assert values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"][
        "spec"]["storageClassName"] == "gp3-encrypted"
