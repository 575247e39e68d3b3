"""The GCP builder end to end: both GCP examples planned offline, and what the spec refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, spec_from_yaml

import catalog
from aifactory.plan.document import plan_blueprint
from blueprints.facts import GCP_ENVIRONMENT
from blueprints.spec import BlueprintError, load
from blueprints.spec.models import GcpEnvironment
from policies import BY_NAME, evaluate

GCP_PROVIDER = "pulumi:providers:gcp"
LABELLED = {  # type -> where its labels are
    "gcp:kms/cryptoKey:CryptoKey": ("labels",),
    "gcp:storage/bucket:Bucket": ("labels",),
    "gcp:artifactregistry/repository:Repository": ("labels",),
    "gcp:container/cluster:Cluster": ("resourceLabels",),
    "gcp:container/nodePool:NodePool": ("nodeConfig", "resourceLabels"),
}


def plan_of(stem: str) -> dict[str, Any]:
    path = EXAMPLES / f"{stem}.yaml"
    return plan_blueprint(load(path), str(path))


def by_type(plan: dict[str, Any], type_token: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_token]


def named(plan: dict[str, Any], name: str) -> dict[str, Any]:
    [resource] = [r for r in plan["resources"] if r["name"] == name]
    return resource


def labels_of(resource: dict[str, Any]) -> dict[str, str]:
    value: Any = resource["inputs"]
    for key in LABELLED[resource["type"]]:
        value = value[key]
    return value  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def cloud_gcp() -> dict[str, Any]:
    return plan_of("cloud-gcp")


@pytest.fixture(scope="module")
def sovereign() -> dict[str, Any]:
    return plan_of("sovereign-eu")


def test_cloud_gcp_gpus_by_model_and_pools(cloud_gcp) -> None:  # type: ignore[no-untyped-def]
    summary = cloud_gcp["summary"]
    assert summary["gpusByModel"] == {"h100-sxm5": 16, "l4": 4}
    pools = {p["pool"]: p for p in summary["pools"]}
    assert (pools["train-h100"]["gpus_desired"], pools["train-h100"]["gpus_max"]) == (16, 64)
    assert (pools["infer-l4"]["gpus_desired"], pools["infer-l4"]["gpus_max"]) == (4, 16)


def test_cloud_gcp_environment_facts_and_provider(cloud_gcp) -> None:  # type: ignore[no-untyped-def]
    [environment] = by_type(cloud_gcp, GCP_ENVIRONMENT)
    assert environment["inputs"] == {
        "environment": "gcp-prod", "cloud": "gcp", "project": "acme-ml-prod",
        "region": "europe-west4",
        "gpuQuotas": {"GPUS_ALL_REGIONS": 96, "NVIDIA_H100_GPUS": 16, "NVIDIA_L4_GPUS": 16,
                      "PREEMPTIBLE_NVIDIA_H100_GPUS": 64}}
    [provider] = by_type(cloud_gcp, GCP_PROVIDER)
    assert provider["inputs"]["project"] == "acme-ml-prod"
    assert provider["inputs"]["region"] == "europe-west4"
    assert '"data-classification": "confidential"' in provider["inputs"]["defaultLabels"]
    gcp_resources = [r for r in cloud_gcp["resources"] if r["type"].startswith("gcp:")]
    assert gcp_resources
    assert {r["provider"] for r in gcp_resources} == {provider["urn"]}


def test_cloud_gcp_pools_from_the_blueprint(cloud_gcp) -> None:  # type: ignore[no-untyped-def]
    train = named(cloud_gcp, "gcp-prod-train-h100-pool")["inputs"]
    assert train["nodeConfig"]["spot"] is True
    assert train["nodeConfig"]["guestAccelerators"][0]["type"] == "nvidia-h100-80gb"
    assert train["placementPolicy"] == {"type": "COMPACT"}
    # compact placement: one zone, the first of the environment's that offers a3-highgpu-8g
    # (europe-west4-a does not, per the catalog's snapshot)
    assert train["nodeLocations"] == ["europe-west4-b"]
    assert train["autoscaling"]["totalMaxNodeCount"] == 8
    infer = named(cloud_gcp, "gcp-prod-infer-l4-pool")["inputs"]
    assert infer["nodeConfig"]["machineType"] == "g2-standard-24"
    assert infer["nodeConfig"]["guestAccelerators"][0]["gpuSharingConfig"] == {
        "gpuSharingStrategy": "TIME_SHARING", "maxSharedClientsPerGpu": 4}
    assert infer["nodeLocations"] == ["europe-west4-a", "europe-west4-b", "europe-west4-c"]


def test_cloud_gcp_keys_live_where_the_data_does(cloud_gcp) -> None:  # type: ignore[no-untyped-def]
    [ring] = by_type(cloud_gcp, "gcp:kms/keyRing:KeyRing")
    assert ring["inputs"]["location"] == "europe-west4"
    assert named(cloud_gcp, "gcp-prod-gke-cluster")["inputs"]["location"] == "europe-west4"
    assert {b["inputs"]["location"] for b in by_type(cloud_gcp, "gcp:storage/bucket:Bucket")} \
        == {"EUROPE-WEST4"}
    repos = by_type(cloud_gcp, "gcp:artifactregistry/repository:Repository")
    assert {r["inputs"]["location"] for r in repos} == {"europe-west4"}
    assert {r["inputs"]["kmsKeyName"] for r in repos} == {"gcp-prod-kms-registry-id"}


def test_cloud_gcp_kubernetes_provider_gets_a_secret_kubeconfig(cloud_gcp) -> None:  # type: ignore[no-untyped-def]
    [provider] = by_type(cloud_gcp, "pulumi:providers:kubernetes")
    assert provider["inputs"] == {"kubeconfig": "[secret]"}
    assert named(cloud_gcp, "gcp-prod-gke-cluster")["urn"] in provider["dependencies"]


def test_sovereign_gpus_by_model(sovereign) -> None:  # type: ignore[no-untyped-def]
    # burst-l40s (EKS) starts at zero nodes: Karpenter launches them for pending jobs
    assert sovereign["summary"]["gpusByModel"] == {
        "a100-sxm4-40gb": 1, "h100-sxm5": 16, "l4": 2, "l40s": 0}


def test_sovereign_every_provider_is_in_an_eu_region(sovereign) -> None:  # type: ignore[no-untyped-def]
    eu = catalog.jurisdiction("EU")
    [gcp] = by_type(sovereign, GCP_PROVIDER)
    assert gcp["inputs"]["region"] in eu.gcp_regions
    [aws] = by_type(sovereign, "pulumi:providers:aws")
    assert aws["inputs"]["region"] in eu.aws_regions
    for r in sovereign["resources"]:
        if r["type"].startswith("gcp:"):
            assert r["provider"] == gcp["urn"], r["name"]


def test_sovereign_stores_use_customer_keys_and_stay_in_region(sovereign) -> None:  # type: ignore[no-untyped-def]
    buckets = by_type(sovereign, "gcp:storage/bucket:Bucket")
    assert len(buckets) == 4  # raw, curated, features, models
    for b in buckets:
        assert b["protect"]
        assert b["inputs"]["location"] == "EUROPE-WEST4"
        assert b["inputs"]["encryption"] == {"defaultKmsKeyName": "gcp-eu-kms-lakehouse-id"}
        assert "customPlacementConfig" not in b["inputs"]  # no dual-region copy
    for pool in by_type(sovereign, "gcp:container/nodePool:NodePool"):
        assert pool["inputs"]["nodeConfig"]["bootDiskKmsKey"] == "gcp-eu-kms-disks-id"
    cluster = named(sovereign, "gcp-eu-gke-cluster")["inputs"]
    assert cluster["databaseEncryption"] == {"state": "ENCRYPTED",
                                             "keyName": "gcp-eu-kms-gke-id"}


def test_sovereign_residency_and_classification_labels_everywhere(sovereign) -> None:  # type: ignore[no-untyped-def]
    labelled = [r for r in sovereign["resources"] if r["type"] in LABELLED]
    assert {r["type"] for r in labelled} == set(LABELLED)
    for r in labelled:
        labels = labels_of(r)
        assert labels["data-residency"] == "eu", r["name"]
        assert labels["data-classification"] == "restricted", r["name"]


def test_sovereign_reservation_and_mig(sovereign) -> None:  # type: ignore[no-untyped-def]
    train = named(sovereign, "gcp-eu-train-h100-pool")["inputs"]["nodeConfig"]
    assert train["reservationAffinity"] == {
        "consumeReservationType": "SPECIFIC_RESERVATION",
        "key": "compute.googleapis.com/reservation-name", "values": ["acme-eu-h100-reservation"]}
    notebooks = named(sovereign, "gcp-eu-notebooks-a100-pool")["inputs"]["nodeConfig"]
    assert notebooks["guestAccelerators"][0]["gpuPartitionSize"] == "1g.5gb"


def test_sovereign_copy_with_a_type_its_region_does_not_offer_fails(tmp_path: Path) -> None:
    text = (EXAMPLES / "sovereign-eu.yaml").read_text()
    # Move the AWS environment to Ireland (an EU region) that offers no g6e.12xlarge.
    moved = (text.replace("region: eu-north-1 ", "region: eu-west-1  ")
             .replace("[eu-north-1a, eu-north-1b, eu-north-1c]",
                      "[eu-west-1a, eu-west-1b, eu-west-1c]"))
    assert moved != text
    copy = tmp_path / "sovereign-eu.yaml"
    copy.write_text(moved)
    # The spec loads; the (waivable) capacity rule reports the type.
    plan = plan_blueprint(load(copy), str(copy))
    rule = BY_NAME["capacity-instance-availability"]
    assert [v.message for v in evaluate(plan, [rule]).violations] == [
        "pool burst-l40s: g6e.12xlarge is not offered in eu-west-1; eu-west-1 offers no type "
        "with l40s; g6e.12xlarge is offered in ap-northeast-1, ap-northeast-2, eu-central-1, "
        "eu-north-1, eu-south-2, us-east-1, us-east-2, us-west-2"]


def test_a_gcp_environment_needs_its_project_number() -> None:
    with pytest.raises(BlueprintError) as e:
        spec_from_yaml("\n".join(line for line in minimal_gcp().splitlines()
                                  if "project_number" not in line))
    assert [str(p) for p in e.value.problems] == [
        "test.yaml:6: environments.gcp-prod.project: project 'acme-ml-prod' needs its "
        "project_number: every GCP environment encrypts with customer-managed keys, granted to "
        "service agents named after the number; add project_number: \"<digits>\" (gcloud "
        "projects describe acme-ml-prod --format='value(projectNumber)')"]


def minimal_gcp(extra: str = "") -> str:
    return """\
        name: acme-gcp
        tags: {owner: ml, cost_centre: CC-1, data_classification: internal}
        environments:
          gcp-prod:
            kind: gcp
            project: acme-ml-prod
            project_number: "314159265358"
            region: europe-west4
            zones: [europe-west4-a]
        """.rstrip(" ") + extra


def test_cloud_gcp_logs_stay_in_the_region_under_a_regional_key(cloud_gcp) -> None:  # type: ignore[no-untyped-def]
    component = named(cloud_gcp, "gcp-prod-logs")
    assert component["type"] == "aifactory:gcp:RegionalLogs"
    bucket = named(cloud_gcp, "gcp-prod-logs-bucket")
    assert bucket["parent"] == component["urn"]
    assert bucket["protect"]
    assert {k: bucket["inputs"][k] for k in ("location", "cmekSettings", "retentionDays",
                                             "locked", "bucketId")} == {
        "location": "europe-west4", "cmekSettings": {"kmsKeyName": "gcp-prod-kms-logs-id"},
        "retentionDays": 400, "locked": False, "bucketId": "acme-gcp-gcp-prod-logs"}
    grant = named(cloud_gcp, "gcp-prod-kms-logs-gcp-sa-logging")
    assert grant["inputs"]["member"] == \
        "serviceAccount:service-314159265358@gcp-sa-logging.iam.gserviceaccount.com"
    assert grant["urn"] in bucket["dependencies"]
    sink = named(cloud_gcp, "gcp-prod-logs-default-sink")["inputs"]
    assert (sink["name"], sink["destination"]) == ("_Default", (
        "logging.googleapis.com/projects/acme-ml-prod/locations/europe-west4/buckets/"
        "acme-gcp-gcp-prod-logs"))
    audited = {a["inputs"]["service"] for a in by_type(
        cloud_gcp, "gcp:projects/iAMAuditConfig:IAMAuditConfig")}
    assert audited == {"container.googleapis.com", "cloudkms.googleapis.com",
                       "storage.googleapis.com", "artifactregistry.googleapis.com"}


def test_cloud_gcp_control_plane_reachable_from_ci_and_the_ops_network(cloud_gcp) -> None:  # type: ignore[no-untyped-def]
    cluster = named(cloud_gcp, "gcp-prod-gke-cluster")["inputs"]
    assert cluster["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {"allowExternalTraffic": True},
        "ipEndpointsConfig": {"enabled": True}}
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert [b["cidrBlock"] for b in cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"]] \
        == ["10.10.0.0/20", "10.200.0.0/16"]


def test_logging_and_endpoint_fields_reach_the_components() -> None:
    spec = spec_from_yaml(minimal_gcp("""\
            control_plane_dns_endpoint: false
            log_retention_days: 30
            log_bucket_locked: true
            data_access_audit_logs: false
            logging_service_agent: cmek-p314159265358@gcp-sa-logging.iam.gserviceaccount.com
        """))
    plan = plan_blueprint(spec, "test.yaml")
    bucket = named(plan, "gcp-prod-logs-bucket")["inputs"]
    assert (bucket["retentionDays"], bucket["locked"]) == (30, True)
    assert by_type(plan, "gcp:projects/iAMAuditConfig:IAMAuditConfig") == []
    assert named(plan, "gcp-prod-kms-logs-gcp-sa-logging")["inputs"]["member"] == \
        "serviceAccount:cmek-p314159265358@gcp-sa-logging.iam.gserviceaccount.com"
    cluster = named(plan, "gcp-prod-gke-cluster")["inputs"]
    assert cluster["controlPlaneEndpointsConfig"]["dnsEndpointConfig"] == {
        "allowExternalTraffic": False}


def test_public_authorised_networks_need_the_public_endpoint() -> None:
    with pytest.raises(BlueprintError) as e:
        spec_from_yaml(minimal_gcp("""\
            master_authorized_networks: [10.200.0.0/16, 81.2.69.0/24]
        """))
    assert [str(p) for p in e.value.problems] == [
        "test.yaml:10: environments.gcp-prod.master_authorized_networks: ['81.2.69.0/24'] are "
        "public ranges, but the control plane's IP endpoint is private (endpoint_public_access: "
        "false), which admits only private ranges: list private (RFC 1918) ranges, or reach the "
        "cluster from outside through control_plane_dns_endpoint: true"]
    spec = spec_from_yaml(minimal_gcp("""\
            endpoint_public_access: true
            master_authorized_networks: [81.2.69.0/24]
        """))
    env = spec.environments["gcp-prod"]
    assert isinstance(env, GcpEnvironment)
    assert env.master_authorized_networks == ["81.2.69.0/24"]
