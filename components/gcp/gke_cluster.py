"""A private, regional GKE Standard cluster and the least-privilege service account of its nodes.

The default node pool is removed at creation (GPU pools are separate `GpuNodePool`s); until then
it too runs as the dedicated node account, on shielded, CMEK-encrypted nodes. Kubernetes secrets
are encrypted in etcd with a customer-managed key (application-layer secrets encryption).

The control plane keeps its private IP endpoint, open to the node subnet and any authorised
networks. Callers outside the VPC (CI applying the platform layer) use the DNS-based endpoint
instead: it has no public IP, every request is authorised by IAM, and the kubeconfig points at
it when it is on. The cluster's logs go to the project's log router; `RegionalLogs` keeps them
in the cluster's region.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import container, projects, serviceaccount

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent
from components.gcp.service_agents import service_account_email

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"

# What a GKE node needs and no more (GKE hardening guide, "least privilege service account"):
# write logs and metrics, read monitoring configuration, pull images from Artifact Registry.
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/artifactregistry.reader",
)


@dataclass(frozen=True)
class GkeClusterArgs:
    """Arguments of `GkeCluster`."""

    project: str
    """Project of the cluster (names the workload identity pool and the node account)."""
    region: str
    """Region of the (regional) cluster, e.g. europe-west4."""
    cluster_name: str
    """Physical cluster name (at most 40 characters)."""
    node_account_id: str
    """Account id of the nodes' service account (6-30 characters)."""
    network_id: pulumi.Input[str]
    """VPC the cluster joins."""
    subnetwork_id: pulumi.Input[str]
    """Subnet of the nodes."""
    pods_range_name: pulumi.Input[str]
    """Secondary range of the subnet for pod IPs."""
    services_range_name: pulumi.Input[str]
    """Secondary range of the subnet for service IPs."""
    master_cidr: str
    """/28 block for the private control plane, e.g. 172.16.0.0/28."""
    subnet_cidr: str
    """Primary range of the node subnet: the network allowed to reach the control plane."""
    secrets_key_id: pulumi.Input[str]
    """Cloud KMS key (same region) encrypting Kubernetes secrets in etcd."""
    disk_key_id: pulumi.Input[str]
    """Cloud KMS key (same region) encrypting node boot disks."""
    release_channel: str = "REGULAR"
    """GKE release channel: RAPID, REGULAR or STABLE."""
    endpoint_public_access: bool = False
    """Also expose the control plane on a public endpoint (still limited to authorised networks)."""
    authorized_networks: Sequence[str] = ()
    """CIDRs allowed to the IP endpoint besides the node subnet (private while it is private)."""
    dns_endpoint: bool = True
    """Enable the IAM-authorised DNS-based endpoint, reachable from outside the VPC."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the cluster (resource labels) and its nodes' VMs."""
    gateway_api: bool = False
    """Turn on GKE's Gateway API controller (standard channel): model serving's Gateway."""
    key_grants: Sequence[pulumi.Resource] = ()
    """Grants of both keys to the GKE and Compute Engine service agents: the cluster waits."""
    multi_networking: bool = False
    """GKE multi-networking (GPUDirect pools' extra node networks); needs Dataplane V2."""
    lustre_csi: bool = False
    """Turn on GKE's Lustre CSI driver add-on (Managed Lustre training storage), on the
    legacy LNet port 6988 its instances serve GKE clients on."""


class GkeCluster(FactoryComponent):
    """Private GKE cluster with Workload Identity, CMEK secrets encryption and observability."""

    def __init__(self, name: str, args: GkeClusterArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:GkeCluster", name, None, opts)

        account = serviceaccount.Account(
            naming.child(name, "nodes"),
            account_id=args.node_account_id,
            project=args.project,
            display_name=f"GKE nodes of {args.cluster_name}",
            description="Least-privilege identity of the cluster's nodes (workloads use "
            "Workload Identity, not this account)",
            opts=self.child_opts(),
        )
        # Computed from the account id (an input) so the plan knows it offline and every
        # user of the e-mail still waits for the account.
        email = account.account_id.apply(lambda a: service_account_email(a, args.project))
        roles = [
            projects.IAMMember(
                naming.child(name, "nodes", role.split("/")[-1]),
                project=args.project,
                role=role,
                member=email.apply(lambda e: f"serviceAccount:{e}"),
                opts=self.child_opts(),
            )
            for role in NODE_ROLES
        ]
        cluster = container.Cluster(
            naming.child(name, "cluster"),
            name=args.cluster_name,
            project=args.project,
            location=args.region,
            network=args.network_id,
            subnetwork=args.subnetwork_id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={
                "cluster_secondary_range_name": args.pods_range_name,
                "services_secondary_range_name": args.services_range_name,
            },
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": not args.endpoint_public_access,
                "master_ipv4_cidr_block": args.master_cidr,
                "master_global_access_config": {"enabled": False},
            },
            master_authorized_networks_config={
                "cidr_blocks": authorized_networks(args.subnet_cidr, args.authorized_networks),
                "gcp_public_cidrs_access_enabled": False,
            },
            control_plane_endpoints_config={
                "dns_endpoint_config": {"allow_external_traffic": args.dns_endpoint},
                "ip_endpoints_config": {"enabled": True},
            },
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=_default_pool_config(email, args),
            workload_identity_config={"workload_pool": f"{args.project}.svc.id.goog"},
            database_encryption={"state": "ENCRYPTED", "key_name": args.secrets_key_id},
            release_channel={"channel": args.release_channel},
            gateway_api_config={"channel": "CHANNEL_STANDARD"} if args.gateway_api else None,
            logging_config={"enable_components": [
                "SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS",
            ]},
            monitoring_config={
                "enable_components": ["SYSTEM_COMPONENTS", "APISERVER", "SCHEDULER",
                                      "CONTROLLER_MANAGER", "STORAGE", "POD", "DEPLOYMENT", "DCGM"],
                "managed_prometheus": {"enabled": True},
            },
            enable_shielded_nodes=True,
            datapath_provider="ADVANCED_DATAPATH",
            # GPUDirect pools attach their GPU NICs to extra VPCs (GKE multi-networking)
            enable_multi_networking=True if args.multi_networking else None,
            addons_config={
                "gce_persistent_disk_csi_driver_config": {"enabled": True},
                "gcs_fuse_csi_driver_config": {"enabled": True},
                **({"lustre_csi_driver_config": {"enabled": True,
                                                 "enable_legacy_lustre_port": True}}
                   if args.lustre_csi else {}),
                "http_load_balancing": {"disabled": False},
            },
            deletion_protection=True,
            resource_labels=dict(args.labels),
            opts=self.child_opts(depends_on=[*roles, *args.key_grants]),
        )
        self.cluster = cluster
        self.cluster_name: pulumi.Output[str] = cluster.name
        self.cluster_id: pulumi.Output[str] = cluster.id
        self.endpoint: pulumi.Output[str] = cluster.endpoint
        self.dns_endpoint: pulumi.Output[str] = cluster.control_plane_endpoints_config.apply(
            _dns_endpoint)
        self.ca_certificate: pulumi.Output[str] = cluster.master_auth.apply(
            lambda auth: (auth.cluster_ca_certificate if auth else None) or "")
        self.node_service_account: pulumi.Output[str] = email
        if args.dns_endpoint:
            # The DNS endpoint serves a publicly trusted certificate: no CA data to carry.
            config = pulumi.Output.all(self.cluster_name, self.dns_endpoint).apply(
                lambda v: kubeconfig(v[0], v[1], None))
        else:
            config = pulumi.Output.all(self.cluster_name, self.endpoint, self.ca_certificate).apply(
                lambda v: kubeconfig(v[0], v[1], v[2]))
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(config)
        self.register_outputs({
            "cluster_name": self.cluster_name,
            "cluster_id": self.cluster_id,
            "endpoint": self.endpoint,
            "dns_endpoint": self.dns_endpoint,
            "ca_certificate": self.ca_certificate,
            "node_service_account": self.node_service_account,
            "kubeconfig": self.kubeconfig,
        })


def kubeconfig(cluster_name: str, endpoint: str | None, ca_certificate: str | None) -> str:
    """A kubeconfig for the cluster that authenticates through gke-gcloud-auth-plugin.

    It holds no credential of its own (the plugin asks gcloud for a short-lived token), but the
    callers still keep it secret: it names the endpoint. Without a CA certificate (the DNS
    endpoint serves a publicly trusted one) the client verifies against the system's roots.
    """
    cluster: dict[str, str] = {"server": f"https://{endpoint}" if endpoint else ""}
    if ca_certificate:
        cluster["certificate-authority-data"] = ca_certificate
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "contexts": [{"name": cluster_name,
                      "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "gke-gcloud-auth-plugin",
            "installHint": "gcloud components install gke-gcloud-auth-plugin",
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        }}}],
    }, sort_keys=True)


CidrBlock = container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgsDict


def authorized_networks(subnet_cidr: str, extra: Sequence[str]) -> list[CidrBlock]:
    """Networks allowed to the IP endpoint: the node subnet, then the extra CIDRs by name."""
    blocks: list[CidrBlock] = [{"cidr_block": subnet_cidr, "display_name": "nodes"}]
    blocks += [{"cidr_block": c, "display_name": f"authorized-{c}"} for c in extra]
    return blocks


def _dns_endpoint(config: container.outputs.ClusterControlPlaneEndpointsConfig | None) -> str:
    dns = config.dns_endpoint_config if config else None
    return (dns.endpoint if dns else None) or ""


def _default_pool_config(email: pulumi.Output[str],
                         args: GkeClusterArgs) -> container.ClusterNodeConfigArgsDict:
    # The default pool lives only until remove_default_node_pool deletes it, but it is created
    # first: hold it to the same baseline as every other pool.
    return {
        "service_account": email,
        "oauth_scopes": [CLOUD_PLATFORM],
        "shielded_instance_config": {"enable_secure_boot": True,
                                     "enable_integrity_monitoring": True},
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "boot_disk_kms_key": args.disk_key_id,
        "resource_labels": dict(args.labels),
    }


def _validate(name: str, args: GkeClusterArgs) -> None:
    if args.release_channel not in ("RAPID", "REGULAR", "STABLE"):
        raise ComponentArgsError(
            f"GkeCluster {name}: release_channel ({args.release_channel!r}) must be RAPID, "
            "REGULAR or STABLE: use REGULAR")
    if not 1 <= len(args.cluster_name) <= 40:
        raise ComponentArgsError(
            f"GkeCluster {name}: cluster_name ({args.cluster_name!r}) must have 1-40 characters: "
            "shorten it with components.naming.cluster_name")
    if not 6 <= len(args.node_account_id) <= 30:
        raise ComponentArgsError(
            f"GkeCluster {name}: node_account_id ({args.node_account_id!r}) must have 6-30 "
            "characters: use components.naming.gcp_service_account_id")
    try:
        master = ipaddress.IPv4Network(args.master_cidr)
        subnet = ipaddress.IPv4Network(args.subnet_cidr)
    except ValueError as e:
        raise ComponentArgsError(f"GkeCluster {name}: {e}: use CIDR blocks such as "
                                 "172.16.0.0/28") from None
    if master.prefixlen != 28:
        raise ComponentArgsError(
            f"GkeCluster {name}: master_cidr ({args.master_cidr}) must be a /28: GKE's private "
            "control plane takes exactly 16 addresses")
    try:
        extra = [ipaddress.IPv4Network(c) for c in args.authorized_networks]
    except ValueError as e:
        raise ComponentArgsError(f"GkeCluster {name}: authorized_networks: {e}: use CIDR blocks "
                                 "such as 10.100.0.0/16") from None
    if len(extra) > 49:
        raise ComponentArgsError(
            f"GkeCluster {name}: authorized_networks has {len(extra)} CIDRs: GKE allows 50 "
            "including the node subnet; merge ranges or use the DNS endpoint")
    public = [str(n) for n in extra if not n.is_private]
    if public and not args.endpoint_public_access:
        raise ComponentArgsError(
            f"GkeCluster {name}: authorized_networks {public} are public ranges, but the IP "
            "endpoint is private (endpoint_public_access false): list private ranges, or "
            "reach the cluster through the DNS endpoint")
    if master.overlaps(subnet):
        raise ComponentArgsError(
            f"GkeCluster {name}: master_cidr ({master}) overlaps subnet_cidr ({subnet}): move "
            "the control plane to its own block such as 172.16.0.0/28")
