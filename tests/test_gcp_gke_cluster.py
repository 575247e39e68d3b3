"""GkeCluster: private nodes and endpoint, CMEK secrets, Workload Identity, minimal node roles."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from aifactory.plan import recorder
from aifactory.plan.recorder import mock_outputs
from blueprints.errors import ComponentArgsError
from components.gcp import GkeCluster, GkeClusterArgs, kubeconfig

CLUSTER = "gcp:container/cluster:Cluster"
SECRETS_KEY = "projects/acme-ml-prod/locations/europe-west4/keyRings/r/cryptoKeys/gke"
DISK_KEY = "projects/acme-ml-prod/locations/europe-west4/keyRings/r/cryptoKeys/disks"
LABELS = {"factory": "acme-gcp", "owner": "ml-platform"}
NODE_SA = "acme-gcp-prod-nodes@acme-ml-prod.iam.gserviceaccount.com"


def args(**overrides: Any) -> GkeClusterArgs:
    values: dict[str, Any] = dict(
        project="acme-ml-prod", region="europe-west4", cluster_name="acme-gcp-prod",
        node_account_id="acme-gcp-prod-nodes", network_id="vpc-id", subnetwork_id="subnet-id",
        pods_range_name="pods", services_range_name="services", master_cidr="172.16.0.0/28",
        subnet_cidr="10.10.0.0/20", secrets_key_id=SECRETS_KEY, disk_key_id=DISK_KEY,
        labels=LABELS)
    values.update(overrides)
    return GkeClusterArgs(**values)


def test_nodes_and_endpoint_are_private(run) -> None:  # type: ignore[no-untyped-def]
    cluster = run(lambda: GkeCluster("gke", args())).one(CLUSTER, "gke-cluster").inputs
    assert cluster["privateClusterConfig"] == {
        "enablePrivateNodes": True, "enablePrivateEndpoint": True,
        "masterIpv4CidrBlock": "172.16.0.0/28", "masterGlobalAccessConfig": {"enabled": False}}
    assert cluster["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"cidrBlock": "10.10.0.0/20", "displayName": "nodes"}],
        "gcpPublicCidrsAccessEnabled": False}


def test_authorised_networks_follow_the_node_subnet(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: GkeCluster("gke", args(authorized_networks=["10.100.0.0/16",
                                                                  "192.168.8.0/24"])))
    assert rec.one(CLUSTER).inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"cidrBlock": "10.10.0.0/20", "displayName": "nodes"},
                       {"cidrBlock": "10.100.0.0/16", "displayName": "authorized-10.100.0.0/16"},
                       {"cidrBlock": "192.168.8.0/24",
                        "displayName": "authorized-192.168.8.0/24"}],
        "gcpPublicCidrsAccessEnabled": False}


def test_dns_endpoint_beside_the_private_ip_endpoint(run) -> None:  # type: ignore[no-untyped-def]
    cluster = run(lambda: GkeCluster("gke", args())).one(CLUSTER).inputs
    assert cluster["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {"allowExternalTraffic": True},
        "ipEndpointsConfig": {"enabled": True}}
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True


def test_dns_endpoint_can_be_turned_off(run) -> None:  # type: ignore[no-untyped-def]
    cluster = run(lambda: GkeCluster("gke", args(dns_endpoint=False))).one(CLUSTER).inputs
    assert cluster["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {"allowExternalTraffic": False},
        "ipEndpointsConfig": {"enabled": True}}


@pytest.mark.parametrize(("dns", "cluster"), [
    (True, {"server": "https://gke-0123.europe-west4.gke.goog"}),
    (False, {"server": "https://10.0.0.2", "certificate-authority-data": "Q0E="})])
def test_kubeconfig_uses_the_dns_endpoint_when_it_is_on(run, monkeypatch, dns, cluster) -> None:  # type: ignore[no-untyped-def]
    def with_endpoints(type_token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = mock_outputs(type_token, name, inputs)
        if type_token == CLUSTER:  # what GKE computes once the cluster exists
            outputs["endpoint"] = "10.0.0.2"
            outputs["masterAuth"] = {"clusterCaCertificate": "Q0E="}
            outputs["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]["endpoint"] = \
                "gke-0123.europe-west4.gke.goog"
        return outputs

    monkeypatch.setattr(recorder, "mock_outputs", with_endpoints)

    def program() -> None:
        gke = GkeCluster("gke", args(dns_endpoint=dns))
        config = pulumi.Output.unsecret(gke.kubeconfig)
        pulumi.CustomResource("test:index:Client", "client", {"config": config})

    config = json.loads(run(program).one("test:index:Client").inputs["config"])
    assert config["clusters"][0]["cluster"] == cluster


def test_public_endpoint_only_when_asked(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: GkeCluster("gke", args(endpoint_public_access=True)))
    private = rec.one(CLUSTER).inputs["privateClusterConfig"]
    assert private["enablePrivateEndpoint"] is False
    assert private["enablePrivateNodes"] is True


def test_secrets_encrypted_with_the_customer_key_and_workload_identity_on(run) -> None:  # type: ignore[no-untyped-def]
    cluster = run(lambda: GkeCluster("gke", args())).one(CLUSTER).inputs
    assert cluster["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": SECRETS_KEY}
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "acme-ml-prod.svc.id.goog"}
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert cluster["deletionProtection"] is True
    assert cluster["enableShieldedNodes"] is True
    assert cluster["resourceLabels"] == LABELS
    assert cluster["location"] == "europe-west4"


def test_vpc_native_on_the_subnet_ranges_and_default_pool_removed(run) -> None:  # type: ignore[no-untyped-def]
    cluster = run(lambda: GkeCluster("gke", args())).one(CLUSTER).inputs
    assert cluster["networkingMode"] == "VPC_NATIVE"
    assert cluster["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods",
                                             "servicesSecondaryRangeName": "services"}
    assert (cluster["network"], cluster["subnetwork"]) == ("vpc-id", "subnet-id")
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["initialNodeCount"] == 1
    # the short-lived default pool already meets the node baseline
    assert cluster["nodeConfig"] == {
        "serviceAccount": NODE_SA,
        "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
        "bootDiskKmsKey": DISK_KEY,
        "resourceLabels": LABELS,
    }


def test_control_plane_and_workload_logs_and_managed_prometheus(run) -> None:  # type: ignore[no-untyped-def]
    cluster = run(lambda: GkeCluster("gke", args())).one(CLUSTER).inputs
    assert cluster["loggingConfig"]["enableComponents"] == [
        "SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"]
    assert cluster["monitoringConfig"]["managedPrometheus"] == {"enabled": True}
    assert {"SYSTEM_COMPONENTS", "DCGM"} <= set(cluster["monitoringConfig"]["enableComponents"])


def test_node_account_has_only_the_minimal_roles_before_the_cluster_exists(run) -> None:  # type: ignore[no-untyped-def]
    rec = run(lambda: GkeCluster("gke", args()))
    account = rec.one("gcp:serviceaccount/account:Account", "gke-nodes")
    assert account.inputs["accountId"] == "acme-gcp-prod-nodes"
    members = rec.of_type("gcp:projects/iAMMember:IAMMember")
    assert sorted(m.inputs["role"] for m in members) == [
        "roles/artifactregistry.reader", "roles/logging.logWriter",
        "roles/monitoring.metricWriter", "roles/monitoring.viewer"]
    assert {m.inputs["member"] for m in members} == {f"serviceAccount:{NODE_SA}"}
    assert {m.inputs["project"] for m in members} == {"acme-ml-prod"}
    cluster = rec.one(CLUSTER)
    assert {m.urn for m in members} <= set(cluster.dependencies)


def test_kubeconfig_uses_the_gke_auth_plugin_and_holds_no_token() -> None:
    config = json.loads(kubeconfig("acme", "10.0.0.2", "Q0E="))
    assert config["clusters"][0]["cluster"] == {"server": "https://10.0.0.2",
                                               "certificate-authority-data": "Q0E="}
    assert config["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert "token" not in json.dumps(config)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"master_cidr": "172.16.0.0/27"}, "GkeCluster gke: master_cidr (172.16.0.0/27) must be a "
     "/28: GKE's private control plane takes exactly 16 addresses"),
    ({"master_cidr": "10.10.0.0/28"}, "GkeCluster gke: master_cidr (10.10.0.0/28) overlaps "
     "subnet_cidr (10.10.0.0/20): move the control plane to its own block such as "
     "172.16.0.0/28"),
    ({"authorized_networks": ["81.2.69.0/24"]}, "GkeCluster gke: authorized_networks "
     "['81.2.69.0/24'] are public ranges, but the IP endpoint is private "
     "(endpoint_public_access false): list private ranges, or reach the cluster through the "
     "DNS endpoint"),
    ({"authorized_networks": ["10.300.0.0/16"]}, "GkeCluster gke: authorized_networks: "
     "Octet 300 (> 255) not permitted in '10.300.0.0': use CIDR blocks such as 10.100.0.0/16"),
    ({"authorized_networks": [f"10.{i}.0.0/16" for i in range(50)]}, "GkeCluster gke: "
     "authorized_networks has 50 CIDRs: GKE allows 50 including the node subnet; merge ranges "
     "or use the DNS endpoint"),
    ({"release_channel": "EXTENDED"}, "GkeCluster gke: release_channel ('EXTENDED') must be "
     "RAPID, REGULAR or STABLE: use REGULAR"),
    ({"node_account_id": "nodes"}, "GkeCluster gke: node_account_id ('nodes') must have 6-30 "
     "characters: use components.naming.gcp_service_account_id"),
])
def test_bad_args_are_refused(run, overrides, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ComponentArgsError) as e:
        run(lambda: GkeCluster("gke", args(**overrides)))
    assert str(e.value) == message
