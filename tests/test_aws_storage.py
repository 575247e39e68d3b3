"""Data-bearing AWS blocks: KMS key, lakehouse buckets (and replicas), ECR registry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blueprints.errors import ComponentArgsError
from components.aws import (
    AwsLocation,
    KmsKey,
    KmsKeyArgs,
    Lakehouse,
    LakehouseArgs,
    Registry,
    RegistryArgs,
    ZoneRules,
)

LONDON = AwsLocation(partition="aws", region="eu-west-2", account_id="123456789012")
KEY = "arn:aws:kms:eu-west-2:123456789012:key/1111"
BUCKET = "aws:s3/bucket:Bucket"
ZONES = {"raw": ZoneRules(retention_days=730, archive_after_days=90),
         "curated": ZoneRules(),
         "features": ZoneRules(noncurrent_retention_days=14)}


def lakehouse_args(**overrides: Any) -> LakehouseArgs:
    values: dict[str, Any] = dict(location=LONDON, factory="acme", name_prefix="acme-prod",
                                  zones=ZONES, kms_key_arn=KEY,
                                  default_tags={"Owner": "ml-platform"})
    values.update(overrides)
    return LakehouseArgs(**values)


# --- KMS key ------------------------------------------------------------------------------------


def test_key_rotates_is_protected_and_has_an_alias(run) -> None:
    rec = run(lambda: KmsKey("key", KmsKeyArgs(location=LONDON, alias="acme/prod",
                                               description="everything")))
    key = rec.one("aws:kms/key:Key")
    assert key.protect is True
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert rec.one("aws:kms/alias:Alias").inputs == {"name": "alias/acme/prod",
                                                     "targetKeyId": "arn:aws:kms:::key-key"}
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountAdministersKeyThroughIam"]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:root"}
    assert statements["CloudWatchLogsOfThisAccount"]["Principal"] == {
        "Service": "logs.eu-west-2.amazonaws.com"}
    assert statements["EbsThroughEc2OfThisAccount"]["Condition"] == {"StringEquals": {
        "kms:CallerAccount": "123456789012", "kms:ViaService": "ec2.eu-west-2.amazonaws.com"}}
    assert all(s["Action"] != "*" for s in statements.values())
    component = rec.one("aifactory:aws:KmsKey")
    assert all(r.parent == component.urn for r in rec.all if r is not component)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"deletion_window_days": 3},
     "KmsKey key: deletion_window_days (3) must lie between 7 and 30: use 30 unless the key "
     "holds nothing yet"),
    ({"alias": "alias/acme"},
     "KmsKey key: alias ('alias/acme') must be a bare name such as 'acme/prod': drop the "
     "'alias/' prefix; 'aws/' names are reserved"),
])
def test_bad_key_arguments(overrides, message) -> None:
    values: dict[str, Any] = dict(location=LONDON, alias="acme/prod", description="x")
    values.update(overrides)
    with pytest.raises(ComponentArgsError) as error:
        KmsKey("key", KmsKeyArgs(**values))
    assert str(error.value) == message


# --- Lakehouse ----------------------------------------------------------------------------------


def test_one_protected_bucket_per_zone(run) -> None:
    rec = run(lambda: Lakehouse("lake", lakehouse_args()))
    buckets = {b.name: b for b in rec.of_type(BUCKET)}
    assert sorted(buckets) == ["lake-curated-bucket", "lake-features-bucket", "lake-raw-bucket"]
    raw = buckets["lake-raw-bucket"]
    assert raw.protect is True
    assert raw.inputs["bucket"] == "acme-raw-123456789012-eu-west-2"
    assert raw.inputs["forceDestroy"] is False
    assert raw.inputs["tags"]["aifactory.io/zone"] == "raw"


def test_buckets_are_versioned_encrypted_private_and_owner_enforced(run) -> None:
    rec = run(lambda: Lakehouse("lake", lakehouse_args()))
    for zone in ZONES:
        bucket_id = f"lake-{zone}-bucket-id"
        versioning = rec.one("aws:s3/bucketVersioning:BucketVersioning", f"lake-{zone}-versioning")
        assert versioning.inputs == {"bucket": bucket_id,
                                     "versioningConfiguration": {"status": "Enabled"}}
        sse = rec.one("aws:s3/bucketServerSideEncryptionConfiguration:"
                      "BucketServerSideEncryptionConfiguration", f"lake-{zone}-encryption")
        assert sse.inputs["rules"] == [{
            "applyServerSideEncryptionByDefault": {"kmsMasterKeyId": KEY,
                                                   "sseAlgorithm": "aws:kms"},
            "bucketKeyEnabled": True}]
        block = rec.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                        f"lake-{zone}-public-access-block")
        assert block.inputs == {"bucket": bucket_id, "blockPublicAcls": True,
                                "blockPublicPolicy": True, "ignorePublicAcls": True,
                                "restrictPublicBuckets": True}
        ownership = rec.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls",
                            f"lake-{zone}-ownership")
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_lifecycle_rules_follow_each_zone(run) -> None:
    rec = run(lambda: Lakehouse("lake", lakehouse_args()))
    kind = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    raw = {r["id"]: r for r in rec.one(kind, "lake-raw-lifecycle").inputs["rules"]}
    assert raw["expire-after-retention"]["expiration"] == {"days": 730}
    assert raw["archive"]["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]
    assert raw["expire-superseded-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 30}
    assert raw["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 7}
    assert all(rule["status"] == "Enabled" and rule["filter"] == {} for rule in raw.values())
    features = {r["id"]: r for r in rec.one(kind, "lake-features-lifecycle").inputs["rules"]}
    assert sorted(features) == ["abort-incomplete-multipart-uploads",
                                "expire-superseded-versions"]
    assert features["expire-superseded-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 14}


def test_bucket_policy_refuses_requests_without_tls(run) -> None:
    rec = run(lambda: Lakehouse("lake", lakehouse_args()))
    policy = rec.one("aws:s3/bucketPolicy:BucketPolicy", "lake-curated-policy")
    arn = "arn:aws:s3:::acme-curated-123456789012-eu-west-2"
    assert json.loads(policy.inputs["policy"])["Statement"] == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    block = rec.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                    "lake-curated-public-access-block")
    assert block.urn in policy.dependencies


def test_every_lakehouse_resource_is_parented_to_its_component(run) -> None:
    rec = run(lambda: Lakehouse("lake", lakehouse_args()))
    lakehouse = rec.one("aifactory:aws:Lakehouse")
    zones = rec.of_type("aifactory:aws:SecureBucket")
    assert len(zones) == 3
    assert all(z.parent == lakehouse.urn for z in zones)
    assert all(r.parent in {z.urn for z in zones} for r in rec.all if r.custom)


def test_replication_to_a_second_region_under_its_own_key(run) -> None:
    rec = run(lambda: Lakehouse("lake", lakehouse_args(replication_region="eu-west-1")))
    provider = rec.one("pulumi:providers:aws", "lake-replica-provider")
    assert provider.inputs["region"] == "eu-west-1"
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["123456789012"]
    replica = rec.one(BUCKET, "lake-raw-replica-bucket")
    assert replica.inputs["bucket"] == "acme-raw-123456789012-eu-west-1"
    assert replica.protect is True
    assert replica.provider == provider.urn
    replica_key = rec.one("aws:kms/key:Key", "lake-replica-key-key")
    assert replica_key.provider == provider.urn and replica_key.protect is True
    assert rec.one(BUCKET, "lake-raw-bucket").provider is None  # the environment's provider

    config = rec.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                     "lake-raw-replication")
    assert config.inputs["bucket"] == "lake-raw-bucket-id"
    [rule] = config.inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["destination"]["bucket"] == "arn:aws:s3:::acme-raw-123456789012-eu-west-1"
    assert rule["destination"]["encryptionConfiguration"] == {
        "replicaKmsKeyId": "arn:aws:kms:::lake-replica-key-key"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    versioning = rec.one("aws:s3/bucketVersioning:BucketVersioning", "lake-raw-versioning")
    assert versioning.urn in config.dependencies


def test_replication_role_is_scoped_to_the_lakehouse(run) -> None:
    rec = run(lambda: Lakehouse("lake", lakehouse_args(replication_region="eu-west-1")))
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"]
    assert trust[0]["Principal"] == {"Service": "s3.amazonaws.com"}
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    assert "*" not in resources
    buckets = {r.split(":::", 1)[1].split("/")[0] for r in resources if ":s3:::" in r}
    assert buckets == {f"acme-{z}-123456789012-{region}" for z in ZONES
                       for region in ("eu-west-2", "eu-west-1")}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"replication_region": "eu-west-2"},
     "Lakehouse lake: replication_region (eu-west-2) is the lakehouse's own region: choose a "
     "second region to survive a regional outage"),
    ({"replication_region": "eusc-de-east-1"},
     "Lakehouse lake: replication_region (eusc-de-east-1) is in partition aws-eusc, the buckets "
     "in aws: S3 replication does not cross partitions; choose a region of the same partition"),
    ({"replication_region": "europe-west4"},
     "Lakehouse lake: replication_region ('europe-west4') is not an AWS region such as "
     "eu-west-1"),
    ({"zones": {}}, "Lakehouse lake: zones is empty: name at least one zone, e.g. raw"),
])
def test_bad_lakehouse_arguments(overrides, message) -> None:
    with pytest.raises(ComponentArgsError) as error:
        Lakehouse("lake", lakehouse_args(**overrides))
    assert str(error.value) == message


def test_archive_must_come_before_expiry(run) -> None:
    zones = {"raw": ZoneRules(retention_days=30, archive_after_days=30)}
    with pytest.raises(ComponentArgsError) as error:
        run(lambda: Lakehouse("lake", lakehouse_args(zones=zones)))
    assert str(error.value) == (
        "SecureBucket lake-raw: archive_after_days (30) is not below retention_days (30): "
        "objects would be deleted before they are archived; lower archive_after_days or raise "
        "retention_days")


# --- Registry -----------------------------------------------------------------------------------


def registry_args(**overrides: Any) -> RegistryArgs:
    values: dict[str, Any] = dict(location=LONDON, namespace="acme",
                                  repositories=["training", "serving"], kms_key_arn=KEY)
    values.update(overrides)
    return RegistryArgs(**values)


def test_repositories_are_immutable_scanned_encrypted_and_protected(run) -> None:
    rec = run(lambda: Registry("ecr", registry_args()))
    repos = {r.inputs["name"]: r for r in rec.of_type("aws:ecr/repository:Repository")}
    assert sorted(repos) == ["acme/serving", "acme/training"]
    for repo in repos.values():
        assert repo.protect is True
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS",
                                                            "kmsKey": KEY}]
        assert repo.inputs["forceDelete"] is False
    policy = rec.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "ecr-training-lifecycle")
    assert policy.inputs["repository"] == "acme/training"
    [rule] = json.loads(policy.inputs["policy"])["rules"]
    assert rule["selection"] == {"countNumber": 14, "countType": "sinceImagePushed",
                                 "countUnit": "days", "tagStatus": "untagged"}
    assert rule["action"] == {"type": "expire"}
    component = rec.one("aifactory:aws:Registry")
    assert all(r.parent == component.urn for r in rec.all if r is not component)


def test_mutable_tags_when_the_blueprint_says_so(run) -> None:
    rec = run(lambda: Registry("ecr", registry_args(immutable_tags=False, scan_on_push=False)))
    repo = rec.one("aws:ecr/repository:Repository", "ecr-training")
    assert repo.inputs["imageTagMutability"] == "MUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": False}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"repositories": []}, "Registry ecr: repositories is empty: name at least one"),
    ({"repositories": ["a", "b", "a"]},
     "Registry ecr: repositories ['a'] are listed more than once: list each repository once"),
])
def test_bad_registry_arguments(overrides, message) -> None:
    with pytest.raises(ComponentArgsError) as error:
        Registry("ecr", registry_args(**overrides))
    assert str(error.value) == message


def test_lakehouse_and_registry_register_every_output(run, monkeypatch) -> None:
    import pulumi

    registered: dict[str, list[str]] = {}
    original = pulumi.ComponentResource.register_outputs

    def capture(self: pulumi.ComponentResource, outputs: Any) -> None:
        registered[type(self).__name__] = sorted(outputs)
        original(self, outputs)

    monkeypatch.setattr(pulumi.ComponentResource, "register_outputs", capture)
    run(lambda: (Lakehouse("lake", lakehouse_args()), Registry("ecr", registry_args())))
    assert registered["Lakehouse"] == ["bucket_arns", "bucket_names"]
    assert registered["Registry"] == ["repository_arns", "repository_urls"]
