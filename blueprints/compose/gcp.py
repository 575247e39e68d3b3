"""Build one GCP environment: provider, keys, logs, network, GKE, GPU pools, lakehouse, registry.

Every value comes from the blueprint (the project number names the service agents that use
the keys), so the plan needs no live look-up. Keys live in the environment's region, next to
the cluster, disks, buckets and repositories they encrypt.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

import catalog
from blueprints.compose import EnvironmentBuild
from blueprints.compose.blame import POOL_ALIASES, blame
from blueprints.compose.facts import gcp_environment_facts, pool_facts
from blueprints.compose.platform import mirror_of
from blueprints.compose.tagging import gcp_labels, k8s_labels
from blueprints.errors import BlueprintFieldError, ComponentArgsError
from blueprints.spec.models import Blueprint, GcpEnvironment, GpuPool
from catalog import cloud as cloud_catalog
from catalog.fabric import GPUDIRECT
from components import naming
from components.factory import Factory
from components.gcp import service_agents
from components.gcp.accelerators import accelerator_type, boot_disk_type
from components.gcp.artifact_registry import ArtifactRegistry, ArtifactRegistryArgs
from components.gcp.environment import GcpEnvironment as GcpEnvironmentComponent
from components.gcp.environment import GcpEnvironmentArgs
from components.gcp.gke_cluster import GkeCluster, GkeClusterArgs
from components.gcp.gpu_node_pool import GpuNodePool, GpuNodePoolArgs, NodeTaint
from components.gcp.gpudirect_network import (
    GpuDirectNetworks,
    GpuDirectNetworksArgs,
    additional_networks,
)
from components.gcp.kms import KmsKeys, KmsKeysArgs
from components.gcp.lakehouse import BucketZone, DualRegion, Lakehouse, LakehouseArgs
from components.gcp.network import Network, NetworkArgs
from components.gcp.regional_logs import RegionalLogs, RegionalLogsArgs
from components.gcp.workload_access import WorkloadAccess, WorkloadAccessArgs
from components.platform.common import ENVIRONMENT_LABEL
from components.platform.gpudirect import GpuDirect, GpuDirectArgs, GpuNicNetwork

GKE_KEY, DISK_KEY, LAKEHOUSE_KEY, REGISTRY_KEY = "gke", "disks", "lakehouse", "registry"
LOGS_KEY = "logs"
DATABASE_KEY = "databases"
AUDITED_SERVICES = ("container.googleapis.com", "cloudkms.googleapis.com")
"""Services every GCP environment uses, whose Data Access audit logs are turned on."""
# The same job identity as on AWS (blueprints.compose.aws), so the platform layer makes one
# service account name in each team namespace whatever the cloud.
TRAINING_SERVICE_ACCOUNT = "training"
"""Kubernetes service account, in each team namespace, that training jobs run as."""
DEFAULT_TRAINING_NAMESPACE = "training"
"""Namespace of that service account when no queueing teams run in the environment."""


@dataclass
class GcpEnvironmentBuild(EnvironmentBuild):
    """What the GCP builder made, with the GCP building blocks for callers that compose on."""

    provider: gcp.Provider | None = None
    """The environment's GCP provider (project, region, default labels)."""
    keys: KmsKeys | None = None
    """The key ring and its keys."""
    logs: RegionalLogs | None = None
    """The regional log bucket, the _Default sink pointed at it, the audit configs."""
    network: Network | None = None
    """VPC, subnet, NAT."""
    cluster: GkeCluster | None = None
    """The GKE cluster."""
    lakehouse: Lakehouse | None = None
    """The lakehouse, when it lives in this environment."""
    registry: ArtifactRegistry | None = None
    """The registry, when it lives in this environment."""
    workload_access: WorkloadAccess | None = None
    """Lakehouse grants of the training jobs' Kubernetes identities, when there is data here."""


def build_environment(spec: Blueprint, env_name: str, env: GcpEnvironment,
                      factory: Factory) -> GcpEnvironmentBuild:
    """Create the components of one GCP environment under `factory`."""
    if env.project_number is None:  # the spec requires it; kept for callers that bypass it
        raise BlueprintFieldError(f"environments.{env_name}.project_number",
                                  "project_number is required")
    labels = gcp_labels(spec, environment=env_name)
    provider = gcp.Provider(
        naming.child(env_name, "gcp"),
        project=env.project,
        region=env.region,
        default_labels=labels,
    )
    environment = GcpEnvironmentComponent(
        env_name, GcpEnvironmentArgs(facts=gcp_environment_facts(env_name, env)),
        pulumi.ResourceOptions(parent=factory, providers=[provider]),
    )
    inside = pulumi.ResourceOptions(parent=environment)
    has_lakehouse = spec.lakehouse is not None and spec.lakehouse.environment == env_name
    has_registry = spec.registry is not None and spec.registry.environment == env_name

    number = env.project_number
    logging_agent = f"serviceAccount:{env.logging_service_agent}" \
        if env.logging_service_agent else service_agents.logging(number)
    key_users = {GKE_KEY: [service_agents.gke(number)],
                 DISK_KEY: [service_agents.compute(number),
                            *([service_agents.lustre(number)] if _lustre(spec, env_name) else [])],
                 LOGS_KEY: [logging_agent]}
    dual = _dual_region(spec, env) if has_lakehouse else None
    if has_lakehouse and dual is None:
        key_users[LAKEHOUSE_KEY] = [service_agents.storage(number)]
    if has_registry:
        key_users[REGISTRY_KEY] = [service_agents.artifact_registry(number)]
    if spec.model_registry is not None and spec.model_registry.environment == env_name:
        key_users[DATABASE_KEY] = [service_agents.cloud_sql(number)]  # MLflow's Cloud SQL
    keys = KmsKeys(naming.child(env_name, "kms"), KmsKeysArgs(
        project=env.project, location=env.region,
        ring_name=naming.fit(naming.child(spec.name, env_name), 63),
        keys=key_users, labels=labels,
    ), inside)

    audited = [*AUDITED_SERVICES]
    if has_lakehouse:
        audited.append("storage.googleapis.com")
    if has_registry:
        audited.append("artifactregistry.googleapis.com")
    logs = RegionalLogs(naming.child(env_name, "logs"), RegionalLogsArgs(
        project=env.project, location=env.region,
        bucket_id=naming.fit(naming.child(spec.name, env_name, "logs"), 100),
        kms_key_id=keys.key_id(LOGS_KEY),
        retention_days=env.log_retention_days, locked=env.log_bucket_locked,
        audited_services=audited if env.data_access_audit_logs else [],
        key_grants=keys.grants_for(LOGS_KEY),
    ), inside)

    network = Network(naming.child(env_name, "network"), NetworkArgs(
        region=env.region, subnet_cidr=env.subnet_cidr, pods_cidr=env.pods_cidr,
        services_cidr=env.services_cidr,
    ), inside)

    cluster = GkeCluster(naming.child(env_name, "gke"), GkeClusterArgs(
        project=env.project, region=env.region,
        cluster_name=naming.cluster_name(spec.name, env_name),
        node_account_id=naming.gcp_service_account_id(spec.name, f"{env_name}-nodes"),
        network_id=network.network_id, subnetwork_id=network.subnetwork_id,
        pods_range_name=network.pods_range_name,
        services_range_name=network.services_range_name,
        master_cidr=env.master_cidr, subnet_cidr=env.subnet_cidr,
        secrets_key_id=keys.key_id(GKE_KEY), disk_key_id=keys.key_id(DISK_KEY),
        release_channel=env.release_channel, endpoint_public_access=env.endpoint_public_access,
        authorized_networks=list(env.master_authorized_networks),
        dns_endpoint=env.control_plane_dns_endpoint,
        gateway_api=spec.serving is not None and spec.serving.environment == env_name,
        labels=labels,
        key_grants=keys.grants_for(GKE_KEY) + keys.grants_for(DISK_KEY),
        multi_networking=bool(gpudirect_pools(spec, env_name)),
        lustre_csi=_lustre(spec, env_name),
    ), inside)

    pools: dict[str, pulumi.ComponentResource] = {}
    nics: dict[str, GpuDirectNetworks] = {}
    for pool_name, pool in spec.pools.items():
        if pool.environment == env_name:
            with blame(f"pools.{pool_name}", pool, POOL_ALIASES):
                args = _pool_args(spec, env_name, env, pool_name, pool, cluster, keys)
                if pool_name in gpudirect_pools(spec, env_name):
                    nics[pool_name] = _gpu_nics(spec, env_name, env, pool_name, args, inside)
                    args = replace(args, additional_networks=additional_networks(
                        nics[pool_name].nics))
                pools[pool_name] = GpuNodePool(naming.child(env_name, pool_name), args, inside)

    lakehouse = registry = None
    if has_lakehouse:
        with blame("lakehouse", spec.lakehouse):
            lake_keys = keys
            if dual is not None:
                # A dual-region bucket takes a key of its multi-region (Cloud KMS `europe`).
                lake_keys = KmsKeys(naming.child(env_name, "kms", dual[1]), KmsKeysArgs(
                    project=env.project, location=dual[1],
                    ring_name=naming.fit(naming.child(spec.name, env_name, "lakehouse"), 63),
                    keys={LAKEHOUSE_KEY: [service_agents.storage(number)]}, labels=labels,
                ), inside)
            lakehouse = _lakehouse(spec, env_name, env, lake_keys, labels, inside)
    if has_registry:
        with blame("registry", spec.registry):
            registry = _registry(spec, env_name, env, keys, labels, inside)
    access = None
    if lakehouse is not None:
        access = WorkloadAccess(naming.child(env_name, "training-access"), WorkloadAccessArgs(
            project=env.project, project_number=number,
            namespaces=_team_namespaces(spec, env_name),
            service_account=TRAINING_SERVICE_ACCOUNT, buckets=lakehouse.bucket_names,
        ), inside)

    kubernetes = k8s.Provider(
        naming.child(env_name, "k8s"),
        kubeconfig=cluster.kubeconfig,
        opts=pulumi.ResourceOptions(parent=environment),
    )
    for pool_name, networks in nics.items():
        itype = catalog.instance(spec.pools[pool_name].types[0])
        GpuDirect(naming.child(env_name, pool_name, "gpudirect"), GpuDirectArgs(
            pool=pool_name, kind=GPUDIRECT[itype.name][0],
            nics=[GpuNicNetwork(n.network, n.subnetwork) for n in networks.nics],
            accelerators=[accelerator_type(itype.name)],
            labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name}), mirror=mirror_of(spec)),
            pulumi.ResourceOptions(parent=environment, providers=[kubernetes],
                                   depends_on=[cluster.cluster]))
    return GcpEnvironmentBuild(
        environment=env_name, kind="gcp", component=environment, kubernetes=kubernetes,
        pools=pools, provider=provider, keys=keys, logs=logs, network=network, cluster=cluster,
        lakehouse=lakehouse, registry=registry, workload_access=access)


def _team_namespaces(spec: Blueprint, env_name: str) -> list[str]:
    q = spec.queueing
    if q is not None and q.environment == env_name:
        return sorted({t.namespace for t in q.teams.values()})
    return [DEFAULT_TRAINING_NAMESPACE]


def _pool_args(spec: Blueprint, env_name: str, env: GcpEnvironment, pool_name: str,
               pool: GpuPool, cluster: GkeCluster, keys: KmsKeys) -> GpuNodePoolArgs:
    assert pool.instance_type is not None  # the spec requires it for cloud pools
    itype = catalog.instance(pool.instance_type)
    sharing = pool.gpu_sharing
    facts = pool_facts(spec, pool_name, pool)
    return GpuNodePoolArgs(
        facts=facts,
        cluster_id=cluster.cluster_id,
        region=env.region,
        # The zones that offer the machine type (compact placement: the first of them).
        node_locations=list(facts["zones"]),
        pool_name=naming.fit(pool_name, 40),
        machine_type=itype.name,
        accelerator_type=accelerator_type(itype.name),
        accelerator_count=itype.gpus,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        initial_nodes=pool.desired,
        service_account=cluster.node_service_account,
        boot_disk_key_id=keys.key_id(DISK_KEY),
        disk_size_gb=pool.disk_size_gb,
        disk_type=boot_disk_type(itype.name),
        spot=pool.capacity == "spot",
        reservation=pool.reservation,
        compact_placement=pool.compact,
        mig_partition_size=sharing.partition_size.replace(" ", "")
        if sharing and sharing.strategy == "mig" and sharing.partition_size else None,
        time_sharing_clients=sharing.max_shared_clients_per_gpu
        if sharing and sharing.strategy == "time-sharing" else None,
        taints=[NodeTaint(t.key, t.value, t.effect) for t in pool.taints],
        node_labels={"aifactory.io/pool": pool_name, "aifactory.io/gpu": itype.gpu,
                     **pool.labels},
        labels=gcp_labels(spec, environment=env_name, pool=pool_name),
        key_grants=keys.grants_for(DISK_KEY),
    )


def _lustre(spec: Blueprint, env_name: str) -> bool:
    """Whether the environment's training storage is Managed Lustre (its disk key and the
    cluster's Lustre CSI add-on serve it)."""
    return any(s.environment == env_name and s.kind == "managed-lustre"
               for s in spec.training_storage.values())


def _lakehouse(spec: Blueprint, env_name: str, env: GcpEnvironment, keys: KmsKeys,
               labels: dict[str, str], opts: pulumi.ResourceOptions) -> Lakehouse:
    lake = spec.lakehouse
    assert lake is not None
    dual = _dual_region(spec, env)
    return Lakehouse(naming.child(env_name, "lakehouse"), LakehouseArgs(
        region=env.region,
        bucket_names={z: naming.bucket_name(spec.name, z, env.project) for z in lake.zones},
        zones={z: BucketZone(retention_days=v.retention_days,
                             noncurrent_retention_days=v.noncurrent_retention_days,
                             archive_after_days=v.archive_after_days)
               for z, v in lake.zones.items()},
        kms_key_id=keys.key_id(LAKEHOUSE_KEY),
        labels=labels,
        key_grants=keys.grants_for(LAKEHOUSE_KEY),
        dual_region=None if dual is None or lake.replication is None
        else DualRegion(location=dual[0], replica_region=lake.replication.region),
    ), opts)


def _dual_region(spec: Blueprint, env: GcpEnvironment) -> tuple[str, str] | None:
    """(bucket location, KMS location) when the lakehouse replicates; the spec has checked
    that the two regions form a configurable dual-region."""
    lake = spec.lakehouse
    if lake is None or lake.replication is None:
        return None
    pair = cloud_catalog.gcp_dual_region(env.region, lake.replication.region)
    if pair is None:
        raise ComponentArgsError(
            f"lakehouse.replication ({lake.replication.region}) does not pair with "
            f"{env.region} in a Cloud Storage dual-region: choose a region of the same "
            "multi-region")
    return pair


def _registry(spec: Blueprint, env_name: str, env: GcpEnvironment, keys: KmsKeys,
              labels: dict[str, str], opts: pulumi.ResourceOptions) -> ArtifactRegistry:
    registry = spec.registry
    assert registry is not None
    return ArtifactRegistry(naming.child(env_name, "registry"), ArtifactRegistryArgs(
        region=env.region,
        docker_repositories=[naming.fit(naming.child(spec.name, r), 63)
                             for r in registry.repositories],
        python_repository=naming.fit(naming.child(spec.name, "pypi"), 63)
        if registry.python_repository else None,
        kms_key_id=keys.key_id(REGISTRY_KEY),
        immutable_tags=registry.immutable_tags,
        scan_on_push=registry.scan_on_push,
        labels=labels,
        key_grants=keys.grants_for(REGISTRY_KEY),
    ), opts)


def gpudirect_pools(spec: Blueprint, env_name: str) -> list[str]:
    """The environment's pools with a fabric (GPUDirect), in name order."""
    return sorted(n for n, p in spec.pools.items() if p.environment == env_name and p.fabric)


def _gpu_nics(spec: Blueprint, env_name: str, env: GcpEnvironment, pool_name: str,
              args: GpuNodePoolArgs, opts: pulumi.ResourceOptions) -> GpuDirectNetworks:
    """The GPU NICs' VPCs of a GPUDirect pool: the pool's /20 of the environment's range."""
    index = gpudirect_pools(spec, env_name).index(pool_name)
    blocks = list(ipaddress.ip_network(env.gpu_nic_cidr).subnets(new_prefix=20))
    if index >= len(blocks):
        raise BlueprintFieldError(
            f"environments.{env_name}.gpu_nic_cidr", f"{env.gpu_nic_cidr} holds "
            f"{len(blocks)} /20 ranges, fewer than the environment's "
            f"{len(gpudirect_pools(spec, env_name))} GPUDirect pools: give a larger range")
    kind, count = GPUDIRECT[args.machine_type]
    return GpuDirectNetworks(naming.child(env_name, pool_name, "gpu-nics"), GpuDirectNetworksArgs(
        project=env.project, region=env.region, zone=next(iter(args.node_locations)),
        kind=kind, nics=count,
        name_prefix=naming.fit(naming.child(spec.name, env_name, pool_name), 50),
        cidr=str(blocks[index])), opts)
