"""AWS environments: spec -> provider, environment component and its building blocks.

Pydantic stops here: everything a component needs is turned into its typed args, every value
taken from the blueprint (no live look-ups), so the same program plans offline and deploys.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

import catalog
from blueprints.compose import EnvironmentBuild
from blueprints.compose.blame import POOL_ALIASES, blame
from blueprints.compose.facts import aws_environment_facts, pool_facts
from blueprints.compose.platform import mirror_of
from blueprints.compose.sharing import operator_sharing
from blueprints.compose.tagging import aws_tags, k8s_labels
from blueprints.errors import BlueprintFieldError
from blueprints.spec.models import AwsEnvironment, Blueprint, GpuPool
from components import naming
from components.aws import (
    AwsLocation,
    BlockStorage,
    BlockStorageArgs,
    EksCluster,
    EksClusterArgs,
    Environment,
    EnvironmentArgs,
    GpuNodePool,
    GpuNodePoolArgs,
    KarpenterScaling,
    KmsKey,
    KmsKeyArgs,
    Lakehouse,
    LakehouseArgs,
    Network,
    NetworkArgs,
    NodeAutoscaler,
    NodeAutoscalerArgs,
    NodeTaint,
    Registry,
    RegistryArgs,
    WorkloadRole,
    WorkloadRoleArgs,
    ZoneRules,
    kubeconfig,
)
from components.aws.location import partition_of
from components.factory import Factory
from components.platform.common import ENVIRONMENT_LABEL
from components.platform.common import NodeTaint as PlatformTaint
from components.platform.efa_device_plugin import EfaDevicePlugin, EfaDevicePluginArgs

TRAINING_SERVICE_ACCOUNT = "training"
"""Service account, in each team namespace, that training jobs run as (IRSA)."""
DEFAULT_TRAINING_NAMESPACE = "training"
"""Namespace of that service account when no queueing teams run in the environment."""


@dataclass
class AwsEnvironmentBuild(EnvironmentBuild):
    """What the AWS builder made, with the AWS building blocks for callers that compose on."""

    provider: aws.Provider | None = None
    """The environment's AWS provider."""
    key: KmsKey | None = None
    """The environment's customer-managed key."""
    network: Network | None = None
    """VPC and endpoints."""
    cluster: EksCluster | None = None
    """The EKS cluster."""
    lakehouse: Lakehouse | None = None
    """The lakehouse, when it lives in this environment."""
    registry: Registry | None = None
    """The registry, when it lives in this environment."""
    training_role: WorkloadRole | None = None
    """IRSA role of training jobs (lakehouse read/write, image pulls), when there is data here."""
    block_storage: BlockStorage | None = None
    """The EBS CSI driver add-on and its role."""
    autoscaler: NodeAutoscaler | None = None
    """Karpenter, when the environment has elastic pools."""


def _pool_args(spec: Blueprint, pool_name: str, pool: GpuPool, loc: AwsLocation, prefix: str,
               key: KmsKey, network: Network, cluster: EksCluster, node_tags: dict[str, str],
               autoscaling: KarpenterScaling | None) -> GpuNodePoolArgs:
    facts = pool_facts(spec, pool_name, pool)
    types = pool.types
    sharing = operator_sharing(spec, pool_name, pool)
    return GpuNodePoolArgs(
        facts=facts, location=loc, pool_name=pool_name,
        name_prefix=prefix, cluster_name=cluster.name, kubernetes_version=cluster.version,
        subnet_ids=network.private_subnet_ids, kms_key_arn=key.arn,
        instance_type=types[0], instance_types=tuple(types) if len(types) > 1 else (),
        gpu_model=catalog.instance(types[0]).gpu,
        # under Karpenter the node group holds min_nodes; desired_nodes is a planning figure
        min_nodes=pool.min_nodes,
        desired_nodes=pool.min_nodes if autoscaling is not None else pool.desired,
        max_nodes=pool.max_nodes,
        capacity=pool.capacity, reservation_id=pool.reservation,
        disk_size_gb=pool.disk_size_gb, compact_placement=pool.compact,
        taints=tuple(NodeTaint(t.key, t.value, t.effect) for t in pool.taints),
        labels={**pool.labels, **(sharing.node_labels() if sharing else {})},
        after=tuple(cluster.network_addons), node_tags=node_tags, autoscaling=autoscaling,
        arch=catalog.instance(types[0]).arch,
        # the fewest interfaces any of its types takes: every node launched can carry them
        efa_interfaces=min(catalog.instance(t).efa_interfaces or 0 for t in types)
        if pool.fabric else 0,
        vpc_id=network.vpc_id if pool.fabric else None,
        cluster_security_group_id=cluster.cluster_security_group_id if pool.fabric else None,
    )


def build_environment(spec: Blueprint, env_name: str, env: AwsEnvironment,
                      factory: Factory) -> EnvironmentBuild:
    """Create the provider, the environment component and everything inside it."""
    if partition_of(env.region) != env.partition:
        # ARNs, principals and endpoint names all follow the partition: refuse a mismatch.
        raise BlueprintFieldError(
            f"environments.{env_name}.partition", f"region {env.region} is in partition "
            f"{partition_of(env.region)}, but partition is {env.partition!r}: set partition: "
            f"{partition_of(env.region)}")
    loc = AwsLocation(partition=env.partition, region=env.region, account_id=env.account_id)
    prefix = naming.cluster_name(spec.name, env_name)
    default_tags = aws_tags(spec, Environment=env_name)
    # The account allowlist makes a deploy with credentials for another account (or another
    # partition: aws-eusc accounts are separate) fail before it changes anything.
    provider = aws.Provider(
        naming.child(env_name, "aws"), region=env.region, allowed_account_ids=[env.account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags))
    component = Environment(env_name, EnvironmentArgs(aws_environment_facts(env_name, env)),
                            pulumi.ResourceOptions(parent=factory, providers=[provider]))
    inside = pulumi.ResourceOptions(parent=component)

    key = KmsKey(naming.child(env_name, "key"), KmsKeyArgs(
        location=loc, alias=f"{spec.name}/{env_name}",
        description=f"{spec.name} {env_name}: secrets, logs, volumes, lakehouse, images"),
        opts=inside)
    network = Network(naming.child(env_name, "network"), NetworkArgs(
        location=loc, vpc_cidr=env.vpc_cidr, availability_zones=list(env.availability_zones),
        cluster_name=prefix, kms_key_arn=key.arn,
        flow_log_retention_days=env.log_retention_days), opts=inside)
    cluster = EksCluster(naming.child(env_name, "eks"), EksClusterArgs(
        location=loc, cluster_name=prefix, kubernetes_version=env.kubernetes_version,
        subnet_ids=network.private_subnet_ids, kms_key_arn=key.arn,
        log_retention_days=env.log_retention_days,
        endpoint_public_access=env.endpoint_public_access,
        public_access_cidrs=list(env.public_access_cidrs), node_tags=default_tags),
        opts=inside)

    kubernetes = k8s.Provider(naming.child(env_name, "k8s"),
                              kubeconfig=kubeconfig(cluster, env.region),
                              opts=pulumi.ResourceOptions(parent=component))
    storage = BlockStorage(naming.child(env_name, "block-storage"), BlockStorageArgs(
        location=loc, cluster_name=prefix, cluster=cluster.name,
        oidc_provider_arn=cluster.oidc_provider_arn, oidc_issuer=cluster.oidc_issuer,
        kms_key_arn=key.arn, after=(cluster.system_nodes,)), opts=inside)
    autoscaler = None
    if env_name in spec.karpenter_environments():
        autoscaler = NodeAutoscaler(naming.child(env_name, "karpenter"), NodeAutoscalerArgs(
            location=loc, cluster_name=prefix, cluster=cluster.name, kubernetes=kubernetes,
            after=(cluster.system_nodes, *cluster.network_addons),
            labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name}), mirror=mirror_of(spec)),
            opts=inside)

    pools: dict[str, pulumi.ComponentResource] = {}
    for pool_name, pool in spec.pools.items():
        if pool.environment == env_name:
            scaling = None
            if pool.elastic:
                assert autoscaler is not None  # every elastic AWS pool's environment has one
                scaling = KarpenterScaling(
                    kubernetes=kubernetes, instance_profile=autoscaler.instance_profile,
                    zones=tuple(env.availability_zones),
                    gpus_per_node=max(catalog.instance(t).gpus for t in pool.types),
                    after=(autoscaler.chart,),
                    labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name}))
            with blame(f"pools.{pool_name}", pool, POOL_ALIASES):
                pools[pool_name] = GpuNodePool(
                    naming.child(env_name, pool_name),
                    # Instances launched from a template do not get the provider's default tags.
                    _pool_args(spec, pool_name, pool, loc, prefix, key, network, cluster,
                               default_tags, scaling),
                    opts=inside)

    fabric_pools = [p for p in spec.pools.values() if p.environment == env_name and p.fabric]
    if fabric_pools:
        EfaDevicePlugin(naming.child(env_name, "efa-device-plugin"), EfaDevicePluginArgs(
            instance_types=sorted({t for p in fabric_pools for t in p.types}),
            taints=tuple(sorted({PlatformTaint(t.key, t.value, t.effect)
                                 for p in fabric_pools for t in p.taints},
                                key=lambda t: (t.key, t.value, t.effect))),
            labels=k8s_labels(spec, **{ENVIRONMENT_LABEL: env_name}), mirror=mirror_of(spec)),
            opts=pulumi.ResourceOptions(parent=component, providers=[kubernetes],
                                        depends_on=[cluster.system_nodes]))

    lakehouse = registry = training_role = None
    if spec.lakehouse is not None and spec.lakehouse.environment == env_name:
        replication = spec.lakehouse.replication
        with blame("lakehouse", spec.lakehouse):
            lakehouse = Lakehouse(naming.child(env_name, "lakehouse"), LakehouseArgs(
                location=loc, factory=spec.name, name_prefix=prefix,
                zones={z: ZoneRules(retention_days=r.retention_days,
                                    noncurrent_retention_days=r.noncurrent_retention_days,
                                    archive_after_days=r.archive_after_days)
                       for z, r in spec.lakehouse.zones.items()},
                kms_key_arn=key.arn,
                replication_region=replication.region if replication else None,
                default_tags=default_tags), opts=inside)
    if spec.registry is not None and spec.registry.environment == env_name:
        with blame("registry", spec.registry):
            registry = Registry(naming.child(env_name, "registry"), RegistryArgs(
                location=loc, namespace=spec.name,
                repositories=list(spec.registry.repositories), kms_key_arn=key.arn,
                immutable_tags=spec.registry.immutable_tags,
                scan_on_push=spec.registry.scan_on_push), opts=inside)
    if lakehouse is not None or registry is not None:
        training_role = WorkloadRole(naming.child(env_name, "training-role"), WorkloadRoleArgs(
            location=loc, role_name=naming.iam_role_name(prefix, "", "training-jobs"),
            oidc_provider_arn=cluster.oidc_provider_arn, oidc_issuer=cluster.oidc_issuer,
            service_accounts=[f"{ns}:{TRAINING_SERVICE_ACCOUNT}"
                              for ns in _team_namespaces(spec, env_name)],
            bucket_arns=list(lakehouse.bucket_arns.values()) if lakehouse else [],
            bucket_key_arns=[key.arn] if lakehouse else [],
            repository_arns=registry.repository_arns if registry else []), opts=inside)

    return AwsEnvironmentBuild(
        environment=env_name, kind="aws", component=component, kubernetes=kubernetes,
        pools=pools, provider=provider, key=key, network=network, cluster=cluster,
        lakehouse=lakehouse, registry=registry, training_role=training_role,
        block_storage=storage, autoscaler=autoscaler)


def _team_namespaces(spec: Blueprint, env_name: str) -> list[str]:
    """Namespaces whose training service account may assume the training role."""
    if spec.queueing is not None and spec.queueing.environment == env_name:
        return sorted({team.namespace for team in spec.queueing.teams.values()})
    return [DEFAULT_TRAINING_NAMESPACE]

