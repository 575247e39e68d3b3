"""The security and sovereignty baseline reaches what Karpenter launches and what StorageClasses
create: IMDSv2 and encrypted, customer-keyed volumes on EC2NodeClasses, encrypted and
customer-keyed StorageClasses, spot only for interruption-tolerant pools (NodePools)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from policies import BY_NAME, evaluate

GOLDEN = Path(__file__).parent / "golden"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"


def plan(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((GOLDEN / f"{name}.plan.json").read_text()))


def messages(p: dict[str, Any], rule: str) -> list[str]:
    return [v.message for v in evaluate(p, [BY_NAME[rule]]).violations]


def one(p: dict[str, Any], name: str) -> dict[str, Any]:
    [r] = [r for r in p["resources"] if r["name"] == name]
    return r


@pytest.mark.parametrize("rule", ["security-instance-imdsv2",
                                  "security-storage-encryption-at-rest",
                                  "capacity-spot-interruption"])
@pytest.mark.parametrize("name", ["cloud-aws", "hybrid"])
def test_the_examples_node_classes_and_storage_classes_pass(name: str, rule: str) -> None:
    assert messages(plan(name), rule) == []


def test_sovereign_node_classes_and_storage_classes_use_customer_keys() -> None:
    assert messages(plan("sovereign-eu"), "sovereignty-store-customer-keys") == []


def test_a_node_class_allowing_imdsv1_fails() -> None:
    p = plan("cloud-aws")
    one(p, "aws-prod-train-h100-node-class")["inputs"]["spec"]["metadataOptions"][
        "httpTokens"] = "optional"
    assert messages(p, "security-instance-imdsv2") == [
        "EC2NodeClass aws-prod-train-h100-node-class lets the nodes Karpenter launches use "
        "IMDSv1 (spec.metadataOptions.httpTokens is optional, not required)"]


def test_unencrypted_node_class_volumes_and_storage_classes_fail() -> None:
    p = plan("cloud-aws")
    one(p, "aws-prod-train-h100-node-class")["inputs"]["spec"]["blockDeviceMappings"][0][
        "ebs"]["encrypted"] = False
    one(p, "aws-prod-platform-storage-default-class")["inputs"]["parameters"][
        "encrypted"] = "false"
    assert sorted(messages(p, "security-storage-encryption-at-rest")) == [
        "EC2NodeClass aws-prod-train-h100-node-class maps unencrypted volumes: /dev/xvda",
        "StorageClass aws-prod-platform-storage-default-class creates unencrypted EBS volumes "
        "(parameters.encrypted is not 'true')"]


def test_sovereign_stores_without_customer_keys_fail() -> None:
    p = plan("sovereign-eu")
    del one(p, "aws-eu-burst-l40s-node-class")["inputs"]["spec"]["blockDeviceMappings"]
    del one(p, "gcp-eu-platform-storage-default-class")["inputs"]["parameters"][
        "disk-encryption-kms-key"]
    del one(p, "aws-eu-platform-storage-default-class")["inputs"]["parameters"]["kmsKeyId"]
    assert sorted(messages(p, "sovereignty-store-customer-keys")) == [
        "EC2NodeClass aws-eu-burst-l40s-node-class declares no block device mappings, so "
        "Karpenter's default root volume uses the account's default key (add ebs with encrypted "
        "and kmsKeyID)",
        "StorageClass aws-eu-platform-storage-default-class creates EBS volumes without a "
        "customer-managed key (parameters.kmsKeyId)",
        "StorageClass gcp-eu-platform-storage-default-class creates persistent disks without a "
        "customer-managed key (parameters.disk-encryption-kms-key)"]


def test_a_spot_node_pool_of_a_pool_that_cannot_be_interrupted_fails() -> None:
    p = plan("cloud-aws")
    one(p, "aws-prod-train-h100-node-pool")["inputs"]["spec"]["template"]["spec"][
        "requirements"][1]["values"] = ["spot"]
    assert messages(p, "capacity-spot-interruption") == [
        "NodePool aws-prod-train-h100-node-pool of pool train-h100 uses spot capacity (NodePool "
        "requirement karpenter.sh/capacity-type spot) but the pool does not declare "
        "interruption_tolerant"]
