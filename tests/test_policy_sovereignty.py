"""Sovereignty rules on the readable fixtures sovereign-aws.yaml and sovereign-gcp.yaml.

Both fixtures meet every rule; each failing test changes one thing and compares the message.
"""

from __future__ import annotations

from datetime import date

import pytest
from policy_fixtures import add, inputs, load, resource

from policies import BY_NAME, RULES, evaluate

TODAY = date(2026, 1, 15)
SOVEREIGNTY = [r.name for r in RULES if r.domain == "sovereignty"]
DIGEST = "sha256:" + "a" * 64


def messages(plan: dict, rule: str) -> list[str]:
    return [v.message for v in evaluate(plan, [BY_NAME[rule]], today=TODAY).violations]


@pytest.fixture
def aws() -> dict:
    return load("sovereign-aws")


@pytest.fixture
def gcp() -> dict:
    return load("sovereign-gcp")


@pytest.mark.parametrize("rule", [r for r in SOVEREIGNTY
                                  # judges factories kept on own sites (tests/test_site_services)
                                  if r != "sovereignty-environment-own-site"])
@pytest.mark.parametrize("fixture", ["sovereign-aws", "sovereign-gcp"])
def test_sovereign_fixtures_pass(fixture: str, rule: str) -> None:
    result = evaluate(load(fixture), [BY_NAME[rule]], today=TODAY)
    assert [v.message for v in result.violations] == []
    assert [o.state for o in result.outcomes] == ["passed"]


@pytest.mark.parametrize("rule", SOVEREIGNTY)
def test_sovereignty_needs_a_jurisdiction(aws: dict, rule: str) -> None:
    inputs(aws, "acme-eu")["jurisdiction"] = None
    inputs(aws, "aws-eu")["region"] = "us-east-1"
    result = evaluate(aws, [BY_NAME[rule]], today=TODAY)
    assert [o.state for o in result.outcomes] == ["not-applicable"]


# -- sovereignty-resource-region ------------------------------------------------------------


def test_environment_region_and_partition_outside(aws: dict) -> None:
    inputs(aws, "aws-eu").update(region="eu-west-2", partition="aws-us-gov")
    assert messages(aws, "sovereignty-resource-region") == [
        "environment aws-eu: AWS partition aws-us-gov is outside EU (allowed: aws, aws-eusc)",
        "environment aws-eu: region eu-west-2 is outside EU (allowed: eu-central-1, "
        "eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, eusc-de-east-1)"]


def test_european_sovereign_cloud_partition_is_inside(aws: dict) -> None:
    inputs(aws, "aws-eu").update(region="eusc-de-east-1", partition="aws-eusc")
    inputs(aws, "aws-eu-provider")["region"] = "eusc-de-east-1"
    assert messages(aws, "sovereignty-resource-region") == []


def test_provider_region_outside(aws: dict) -> None:
    inputs(aws, "aws-eu-replica")["region"] = "us-east-1"
    assert messages(aws, "sovereignty-resource-region") == [
        "provider aws-eu-replica deploys to us-east-1, outside EU (allowed: eu-central-1, "
        "eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, eusc-de-east-1)"]


def test_resource_with_a_location_of_its_own_outside(gcp: dict) -> None:
    inputs(gcp, "curated")["location"] = "US"
    inputs(gcp, "images")["location"] = "europe-west2"
    assert messages(gcp, "sovereignty-resource-region") == [
        "Bucket curated is placed in us, outside EU (allowed: eu, eur4, europe, europe-central2, "
        "europe-north1, europe-north2, europe-southwest1, europe-west1, europe-west10, "
        "europe-west12, europe-west3, europe-west4, europe-west8, europe-west9)",
        "Repository images is placed in europe-west2, outside EU (allowed: eu, eur4, europe, "
        "europe-central2, europe-north1, europe-north2, europe-southwest1, europe-west1, "
        "europe-west10, europe-west12, europe-west3, europe-west4, europe-west8, europe-west9)"]


def test_eu_multi_region_and_zones_are_inside(gcp: dict) -> None:
    inputs(gcp, "curated")["location"] = "EU"
    inputs(gcp, "cluster")["location"] = "europe-west4-a"
    assert messages(gcp, "sovereignty-resource-region") == []


def test_resource_on_a_default_provider(aws: dict) -> None:
    add(aws, {"type": "aws:s3/bucket:Bucket", "name": "stray", "parent": "aws-eu",
              "protect": True, "inputs": {"bucket": "stray"}})
    assert messages(aws, "sovereignty-resource-region") == [
        "Bucket stray uses the default aws provider: its region cannot be shown to lie in EU"]


def test_site_country_outside() -> None:
    site = load("power-site")
    inputs(site, "acme-onprem")["jurisdiction"] = "EU"
    inputs(site, "dc1")["country"] = "CH"
    assert messages(site, "sovereignty-resource-region") == ["site dc1: country CH is outside EU"]


# -- sovereignty-replication-destination ----------------------------------------------------


def test_replication_to_a_region_outside(aws: dict) -> None:
    inputs(aws, "aws-eu-replica")["region"] = "eu-west-2"
    assert messages(aws, "sovereignty-replication-destination") == [
        "replication raw-replication rule 0 copies to bucket raw-replica in eu-west-2, outside "
        "EU (allowed: eu-central-1, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, "
        "eusc-de-east-1)"]


def test_replication_destination_known_only_by_dependency(aws: dict) -> None:
    inputs(aws, "raw-replication")["rules"][0]["destination"]["bucket"] = "[unknown]"
    inputs(aws, "aws-eu-replica")["region"] = "us-west-2"
    assert messages(aws, "sovereignty-replication-destination") == [
        "replication raw-replication rule 0 copies to bucket raw-replica in us-west-2, outside "
        "EU (allowed: eu-central-1, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, "
        "eusc-de-east-1)"]


def test_replication_outside_the_plan_and_key_outside(aws: dict) -> None:
    rule = inputs(aws, "raw-replication")["rules"][0]
    rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"] = \
        "arn:aws:kms:us-east-1:123456789012:key/x"
    assert messages(aws, "sovereignty-replication-destination") == [
        "replication raw-replication rule 0 encrypts replicas with a key in us-east-1, outside "
        "EU"]
    rule["destination"]["bucket"] = "arn:aws:s3:::someone-elses-bucket"
    resource(aws, "raw-replication")["dependencies"] = []
    assert messages(aws, "sovereignty-replication-destination")[0] == (
        "replication raw-replication rule 0 copies to arn:aws:s3:::someone-elses-bucket, a "
        "bucket outside the plan whose region cannot be shown to lie in EU")


def test_dual_region_bucket_with_a_copy_outside(gcp: dict) -> None:
    inputs(gcp, "curated")["customPlacementConfig"] = {"dataLocations": ["EUROPE-WEST4",
                                                                         "US-CENTRAL1"]}
    assert messages(gcp, "sovereignty-replication-destination") == [
        "bucket curated keeps a copy in us-central1, outside EU (allowed: eu, eur4, europe, "
        "europe-central2, europe-north1, europe-north2, europe-southwest1, europe-west1, "
        "europe-west10, europe-west12, europe-west3, europe-west4, europe-west8, europe-west9)"]


# -- sovereignty-store-customer-keys --------------------------------------------------------


def test_aws_stores_without_customer_managed_keys(aws: dict) -> None:
    inputs(aws, "raw-sse")["rules"][0]["applyServerSideEncryptionByDefault"] = {
        "sseAlgorithm": "AES256"}
    inputs(aws, "training")["encryptionConfigurations"] = [{"encryptionType": "AES256"}]
    del inputs(aws, "cluster")["encryptionConfig"]
    del inputs(aws, "gpu-lt")["blockDeviceMappings"][0]["ebs"]["kmsKeyId"]
    del inputs(aws, "cluster-logs")["kmsKeyId"]
    assert messages(aws, "sovereignty-store-customer-keys") == [
        "Bucket raw has no SSE-KMS default encryption with a customer-managed key "
        "(BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms and "
        "kmsMasterKeyId)",
        "Repository training is not encrypted with a customer-managed KMS key "
        "(encryptionConfigurations: KMS with kmsKey)",
        "Cluster cluster does not encrypt Kubernetes secrets with a customer-managed key "
        "(encryptionConfig with provider.keyArn and resources [secrets])",
        "LaunchTemplate gpu-lt has volumes without a customer-managed key: /dev/xvda",
        "LogGroup cluster-logs keeps logs without a customer-managed key (kmsKeyId)"]


def test_node_group_without_launch_template_uses_the_default_key(aws: dict) -> None:
    del inputs(aws, "gpu-nodes")["launchTemplate"]
    assert messages(aws, "sovereignty-store-customer-keys") == [
        "NodeGroup gpu-nodes has no launch template, so its volumes use the account's default "
        "key"]


def test_gcp_stores_without_customer_managed_keys(gcp: dict) -> None:
    del inputs(gcp, "curated")["encryption"]
    del inputs(gcp, "images")["kmsKeyName"]
    inputs(gcp, "cluster")["databaseEncryption"] = {"state": "DECRYPTED"}
    del inputs(gcp, "l4-nodes")["nodeConfig"]["bootDiskKmsKey"]
    assert messages(gcp, "sovereignty-store-customer-keys") == [
        "Bucket curated has no encryption.defaultKmsKeyName",
        "Repository images has no kmsKeyName",
        "Cluster cluster does not encrypt secrets with a customer-managed key "
        "(databaseEncryption state ENCRYPTED with keyName)",
        "NodePool l4-nodes has no nodeConfig.bootDiskKmsKey"]


def test_key_unknown_at_preview_counts_as_set(aws: dict) -> None:
    inputs(aws, "training")["encryptionConfigurations"][0]["kmsKey"] = "[unknown]"
    assert messages(aws, "sovereignty-store-customer-keys") == []


# -- sovereignty-key-rotation ----------------------------------------------------------------


def test_keys_that_do_not_rotate(aws: dict, gcp: dict) -> None:
    inputs(aws, "data-key")["enableKeyRotation"] = False
    assert messages(aws, "sovereignty-key-rotation") == [
        "KMS key data-key does not rotate (enableKeyRotation is not true)"]
    inputs(gcp, "data-key")["rotationPeriod"] = "34560000s"
    assert messages(gcp, "sovereignty-key-rotation") == [
        "crypto key data-key rotates every 400 days, longer than 365"]
    del inputs(gcp, "data-key")["rotationPeriod"]
    assert messages(gcp, "sovereignty-key-rotation") == [
        "crypto key data-key has no rotationPeriod"]


def test_asymmetric_keys_are_not_rotated_automatically(aws: dict) -> None:
    inputs(aws, "data-key").update(enableKeyRotation=False, customerMasterKeySpec="RSA_4096")
    assert messages(aws, "sovereignty-key-rotation") == []


# -- sovereignty-network-no-public-exposure -------------------------------------------------


def test_aws_public_exposure(aws: dict) -> None:
    aws["resources"] = [r for r in aws["resources"] if r["name"] != "raw-pab"]
    inputs(aws, "raw-replica-pab")["restrictPublicBuckets"] = False
    inputs(aws, "nodes-sg")["ingress"].append({"protocol": "tcp", "fromPort": 22, "toPort": 22,
                                               "cidrBlocks": ["0.0.0.0/0"]})
    inputs(aws, "private-a")["mapPublicIpOnLaunch"] = True
    add(aws, {"type": "kubernetes:core/v1:Service", "name": "model-lb", "parent": "aws-eu",
              "provider": "eks", "inputs": {"apiVersion": "v1", "kind": "Service",
                                            "metadata": {"name": "model-lb"},
                                            "spec": {"type": "LoadBalancer"}}})
    assert messages(aws, "sovereignty-network-no-public-exposure") == [
        "Bucket raw has no public access block",
        "Bucket raw-replica has a public access block that leaves restrictPublicBuckets off",
        "SecurityGroup nodes-sg admits 0.0.0.0/0 in ingress rule 1 (ports 22-22)",
        "Subnet private-a gives instances public IPs (mapPublicIpOnLaunch)",
        "Service model-lb is a LoadBalancer Service without an internal load-balancer "
        "annotation"]


def test_gcp_public_exposure(gcp: dict) -> None:
    inputs(gcp, "curated")["publicAccessPrevention"] = "inherited"
    inputs(gcp, "allow-internal")["sourceRanges"] = ["0.0.0.0/0"]
    inputs(gcp, "cluster")["privateClusterConfig"]["enablePrivateNodes"] = False
    add(gcp, {"type": "gcp:storage/bucketIAMMember:BucketIAMMember", "name": "curated-public",
              "parent": "gcp-eu", "provider": "gcp-eu-provider",
              "inputs": {"bucket": "acme-eu-curated", "role": "roles/storage.objectViewer",
                         "member": "allUsers"}})
    assert messages(gcp, "sovereignty-network-no-public-exposure") == [
        "Bucket curated does not enforce public access prevention",
        "Cluster cluster gives nodes public IPs (privateClusterConfig.enablePrivateNodes is "
        "not true)",
        "Firewall allow-internal admits 0.0.0.0/0",
        "BucketIAMMember curated-public grants access to allUsers"]


# -- sovereignty-image-registry-digest ------------------------------------------------------


def test_images_by_tag_or_from_elsewhere(aws: dict) -> None:
    container = inputs(aws, "model-server")["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/acme-eu/serving:1.2"
    inputs(aws, "gpu-operator")["values"]["toolkit"] = {"repository": "nvcr.io/nvidia",
                                                        "image": "container-toolkit",
                                                        "version": "v1.17.0"}
    assert messages(aws, "sovereignty-image-registry-digest") == [
        "Deployment model-server: image 123456789012.dkr.ecr.eu-central-1.amazonaws.com/acme-eu"
        "/serving:1.2 at spec.template.spec.containers[0].image is not pinned by digest "
        "(@sha256:...)",
        "Chart gpu-operator: image nvcr.io/nvidia/container-toolkit:v1.17.0 at toolkit is not "
        "pinned by digest (@sha256:...) and comes from nvcr.io, not an allowed registry "
        "(123456789012.dkr.ecr.eu-central-1.amazonaws.com, registry.acme.eu)"]


def test_own_registry_outside_the_jurisdiction_is_not_allowed(gcp: dict) -> None:
    inputs(gcp, "images")["location"] = "us-central1"
    job = inputs(gcp, "finetune")["spec"]["template"]["spec"]["containers"][0]
    job["image"] = f"us-central1-docker.pkg.dev/acme-eu-ml/images/train@{DIGEST}"
    assert messages(gcp, "sovereignty-image-registry-digest") == [
        f"Job finetune: image us-central1-docker.pkg.dev/acme-eu-ml/images/train@{DIGEST} at "
        "spec.template.spec.containers[0].image comes from us-central1-docker.pkg.dev, not an "
        "allowed registry (none declared)"]


def test_allowed_registries_must_lie_in_the_jurisdiction(aws: dict) -> None:
    inputs(aws, "acme-eu")["allowedRegistries"] = [
        "registry.acme.eu", "docker.io", "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "europe-docker.pkg.dev/acme-eu-ml/mirror", "eu.gcr.io"]
    container = inputs(aws, "model-server")["spec"]["template"]["spec"]["containers"][0]
    container["image"] = f"docker.io/library/nginx@{DIGEST}"
    assert messages(aws, "sovereignty-image-registry-digest") == [
        "sovereignty.allowed_registries lists docker.io, a public registry serving from outside "
        "EU: images from it are not allowed",
        "sovereignty.allowed_registries lists 123456789012.dkr.ecr.us-east-1.amazonaws.com, in "
        "us-east-1, outside EU: images from it are not allowed",
        f"Deployment model-server: image docker.io/library/nginx@{DIGEST} at "
        "spec.template.spec.containers[0].image comes from docker.io, not an allowed registry "
        "(123456789012.dkr.ecr.eu-central-1.amazonaws.com, eu.gcr.io, "
        "europe-docker.pkg.dev/acme-eu-ml/mirror, registry.acme.eu)"]


# -- sovereignty-tags-residency-classification ----------------------------------------------


def test_resources_without_classification_tags(aws: dict) -> None:
    inputs(aws, "aws-eu-replica")["defaultTags"] = '{"tags": {"DataResidency": "EU"}}'
    assert messages(aws, "sovereignty-tags-residency-classification") == [
        "Key replica-key lacks DataClassification in its tags (or the provider's defaults)",
        "Bucket raw-replica lacks DataClassification in its tags (or the provider's defaults)"]


def test_own_tags_fill_in_for_provider_defaults(aws: dict) -> None:
    inputs(aws, "aws-eu-replica")["defaultTags"] = '{"tags": {}}'
    for name in ("replica-key", "raw-replica"):
        inputs(aws, name)["tags"] = {"DataResidency": "EU", "DataClassification": "internal"}
    assert messages(aws, "sovereignty-tags-residency-classification") == []


def test_gcp_label_naming_another_residency(gcp: dict) -> None:
    inputs(gcp, "cluster")["resourceLabels"]["data-residency"] = "us"
    assert messages(gcp, "sovereignty-tags-residency-classification") == [
        "Cluster cluster says data-residency=us, but the factory's jurisdiction is EU"]


def test_deny_firewall_from_anywhere_is_not_exposure(gcp: dict) -> None:
    fw = inputs(gcp, "allow-internal")
    fw.update(sourceRanges=["0.0.0.0/0"], denies=[{"protocol": "all"}], priority=65000)
    del fw["allows"]
    assert messages(gcp, "sovereignty-network-no-public-exposure") == []


# -- sovereignty-chart-image-source ---------------------------------------------------------


def test_upstream_chart_with_default_images_fails(aws: dict) -> None:
    chart = inputs(aws, "gpu-operator")
    chart["repositoryOpts"] = {"repo": "https://helm.ngc.nvidia.com/nvidia"}
    chart["values"] = {"driver": {"enabled": False}}
    result = evaluate(aws, [BY_NAME["sovereignty-chart-image-source"]], today=TODAY)
    assert [(v.status, v.message) for v in result.violations] == [(
        "failed", "chart gpu-operator (gpu-operator) is fetched from helm.ngc.nvidia.com/nvidia "
        "and sets no image in its values, so it runs the chart's default images from their "
        "upstream registries, by tag")]
    assert result.exit_code() == 1


def test_chart_rule_needs_a_jurisdiction(aws: dict) -> None:
    inputs(aws, "acme-eu")["jurisdiction"] = None
    inputs(aws, "gpu-operator")["values"] = {}
    result = evaluate(aws, [BY_NAME["sovereignty-chart-image-source"]], today=TODAY)
    assert [o.state for o in result.outcomes] == ["not-applicable"] and result.passed


def test_oci_chart_source(aws: dict) -> None:
    chart = inputs(aws, "gpu-operator")
    del chart["repositoryOpts"]
    chart["chart"] = "oci://registry.k8s.io/kueue/charts/kueue"
    assert messages(aws, "sovereignty-chart-image-source") == [
        "chart gpu-operator (oci://registry.k8s.io/kueue/charts/kueue) is fetched from "
        "registry.k8s.io/kueue/charts/kueue"]


# -- sovereignty-telemetry-destination ------------------------------------------------------


def test_aws_logs_and_metrics_shipped_outside(aws: dict) -> None:
    inputs(aws, "vpc-flow-log")["logDestination"] = \
        "arn:aws:logs:us-east-1:123456789012:log-group:/central/flow-logs"
    inputs(aws, "gpu-metrics")["firehoseArn"] = \
        "arn:aws:firehose:us-east-1:123456789012:deliverystream/central"
    inputs(aws, "aws-eu-replica")["region"] = "us-west-2"
    add(aws, {"type": "aws:cloudwatch/logGroup:LogGroup", "name": "replica-logs",
              "parent": "aws-eu", "provider": "aws-eu-replica",
              "inputs": {"name": "/replica", "kmsKeyId": "arn:aws:kms:::replica-key"}},
        {"type": "aws:ec2/flowLog:FlowLog", "name": "s3-flow-log", "parent": "aws-eu",
         "provider": "aws-eu-provider",
         "inputs": {"logDestinationType": "s3", "logDestination": "arn:aws:s3:::central-logs"}})
    assert messages(aws, "sovereignty-telemetry-destination") == [
        "log group replica-logs keeps logs in us-west-2, outside EU (allowed: eu-central-1, "
        "eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, eusc-de-east-1)",
        "flow log vpc-flow-log writes to cloud-watch-logs arn:aws:logs:us-east-1:123456789012:"
        "log-group:/central/flow-logs in us-east-1, outside EU (allowed: eu-central-1, "
        "eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, eusc-de-east-1)",
        "flow log s3-flow-log writes to s3 arn:aws:s3:::central-logs in a region that cannot be "
        "shown, outside EU (allowed: eu-central-1, eu-north-1, eu-south-1, eu-south-2, "
        "eu-west-1, eu-west-3, eusc-de-east-1)",
        "metric stream gpu-metrics ships metrics to Firehose arn:aws:firehose:us-east-1:"
        "123456789012:deliverystream/central in us-east-1, outside EU (allowed: eu-central-1, "
        "eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, eusc-de-east-1)"]


def test_flow_log_destination_known_only_by_dependency(aws: dict) -> None:
    inputs(aws, "vpc-flow-log")["logDestination"] = "[unknown]"
    assert messages(aws, "sovereignty-telemetry-destination") == []
    resource(aws, "cluster-logs")["provider"] = resource(aws, "aws-eu-replica")["urn"]
    inputs(aws, "aws-eu-replica")["region"] = "us-east-1"
    assert [m.split(",")[0] for m in messages(aws, "sovereignty-telemetry-destination")] == [
        "log group cluster-logs keeps logs in us-east-1",
        "flow log vpc-flow-log writes to cloud-watch-logs cluster-logs in us-east-1"]


def test_gcp_global_log_bucket_and_sinks_outside(gcp: dict) -> None:
    inputs(gcp, "regional-logs")["location"] = "global"
    add(gcp, {"type": "gcp:logging/projectSink:ProjectSink", "name": "audit-export",
              "parent": "gcp-eu", "provider": "gcp-eu-provider",
              "inputs": {"name": "audit", "destination": "storage.googleapis.com/acme-us-audit"}})
    assert messages(gcp, "sovereignty-telemetry-destination") == [
        "log bucket regional-logs (regional) keeps logs in global, outside EU (allowed: eu, eur4, "
        "europe, europe-central2, europe-north1, europe-north2, europe-southwest1, "
        "europe-west1, europe-west10, europe-west12, europe-west3, europe-west4, europe-west8, "
        "europe-west9)",
        "log sink audit-export routes logs to storage.googleapis.com/acme-us-audit in a location "
        "that cannot be shown, outside EU (allowed: eu, eur4, europe, europe-central2, "
        "europe-north1, europe-north2, europe-southwest1, europe-west1, europe-west10, "
        "europe-west12, europe-west3, europe-west4, europe-west8, europe-west9)"]
    inputs(gcp, "default-sink")["destination"] = \
        "logging.googleapis.com/projects/acme-eu-ml/locations/global/buckets/_Default"
    assert messages(gcp, "sovereignty-telemetry-destination")[1].startswith(
        "log sink default-sink routes logs to logging.googleapis.com/projects/acme-eu-ml/"
        "locations/global/buckets/_Default in global, outside EU")


def test_log_bucket_without_customer_managed_key(gcp: dict) -> None:
    del inputs(gcp, "regional-logs")["cmekSettings"]
    assert messages(gcp, "sovereignty-store-customer-keys") == [
        "ProjectBucketConfig regional-logs keeps logs without a customer-managed key "
        "(cmekSettings.kmsKeyName)"]


def prometheus(name: str, *urls: str) -> dict:
    return {"type": "kubernetes:monitoring.coreos.com/v1:Prometheus", "name": name,
            "parent": "aws-eu", "provider": "eks",
            "inputs": {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
                       "metadata": {"name": name, "namespace": "monitoring"},
                       "spec": {"remoteWrite": [{"url": u} for u in urls]}}}


def test_prometheus_remote_write_in_cluster_or_in_region_passes(aws: dict) -> None:
    add(aws, prometheus("k8s", "http://thanos-receive.monitoring.svc:19291/api/v1/receive",
                        "https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1/"
                        "api/v1/remote_write", "http://10.40.3.7:9090/api/v1/write"))
    assert messages(aws, "sovereignty-telemetry-destination") == []


def test_prometheus_remote_write_outside(aws: dict) -> None:
    add(aws, prometheus("k8s", "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/"
                        "api/v1/remote_write"))
    inputs(aws, "gpu-operator")["values"]["prometheus"] = {"prometheusSpec": {"remoteWrite": [
        {"url": "https://metrics.example.com/api/v1/push"}]}}
    assert messages(aws, "sovereignty-telemetry-destination") == [
        "Chart gpu-operator: Prometheus remote-writes metrics to "
        "https://metrics.example.com/api/v1/push (prometheus.prometheusSpec.remoteWrite[0].url), "
        "in a place that cannot be shown to lie in EU",
        "Prometheus k8s: Prometheus remote-writes metrics to https://aps-workspaces.us-east-1."
        "amazonaws.com/workspaces/ws-1/api/v1/remote_write (remoteWrite[0].url), in us-east-1, "
        "outside EU"]


# -- sovereignty-key-region -----------------------------------------------------------------


def test_gcs_bucket_with_a_key_in_another_region(gcp: dict) -> None:
    add(gcp, {"type": "gcp:kms/keyRing:KeyRing", "name": "us-keys", "parent": "gcp-eu",
              "provider": "gcp-eu-provider", "protect": True,
              "inputs": {"name": "acme-us", "location": "us-central1"}},
        {"type": "gcp:kms/cryptoKey:CryptoKey", "name": "us-key", "parent": "gcp-eu",
         "provider": "gcp-eu-provider", "protect": True, "dependsOn": ["us-keys"],
         "inputs": {"name": "us", "keyRing": "us-keys-id", "rotationPeriod": "7776000s"}})
    inputs(gcp, "curated")["encryption"]["defaultKmsKeyName"] = "us-key-id"
    inputs(gcp, "images")["kmsKeyName"] = \
        "projects/acme-eu-ml/locations/us-east1/keyRings/r/cryptoKeys/k"
    assert messages(gcp, "sovereignty-key-region") == [
        "Bucket curated (europe-west4) is encrypted with key us-key (encryption.defaultKmsKeyName)"
        " in us-central1, outside EU (allowed: eu, eur4, europe, europe-central2, europe-north1, "
        "europe-north2, europe-southwest1, europe-west1, europe-west10, europe-west12, "
        "europe-west3, europe-west4, europe-west8, europe-west9)",
        "Repository images (europe-west4) is encrypted with key projects/acme-eu-ml/locations/"
        "us-east1/keyRings/r/cryptoKeys/k (kmsKeyName) in us-east1, outside EU (allowed: eu, "
        "eur4, europe, europe-central2, europe-north1, europe-north2, europe-southwest1, "
        "europe-west1, europe-west10, europe-west12, europe-west3, europe-west4, europe-west8, "
        "europe-west9)"]
    # unknown until deploy: the dependency on the key tells
    inputs(gcp, "curated")["encryption"]["defaultKmsKeyName"] = "[unknown]"
    resource(gcp, "curated")["dependencies"] = [resource(gcp, "us-key")["urn"]]
    assert messages(gcp, "sovereignty-key-region")[0].startswith(
        "Bucket curated (europe-west4) is encrypted with key us-key (encryption.defaultKmsKeyName)"
        " in us-central1")


def test_aws_store_with_a_key_in_another_region(aws: dict) -> None:
    inputs(aws, "training")["encryptionConfigurations"][0]["kmsKey"] = \
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd"
    inputs(aws, "aws-eu-replica")["region"] = "eu-west-2"
    assert messages(aws, "sovereignty-key-region") == [
        "BucketServerSideEncryptionConfiguration raw-replica-sse (eu-west-2) is encrypted with "
        "key replica-key (rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId) in "
        "eu-west-2, outside EU (allowed: eu-central-1, eu-north-1, eu-south-1, eu-south-2, "
        "eu-west-1, eu-west-3, eusc-de-east-1)",
        "Repository training (eu-central-1) is encrypted with key arn:aws:kms:us-east-1:"
        "123456789012:key/1234abcd (encryptionConfigurations[0].kmsKey) in us-east-1, outside "
        "EU (allowed: eu-central-1, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-3, "
        "eusc-de-east-1)"]
